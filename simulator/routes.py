"""Where the demo's hazardous-goods vehicles drive: routes between towns over the road-less geography
(polylines through township centres, the middle of each township's devices), pure and seeded.

A vehicle leaves its depot (its registered site), drives a few towns within reach and back, and rests at the
depot before the next round. Two scenarios bend this: one vehicle is sent straight through a school zone too
fast (``through``), one drives on without a stop for hours (``long_route``, its past hours reported at once as
a terminal uploads what it stored).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

Point = tuple[float, float]  # lon, lat (WGS84)
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQUATOR = 111.32


def km(a: Point, b: Point) -> float:
    """Distance in km, equirectangular (good to a fraction of a percent over a city)."""
    mid_lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * KM_PER_DEG_LON_EQUATOR * math.cos(mid_lat), (a[1] - b[1]) * KM_PER_DEG_LAT)


def heading(a: Point, b: Point) -> float:
    """Compass heading from a to b, degrees clockwise from north (0 ≤ h < 360)."""
    east = (b[0] - a[0]) * KM_PER_DEG_LON_EQUATOR * math.cos(math.radians((a[1] + b[1]) / 2))
    north = (b[1] - a[1]) * KM_PER_DEG_LAT
    return math.degrees(math.atan2(east, north)) % 360


@dataclass(frozen=True, slots=True)
class Route:
    """A polyline driven from its first point to its last."""

    points: tuple[Point, ...]

    @property
    def legs(self) -> list[float]:
        return [km(a, b) for a, b in pairwise(self.points)]

    @property
    def length_km(self) -> float:
        return sum(self.legs)

    def at(self, along_km: float) -> tuple[Point, float]:
        """The point ``along_km`` from the start (clamped to the route) and the heading there."""
        goal = min(max(along_km, 0.0), self.length_km)
        for (a, b), leg in zip(pairwise(self.points), self.legs, strict=True):
            if goal <= leg and leg > 0:
                f = goal / leg
                return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), heading(a, b)
            goal -= leg
        last = self.points[-2:] if len(self.points) > 1 else (self.points[0], self.points[0])
        return self.points[-1], heading(last[0], last[-1])


def centres(places: Iterable[tuple[str, float, float]]) -> dict[str, Point]:
    """Township code → the middle of its places (code, lon, lat): where routes pass through a town."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for code, lon, lat in places:
        s = sums[code]
        s[0], s[1], s[2] = s[0] + lon, s[1] + lat, s[2] + 1
    return {code: (s[0] / s[2], s[1] / s[2]) for code, s in sorted(sums.items())}


def round_trip(depot: Point, towns: Mapping[str, Point], rng: np.random.Generator, *, hops: int = 2,
               reach_km: float = 25.0, avoid: Sequence[Point] = (), avoid_km: float = 1.5) -> Route:
    """Depot → ``hops`` towns, each within reach of the one before (not one twice) → depot. A town whose
    centre lies within ``avoid_km`` of a point to avoid (a school, a tunnel) is not passed through."""
    allowed = {c: p for c, p in towns.items() if all(km(p, a) > avoid_km for a in avoid)}
    points, here = [depot], depot
    for _ in range(hops):
        near = sorted(c for c, p in allowed.items() if 2.0 < km(here, p) <= reach_km and p not in points)
        if not near:
            break
        here = allowed[near[int(rng.integers(len(near)))]]
        points.append(here)
    points.append(depot)
    return Route(tuple(points))


def long_route(start: Point, towns: Mapping[str, Point], rng: np.random.Generator, length_km: float,
               reach_km: float = 25.0) -> Route:
    """From ``start`` town to town until the route is at least ``length_km`` long (a long haul)."""
    points, total = [start], 0.0
    while total < length_km:
        near = sorted(c for c, p in towns.items() if 5.0 < km(points[-1], p) <= reach_km)
        if not near:
            break
        nxt = towns[near[int(rng.integers(len(near)))]]
        total += km(points[-1], nxt)
        points.append(nxt)
    return Route(tuple(points))


def through(target: Point, bearing_deg: float, side_km: float = 1.5) -> Route:
    """A straight pass through ``target``: from ``side_km`` before it to ``side_km`` after, on ``bearing_deg``."""
    east, north = math.sin(math.radians(bearing_deg)), math.cos(math.radians(bearing_deg))
    d_lon = side_km * east / (KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(target[1])))
    d_lat = side_km * north / KM_PER_DEG_LAT
    return Route(((target[0] - d_lon, target[1] - d_lat), target, (target[0] + d_lon, target[1] + d_lat)))
