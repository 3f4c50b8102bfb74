"""Ready-to-draw GeoJSON of the boundary layers for the browser (plotly/MapLibre), per zoom.

``coverage_simplify`` simplifies a whole level at once, so neighbours keep one shared
border (per-feature simplify opens slivers between them); coordinates are rounded to
5 decimals (~1 m), which roughly halves what plotly has to parse. Two zoom variants:

- ``detail``: tolerance ~20–50 m, for a district or township filling the screen;
- ``overview``: 4× coarser, for the whole city on one screen (一屏观全域), where one
  pixel is already ~150–300 m and the finer vertices only cost bytes.

``simplify`` is the one simplifier of web geometry: the dashboard's base map
(``dashboard.map.basemap``, from the boundary rows in the database) uses it at ``detail``.
``python -m layers web-sizes`` prints the bytes of every level and zoom.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

if TYPE_CHECKING:  # imported where used: layers.geo pulls in geopandas, the dashboard needs only ``simplify``
    from layers.geo import Layers, Level

log = logging.getLogger("cityops.layers.web")

Zoom = Literal["overview", "detail"]
ZOOMS: tuple[Zoom, ...] = ("overview", "detail")

# In degrees (0.0005° ≈ 50 m). Finer levels have smaller polygons, so a smaller tolerance
# keeps their shapes recognisable.
WEB_TOLERANCE: dict[Zoom, dict[Level, float]] = {
    "detail": {"district": 0.0005, "township": 0.0003, "grid": 0.0002},
    "overview": {"district": 0.002, "township": 0.0012, "grid": 0.0008},
}
WEB_DECIMALS = 5  # ~1 m
def _round_coords(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.round(coords, WEB_DECIMALS)


def _check_zoom(zoom: str) -> None:
    if zoom not in ZOOMS:
        raise ValueError(f"zoom must be one of {ZOOMS}, got {zoom!r}")


def simplify(geoms: npt.NDArray[np.object_], level: Level, zoom: Zoom = "detail") -> npt.NDArray[np.object_]:
    """One level's polygons as a browser gets them: simplified as a coverage at the level's tolerance,
    rounded to ``WEB_DECIMALS``, repeated points dropped."""
    tolerance = WEB_TOLERANCE[zoom][level]
    try:
        out = shapely.coverage_simplify(geoms, tolerance)
    except shapely.errors.GEOSException as exc:
        # A city's own layer may overlap itself; an ugly border beats no map.
        log.warning("%s layer is not a valid coverage (%s); simplifying polygons one by one", level, exc)
        out = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return np.asarray(shapely.remove_repeated_points(shapely.transform(out, _round_coords)))


def feature_collection(codes: Sequence[str], properties: Sequence[dict[str, Any]],
                       geoms: npt.NDArray[np.object_]) -> dict[str, Any]:
    """A FeatureCollection whose features carry ``id`` = code (``featureidkey="id"``) and ``properties``."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": code, "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
        for code, props, geom in zip(codes, properties, geoms, strict=True)]}


def dumps(doc: Any) -> str:
    """Compact JSON, Chinese left as it is: what is served."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def web_geojson(level: Level, layers: Layers | None = None, zoom: Zoom = "detail") -> dict[str, Any]:
    """A light FeatureCollection of one level; features carry ``id`` = code (``featureidkey="id"``).

    Cached per (level, Layers object, zoom) and shared: callers must not mutate it.
    """
    _check_zoom(zoom)
    return _web_geojson(level, layers or _demo_layers(), zoom)


@functools.lru_cache(maxsize=32)  # keyed on positional arguments only: every call spelling hits one entry
def _web_geojson(level: Level, layers: Layers, zoom: Zoom) -> dict[str, Any]:
    frame = layers.level(level)
    properties = [{"code": code, "name": name, "parent_code": parent}
                  for code, name, parent in zip(frame["code"], frame["name"], frame["parent_code"], strict=True)]
    return feature_collection(list(frame["code"]), properties,
                              simplify(np.asarray(frame.geometry.values), level, zoom))


def web_geojson_bytes(level: Level, layers: Layers | None = None, zoom: Zoom = "detail") -> bytes:
    """The same, serialised once (compact UTF-8) for serving as-is."""
    _check_zoom(zoom)
    return _web_bytes(level, layers or _demo_layers(), zoom)


@functools.lru_cache(maxsize=32)
def _web_bytes(level: Level, layers: Layers, zoom: Zoom) -> bytes:
    return dumps(_web_geojson(level, layers, zoom)).encode()


def _demo_layers() -> Layers:
    from layers.geo import demo_layers

    return demo_layers()


@dataclass(frozen=True, slots=True)
class WebSize:
    level: Level
    zoom: Zoom
    features: int
    vertices: int
    bytes: int
    gzip_bytes: int  # what a client gets with Dash/Flask compression on


def web_sizes(layers: Layers | None = None) -> list[WebSize]:
    from layers.geo import LEVELS

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
