"""Ready-to-draw GeoJSON of the boundary layers for the browser (plotly/MapLibre), per zoom.

``coverage_simplify`` simplifies a whole level at once, so neighbours keep one shared
border (per-feature simplify opens slivers between them); coordinates are rounded to
5 decimals (~1 m), which roughly halves what plotly has to parse. Two zoom variants:

- ``detail``: tolerance ~20–50 m, for a district or township filling the screen;
- ``overview``: 4× coarser, for the whole city on one screen (一屏观全域), where one
  pixel is already ~150–300 m and the finer vertices only cost bytes.

``python -m layers web-sizes`` prints the bytes of every level and zoom.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from layers.geo import LEVELS, Layers, Level, demo_layers

Zoom = Literal["overview", "detail"]
ZOOMS: tuple[Zoom, ...] = ("overview", "detail")

# In degrees (0.0005° ≈ 50 m). Finer levels have smaller polygons, so a smaller tolerance
# keeps their shapes recognisable.
WEB_TOLERANCE: dict[Zoom, dict[Level, float]] = {
    "detail": {"district": 0.0005, "township": 0.0003, "grid": 0.0002},
    "overview": {"district": 0.002, "township": 0.0012, "grid": 0.0008},
}
WEB_DECIMALS = 5  # ~1 m
# Below this map zoom (MapLibre/plotly) the whole city fits one screen: overview is enough.
OVERVIEW_BELOW_ZOOM = 10.0


def zoom_for(map_zoom: float) -> Zoom:
    """Which variant to draw at a given map zoom level."""
    return "overview" if map_zoom < OVERVIEW_BELOW_ZOOM else "detail"


def _round_coords(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.round(coords, WEB_DECIMALS)


def _check_zoom(zoom: str) -> None:
    if zoom not in ZOOMS:
        raise ValueError(f"zoom must be one of {ZOOMS}, got {zoom!r}")


def web_geojson(level: Level, layers: Layers | None = None, zoom: Zoom = "detail") -> dict[str, Any]:
    """A light FeatureCollection of one level; features carry ``id`` = code (``featureidkey="id"``).

    Cached per (level, Layers object, zoom) and shared: callers must not mutate it.
    """
    _check_zoom(zoom)
    return _web_geojson(level, layers or demo_layers(), zoom)


@functools.lru_cache(maxsize=32)  # keyed on positional arguments only: every call spelling hits one entry
def _web_geojson(level: Level, layers: Layers, zoom: Zoom) -> dict[str, Any]:
    frame = layers.level(level)
    geoms = shapely.coverage_simplify(np.asarray(frame.geometry.values), WEB_TOLERANCE[zoom][level])
    geoms = shapely.remove_repeated_points(shapely.transform(geoms, _round_coords))
    features = []
    for code, name, parent, geom in zip(frame["code"], frame["name"], frame["parent_code"], geoms, strict=True):
        features.append({
            "type": "Feature",
            "id": code,
            "properties": {"code": code, "name": name, "parent_code": parent},
            "geometry": json.loads(shapely.to_geojson(geom)),
        })
    return {"type": "FeatureCollection", "features": features}


def web_geojson_bytes(level: Level, layers: Layers | None = None, zoom: Zoom = "detail") -> bytes:
    """The same, serialised once (compact UTF-8) for serving as-is."""
    _check_zoom(zoom)
    return _web_bytes(level, layers or demo_layers(), zoom)


@functools.lru_cache(maxsize=32)
def _web_bytes(level: Level, layers: Layers, zoom: Zoom) -> bytes:
    return json.dumps(_web_geojson(level, layers, zoom), ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class WebSize:
    level: Level
    zoom: Zoom
    features: int
    vertices: int
    bytes: int
    gzip_bytes: int  # what a client gets with Dash/Flask compression on


def web_sizes(layers: Layers | None = None) -> list[WebSize]:
    out = []
    for level in LEVELS:
        for zoom in ZOOMS:
            body = web_geojson_bytes(level, layers, zoom)
            fc = web_geojson(level, layers, zoom)
            vertices = sum(int(shapely.get_num_coordinates(shapely.geometry.shape(f["geometry"])))
                           for f in fc["features"])
            out.append(WebSize(level, zoom, len(fc["features"]), vertices, len(body),
                               len(gzip.compress(body, 6))))
    return out


def format_sizes(sizes: list[WebSize]) -> str:
    lines = [f"{'level':<9} {'zoom':<9} {'features':>8} {'vertices':>9} {'bytes':>10} {'gzip':>9}"]
    for s in sizes:
        lines.append(f"{s.level:<9} {s.zoom:<9} {s.features:>8,} {s.vertices:>9,} {s.bytes:>10,} {s.gzip_bytes:>9,}")
    return "\n".join(lines)
