"""七张问题清单: recurring problems and their own 整改 → 验收 loop, as pure functions with time injected.

At 核查结案 the desk names a root cause from the managed list (``root_causes``). The same root cause closing
incidents again in one grid, or in one category, within the configured window (``alerts/rectification.toml``,
validated whole by ``load_config``) is a recurring problem (问题清单): ``recurring`` says which scopes reached
their count. A problem has a rectification owner (整改责任单位: the township of the grid, or the department that
handles the category), a deadline, and a loop of its own, one logged row per move like an incident's:

    立单 (flag) → 整改中 ──整改报告 (report, the owner unit)──▶ 待验收 ──验收通过 (accept, the desk)──▶ 已验收
                    ▲                                           │
                    └────────────验收退回 (return, with the reason)┘

A further recurrence while it is open joins it (再次发生, the status stays); the desk may turn it into a watch
rule (转预警预防, ``alerts.watch``), logged in the same log. ``transition`` reads no clock and does no I/O.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.lifecycle import DESK_ROLES, UNIT_ROLES, Actor, Role, district_of_unit

DEFAULT_CONFIG = Path(__file__).with_name("rectification.toml")


class Scope(StrEnum):
    GRID = "grid"  # the same root cause in one grid
    CATEGORY = "category"  # the same root cause in one category of incident


class RStatus(StrEnum):
    RECTIFYING = "rectifying"  # 整改中
    REPORTED = "reported"  # 待验收: the owner reported its rectification done
    ACCEPTED = "accepted"  # 已验收


class RAction(StrEnum):
    FLAG = "flag"  # 立单: the recurrence was found at a 核查结案
    JOIN = "join"  # 再次发生: another incident of the same root cause and scope while it is open
    REPORT = "report"  # 整改报告: the owner unit reports what it changed
    ACCEPT = "accept"  # 验收通过
    RETURN = "return"  # 验收退回: not good enough, with the reason (back to 整改中)
    WATCH = "watch"  # 转预警预防: a watch rule made from it (a lower threshold in its grid for a season)


class RRefusal(StrEnum):
    WRONG_STATE = "wrong_state"
    WRONG_ROLE = "wrong_role"
    NOT_OWNER = "not_owner"  # a unit reporting on another unit's problem
    NOT_YOUR_DISTRICT = "not_your_district"  # a district desk acting on a problem outside its district
    NOTE_REQUIRED = "note_required"


class RectificationRefused(Exception):
    def __init__(self, refusal: RRefusal, action: RAction, status: RStatus | None) -> None:
        super().__init__(f"{action} refused in state {status}: {refusal}")
        self.refusal, self.action, self.status = refusal, action, status


@dataclass(frozen=True, slots=True)
class RMove:
    roles: frozenset[Role]
    sources: frozenset[RStatus | None]
    target: RStatus | None  # None: the status stays
    needs_note: bool = False


R, S = Role, RStatus
OPEN = frozenset({S.RECTIFYING, S.REPORTED})
MOVES: dict[RAction, RMove] = {
    RAction.FLAG: RMove(frozenset({R.SYSTEM}), frozenset({None}), S.RECTIFYING),
    RAction.JOIN: RMove(frozenset({R.SYSTEM}), OPEN, None),
    RAction.REPORT: RMove(UNIT_ROLES, frozenset({S.RECTIFYING}), S.REPORTED, needs_note=True),
    RAction.ACCEPT: RMove(DESK_ROLES, frozenset({S.REPORTED}), S.ACCEPTED),
    RAction.RETURN: RMove(DESK_ROLES, frozenset({S.REPORTED}), S.RECTIFYING, needs_note=True),
    RAction.WATCH: RMove(DESK_ROLES, OPEN, None, needs_note=True),
}


@dataclass(frozen=True, slots=True)
class Problem:
    status: RStatus | None
    owner_unit: str
    deadline: datetime
    incident_ids: tuple[int, ...] = ()
    return_count: int = 0

    @property
    def district(self) -> str | None:
        """The district whose desk may accept it: the owner township's (a department's is the city's only)."""
        return district_of_unit(self.owner_unit)


@dataclass(frozen=True, slots=True)
class REntry:
    at: datetime
    actor: str
    role: Role
    unit: str | None
    action: RAction
    from_status: RStatus | None
    to_status: RStatus
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)


def offered(problem: Problem, actor: Actor) -> list[RAction]:
    """The moves ``actor`` may make on ``problem`` now, in the table's order (the page's buttons)."""
    return [a for a, m in MOVES.items() if problem.status in m.sources and actor.role in m.roles
            and _refusal(problem, a, actor) is None]


def _refusal(problem: Problem, action: RAction, actor: Actor) -> RRefusal | None:
    if actor.role in UNIT_ROLES and actor.township_code != problem.owner_unit:
        return RRefusal.NOT_OWNER
    if actor.role is Role.DISTRICT and (actor.district_code is None or problem.district != actor.district_code):
        return RRefusal.NOT_YOUR_DISTRICT
    return None


def transition(problem: Problem, action: RAction, actor: Actor, now: datetime, *, note: str = "",
               details: Mapping[str, object] | None = None) -> tuple[Problem, REntry]:
    """The next state of ``problem`` and the log row of the move, or ``RectificationRefused``. A 立单 or 再次发生
    row's ``incidents`` (ids) join the problem's incidents."""
    move, details = MOVES[action], dict(details or {})
    if problem.status not in move.sources:
        raise RectificationRefused(RRefusal.WRONG_STATE, action, problem.status)
    if actor.role not in move.roles:
        raise RectificationRefused(RRefusal.WRONG_ROLE, action, problem.status)
    refusal = _refusal(problem, action, actor)
    if refusal is not None:
        raise RectificationRefused(refusal, action, problem.status)
    if move.needs_note and not note.strip():
        raise RectificationRefused(RRefusal.NOTE_REQUIRED, action, problem.status)
    status = move.target or problem.status
    assert status is not None  # only 立单 starts from None, and it has a target
    joined = details.get("incidents")
    ids = tuple(i for i in joined if isinstance(i, int)) if isinstance(joined, list) else ()
    nxt = replace(problem, status=status, incident_ids=tuple(dict.fromkeys((*problem.incident_ids, *ids))),
                  return_count=problem.return_count + int(action is RAction.RETURN))
    if actor.role is Role.DISTRICT:
        details |= {"district": actor.district_code}
    entry = REntry(now, actor.name, actor.role, actor.township_code, action, problem.status, status, note.strip(),
                   details)
    return nxt, entry


def replay(entries: Sequence[REntry], owner_unit: str, deadline: datetime) -> Problem:
    """A problem's state from its log alone (the owner and deadline are set at 立单, as its row records)."""
    state = Problem(None, owner_unit, deadline)
    for e in entries:
        district = e.details.get("district")
        actor = Actor(e.actor, e.role, e.unit if e.role in UNIT_ROLES else None,
                      district if isinstance(district, str) else None)
        state, _ = transition(state, e.action, actor, e.at, note=e.note, details=e.details)
    return state


def is_overdue(problem: Problem, now: datetime) -> bool:
    return problem.status in OPEN and now > problem.deadline


# ---- recurrence ----------------------------------------------------------------------------------------------


class ConfigError(ValueError):
    """The recurrence configuration is invalid; the message names the field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScopeRule(_Config):
    """The same root cause ``min_count`` times (this closure included) within ``window_days``."""

    min_count: int = Field(ge=2, le=100)
    window_days: int = Field(ge=1, le=366)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


class RecurrenceConfig(_Config):
    grid: ScopeRule | None = None
    category: ScopeRule | None = None
    deadline_days: int = Field(ge=1, le=366)  # 整改时限, from 立单
    watch_max_days: int = Field(default=184, ge=1, le=366)  # a watch rule lasts a season at most

    def scopes(self) -> dict[Scope, ScopeRule]:
        found = {Scope.GRID: self.grid, Scope.CATEGORY: self.category}
        return {s: r for s, r in found.items() if r is not None}

    @property
    def deadline(self) -> timedelta:
        return timedelta(days=self.deadline_days)


def parse_config(text: str) -> RecurrenceConfig:
    try:
        config = RecurrenceConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    if not config.scopes():
        raise ConfigError("give at least one scope ([grid] or [category])")
    return config


def load_config(path: Path = DEFAULT_CONFIG) -> RecurrenceConfig:
    return parse_config(path.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Closure:
    """An incident closed with a root cause (its verify row), where it was and what it was."""

    incident_id: int
    root_cause: int
    grid_code: str | None
    category: str
    township_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Recurrence:
    scope: Scope
    code: str  # the grid's code, or the category
    root_cause: int
    incidents: tuple[int, ...]  # the closures that make it recur, oldest first


def scope_code(closure: Closure, scope: Scope) -> str | None:
    return closure.grid_code if scope is Scope.GRID else closure.category or None


def recurring(closure: Closure, earlier: Iterable[Closure], config: RecurrenceConfig,
              handled: Mapping[tuple[Scope, str], Collection[int]] | None = None) -> list[Recurrence]:
    """The scopes in which ``closure`` makes its root cause recur: at least the scope's count of closures with
    the same root cause in the same grid (or category) within the window that ends at ``closure``. The incidents
    of a problem of that cause and scope already accepted (``handled``) count no more: after 验收 the count
    starts again."""
    past = [c for c in earlier if c.root_cause == closure.root_cause and c.incident_id != closure.incident_id
            and c.at <= closure.at]
    found = []
    for scope, rule in config.scopes().items():
        code = scope_code(closure, scope)
        if code is None:
            continue
        done = (handled or {}).get((scope, code), ())
        within = sorted((c for c in past if scope_code(c, scope) == code and closure.at - c.at <= rule.window
                         and c.incident_id not in done), key=lambda c: (c.at, c.incident_id))
        if len(within) + 1 >= rule.min_count:
            found.append(Recurrence(scope, code, closure.root_cause,
                                    (*(c.incident_id for c in within), closure.incident_id)))
    return found


def owner_of(recurrence: Recurrence, closures: Iterable[Closure], departments: Sequence[str]) -> str | None:
    """整改责任单位: for a grid, its township; for a category, the department that handles it (the first of
    ``departments``), else the township where most of its closures were (the lowest code on a tie)."""
    if recurrence.scope is Scope.GRID:
        return recurrence.code[:9]
    if departments:
        return departments[0]
    wanted = set(recurrence.incidents)
    counts = Counter(c.township_code for c in closures if c.incident_id in wanted and c.township_code)
    if not counts:
        return None
    return min(counts, key=lambda unit: (-counts[unit], unit))


def root_cause_missing(root_cause: object, *, override: bool) -> bool:
    """核查结案 from a desk names its root cause, except a 强制结案 (an override names why it closes instead)."""
    return not override and not (isinstance(root_cause, int) and not isinstance(root_cause, bool))
