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
