"""What the demo city's devices report at each step: pure and seeded, no clock, no I/O.

Scenarios (a rainstorm over a county, a gas leak, a fire alarm) change what chosen
devices report for a number of steps; a quiet background keeps the map alive.

A walked storm (``inject("rainstorm", path=[...], minutes=N)``) is a rain cell that moves along a path of
county codes or points over N minutes, timed by the ``now`` each step is given: a gauge reports the
rolling 1-h total of the rain that fell on it, so the warnings move across the map with the storm, and a
river or reservoir station rises with the rain that fell on it a while before (a lag per station that
grows with its position along the path: downstream rises later).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from alerts.rules import Zone, ZoneForbiddenRule, ZoneSpeedRule, load_rules
from alerts.vehicles import Fix, contains
from simulator import tickets
from simulator.catalogue import RESERVOIR_BASE_M, RIVER_BASE_M, CatalogueDevice
from simulator.routes import Map, Point, Route, centres, long_route, round_trip, through
from simulator.routes import km as _km

SCENARIOS = ("rainstorm", "gas_leak", "fire", "hazmat_speeding", "hazmat_fatigue")
VEHICLE_SCENARIOS = ("hazmat_speeding", "hazmat_fatigue")
HOTLINE = ("zw", "hotline12345")  # (dept, system) of the department systems whose events it plays
POLICE = ("ga", "police110")
# Callers of the feeds, clearly fake: names from a short list ("": the caller gave none), numbers of 139 0000 xxxx.
CALLERS = ("张先生", "李女士", "王建国", "刘芳", "陈伟", "杨秀英", "赵磊", "")


STORM_SIGMA_KM = 10.0  # the rain cell's radius (a Gaussian's sigma)
STORM_RAIN_MM = 90.0  # rain on the path's centre line from the storm's whole passage
STORM_SAMPLES = 20  # a rolling 1-h total integrates the rain rate at this many instants of the hour
RIVER_LAG = (timedelta(minutes=20), timedelta(minutes=25))  # at the path's start, and added by its end
RESERVOIR_LAG_FACTOR = 1.5  # a reservoir fills more slowly than a river rises
RISE_SCALE_MM = 40.0  # rain in the hour before the lag that brings a station most of the way to its top
CRUISE_KMH = (50.0, 4.0)  # a hazmat truck's speed (mean, sd): under the town's 60 and the roads' 80
ZONE_MARGIN_KMH = 8.0  # how far under a low zone limit (a school's 40) a truck slows
SPEEDING_KMH = 65.0  # the speeding scenario's, through a school zone
DEPOT_REST = timedelta(minutes=25)  # at the depot between rounds: a rest, in a permitted place
FATIGUE_DRIVEN = timedelta(hours=5)  # the fatigue scenario's hours on the road without a stop, reported at once
TERMINAL_EVERY = timedelta(seconds=30)  # a terminal's stored fixes, as the catalogue's interval
STEP = timedelta(seconds=10)  # the first step's length (later: the time since the last step)


@dataclass(frozen=True, slots=True)
class StormPath:
    """A rain cell walking along ``points`` at a steady speed, starting at ``started`` and lasting ``minutes``."""

    points: tuple[Point, ...]
    minutes: float
    started: datetime
    rain_mm: float = STORM_RAIN_MM

    @property
    def length_km(self) -> float:
        return sum(_km(a, b) for a, b in zip(self.points, self.points[1:], strict=False))

    @property
    def ends(self) -> datetime:
        return self.started + timedelta(minutes=self.minutes)

    def centre(self, at: datetime) -> Point | None:
        """Where the cell is at ``at``; None before it starts or after it ends."""
        if not self.started <= at <= self.ends:
            return None
        goal = self.length_km * (at - self.started) / timedelta(minutes=self.minutes)
        for a, b in zip(self.points, self.points[1:], strict=False):
            leg = _km(a, b)
            if goal <= leg and leg > 0:
                f = goal / leg
                return a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])
            goal -= leg
        return self.points[-1]

    def peak_mm_h(self) -> float:
        """The cell's rain rate at its centre, so that a point on the path gets ``rain_mm`` from the passage
        (a stationary cell: spread over its minutes)."""
        hours = self.minutes / 60
        if self.length_km < 1.0:
            return self.rain_mm / hours
        speed = self.length_km / hours
        return self.rain_mm * speed / (STORM_SIGMA_KM * math.sqrt(2 * math.pi))

    def rate_mm_h(self, at: datetime, where: Point) -> float:
        centre = self.centre(at)
        if centre is None:
            return 0.0
        d = _km(centre, where)
        return self.peak_mm_h() * math.exp(-d * d / (2 * STORM_SIGMA_KM ** 2))

    def rain_1h(self, now: datetime, where: Point) -> float:
        """The rain that fell on ``where`` in the hour up to ``now`` (mm): what a gauge there reports."""
        step = timedelta(hours=1) / STORM_SAMPLES
        return sum(self.rate_mm_h(now - step * (i + 0.5), where) for i in range(STORM_SAMPLES)) / STORM_SAMPLES

    def along(self, where: Point) -> float:
        """How far along the path ``where`` lies, 0 (its start) … 1 (its end): the nearest point of the path."""
        total = self.length_km
        if total < 1.0:
            return 0.0
        best, done = (math.inf, 0.0), 0.0
        for a, b in zip(self.points, self.points[1:], strict=False):
            leg = _km(a, b)
            for k in range(21):
                f = k / 20
                d = _km((a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), where)
                if d < best[0]:
                    best = (d, (done + f * leg) / total)
            done += leg
        return best[1]

    def lag(self, where: Point, factor: float = 1.0) -> timedelta:
        """How long after the rain a station at ``where`` rises: longer the further downstream it lies."""
        return (RIVER_LAG[0] + RIVER_LAG[1] * self.along(where)) * factor

    def rise_m(self, now: datetime, where: Point, room_m: float, factor: float = 1.0) -> float:
        """A station's rise: the rain of the hour before ``now`` less its lag, brought up to ``room_m``."""
        rain = self.rain_1h(now - self.lag(where, factor), where)
        return room_m * (1 - math.exp(-rain / RISE_SCALE_MM))


@dataclass(slots=True)
class Scenario:
    kind: str
    district_code: str | None  # rainstorm: the county it rains on
    device_id: str | None  # gas_leak / fire: the device that sees it
    until_step: int
    path: tuple[Point, ...] = ()  # a walked rainstorm: where it goes
    minutes: float = 0.0  # … and how long it takes
    storm: StormPath | None = None  # its timing, set at the first step after it was injected


def vehicle_zones() -> tuple[Zone, ...]:
    """The shipped rules' vehicle zones (where trucks slow down, and which towns routes avoid)."""
    found: dict[str, Zone] = {}
    for rule in load_rules():
        if isinstance(rule, ZoneSpeedRule | ZoneForbiddenRule):
            found.update((z.id, z) for z in rule.zones)
    return tuple(found[k] for k in sorted(found))


@dataclass(slots=True)
class Drive:
    """A vehicle on its route: how far along, resting until, a scenario's fixed speed."""

    route: Route
    along_km: float = 0.0
    resting_until: datetime | None = None
    speed_kmh: float | None = None  # a scenario's; None: cruising, slower in a low-limit zone
    stored: timedelta | None = None  # driven before the first step, its terminal's fixes uploaded then
    backlog: list[dict[str, object]] = field(default_factory=list)  # those fixes, for this step's message


@dataclass(slots=True)
class World:
    devices: list[CatalogueDevice]
    city: str
    seed: int
    step: int = 0
    scenarios: list[Scenario] = field(default_factory=list)
    _rng: np.random.Generator = field(init=False)
    zones: tuple[Zone, ...] = field(default_factory=vehicle_zones)
    _vehicle_rng: np.random.Generator = field(init=False)  # apart, so the vehicles change no other device's draws
    _drives: dict[str, Drive | None] = field(init=False)  # None: parked for good (a depot in a banned core)
    _map: Map = field(init=False)
    _last_now: datetime | None = field(init=False, default=None)
    _ticket_seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._vehicle_rng = np.random.default_rng([self.seed, 4])
        banned = tuple(code for z in self.zones if z.regions and z.limit_kmh is None for code in z.regions)
        towns = centres((d.township_code, d.lon, d.lat) for d in self.devices)
        self._map = Map(towns, frozenset(c for c in towns if banned and c.startswith(banned)), tuple(
            p for z in self.zones for p in ([z.center] if z.center else list(z.polygon))))
        self._drives = {d.device_id: None if banned and d.township_code.startswith(banned) else
                        Drive(self._round(d), resting_until=None)
                        for d in self.devices if d.device_type == "hazmat_vehicle"}

    def _round(self, d: CatalogueDevice) -> Route:
        return round_trip((d.lon, d.lat), self._map, self._vehicle_rng)

    def resolve_path(self, path: Sequence[str]) -> tuple[Point, ...]:
        """Points of a storm's path: a county (6 digits) or township (9 digits) code stands for the middle of
        its devices; ``lon,lat`` is a point."""
        points: list[Point] = []
        for item in path:
            item = item.strip()
            if "," in item:
                lon_text, lat_text = item.split(",", 1)
                lon, lat = float(lon_text), float(lat_text)
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError(f"not a lon,lat point: {item!r}")
                points.append((lon, lat))
                continue
            members = [d for d in self.devices if len(item) in (6, 9) and item.isdigit()
                       and d.township_code.startswith(item)]
            if not members:
                raise ValueError(f"no county or township {item!r} in the demo city (6- or 9-digit code, or lon,lat)")
            points.append((sum(d.lon for d in members) / len(members), sum(d.lat for d in members) / len(members)))
        if not points:
            raise ValueError("a storm's path needs at least one county code or lon,lat point")
        return tuple(points)

    def inject(self, kind: str, *, district_code: str | None = None, device_id: str | None = None,
               steps: int = 90, path: Sequence[str] = (), minutes: float = 90.0) -> Scenario:
        if kind not in SCENARIOS:
            raise ValueError(f"unknown scenario {kind!r}; known: {', '.join(SCENARIOS)}")
        if kind in VEHICLE_SCENARIOS:
            return self._vehicle_scenario(kind, district_code, device_id, steps)
        if path:
            if kind != "rainstorm":
                raise ValueError("only a rainstorm walks a path")
            if not 1 <= minutes <= 24 * 60:
                raise ValueError(f"a storm lasts 1 to 1440 minutes, not {minutes}")
            scenario = Scenario(kind, None, None, 2 ** 62, self.resolve_path(path), float(minutes))
            self.scenarios.append(scenario)
            return scenario
        if kind == "rainstorm" and not district_code:
            raise ValueError("a rainstorm needs a district code or a path")
        if kind != "rainstorm" and device_id is None:
            wanted = "gas_detector" if kind == "gas_leak" else "smoke_detector"
            candidates = [d.device_id for d in self.devices if d.device_type == wanted
                          and (district_code is None or d.township_code.startswith(district_code))]
            if not candidates:
                raise ValueError(f"no {wanted} in district {district_code}")
            device_id = candidates[int(self._rng.integers(len(candidates)))]
        scenario = Scenario(kind, district_code, device_id, self.step + steps)
        self.scenarios.append(scenario)
        return scenario

    def _vehicle_scenario(self, kind: str, district_code: str | None, device_id: str | None,
                          steps: int) -> Scenario:
        """``hazmat_speeding``: a truck sent through the nearest school zone at 65 km/h (over its 40; at school
        time it is a forbidden zone too). ``hazmat_fatigue``: a truck that has driven 5 h without a stop (its
        terminal uploads those hours at the next step) and drives on for ``steps``."""
        drivers = sorted(v for v, drive in self._drives.items() if drive is not None and (device_id in (None, v)) and (
            district_code is None or self._device(v).township_code.startswith(district_code)))
        if not drivers:
            raise ValueError(f"no hazmat vehicle that drives in {district_code or device_id}")
        if kind == "hazmat_speeding":
            schools = [z for z in self.zones if z.center is not None and z.limit_kmh is not None
                       and z.limit_kmh < CRUISE_KMH[0]]
            if not schools:
                raise ValueError("the rules name no low-limit zone to speed through")
            pairs = [(_km((d.lon, d.lat), z.center), v, z) for v in drivers for z in schools
                     if (d := self._device(v)) and z.center is not None]
            _, vehicle, school = min(pairs, key=lambda p: (p[0], p[1]))
            assert school.center is not None
            self._drives[vehicle] = Drive(through(school.center, float(self._vehicle_rng.uniform(0, 360))),
                                          speed_kmh=SPEEDING_KMH)
        else:
            vehicle = drivers[int(self._vehicle_rng.integers(len(drivers)))]
            d = self._device(vehicle)
            ahead = CRUISE_KMH[0] * (FATIGUE_DRIVEN.total_seconds() / 3600 + steps * STEP.total_seconds() / 3600)
            route = long_route((d.lon, d.lat), self._map, self._vehicle_rng, ahead + 10)
            self._drives[vehicle] = Drive(route, along_km=CRUISE_KMH[0] * FATIGUE_DRIVEN.total_seconds() / 3600,
                                          speed_kmh=CRUISE_KMH[0], stored=FATIGUE_DRIVEN)
        scenario = Scenario(kind, None, vehicle, self.step + steps)
        self.scenarios.append(scenario)
        return scenario

    def _device(self, device_id: str) -> CatalogueDevice:
        return next(d for d in self.devices if d.device_id == device_id)

    def _storm_districts(self) -> set[str]:
        return {s.district_code for s in self.scenarios if s.kind == "rainstorm" and s.district_code}

    def _hit(self, kind: str, device_id: str) -> bool:
        return any(s.kind == kind and s.device_id == device_id for s in self.scenarios)

    def walking(self) -> list[StormPath]:
        return [s.storm for s in self.scenarios if s.storm is not None]

    def _value(self, d: CatalogueDevice, storm: bool, now: datetime) -> dict[str, float]:
        r = self._rng
        if d.device_type == "rain_gauge":
            base = r.gamma(0.3, 2.0)
            walked = sum(w.rain_1h(now, (d.lon, d.lat)) for w in self.walking())
            return {"rain_1h": round(float(min(base + walked + (r.uniform(55, 95) if storm else 0.0), 399.0)), 1)}
        if d.device_type in ("river_gauge", "reservoir_gauge"):
            base = RIVER_BASE_M if d.device_type == "river_gauge" else RESERVOIR_BASE_M
            over = 0.0
            if d.lines is not None:
                top = d.lines.guarantee - base + (0.5 if d.device_type == "river_gauge" else 0.3)
                factor = 1.0 if d.device_type == "river_gauge" else RESERVOIR_LAG_FACTOR
                over = min(top, sum(w.rise_m(now, (d.lon, d.lat), top, factor) for w in self.walking()))
                if storm:  # a county-wide storm: between its 警戒水位 and 保证水位 + 0.6 m
                    over = max(over, d.lines.warning - base + r.uniform(0.0, d.lines.guarantee - d.lines.warning
                                                                        + 0.6))
            return {"water_level": round(float(base + r.normal(0, 0.05) + over), 2)}
        if d.device_type == "gas_detector":
            leak = self._hit("gas_leak", d.device_id)
            return {"gas_lel": round(float(r.uniform(55, 70) if leak else abs(r.normal(1.0, 0.8))), 1)}
        if d.device_type == "smoke_detector":
            return {"smoke": 1.0 if self._hit("fire", d.device_id) else 0.0}
        raise ValueError(f"no reading for a {d.device_type}")  # vehicles drive in ``_fixes``

    def _fix(self, route: Route, along_km: float, speed: float, ts: datetime) -> dict[str, object]:
        (lon, lat), bearing = route.at(along_km)
        return {"ts": ts.isoformat(), "values": {"speed_kmh": round(speed, 1), "heading": round(bearing, 1)},
                "lon": round(lon, 6), "lat": round(lat, 6)}

    def _cruise(self, where: Point) -> float:
        """A truck's speed: cruising, slower inside a zone whose limit is under it (a school's)."""
        speed = float(np.clip(self._vehicle_rng.normal(*CRUISE_KMH), 35, 58))
        limits = [z.limit_kmh for z in self.zones if z.limit_kmh is not None and z.limit_kmh < speed + ZONE_MARGIN_KMH
                  and not z.regions and contains(z, Fix(datetime.min, where[0], where[1], 0.0))]
        return min([speed, *(limit - ZONE_MARGIN_KMH for limit in limits)])

    def _vehicle_body(self, d: CatalogueDevice, now: datetime, dt: timedelta) -> object:
        """One vehicle's report: its fix now (a list, with the fixes its terminal stored, when it has some)."""
        drive = self._drives[d.device_id]
        if drive is None:  # parked at its depot for good
            return {"ts": now.isoformat(), "values": {"speed_kmh": 0.0, "heading": 0.0}, "lon": d.lon, "lat": d.lat}
        if drive.stored is not None:  # the hours its terminal stored, uploaded with this fix
            speed = drive.speed_kmh or CRUISE_KMH[0]
            count = int(drive.stored / TERMINAL_EVERY)
            back_km = speed * TERMINAL_EVERY.total_seconds() / 3600
            drive.backlog = [self._fix(drive.route, drive.along_km - k * back_km, speed, now - k * TERMINAL_EVERY)
                             for k in range(count, 0, -1)]
            drive.stored = None
        resting = drive.resting_until is not None and now < drive.resting_until
        here, _ = drive.route.at(drive.along_km)
        speed = 0.0 if resting else drive.speed_kmh or self._cruise(here)
        drive.along_km += speed * dt.total_seconds() / 3600
        fix = self._fix(drive.route, drive.along_km, speed, now)
        if drive.along_km >= drive.route.length_km and not resting:
            self._next_leg(d, drive, now)
        if drive.backlog:
            body, drive.backlog = [*drive.backlog, fix], []
            return body
        return fix

    def _next_leg(self, d: CatalogueDevice, drive: Drive, now: datetime) -> None:
        """At a route's end: home when away (a scenario's route), else rest at the depot and set off again."""
        end = drive.route.points[-1]
        if _km(end, (d.lon, d.lat)) > 0.3:
            self._drives[d.device_id] = Drive(Route((end, (d.lon, d.lat))))
        else:
            self._drives[d.device_id] = Drive(self._round(d), resting_until=now + DEPOT_REST)

    def _background_incidents(self) -> None:
        """Now and then something happens somewhere, so a demo has live incidents (a world without gas or smoke
        detectors, say only the flood stations of a test, has none of these)."""
        types = {d.device_type for d in self.devices}
        if self.step % 30 == 5 and "gas_detector" in types:
            self.inject("gas_leak", steps=6)
        if self.step % 45 == 20 and "smoke_detector" in types:
            self.inject("fire", steps=3)

    def messages(self, now: datetime) -> list[tuple[str, bytes]]:
        """Advance one step; the (topic, payload) pairs every device publishes at ``now``."""
        self._background_incidents()
        for s in self.scenarios:
            if s.path and s.storm is None:
                s.storm = StormPath(s.path, s.minutes, now)
        storms = self._storm_districts()
        ts = now.isoformat()
        dt, self._last_now = (now - self._last_now if self._last_now else STEP), now
        out: list[tuple[str, bytes]] = []
        for d in self.devices:
            body: object = (self._vehicle_body(d, now, dt) if d.device_type == "hazmat_vehicle" else
                            {"ts": ts, "values": self._value(d, d.township_code[:6] in storms, now)})
            out.append((f"city/{self.city}/telemetry/{d.dept}/{d.device_type}/{d.device_id}",
                        json.dumps(body, ensure_ascii=False).encode()))
        out.extend(self._hotline(now))
        self.step += 1
        # a walked storm stays until its last rain has left the gauges' hour and the slowest station its lag
        after = timedelta(hours=1) + (RIVER_LAG[0] + RIVER_LAG[1]) * RESERVOIR_LAG_FACTOR
        self.scenarios = [s for s in self.scenarios if s.until_step > self.step
                          and (s.storm is None or now < s.storm.ends + after)]
        return out

    def _event_topic(self, system: tuple[str, str]) -> str:
        dept, name = system
        return f"city/{self.city}/event/{dept}/{name}"

    def _hotline(self, now: datetime) -> list[tuple[str, bytes]]:
        """12345 tickets (``simulator.tickets``: their kinds and words, a few genuine hotspots among background
        noise): stored as events; a few 110 reports carry a level and become incidents. Each names its caller
        (``reporter``)."""
        out = []
        for drawn in tickets.draw(self._rng, self.seed, self.step, [(d.lon, d.lat) for d in self.devices]):
            self._ticket_seq += 1
            body = {"event_id": f"12345-{self.seed}-{self._ticket_seq}", "ts": now.isoformat(),
                    "category": "hotline", "title": drawn.complaint, "description": drawn.text,
                    "lon": drawn.lon, "lat": drawn.lat, "reporter": self._caller()}
            out.append((self._event_topic(HOTLINE), json.dumps(body, ensure_ascii=False).encode()))
        if self.step % 60 == 40:
            d = self.devices[int(self._rng.integers(len(self.devices)))]
            self._ticket_seq += 1
            body = {"event_id": f"110-{self.seed}-{self._ticket_seq}", "ts": now.isoformat(),
                    "category": "public_safety", "title": "110警情：群众报警道路塌陷", "level": 3,
                    "lon": d.lon, "lat": d.lat, "reporter": self._caller()}
            out.append((self._event_topic(POLICE), json.dumps(body, ensure_ascii=False).encode()))
        return out

    def _caller(self) -> dict[str, str]:
        """Who called in the current ticket (shown masked but to the command center and the township)."""
        n = self._ticket_seq
        return {"name": CALLERS[n % len(CALLERS)], "phone": f"1390000{n % 10_000:04d}"}
