"""Alert rules: loaded and validated whole from TOML, evaluated as pure functions of readings.

A threshold rule maps values to the national four levels (1 红 I … 4 蓝 IV) and fires
when the value has stayed at or above a level's threshold for at least ``for_minutes``.
It clears when the latest value falls below ``clear_below`` (hysteresis, so a value
hovering at the line does not open and close warnings all day).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_RULES = Path(__file__).with_name("rules.toml")


class RuleError(ValueError):
    """The rule file is invalid; the message names the rule and the field."""


class LevelThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    level: int = Field(ge=1, le=4)
    at_least: float


class ThresholdRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    kind: Literal["threshold"] = "threshold"
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    device_type: str
    metric: str
    levels: tuple[LevelThreshold, ...] = Field(min_length=1)
    for_minutes: float = Field(default=0, ge=0, le=24 * 60)
    clear_below: float

    @model_validator(mode="after")
    def _levels_ordered(self) -> ThresholdRule:
        by_value = sorted(self.levels, key=lambda lt: lt.at_least)
        if [lt.level for lt in by_value] != sorted((lt.level for lt in by_value), reverse=True):
            raise ValueError("a higher threshold must give a more severe level (smaller number)")
        if len({lt.level for lt in self.levels}) != len(self.levels):
            raise ValueError("each level may appear once")
        if self.clear_below > by_value[0].at_least:
            raise ValueError("clear_below must not exceed the lowest threshold")
        return self

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.for_minutes)

    def level_of(self, value: float) -> int | None:
        hits = [lt.level for lt in self.levels if value >= lt.at_least]
        return min(hits) if hits else None


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: tuple[ThresholdRule, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        ids = [r.id for r in self.rule]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self


def load_rules(path: Path = DEFAULT_RULES) -> tuple[ThresholdRule, ...]:
    """All rules or an error: a file with one broken rule loads nothing."""
    try:
        return RuleFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))).rule
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        raise RuleError(f"{path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one rule says about one subject now."""

    firing: bool
    cleared: bool
    level: int | None = None
    since: datetime | None = None  # start of the sustained breach
    peak: float | None = None
    last: float | None = None
    last_ts: datetime | None = None


QUIET = Verdict(firing=False, cleared=False)


def evaluate_threshold(rule: ThresholdRule, readings: Sequence[tuple[datetime, float]]) -> Verdict:
    """Readings are (ts, value) of one device and metric, in time order, ending at the latest."""
    if not readings:
        return QUIET
    last_ts, last = readings[-1]
    if last < rule.clear_below:
        return Verdict(firing=False, cleared=True, last=last, last_ts=last_ts)
    # For each level, how long has the value stayed at or above its threshold?
    for lt in sorted(rule.levels, key=lambda lt: lt.level):  # most severe first
        start = None
        for ts, value in reversed(readings):
            if value < lt.at_least:
                break
            start = ts
        if start is not None and last_ts - start >= rule.window:
            run = [v for ts, v in readings if ts >= start]
            return Verdict(firing=True, cleared=False, level=lt.level, since=start, peak=max(run), last=last,
                           last_ts=last_ts)
    return Verdict(firing=False, cleared=False, last=last, last_ts=last_ts)
