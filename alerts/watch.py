"""预警预防: watch rules made from recurring problems, and what the engine applies of them.

A watch rule replaces a threshold rule's levels (and its clear value) in one grid from a start until an end
(a season): the recurring problem's grid warns earlier while it is being rectified. The rule keeps its id, so
a device in the grid has one warning under it as before, only at the lower values; outside the grid, or
outside the season, the rule is as configured. Only rules with fixed values (``levels``) are watched: a rule
on the stations' own lines is lowered by changing the station's lines.

``lowered`` builds the watched copy, validated whole as the rule file is; ``overrides`` reads the rules in force
for the engine's round (``alerts.evaluate`` looks each device's grid up in it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from pydantic import ValidationError

from alerts.rules import LevelThreshold, Rule, ThresholdRule

MIN_FACTOR, MAX_FACTOR = 0.1, 0.99  # a watch lowers the values; to raise them, change the rule


class WatchError(ValueError):
    """A watch rule that cannot be made; ``key`` names the i18n message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class Watch:
    """A row of ``watch_rules``."""

    id: int
    rule_id: str
    grid_code: str
    levels: tuple[LevelThreshold, ...]
    clear_below: float
    starts_at: datetime
    ends_at: datetime

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def watchable(rules: Iterable[Rule]) -> list[ThresholdRule]:
    """The rules a watch may lower: threshold rules on fixed values."""
    return [r for r in rules if isinstance(r, ThresholdRule) and r.levels]


def lowered(base: ThresholdRule, levels: Sequence[LevelThreshold], clear_below: float) -> ThresholdRule:
    """``base`` with ``levels`` and ``clear_below`` instead of its own, checked as the rule file is (ordered
    levels, the clear value below the lowest) and lower than the rule at every level it has."""
    if not base.levels:
        raise WatchError("watch.err.rule")
    own = {lt.level: lt.at_least for lt in base.levels}
    if {lt.level for lt in levels} != set(own) or any(lt.at_least >= own[lt.level] for lt in levels):
        raise WatchError("watch.err.not_lower")
    try:
        return ThresholdRule.model_validate(base.model_dump() | {"levels": [lt.model_dump() for lt in levels],
                                                                 "clear_below": clear_below})
    except ValidationError:
        raise WatchError("watch.err.invalid") from None


def scaled(base: ThresholdRule, factor: float) -> tuple[tuple[LevelThreshold, ...], float]:
    """The levels and clear value of ``base`` times ``factor`` (0.8: every value 20 % lower), rounded to 0.1."""
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise WatchError("watch.err.factor")
    if not base.levels or base.clear_below is None:
        raise WatchError("watch.err.rule")
    levels = tuple(LevelThreshold(level=lt.level, at_least=round(lt.at_least * factor, 1)) for lt in base.levels)
    return levels, round(base.clear_below * factor, 1)


WATCH_COLUMNS = "id, rule_id, grid_code, levels, clear_below, starts_at, ends_at"


def watch_of(row: tuple[Any, ...]) -> Watch:
    """A row of ``WATCH_COLUMNS``."""
    wid, rule_id, grid, levels, clear_below, starts_at, ends_at = row
    return Watch(wid, rule_id, grid, tuple(LevelThreshold.model_validate(lt) for lt in levels), clear_below,
                 starts_at, ends_at)


def in_force(conn: psycopg.Connection, now: datetime) -> list[Watch]:
    """The watch rules in force at ``now``, oldest first."""
    rows = conn.execute(f"SELECT {WATCH_COLUMNS} FROM watch_rules WHERE ends_at > %(now)s AND starts_at <= %(now)s"
                        " ORDER BY id", {"now": now}).fetchall()
    return [watch_of(r) for r in rows]


def overrides(watches: Iterable[Watch], rules: Iterable[Rule]) -> dict[tuple[str, str], ThresholdRule]:
    """(rule id, grid) → the rule as watched there. A watch of a rule no longer configured, or no longer
    lowerable as stored (the rule file changed), is passed over; of two watches of one rule and grid the
    newest wins."""
    by_id = {r.id: r for r in watchable(rules)}
    found: dict[tuple[str, str], ThresholdRule] = {}
    for w in watches:
        base = by_id.get(w.rule_id)
        watched = None if base is None else _lowered_once(base, w.levels, w.clear_below)
        if watched is not None:
            found[(w.rule_id, w.grid_code)] = watched
    return found


@functools.lru_cache(maxsize=4096)
def _lowered_once(base: ThresholdRule, levels: tuple[LevelThreshold, ...], clear_below: float) -> ThresholdRule | None:
    """``lowered`` once per rule and values, not once per engine round (None: no longer lowerable)."""
    try:
        return lowered(base, levels, clear_below)
    except WatchError:
        return None


def for_round(conn: psycopg.Connection, rules: Iterable[Rule], now: datetime) -> dict[tuple[str, str], ThresholdRule]:
    """What the engine's round applies: ``overrides`` of the watch rules in force at ``now``."""
    return overrides(in_force(conn, now), rules)
