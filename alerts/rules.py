"""Alert rules as configuration: loaded and validated whole from TOML, or not at all.

Kinds (``kind = ...`` in the file):
- ``threshold``: a metric at or above a level's value for at least ``for_minutes`` or
  ``for_count`` readings in a row; cleared below ``clear_below`` (hysteresis). The levels are fixed
  values (``levels``) or each station's own lines (``lines``: 警戒水位, 保证水位, a reservoir's 汛限水位,
  kept with the device); ``accumulate_hours`` judges the sum of an hourly total over that many hours
  (rainfall over 3 h or 24 h from the gauges' rolling 1-h totals), and ``grades`` name the value's
  grade (the national rainfall grades) in the warning.
- ``rate``: the rise of a metric over ``window_minutes``.
- ``no_data``: a device silent for longer than ``factor`` × its expected interval; when a
  whole township falls silent at once, one area warning replaces the per-device ones.
- ``compound``: conditions on several device types in one township within a window,
  combined with ``all`` (AND) or ``any`` (OR): heavy rain AND a river over its own warning line → red;
  the warning names the stations and values that met each condition.
- ``geofence``: a moving device inside a zone of region codes (enter, or dwell).
- ``event_count``: events of one category and title within a radius and a window
  (a hotline hotspot, 高频诉求).
- Moving vehicles (危货运输), judged on their track (alerts/vehicles.py) against zones (``[[zone]]`` in the
  file: circles, polygons or region codes, each with a speed limit and the hours it is in force), which a
  rule names by id: ``zone_speed`` (精准限速: over the limit of the zone the vehicle is in), ``zone_forbidden``
  (inside a forbidden zone while it is in force), ``driving_time`` (疲劳驾驶: driving longer than
  ``drive_hours`` without a rest of ``rest_minutes``), ``stopped`` (stopped outside a permitted place longer
  than ``stop_minutes``).
Every rule maps values to the national levels 1 红 I … 4 蓝 IV.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

DEFAULT_RULES = Path(__file__).with_name("rules.toml")


class RuleError(ValueError):
    """The rule file is invalid; the message names the rule and the field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelThreshold(_Config):
    level: int = Field(ge=1, le=4)
    at_least: float


# A water-level station's own lines (devices.attributes->'lines', metres on the station's datum):
# 汛限水位 (a reservoir's flood-season limit), 警戒水位 (warning), 保证水位 (guaranteed: the level the
# embankments are built to hold). Lower to higher in this order at every station (checked at registration).
Line = Literal["flood_limit", "warning", "guarantee"]
LINE_ORDER: dict[str, int] = {"flood_limit": 0, "warning": 1, "guarantee": 2}
LINE_NAMES: dict[str, str] = {"flood_limit": "汛限水位", "warning": "警戒水位", "guarantee": "保证水位"}


class LineLevel(_Config):
    """A level reached when the value is ``above`` (metres; negative: approaching) the station's ``line``."""

    level: int = Field(ge=1, le=4)
    line: Line
    above: float = Field(default=0.0, ge=-5, le=20)


class Grade(_Config):
    """A named grade of the value (e.g. 暴雨 from 50 mm in 24 h): said in the warning, not a level."""

    name: str = Field(min_length=1)
    at_least: float = Field(ge=0)


class _Rule(_Config):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    group_minutes: float = Field(default=0, ge=0, le=24 * 60)  # a burst within this window → one incident
    downgrade_hold_minutes: float = Field(default=30, ge=0)  # a falling value must stay low this long


class _Leveled(_Rule):
    levels: tuple[LevelThreshold, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels_ordered(self) -> _Leveled:
        if not self.levels:
            return self  # a threshold rule on the stations' own lines (ThresholdRule checks that)
        by_value = sorted(self.levels, key=lambda lt: lt.at_least)
        if [lt.level for lt in by_value] != sorted((lt.level for lt in by_value), reverse=True):
            raise ValueError("a higher threshold must give a more severe level (smaller number)")
        if len({lt.level for lt in self.levels}) != len(self.levels):
            raise ValueError("each level may appear once")
        clear = getattr(self, "clear_below", None)
        if clear is not None and clear > by_value[0].at_least:
            raise ValueError("clear_below must not exceed the lowest threshold")
        return self

    def level_of(self, value: float) -> int | None:
        hits = [lt.level for lt in self.levels if value >= lt.at_least]
        return min(hits) if hits else None


class ThresholdRule(_Leveled):
    kind: Literal["threshold"] = "threshold"
    device_type: str
    metric: str
    levels: tuple[LevelThreshold, ...] = ()  # fixed values; or ``lines``, each station's own
    lines: tuple[LineLevel, ...] = ()
    for_minutes: float = Field(default=0, ge=0, le=24 * 60)
    for_count: int = Field(default=1, ge=1, le=1000)
    clear_below: float | None = None  # with ``levels``
    clear_margin: float = Field(default=0.0, ge=0)  # with ``lines``: cleared this far below the station's lowest level
    area: tuple[str, ...] = ()  # region-code prefixes where the rule applies (e.g. a speed limit zone)
    accumulate_hours: int = Field(default=1, ge=1, le=72)  # the metric is an hourly total: sum this many hours
    grades: tuple[Grade, ...] = ()

    @model_validator(mode="after")
    def _one_way_to_level(self) -> ThresholdRule:
        if bool(self.levels) == bool(self.lines):
            raise ValueError("give either levels (fixed values) or lines (each station's own lines), one of them")
        if self.levels and self.clear_below is None:
            raise ValueError("clear_below is required with levels")
        if self.lines:
            if self.clear_below is not None:
                raise ValueError("a rule on the stations' lines clears by clear_margin, not clear_below")
            ordered = sorted(self.lines, key=lambda ll: (LINE_ORDER[ll.line], ll.above))
            if [ll.level for ll in ordered] != sorted((ll.level for ll in ordered), reverse=True):
                raise ValueError("a higher line must give a more severe level (smaller number)")
            if len({ll.level for ll in self.lines}) != len(self.lines):
                raise ValueError("each level may appear once")
        if self.accumulate_hours > 1 and (self.for_minutes or self.for_count != 1):
            raise ValueError("an accumulation is judged on its current total: leave out for_minutes and for_count")
        if [g.at_least for g in self.grades] != sorted({g.at_least for g in self.grades}):
            raise ValueError("grades must rise, each from a larger value than the one before")
        return self

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.for_minutes)

    def at_station(self, lines: Mapping[str, float]) -> ThresholdRule | None:
        """The rule with fixed values for one station: its own lines put in; None when it has none of them."""
        if not self.lines:
            return self
        levels = tuple(LevelThreshold(level=ll.level, at_least=round(lines[ll.line] + ll.above, 3))
                       for ll in self.lines if ll.line in lines)
        if not levels:
            return None
        clear = min(lt.at_least for lt in levels) - self.clear_margin
        return self.model_copy(update={"levels": levels, "clear_below": clear})

    def grade_of(self, value: float) -> str | None:
        hits = [g.name for g in self.grades if value >= g.at_least]
        return hits[-1] if hits else None


class RateRule(_Leveled):
    kind: Literal["rate"]
    device_type: str
    metric: str
    window_minutes: float = Field(gt=0, le=24 * 60)
    clear_below: float

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


class NoDataRule(_Rule):
    kind: Literal["no_data"]
    device_type: str = "*"
    factor: float = Field(default=3.0, ge=1.0)
    level: int = Field(default=4, ge=1, le=4)
    inhibit_ratio: float = Field(default=0.6, gt=0, le=1)  # this share of a township silent → one area warning
    inhibit_min_devices: int = Field(default=3, ge=2)


class Condition(_Config):
    """Met by a station of ``device_type`` (one or several) whose value in the window reaches ``at_least``,
    or ``above`` its own ``line``."""

    device_type: str | tuple[str, ...]
    metric: str
    at_least: float | None = None
    line: Line | None = None
    above: float = 0.0

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if (self.at_least is None) == (self.line is None):
            raise ValueError("a condition gives at_least or line, one of them")
        return self

    @property
    def device_types(self) -> tuple[str, ...]:
        return (self.device_type,) if isinstance(self.device_type, str) else self.device_type

    def bound_at(self, lines: Mapping[str, float]) -> float | None:
        """The value a station must reach; None when the condition is on a line the station does not have."""
        if self.at_least is not None:
            return self.at_least
        assert self.line is not None
        return lines[self.line] + self.above if self.line in lines else None


class CompoundRule(_Rule):
    kind: Literal["compound"]
    combine: Literal["all", "any"]
    conditions: tuple[Condition, ...] = Field(min_length=2)
    within_minutes: float = Field(gt=0, le=24 * 60)
    level: int = Field(ge=1, le=4)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.within_minutes)


class GeofenceRule(_Rule):
    kind: Literal["geofence"]
    device_type: str
    zone: tuple[str, ...] = Field(min_length=1)  # region-code prefixes of the forbidden zone
    trigger: Literal["enter", "dwell"] = "enter"
    dwell_minutes: float = Field(default=0, ge=0)
    level: int = Field(ge=1, le=4)


class EventCountRule(_Rule):
    kind: Literal["event_count"]
    event_category: str
    radius_m: float = Field(gt=0, le=50_000)
    window_hours: float = Field(gt=0, le=24 * 90)
    at_least: int = Field(ge=2)
    level: int = Field(ge=1, le=4)
    # A hotspot's warning clears once no complaint of its kind came in its grid for this long (default: the
    # window, so the old cluster has aged out and a new one in the grid warns, and opens an incident, anew).
    quiet_hours: float | None = Field(default=None, gt=0, le=24 * 90)

    @property
    def quiet(self) -> timedelta:
        return timedelta(hours=self.quiet_hours if self.quiet_hours is not None else self.window_hours)


class Hours(_Config):
    """A daily window in the city's local time (Asia/Shanghai), ``start`` inclusive; past midnight when
    ``end`` is earlier than ``start``."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> Hours:
        if self.start == self.end:
            raise ValueError("a window's start and end must differ")
        return self

    def covers(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Zone(_Config):
    """A place vehicles are judged in: a circle (``center`` lon/lat, ``radius_m``), a polygon (lon/lat ring) or
    region-code prefixes (the layers: the grid code ingest tags each position with). ``limit_kmh``: its speed
    limit (always); ``hours``: when it is closed to hazardous goods, for ``zone_forbidden`` (empty: always)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1)
    center: tuple[float, float] | None = None
    radius_m: float | None = Field(default=None, gt=0, le=50_000)
    polygon: tuple[tuple[float, float], ...] = ()
    regions: tuple[str, ...] = ()
    limit_kmh: float | None = Field(default=None, gt=0, le=150)
    hours: tuple[Hours, ...] = ()

    @model_validator(mode="after")
    def _one_shape(self) -> Zone:
        shapes = [self.center is not None, bool(self.polygon), bool(self.regions)]
        if sum(shapes) != 1:
            raise ValueError(f"zone {self.id}: give one of center (with radius_m), polygon or regions")
        if (self.center is None) != (self.radius_m is None):
            raise ValueError(f"zone {self.id}: a circle needs center and radius_m")
        points = [self.center] if self.center is not None else list(self.polygon)
        if any(not (-180 <= lon <= 180 and -90 <= lat <= 90) for lon, lat in points):
            raise ValueError(f"zone {self.id}: points are lon, lat in degrees")
        if self.polygon and len(set(self.polygon)) < 3:
            raise ValueError(f"zone {self.id}: a polygon needs at least 3 distinct points")
        if any(not code.isdigit() for code in self.regions):
            raise ValueError(f"zone {self.id}: regions are region-code prefixes (digits)")
        return self


class _VehicleRule(_Rule):
    device_type: str = "hazmat_vehicle"
    level: int = Field(ge=1, le=4)
    moving_kmh: float = Field(default=5.0, gt=0, le=30)  # below this a vehicle is standing still


class OverLevel(_Config):
    """A more severe level from this share over the limit (超速 50 % is 严重超速)."""


    level: int = Field(ge=1, le=4)
    over_percent: float = Field(gt=0, le=500)


class ZoneSpeedRule(_VehicleRule):
    """精准限速: the limit where the vehicle is is the lowest of the zones in force there, else ``limit_kmh``;
    ``for_count`` fixes in a row over it warn (one GPS jump does not). ``levels`` raise the level with the
    share over the limit."""

    kind: Literal["zone_speed"]
    zones: tuple[Zone, ...] = Field(min_length=1)
    limit_kmh: float = Field(gt=0, le=150)  # outside every zone
    for_count: int = Field(default=2, ge=1, le=100)
    levels: tuple[OverLevel, ...] = ()

    @model_validator(mode="after")
    def _limits(self) -> ZoneSpeedRule:
        if any(z.limit_kmh is None for z in self.zones):
            raise ValueError("every zone of a speed rule needs limit_kmh")
        overs = sorted(self.levels, key=lambda o: o.over_percent)
        if [o.level for o in overs] != sorted((o.level for o in overs), reverse=True) or any(
                o.level >= self.level for o in self.levels):
            raise ValueError("a larger share over the limit must give a more severe level than the rule's")
        return self

    def level_of(self, over_percent: float) -> int:
        return min([self.level, *(o.level for o in self.levels if over_percent >= o.over_percent)])


class ZoneForbiddenRule(_VehicleRule):
    """A vehicle inside one of ``zones`` while that zone is in force (禁行区: schools at school time, tunnels
    always, the city core in banned hours)."""

    kind: Literal["zone_forbidden"]
    zones: tuple[Zone, ...] = Field(min_length=1)


class DrivingTimeRule(_VehicleRule):
    """疲劳驾驶: driving longer than ``drive_hours`` since the last rest of at least ``rest_minutes`` (standing
    still, or no fix at all for that long)."""

    kind: Literal["driving_time"]
    drive_hours: float = Field(default=4.0, gt=0, le=24)
    rest_minutes: float = Field(default=20.0, gt=0, le=24 * 60)

    @property
    def lookback(self) -> timedelta:
        return timedelta(hours=self.drive_hours, minutes=self.rest_minutes)


class StoppedRule(_VehicleRule):
    """Standing still longer than ``stop_minutes`` outside the permitted places: the ``zones`` (停车场,
    服务区) and the vehicle's own depot (within ``depot_radius_m`` of its registered site)."""

    kind: Literal["stopped"]
    stop_minutes: float = Field(gt=0, le=24 * 60)
    zones: tuple[Zone, ...] = ()
    depot_radius_m: float = Field(default=300.0, ge=0, le=10_000)


VehicleRule = ZoneSpeedRule | ZoneForbiddenRule | DrivingTimeRule | StoppedRule
VEHICLE_KINDS = ("zone_speed", "zone_forbidden", "driving_time", "stopped")


Rule = Annotated[ThresholdRule | RateRule | NoDataRule | CompoundRule | GeofenceRule | EventCountRule
                 | ZoneSpeedRule | ZoneForbiddenRule | DrivingTimeRule | StoppedRule, Field(discriminator="kind")]


class RuleFile(_Config):
    rule: tuple[Rule, ...]
    zone: tuple[Zone, ...] = ()  # named by the vehicle rules (put in each before validation: ``_with_zones``)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        ids = [r.id for r in self.rule]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self


_RULES = TypeAdapter(RuleFile)


def _with_default_kind(doc: dict[str, object]) -> dict[str, object]:
    rules = doc.get("rule")
    if isinstance(rules, list):
        doc = dict(doc, rule=[({"kind": "threshold"} | r) if isinstance(r, dict) else r for r in rules])
    return doc


def _with_zones(doc: dict[str, object]) -> dict[str, object]:
    """Each vehicle rule's ``zones`` (ids of the file's ``[[zone]]``s) replaced by the zones themselves, so a
    rule carries what it judges by and a zone shared by rules is written once."""
    zones = doc.get("zone") or []
    by_id = {z.get("id"): z for z in zones if isinstance(z, dict)} if isinstance(zones, list) else {}
    rules = doc.get("rule")
    if not isinstance(rules, list):
        return doc
    resolved = []
    for r in rules:
        if isinstance(r, dict) and r.get("kind") in VEHICLE_KINDS and isinstance(r.get("zones"), list):
            unknown = [z for z in r["zones"] if isinstance(z, str) and z not in by_id]
            if unknown:
                raise ValueError(f"rule {r.get('id')}: unknown zones {unknown}")
            r = dict(r, zones=[by_id[z] if isinstance(z, str) else z for z in r["zones"]])
        resolved.append(r)
    return dict(doc, rule=resolved)


def parse_rules(text: str, origin: str = "<rules>") -> tuple[Rule, ...]:
    try:
        return _RULES.validate_python(_with_zones(_with_default_kind(tomllib.loads(text)))).rule
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{origin}: {exc}") from exc
    except (ValidationError, ValueError) as exc:
        raise RuleError(f"{origin}: {exc}") from exc


def load_rules(path: Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    """All rules or an error: a file with one broken rule loads nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: {exc}") from exc
    return parse_rules(text, str(path))
