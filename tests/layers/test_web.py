"""Web GeoJSON of the boundary layers: topology kept, rounded, per zoom, sizes stated."""

from __future__ import annotations

import json
import re
from typing import cast

import numpy as np
import pandas as pd
import pytest
import shapely

from layers.__main__ import main as cli
from layers.geo import LEVELS, Layers, Level, demo_layers
from layers.web import ZOOMS, Zoom, web_geojson, web_geojson_bytes, web_sizes


@pytest.fixture(scope="module")
def layers() -> Layers:
    return demo_layers()


@pytest.mark.parametrize("zoom", ZOOMS)
@pytest.mark.parametrize("level", LEVELS)
def test_web_geojson_is_light_and_keeps_shared_borders(layers: Layers, level: Level, zoom: Zoom) -> None:
    fc = web_geojson(level, None, zoom)
    assert web_geojson(level, None, zoom) is fc  # cached
    frame = layers.level(level)
    assert [f["id"] for f in fc["features"]] == frame["code"].tolist()
    assert set(fc["features"][0]["properties"]) == {"code", "name", "parent_code"}
    text = web_geojson_bytes(level, None, zoom).decode()
    assert json.loads(text) == fc
    assert not re.search(r"\d\.\d{6,}", text)  # rounded to 5 decimals
    assert len(text.encode()) < 600_000
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in fc["features"]])
    assert not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)  # neighbours still share one border: no slivers
    true_area = shapely.area(frame.geometry.values)
    rel = np.abs(shapely.area(geoms) - true_area) / true_area
    assert rel.max() < (0.02 if zoom == "detail" else 0.06)


def test_overview_is_lighter_than_detail() -> None:
    sizes = {(s.level, s.zoom): s for s in web_sizes()}
    for level in LEVELS:
        assert sizes[(level, "overview")].bytes < sizes[(level, "detail")].bytes
        assert sizes[(level, "overview")].vertices < sizes[(level, "detail")].vertices
        assert 0 < sizes[(level, "detail")].gzip_bytes < sizes[(level, "detail")].bytes
    assert sizes[("district", "overview")].bytes < 0.6 * sizes[("district", "detail")].bytes


def test_bad_zoom_is_refused() -> None:
    with pytest.raises(ValueError, match="zoom"):
        web_geojson("district", None, cast(Zoom, "street"))  # not a Zoom on purpose: the check at run time


def test_web_geojson_of_given_layers_is_cached_per_object(layers: Layers) -> None:
    fc = web_geojson("district", layers)
    assert web_geojson("district", layers) is fc
    assert isinstance(pd.DataFrame(fc["features"]), pd.DataFrame)


def test_cli_prints_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["web-sizes"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].split() == ["level", "zoom", "features", "vertices", "bytes", "gzip"]
    assert len(lines) == 1 + len(LEVELS) * len(ZOOMS)
    assert any(line.startswith("grid") and "968" in line for line in lines)
