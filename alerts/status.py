"""An incident's statuses, and for each one the rule every page and the escalator share: is the
incident still open, and which deadline (clock) is it waiting on.

``STEPS`` is the one table. ``alerts.deadlines`` turns it into the Python checks and the SQL
that the escalator, the big screen, the desks and the leader figures run, so no two of them can
count an incident differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"  # 待分拨
    DISPATCHED = "dispatched"  # 已分拨
    SIGNED = "signed"  # 已签收
    IN_PROGRESS = "in_progress"  # 处置中
    POSTPONED = "postponed"  # 缓办中: the finish clock stops
    RESOLVED = "resolved"  # 已反馈, awaiting verification
    CLOSED = "closed"  # 已结案
    MERGED = "merged"  # 已合并 into another incident
    REPORTED = "reported"  # 待受理: a grid member's 巡查上报, not yet accepted by the desk (not an incident yet)
    DECLINED = "declined"  # 不予立案: the desk declined the report, with the reason its reporter sees
    SITE_CHECK = "site_check"  # 待核查: the unit reported it done; the grid member checks on site first


class Party(StrEnum):
    """Who must act before a deadline: what a township is ranked on is its own clocks only."""

    TOWNSHIP = "township"
    DESK = "desk"  # the command center


class Clock(StrEnum):
    """The deadline an incident waits on; the value names its column (``<clock>_deadline``)."""

    SIGN = "sign"  # 签收时限: the township signs for it
    FINISH = "finish"  # 办结时限: the township reports it handled
    VERIFY = "verify"  # 核查时限: the command center verifies and closes

    @property
    def column(self) -> str:
        return f"{self.value}_deadline"

    @property
    def owner(self) -> Party:
        return Party.DESK if self is Clock.VERIFY else Party.TOWNSHIP


@dataclass(frozen=True, slots=True)
class Step:
    open: bool  # work remains: it counts in queues, on the map and in the overdue figures
    clock: Clock | None  # the deadline that runs in this status; None: no clock runs


STEPS: dict[Status, Step] = {
    Status.NEW: Step(open=True, clock=None),  # with the desk, not yet anyone's to sign for
    Status.DISPATCHED: Step(open=True, clock=Clock.SIGN),
    Status.SIGNED: Step(open=True, clock=Clock.FINISH),
    Status.IN_PROGRESS: Step(open=True, clock=Clock.FINISH),
    Status.POSTPONED: Step(open=True, clock=None),  # 缓办: the finish clock is stopped
    Status.RESOLVED: Step(open=True, clock=Clock.VERIFY),
    Status.CLOSED: Step(open=False, clock=None),
    Status.MERGED: Step(open=False, clock=None),
    # A report the desk has not accepted is no incident yet: it counts nowhere (the desk's 待受理 list reads it).
    Status.REPORTED: Step(open=False, clock=None),
    Status.DECLINED: Step(open=False, clock=None),
    Status.SITE_CHECK: Step(open=True, clock=None),  # with the grid member on site; the desk's verify clock not yet
}

OPEN: frozenset[Status] = frozenset(s for s, step in STEPS.items() if step.open)
# A township's queue: what is routed to it and open, but not what is back with the desk (new, or 退单).
WITH_TOWNSHIP: frozenset[Status] = OPEN - {Status.NEW}
