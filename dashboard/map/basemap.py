"""Boundary rows of one version turned into the ``BaseMap`` the big screen draws.

The map has no tiles (the intranet has none): the district and township polygons *are* the
base map. They are sent to every browser that opens the big screen, so they go through
``layers.web.simplify`` (a coverage: neighbours keep one shared border; 5 decimals), once
per version, and are served by URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from dashboard.map.model import BaseMap, Bounds, Label
from layers.web import dumps, feature_collection, simplify

if TYPE_CHECKING:
    from layers.geo import Level


@dataclass(frozen=True, slots=True)
class Region:
    """One row of ``regions``, as the dashboard reads it."""

    code: str
    name: str
    parent_code: str | None
    illustrative: bool
    geom_wkb: bytes
    label_lon: float
    label_lat: float


def features(regions: Sequence[Region], level: Level) -> dict[str, Any]:
    """GeoJSON FeatureCollection with ``id`` and ``properties.code`` = region code."""
    if not regions:
        return feature_collection([], [], np.array([]))
    geoms = simplify(np.asarray(shapely.from_wkb([r.geom_wkb for r in regions])), level)
    return feature_collection([r.code for r in regions],
                              [{"code": r.code, "name": r.name, "illustrative": r.illustrative} for r in regions],
                              geoms)


def total_bounds(regions: Sequence[Region]) -> Bounds | None:
    """Of all regions, for centring the map."""
    if not regions:
        return None
    b = shapely.total_bounds(shapely.from_wkb([r.geom_wkb for r in regions]))
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _region_bounds(regions: Sequence[Region]) -> dict[str, Bounds]:
    if not regions:
        return {}
    b = shapely.bounds(shapely.from_wkb([r.geom_wkb for r in regions]))
    return {r.code: (float(x0), float(y0), float(x1), float(y1))
            for r, (x0, y0, x1, y1) in zip(regions, b, strict=True)}


def _label(r: Region) -> Label:
    return r.name, round(r.label_lon, 5), round(r.label_lat, 5)


def build(version: int, districts: Sequence[Region], townships: Sequence[Region],
          grids: Sequence[Region]) -> BaseMap:
    """Polygons serialised for serving; the rest indexed by code for the figure and the views."""
    children: dict[str, list[str]] = {"": [r.code for r in districts]}
    for r in [*townships, *grids]:
        children.setdefault(r.parent_code or "", []).append(r.code)
    grid_of = {f["id"]: f for f in features(grids, "grid")["features"]}
    return BaseMap(
        version=version,
        geojson={"district": dumps(features(districts, "district")),
                 "township": dumps(features(townships, "township"))},
        grid_geojson={town: dumps({"type": "FeatureCollection", "features": [grid_of[c] for c in codes]})
                      for town, codes in children.items() if len(town) == 9},
        bounds=total_bounds(districts or townships),
        region_bounds=_region_bounds([*districts, *townships]),
        names={r.code: r.name for r in [*districts, *townships, *grids]},
        parents={r.code: r.parent_code for r in [*townships, *grids]},
        children=children,
        label_of={r.code: _label(r) for r in [*districts, *townships]},  # Chinese only: no glyph server needed
        illustrative=any(r.illustrative for r in townships),
    )


EMPTY = BaseMap(version=None, geojson={}, grid_geojson={}, bounds=None, region_bounds={}, names={}, parents={},
                children={"": []}, label_of={}, illustrative=False)
