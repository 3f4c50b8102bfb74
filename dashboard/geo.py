"""Boundary polygons turned into the small GeoJSON the base map draws.

The map has no tiles (the intranet has none): the district and township polygons
*are* the base map. They are sent to every browser that opens the big screen, so
they are simplified as a coverage (neighbours keep one shared border, no slivers)
and their coordinates rounded to 5 decimals (~1 m), which roughly halves the payload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

log = logging.getLogger("cityops.dashboard.geo")

TOLERANCE_DEG = 0.0005  # ~50 m: invisible at city zoom, keeps shared borders (see FACTS.md)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    parent_code: str | None
    illustrative: bool
    geom_wkb: bytes
    label_lon: float
    label_lat: float


def _round(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, 5)


def simplify_coverage(geoms: np.ndarray, tolerance: float = TOLERANCE_DEG) -> np.ndarray:
    """Coverage simplification; falls back per polygon if the layer is not a clean coverage."""
    try:
        out = shapely.coverage_simplify(geoms, tolerance)
    except shapely.errors.GEOSException as exc:
        # A user's own layer may overlap itself; an ugly border beats no map.
        log.warning("boundary layer is not a valid coverage (%s); simplifying polygons one by one", exc)
        out = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return np.asarray(shapely.transform(out, _round))


def feature_collection(regions: Sequence[Region], tolerance: float = TOLERANCE_DEG) -> dict[str, Any]:
    """GeoJSON FeatureCollection with ``id`` and ``properties.code`` = region code."""
    if not regions:
        return {"type": "FeatureCollection", "features": []}
    geoms = shapely.from_wkb([r.geom_wkb for r in regions])
    simple = simplify_coverage(np.asarray(geoms), tolerance)
    features = [
        {
            "type": "Feature",
            "id": r.code,
            "properties": {"code": r.code, "name": r.name, "illustrative": r.illustrative},
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for r, g in zip(regions, simple, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def bounds(regions: Sequence[Region]) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of all regions, for centring the map."""
    if not regions:
        return None
    b = shapely.total_bounds(shapely.from_wkb([r.geom_wkb for r in regions]))
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


# Per level: finer polygons are smaller, so they get a smaller tolerance to keep their shapes.
LEVEL_TOLERANCE = {"district": TOLERANCE_DEG, "township": 0.0003, "grid": 0.0002}


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _label(r: Region) -> tuple[str, float, float]:
    return r.name, round(r.label_lon, 5), round(r.label_lat, 5)


def region_bounds(regions: Sequence[Region]) -> dict[str, tuple[float, float, float, float]]:
    """(min_lon, min_lat, max_lon, max_lat) of each region, by code: where a drill-down zooms to."""
    if not regions:
        return {}
    b = shapely.bounds(shapely.from_wkb([r.geom_wkb for r in regions]))
    return {r.code: (float(x0), float(y0), float(x1), float(y1))
            for r, (x0, y0, x1, y1) in zip(regions, b, strict=True)}


def build_layers(version: int, districts: Sequence[Region], townships: Sequence[Region],
                 grids: Sequence[Region]) -> dict[str, Any]:
    """Everything the big screen draws from one boundary version, computed once per version.

    Polygons go to the browser by URL (``*_json`` are served as they are); the figure
    itself carries only codes, names, label points and bounds.
    """
    district_fc = feature_collection(districts, LEVEL_TOLERANCE["district"])
    township_fc = feature_collection(townships, LEVEL_TOLERANCE["township"])
    grid_fc = feature_collection(grids, LEVEL_TOLERANCE["grid"])
    children: dict[str, list[str]] = {"": [r.code for r in districts]}
    for r in [*townships, *grids]:
        children.setdefault(r.parent_code or "", []).append(r.code)
    grid_json = {town: _dumps({"type": "FeatureCollection",
                               "features": [f for f in grid_fc["features"] if f["id"] in set(codes)]})
                 for town, codes in children.items() if len(town) == 9}
    return {
        "version": version,
        "district": district_fc,
        "township": township_fc,
        "district_json": _dumps(district_fc),
        "township_json": _dumps(township_fc),
        "grid_json": grid_json,  # per township: a drill-down fetches only its own grids
        "bounds": bounds(districts or townships),
        "region_bounds": region_bounds([*districts, *townships]),
        "names": {r.code: r.name for r in [*districts, *townships, *grids]},
        "parents": {r.code: r.parent_code for r in [*townships, *grids]},
        "children": children,
        "illustrative": any(r.illustrative for r in townships),
        "labels": [_label(r) for r in districts],  # district names: Chinese only, so no glyph server
        "label_of": {r.code: _label(r) for r in [*districts, *townships]},
    }


def empty_layers() -> dict[str, Any]:
    none = feature_collection([])
    return {"version": None, "district": none, "township": none, "district_json": _dumps(none),
            "township_json": _dumps(none), "grid_json": {}, "bounds": None, "region_bounds": {}, "names": {},
            "parents": {}, "children": {"": []}, "illustrative": False, "labels": [], "label_of": {}}
