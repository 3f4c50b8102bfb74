"""What the 问题清单 page reads, scoped to who looks: a unit its own problems, a district desk its district's,
the city's desk, leaders and admins every one."""

from __future__ import annotations

from dataclasses import dataclass

from alerts import problems
from alerts.lifecycle import UNIT_ROLES, Role
from alerts.problems import ProblemRow, RootCause
from alerts.rectification import REntry
from alerts.rules import ThresholdRule, load_rules
from alerts.watch import Watch, watchable
from dashboard.auth import SessionUser
from dashboard.data import Data


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[ProblemRow]
    causes: dict[int, RootCause]
    names: dict[str, str]  # unit code → name


@dataclass(frozen=True, slots=True)
class Detail:
    row: ProblemRow
    log: list[REntry]
    watches: list[Watch]
    rules: list[ThresholdRule]  # what a watch may lower


def _scope(user: SessionUser) -> dict[str, str | None]:
    return {"district": user.district_code if user.role is Role.DISTRICT else None,
            "unit": user.township_code if user.role in UNIT_ROLES else None}


def listing(data: Data, user: SessionUser | None, *, open_only: bool = False) -> Listing:
    """The problems ``user`` may see (``None``: every one, for the leader page's own scoping by district)."""
    scope = _scope(user) if user is not None else {"district": None, "unit": None}
    with data.pool.connection() as conn:
        rows = problems.problems(conn, open_only=open_only, **scope)
        causes = {c.id: c for c in problems.root_causes(conn)}
    return Listing(rows, causes, data.unit_names())


def may_see(user: SessionUser, row: ProblemRow) -> bool:
    scope = _scope(user)
    return ((scope["district"] is None or row.district_code == scope["district"])
            and (scope["unit"] is None or row.owner_unit == scope["unit"]))


def rules() -> list[ThresholdRule]:
    """The threshold rules a watch may lower, from the rule file the engine runs."""
    return watchable(load_rules())


def detail(data: Data, user: SessionUser, pid: int) -> Detail | None:
    """One problem with its log and watch rules; None when it does not exist or is not ``user``'s to see."""
    with data.pool.connection() as conn:
        row = problems.problem(conn, pid)
        if row is None or not may_see(user, row):
            return None
        return Detail(row, problems.problem_log(conn, pid), problems.watches(conn, pid), rules())
