"""What the vehicle rules (危货运输) say about one vehicle's track: pure functions of data, time from the fixes.

A track is the vehicle's fixes in time order (position, speed, the grid ingest tagged it with). Each fix is
first placed: the zones of the rule it lies in that are in force at its time (``where``); then one function
per rule kind turns the placed track into a ``Verdict``:

- ``zone_speed`` (精准限速): the limit at a fix is the lowest of its zones', else the rule's; ``for_count``
  fixes in a row over their limit fire, the level rising with the share over it; at or under it, cleared.
- ``zone_forbidden``: driving inside a forbidden zone while it is in force (its hours) fires, since it entered;
  outside, cleared. A zone's hours are its ban's: its speed limit holds always.
- ``driving_time`` (疲劳驾驶): driving since the last rest (no moving fix for ``rest_minutes``: standing, or
  the terminal silent) longer than ``drive_hours`` fires; a rest in progress clears.
- ``stopped``: standing still longer than ``stop_minutes`` outside the permitted zones and the vehicle's own
  depot fires; moving, or standing in a permitted place, clears.

``judge`` places fixes one at a time; ``alerts.batch.judge_vehicles`` places a round's fixes together in
numpy, with the same arithmetic (``zone_mask``), so the two agree verdict for verdict
(tests/alerts/test_vehicles_batch.py).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from alerts.rules import DrivingTimeRule, Hours, StoppedRule, VehicleRule, Zone, ZoneForbiddenRule, ZoneSpeedRule
from alerts.verdicts import Verdict, quiet

CITY_TZ = ZoneInfo("Asia/Shanghai")  # the zones' hours are local
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
BoolArray = npt.NDArray[np.bool_]
Placed = tuple[int, ...]  # the indexes (in the rule's zones) of the zones a fix is in, in force at its time


class Fix(NamedTuple):
    """One position report of a vehicle."""

    ts: datetime
    lon: float
    lat: float
    speed: float  # km/h
    grid_code: str | None = None  # as ingest tagged the position


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle as its registration describes it (``devices.attributes``): plate, company, UN cargo class,
    and its depot (its registered site)."""

    device_id: str
    plate: str
    company: str = ""
    cargo_class: int | None = None  # UN class 1–9
    cargo: str = ""  # the goods, e.g. 汽油
    depot_lon: float | None = None
    depot_lat: float | None = None

    @classmethod
    def of(cls, device_id: str, name: str, lon: float | None, lat: float | None,
           attributes: Mapping[str, Any] | None) -> Vehicle:
        a = attributes or {}
        cargo_class = a.get("cargo_class")
        return cls(device_id, str(a.get("plate") or name), str(a.get("company") or ""),
                   int(cargo_class) if isinstance(cargo_class, int | float) else None, str(a.get("cargo") or ""),
                   lon, lat)

    def facts(self) -> dict[str, Any]:
        """What every vehicle warning's details carry."""
        return {"plate": self.plate, "company": self.company, "cargo_class": self.cargo_class, "cargo": self.cargo}


class VehicleCase(NamedTuple):
    """One vehicle rule about one vehicle, with the track it reads (in time order, ending at the latest)."""

    rule: VehicleRule
    vehicle: Vehicle
    track: Sequence[Fix]


def local_time(ts: datetime) -> time:
    return ts.astimezone(CITY_TZ).time()


def in_force(zone: Zone, ts: datetime) -> bool:
    return not zone.hours or any(h.covers(local_time(ts)) for h in zone.hours)


def hours_words(hours: Sequence[Hours]) -> str:
    return "、".join(f"{h.start:%H:%M}–{h.end:%H:%M}" for h in hours) if hours else "全天"


@functools.lru_cache(maxsize=256)
def _polygon(ring: tuple[tuple[float, float], ...]) -> Polygon:
    polygon = Polygon(ring)
    shapely.prepare(polygon)
    return polygon


@functools.lru_cache(maxsize=1024)
def _circle_terms(center: tuple[float, float], radius_m: float) -> tuple[float, float, float, float]:
    """(centre lon, centre lat, metres per degree of longitude there, radius²): a circle's test without trigonometry
    per point, so one point and an array of them give bit for bit the same answer."""
    lon, lat = center
    return lon, lat, M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)), radius_m * radius_m


def _in_circle(center: tuple[float, float], radius_m: float, lon: float, lat: float) -> bool:
    c_lon, c_lat, m_lon, r2 = _circle_terms(center, radius_m)
    dx, dy = (lon - c_lon) * m_lon, (lat - c_lat) * M_PER_DEG_LAT
    return dx * dx + dy * dy <= r2


def zone_mask(zone: Zone, lons: npt.NDArray[np.float64], lats: npt.NDArray[np.float64],
              grids: Sequence[str | None]) -> BoolArray:
    """Which points lie in the zone (whatever its hours)."""
    if zone.center is not None and zone.radius_m is not None:
        c_lon, c_lat, m_lon, r2 = _circle_terms(zone.center, zone.radius_m)
        dx, dy = (lons - c_lon) * m_lon, (lats - c_lat) * M_PER_DEG_LAT
        inside: BoolArray = dx * dx + dy * dy <= r2
        return inside
    if zone.polygon:
        found: BoolArray = shapely.contains_xy(_polygon(zone.polygon), lons, lats)
        return found
    return np.fromiter((g is not None and g.startswith(zone.regions) for g in grids), dtype=bool, count=len(grids))


def contains(zone: Zone, fix: Fix) -> bool:
    """``zone_mask`` for one fix."""
    if zone.center is not None and zone.radius_m is not None:
        return _in_circle(zone.center, zone.radius_m, fix.lon, fix.lat)
    if zone.polygon:
        return bool(shapely.contains_xy(_polygon(zone.polygon), fix.lon, fix.lat))
    return fix.grid_code is not None and fix.grid_code.startswith(zone.regions)


def _zones(rule: VehicleRule) -> tuple[Zone, ...]:
    return () if isinstance(rule, DrivingTimeRule) else rule.zones


def hours_apply(rule: VehicleRule) -> bool:
    """A zone's hours are when it is closed to hazardous goods; its speed limit and a permitted place hold always."""
    return isinstance(rule, ZoneForbiddenRule)


def place(rule: VehicleRule, track: Sequence[Fix]) -> list[Placed]:
    """Per fix, the rule's zones it lies in (for a forbidden zone: in force then): one fix at a time."""
    zones, timed = _zones(rule), hours_apply(rule)
    return [tuple(k for k, z in enumerate(zones) if contains(z, f) and (not timed or in_force(z, f.ts)))
            for f in track]


def _moving(rule: VehicleRule, fix: Fix) -> bool:
    return fix.speed >= rule.moving_kmh


def _limit(rule: ZoneSpeedRule, placed: Placed) -> tuple[float, Zone | None]:
    """The limit at a fix: the lowest of its zones' (the zone too), else the rule's outside every zone."""
    zones = [rule.zones[k] for k in placed]
    if not zones:
        return rule.limit_kmh, None
    zone = min(zones, key=lambda z: (z.limit_kmh or math.inf, z.id))
    assert zone.limit_kmh is not None
    return zone.limit_kmh, zone


def _over(speed: float, limit: float) -> float:
    return round((speed / limit - 1) * 100, 1)


def zone_speed(rule: ZoneSpeedRule, vehicle: Vehicle, track: Sequence[Fix], where: Sequence[Placed]) -> Verdict:
    subject = vehicle.device_id
    if not track:
        return quiet(subject)
    last = track[-1]
    limit, zone = _limit(rule, where[-1])
    if last.speed <= limit:
        return Verdict(subject, firing=False, cleared=True, last=last.speed)
    run = 0
    for fix, placed in zip(reversed(track), reversed(where), strict=True):
        if fix.speed <= _limit(rule, placed)[0]:
            break
        run += 1
    if run < rule.for_count:
        return Verdict(subject, firing=False, cleared=False, last=last.speed)
    tail = list(zip(track[-rule.for_count:], where[-rule.for_count:], strict=True))
    sustained = min(_over(f.speed, _limit(rule, p)[0]) for f, p in tail)  # the level holds for the whole count
    over = _over(last.speed, limit)
    place_words = zone.name if zone is not None else "限速区外"
    details = vehicle.facts() | {"zone": zone.name if zone else None, "zone_id": zone.id if zone else None,
                                 "limit_kmh": limit, "speed_kmh": last.speed, "over_percent": over,
                                 "lon": last.lon, "lat": last.lat}
    basis = f"{place_words} 限速 {limit:.0f} km/h，车速 {last.speed:.1f} km/h，超速 {over:.0f}%"
    return Verdict(subject, firing=True, cleared=False, level=rule.level_of(sustained), since=track[-run].ts,
                   peak=max(f.speed for f in track[-run:]), last=last.speed, details=details, basis=basis)


def zone_forbidden(rule: ZoneForbiddenRule, vehicle: Vehicle, track: Sequence[Fix],
                   where: Sequence[Placed]) -> Verdict:
    subject = vehicle.device_id
    if not track:
        return quiet(subject)
    if not where[-1]:
        return Verdict(subject, firing=False, cleared=True)
    entered, drove = track[-1].ts, False
    for fix, placed in zip(reversed(track), reversed(where), strict=True):
        if not placed:
            break
        entered, drove = fix.ts, drove or _moving(rule, fix)
    if not drove:  # parked there since before the ban (its depot): it has not driven in
        return Verdict(subject, firing=False, cleared=False)
    zone = rule.zones[where[-1][0]]
    last = track[-1]
    minutes = (last.ts - entered).total_seconds() / 60
    details = vehicle.facts() | {"zone": zone.name, "zone_id": zone.id, "hours": hours_words(zone.hours),
                                 "speed_kmh": last.speed, "lon": last.lon, "lat": last.lat,
                                 "entered": entered.isoformat()}
    basis = f"驶入{zone.name}（禁行时段 {hours_words(zone.hours)}），车速 {last.speed:.1f} km/h"
    return Verdict(subject, firing=True, cleared=False, level=rule.level, since=entered, last=round(minutes, 1),
                   details=details, basis=basis)


def _duration_words(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}小时{minutes % 60:02d}分"


def driving_time(rule: DrivingTimeRule, vehicle: Vehicle, track: Sequence[Fix]) -> Verdict:
    """A rest is any stretch between two moving fixes (or from the last one to now) of at least
    ``rest_minutes``: standing fixes and silence alike. Driving runs from the first moving fix after the last
    rest (the track's first, when it shows none: a lower bound) to the latest moving fix."""
    subject = vehicle.device_id
    rest = timedelta(minutes=rule.rest_minutes)
    moving = [f for f in track if _moving(rule, f)]
    if not moving:
        return Verdict(subject, firing=False, cleared=True, last=0.0)
    last = track[-1]
    if last.ts - moving[-1].ts >= rest:
        return Verdict(subject, firing=False, cleared=True, last=0.0)  # resting now
    start = moving[0].ts
    for before, after in itertools.pairwise(moving):
        if after.ts - before.ts >= rest:
            start = after.ts
    driven = moving[-1].ts - start
    minutes = round(driven.total_seconds() / 60, 1)
    if driven < timedelta(hours=rule.drive_hours):
        return Verdict(subject, firing=False, cleared=False, last=minutes)
    details = vehicle.facts() | {"driving_minutes": minutes, "since": start.isoformat(),
                                 "drive_hours": rule.drive_hours, "rest_minutes": rule.rest_minutes,
                                 "lon": last.lon, "lat": last.lat}
    basis = (f"连续驾驶 {_duration_words(driven)}，超过 {rule.drive_hours:g} 小时未休息"
             f" {rule.rest_minutes:g} 分钟")
    return Verdict(subject, firing=True, cleared=False, level=rule.level, since=start, peak=minutes, last=minutes,
                   details=details, basis=basis)


def _at_depot(rule: StoppedRule, vehicle: Vehicle, fix: Fix) -> bool:
    if vehicle.depot_lon is None or vehicle.depot_lat is None or not rule.depot_radius_m:
        return False
    return _in_circle((vehicle.depot_lon, vehicle.depot_lat), rule.depot_radius_m, fix.lon, fix.lat)


def stopped(rule: StoppedRule, vehicle: Vehicle, track: Sequence[Fix], where: Sequence[Placed]) -> Verdict:
    subject = vehicle.device_id
    if not track:
        return quiet(subject)
    last = track[-1]
    if _moving(rule, last) or where[-1] or _at_depot(rule, vehicle, last):
        return Verdict(subject, firing=False, cleared=True, last=last.speed)
    since = last.ts
    for fix in reversed(track):
        if _moving(rule, fix):
            break
        since = fix.ts
    stood = last.ts - since
    minutes = round(stood.total_seconds() / 60, 1)
    if stood < timedelta(minutes=rule.stop_minutes):
        return Verdict(subject, firing=False, cleared=False, last=minutes)
    details = vehicle.facts() | {"stopped_minutes": minutes, "since": since.isoformat(), "lon": last.lon,
                                 "lat": last.lat, "stop_minutes": rule.stop_minutes}
    basis = f"非许可停车点停车 {_duration_words(stood)}（超过 {rule.stop_minutes:g} 分钟）"
    return Verdict(subject, firing=True, cleared=False, level=rule.level, since=since, peak=minutes, last=minutes,
                   details=details, basis=basis)


def verdict_of(case: VehicleCase, where: Sequence[Placed]) -> Verdict:
    """The case's verdict, its fixes placed (``place``, or the batch's arrays)."""
    rule, vehicle, track = case
    if isinstance(rule, ZoneSpeedRule):
        return zone_speed(rule, vehicle, track, where)
    if isinstance(rule, ZoneForbiddenRule):
        return zone_forbidden(rule, vehicle, track, where)
    if isinstance(rule, DrivingTimeRule):
        return driving_time(rule, vehicle, track)
    return stopped(rule, vehicle, track, where)


def judge(case: VehicleCase) -> Verdict:
    """The per-reading path: the case's fixes placed one at a time."""
    return verdict_of(case, place(case.rule, case.track))
