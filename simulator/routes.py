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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

Point = tuple[float, float]  # lon, lat (WGS84)
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQUATOR = 111.32
BORDER_MARGIN = 1.5  # a point is near a banned township when its centre is at most this much farther than the nearest


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


@dataclass(frozen=True, slots=True)
class Map:
    """The towns routes run between, and where they must not: the banned townships (a point is in the township
    whose centre is nearest: the demo's townships are cells around such centres) and points to keep
    ``avoid_km`` from (schools, tunnels)."""

    towns: Mapping[str, Point]  # every township's centre
    banned: frozenset[str] = frozenset()
    avoid: tuple[Point, ...] = ()
    avoid_km: float = 1.5
    sample_km: float = 0.5

    @property
    def open_towns(self) -> dict[str, Point]:
        return {c: p for c, p in self.towns.items() if c not in self.banned
                and all(km(p, a) > self.avoid_km for a in self.avoid)}

    def clear(self, a: Point, b: Point) -> bool:
        """Whether the leg a → b stays out of the banned townships."""
        if not self.banned:
            return True
        codes = sorted(self.towns)
        xy = np.array([self.towns[c] for c in codes])
        n = max(2, int(km(a, b) / self.sample_km) + 1)
        f = np.linspace(0.0, 1.0, n)[:, None]
        samples = np.array(a) + f * (np.array(b) - np.array(a))
        scale = np.array([math.cos(math.radians(a[1])), 1.0])  # degrees of longitude are shorter
        d2 = (((samples[:, None, :] - xy[None, :, :]) * scale) ** 2).sum(axis=2)
        banned = np.array([c in self.banned for c in codes])
        # a margin: cells are not exactly around the centres, so a leg keeps off their borders too
        return bool((d2[:, banned].min(axis=1) > BORDER_MARGIN ** 2 * d2.min(axis=1)).all())


def round_trip(depot: Point, where: Map, rng: np.random.Generator, *, hops: int = 2,
               reach_km: float = 25.0) -> Route:
    """Depot → ``hops`` open towns, each within reach of the one before (not one twice) and each leg, and the
    way back, clear of the banned townships → depot."""
    towns = where.open_towns
    points, here = [depot], depot
    for _ in range(hops):
        near = sorted(c for c, p in towns.items() if 2.0 < km(here, p) <= reach_km and p not in points
                      and where.clear(here, p) and where.clear(p, depot))
        if not near:
            break
        here = towns[near[int(rng.integers(len(near)))]]
        points.append(here)
    points.append(depot)
    return Route(tuple(points))


def long_route(start: Point, where: Map, rng: np.random.Generator, length_km: float,
               reach_km: float = 25.0) -> Route:
    """From ``start`` town to open town, each leg clear, until the route is at least ``length_km`` (a long haul)."""
    towns = where.open_towns
    points, total = [start], 0.0
    while total < length_km:
        near = sorted(c for c, p in towns.items() if 5.0 < km(points[-1], p) <= reach_km
                      and where.clear(points[-1], p))
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
