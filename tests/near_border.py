"""Two points of the demo city for near-boundary tests: 10 m inside a township border, and far from any.

Found with shapely and a metric plane, not with ``tag_points``, so the tests that use them
check the tagging instead of repeating it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely

from layers.geo import demo_layers
from layers.plane import MetricPlane

INSIDE_M = 10.0  # a GPS fix this close to the border may belong to either side


@dataclass(frozen=True, slots=True)
class BorderPoints:
    township: str  # the township that contains both points
    neighbour: str  # the township across the border from ``near``
    near: tuple[float, float]  # lon, lat: moved INSIDE_M metres into ``township`` from a shared vertex
    near_m: float  # how far ``near`` is from the nearest township border (≤ INSIDE_M)
    far: tuple[float, float]  # lon, lat: inside ``township``, more than 500 m from every township border


@functools.cache
def border_points() -> BorderPoints:
    layers = demo_layers()
    towns = layers.townships.set_index("code").geometry
    a = str(towns.index[0])
    b = next(str(c) for c in towns.index if c != a and towns[c].touches(towns[a]))
    shared = shapely.line_merge(shapely.intersection(towns[a].boundary, towns[b].boundary))
    vertex = shapely.get_coordinates(shared)[len(shapely.get_coordinates(shared)) // 2]  # a vertex both share
    plane = MetricPlane(layers.districts.total_bounds)
    vx, vy = plane.xy(np.array([vertex[0]]), np.array([vertex[1]]))
    steps = [(INSIDE_M, 0.0), (-INSIDE_M, 0.0), (0.0, INSIDE_M), (0.0, -INSIDE_M)]
    candidates = [plane.lonlat(vx + dx, vy + dy) for dx, dy in steps]
    near = next((float(lon[0]), float(lat[0])) for lon, lat in candidates
                if towns[a].contains(shapely.Point(lon[0], lat[0])))
    far = shapely.point_on_surface(towns[a])
    borders = shapely.union_all(shapely.boundary(towns.values))
    borders_m = plane.to_metres(np.array([shapely.segmentize(borders, 0.0005)]))[0]

    def metres(lon: float, lat: float) -> float:
        x, y = plane.xy(np.array([lon]), np.array([lat]))
        return float(shapely.distance(shapely.Point(x[0], y[0]), borders_m))

    assert metres(far.x, far.y) > 500, "pick another far point"
    return BorderPoints(a, b, near, metres(*near), (far.x, far.y))
