"""Alert rules as configuration: loaded and validated whole from TOML, or not at all.

Kinds (``kind = ...`` in the file):
- ``threshold``: a metric at or above a level's value for at least ``for_minutes`` or
  ``for_count`` readings in a row; cleared below ``clear_below`` (hysteresis).
- ``rate``: the rise of a metric over ``window_minutes``.
- ``no_data``: a device silent for longer than ``factor`` × its expected interval; when a
  whole township falls silent at once, one area warning replaces the per-device ones.
- ``compound``: conditions on several device types in one township within a window,
  combined with ``all`` (AND) or ``any`` (OR): heavy rain AND a high river → red.
- ``geofence``: a moving device inside a zone of region codes (enter, or dwell).
- ``event_count``: events of one category and title within a radius and a window
  (a hotline hotspot, 高频诉求).
Every rule maps values to the national levels 1 红 I … 4 蓝 IV.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
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
    for_minutes: float = Field(default=0, ge=0, le=24 * 60)
    for_count: int = Field(default=1, ge=1, le=1000)
    clear_below: float
    area: tuple[str, ...] = ()  # region-code prefixes where the rule applies (e.g. a speed limit zone)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.for_minutes)


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
    device_type: str
    metric: str
    at_least: float


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


Rule = Annotated[ThresholdRule | RateRule | NoDataRule | CompoundRule | GeofenceRule | EventCountRule,
                 Field(discriminator="kind")]


class RuleFile(_Config):
    rule: tuple[Rule, ...]

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


def parse_rules(text: str, origin: str = "<rules>") -> tuple[Rule, ...]:
    try:
        return _RULES.validate_python(_with_default_kind(tomllib.loads(text))).rule
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{origin}: {exc}") from exc
    except ValidationError as exc:
        raise RuleError(f"{origin}: {exc}") from exc


def load_rules(path: Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    """All rules or an error: a file with one broken rule loads nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: {exc}") from exc
    return parse_rules(text, str(path))
