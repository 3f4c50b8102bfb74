"""Deadlines: how long each step may take, which deadline an incident waits on, and when it is overdue.

Level 1 (红 I) is the most urgent. A category can tighten the defaults: a flood or a fire does
not wait as long as a hotline complaint. Which deadline runs in which status is
``alerts.status.STEPS``; this module is the only place that turns that table into a check, in
Python (``waiting_on``, ``is_overdue``; ``Incident.deadline``) and in SQL (``deadline_sql``, ``overdue_sql``), so the
escalator, the big screen, the desks and the leader figures agree on every incident.

Overdue means *past* the deadline: at the deadline itself an incident is still on time, and work
done at that moment counts as done on time (``done_at <= deadline``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from alerts.status import OPEN, STEPS, Clock, Party, Status


class Windows(NamedTuple):
    sign: timedelta
    finish: timedelta
    verify: timedelta

    def of(self, clock: Clock) -> timedelta:
        return {Clock.SIGN: self.sign, Clock.FINISH: self.finish, Clock.VERIFY: self.verify}[clock]


M, H = timedelta(minutes=1), timedelta(hours=1)

BY_LEVEL: dict[int, Windows] = {
    1: Windows(15 * M, 4 * H, 1 * H),
    2: Windows(30 * M, 8 * H, 2 * H),
    3: Windows(1 * H, 24 * H, 4 * H),
    4: Windows(2 * H, 72 * H, 8 * H),
}

# 分拨时限: how long an incident may wait in 待分拨 (new, or back after 退单) before the desk that should
# dispatch it is reminded; half as long again, it is escalated to the city, a whole window again to a leader.
# A grid member's report waits in 待受理 on the same window (受理时限): nobody taking it is the desk's delay too.
DISPATCH_BY_LEVEL: dict[int, timedelta] = {1: 5 * M, 2: 15 * M, 3: 30 * M, 4: 1 * H}

# Multiplier per category on the level's windows.
CATEGORY_FACTOR: dict[str, float] = {
    "flood": 0.5,
    "public_safety": 0.5,
    "production_safety": 0.75,
    "hotline": 2.0,
}


def windows(level: int, category: str = "") -> Windows:
    factor = CATEGORY_FACTOR.get(category, 1.0)
    sign, finish, verify = BY_LEVEL[level]
    return Windows(sign * factor, finish * factor, verify * factor)


def dispatch_window(level: int, category: str = "") -> timedelta:
    """The dispatch window of a level, tightened or loosened by the category like the other windows."""
    return DISPATCH_BY_LEVEL[level] * CATEGORY_FACTOR.get(category, 1.0)


# The statuses in which the desk's dispatch clock runs: 待分拨, and 待受理 (a grid report nobody accepted yet).
WITH_DESK: frozenset[Status] = frozenset({Status.NEW, Status.REPORTED})


def dispatch_overdue_sql(alias: str = "i", now: str = "%(now)s") -> str:
    """SQL: left in 待分拨 or 待受理 past its dispatch deadline at ``now`` (``is_overdue``'s rule)."""
    statuses = ", ".join(f"'{s.value}'" for s in sorted(WITH_DESK))
    return f"({alias}.status IN ({statuses}) AND {alias}.dispatch_deadline < {now})"


class Deadlines(NamedTuple):
    """An incident's three deadline columns, as stored."""

    sign: datetime | None
    finish: datetime | None
    verify: datetime | None

    def of(self, clock: Clock) -> datetime | None:
        return {Clock.SIGN: self.sign, Clock.FINISH: self.finish, Clock.VERIFY: self.verify}[clock]


def waiting_on(status: Status | str | None) -> Clock | None:
    """The clock that runs in this status (None: new, postponed, closed, merged)."""
    return STEPS[Status(status)].clock if status else None


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Past its deadline now; the one comparison everything uses."""
    return deadline is not None and deadline < now


# -- the same rule in SQL, generated from the table --

def _statuses(clock: Clock) -> str:
    return ", ".join(f"'{s.value}'" for s, step in STEPS.items() if step.clock is clock)


def _clocks(owner: Party | None) -> list[Clock]:
    return [c for c in Clock if owner is None or c.owner is owner]


def deadline_sql(alias: str = "i") -> str:
    """SQL for the deadline the incident waits on now (NULL when no clock runs), for a table alias."""
    whens = " ".join(f"WHEN {alias}.status IN ({_statuses(c)}) THEN {alias}.{c.column}" for c in Clock)
    return f"(CASE {whens} END)"


def overdue_sql(alias: str = "i", now: str = "%(now)s", owner: Party | None = None) -> str:
    """SQL that is true for an incident past the deadline it waits on at ``now`` (a parameter or expression);
    with ``owner``, only when that deadline is that party's (a township is not late for the desk's 核查).

    One OR branch per clock, each comparing one column.
    """
    branches = " OR ".join(f"({alias}.status IN ({_statuses(c)}) AND {alias}.{c.column} < {now})"
                           for c in _clocks(owner))
    return f"({branches})"


def on_time_sql(done: str, deadline: str) -> str:
    """SQL: the step was done by its deadline (``is_overdue``'s other side: done at the deadline is on time)."""
    return f"({done} <= {deadline})"


def due_sql(done: str, deadline: str, now: str = "%(now)s") -> str:
    """SQL: the step counts in an on-time rate at ``now``: it was done, or its deadline has passed."""
    return f"({done} IS NOT NULL OR {deadline} < {now})"


OPEN_STATUSES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN))  # as SQL parameters: status = ANY(%s)
