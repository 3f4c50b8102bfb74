"""The incident lifecycle as one pure function and one table of allowed moves.

``transition(incident, action, actor, now, ...)`` reads no clock and does no I/O: it
returns the next incident state and the log row that records the move, or raises
``IllegalMove`` with a named reason the UI turns into words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"  # 待分拨
    DISPATCHED = "dispatched"  # 已分拨
    SIGNED = "signed"  # 已签收
    IN_PROGRESS = "in_progress"  # 处置中
    RESOLVED = "resolved"  # 已反馈, awaiting verification
    CLOSED = "closed"  # 已结案


class Action(StrEnum):
    CREATE = "create"  # 立案
    DISPATCH = "dispatch"  # 派遣 / 改派
    SIGN = "sign"  # 签收
    PROGRESS = "progress"  # 处置进展
    FEEDBACK = "feedback"  # 处置反馈
    VERIFY = "verify"  # 核查结案
    REWORK = "rework"  # 返工
    RETURN = "return"  # 退单: not ours


class Role(StrEnum):
    SYSTEM = "system"
    COMMAND = "command"  # 指挥中心值班员
    TOWNSHIP = "township"  # 镇街工作人员
    LEADER = "leader"
    ADMIN = "admin"


class Refusal(StrEnum):
    WRONG_STATE = "wrong_state"
    WRONG_ROLE = "wrong_role"
    NOT_YOUR_TOWNSHIP = "not_your_township"
    NOTE_REQUIRED = "note_required"
    TARGET_REQUIRED = "target_required"


class IllegalMove(Exception):
    def __init__(self, refusal: Refusal, action: Action, status: Status | None) -> None:
        super().__init__(f"{action} refused in state {status}: {refusal}")
        self.refusal = refusal
        self.action = action
        self.status = status


@dataclass(frozen=True, slots=True)
class Move:
    roles: frozenset[Role]
    sources: frozenset[Status | None]
    target: Status
    needs_note: bool = False
    needs_township: bool = False


def _move(roles: set[Role], sources: set[Status | None], target: Status, **kw: bool) -> Move:
    return Move(frozenset(roles), frozenset(sources), target, **kw)


MOVES: dict[Action, Move] = {
    Action.CREATE: _move({Role.SYSTEM, Role.COMMAND}, {None}, Status.NEW),
    Action.DISPATCH: _move({Role.SYSTEM, Role.COMMAND}, {Status.NEW}, Status.DISPATCHED, needs_township=True),
    Action.SIGN: _move({Role.TOWNSHIP}, {Status.DISPATCHED}, Status.SIGNED),
    Action.PROGRESS: _move({Role.TOWNSHIP}, {Status.SIGNED, Status.IN_PROGRESS}, Status.IN_PROGRESS,
                           needs_note=True),
    Action.FEEDBACK: _move({Role.TOWNSHIP}, {Status.SIGNED, Status.IN_PROGRESS}, Status.RESOLVED,
                           needs_note=True),
    Action.VERIFY: _move({Role.COMMAND}, {Status.RESOLVED}, Status.CLOSED),
    Action.REWORK: _move({Role.COMMAND}, {Status.RESOLVED}, Status.IN_PROGRESS, needs_note=True),
    Action.RETURN: _move({Role.TOWNSHIP}, {Status.DISPATCHED, Status.SIGNED}, Status.NEW, needs_note=True),
}

# Time allowed to sign for and to finish, by warning level (1 红 I … 4 蓝 IV).
SIGN_WITHIN = {1: timedelta(minutes=15), 2: timedelta(minutes=30), 3: timedelta(hours=1), 4: timedelta(hours=2)}
FINISH_WITHIN = {1: timedelta(hours=4), 2: timedelta(hours=8), 3: timedelta(hours=24), 4: timedelta(hours=72)}


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: Role
    township_code: str | None = None  # set for township staff: they act only on their own


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class Incident:
    id: int | None
    status: Status | None
    level: int
    township_code: str | None
    rework_count: int = 0
    sign_deadline: datetime | None = None
    finish_deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: datetime
    actor: str
    role: Role
    unit: str | None
    action: Action
    from_status: Status | None
    to_status: Status
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)


def transition(
    incident: Incident,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str = "",
    township_code: str | None = None,
    details: dict[str, object] | None = None,
) -> tuple[Incident, LogEntry]:
    move = MOVES[action]
    if incident.status not in move.sources:
        raise IllegalMove(Refusal.WRONG_STATE, action, incident.status)
    if actor.role not in move.roles:
        raise IllegalMove(Refusal.WRONG_ROLE, action, incident.status)
    if actor.role is Role.TOWNSHIP and actor.township_code != incident.township_code:
        raise IllegalMove(Refusal.NOT_YOUR_TOWNSHIP, action, incident.status)
    if move.needs_note and not note.strip():
        raise IllegalMove(Refusal.NOTE_REQUIRED, action, incident.status)
    if move.needs_township and not township_code:
        raise IllegalMove(Refusal.TARGET_REQUIRED, action, incident.status)

    nxt = replace(incident, status=move.target)
    if action is Action.DISPATCH:
        nxt = replace(nxt, township_code=township_code, sign_deadline=now + SIGN_WITHIN[incident.level],
                      finish_deadline=now + FINISH_WITHIN[incident.level])
    elif action is Action.REWORK:
        nxt = replace(nxt, rework_count=incident.rework_count + 1)
    target = township_code if move.needs_township else None
    entry = LogEntry(
        at=now, actor=actor.name, role=actor.role, unit=actor.township_code or target,
        action=action, from_status=incident.status, to_status=move.target, note=note.strip(),
        details=dict(details or {}) | ({"township_code": target} if target else {}),
    )
    return nxt, entry


def replay(level: int, entries: list[LogEntry]) -> Incident:
    """Rebuild an incident's current state from its log alone (the log is the truth)."""
    state = Incident(id=None, status=None, level=level, township_code=None)
    for e in entries:
        township = e.details.get("township_code")
        state, _ = transition(state, e.action, Actor(e.actor, e.role, e.unit if e.role is Role.TOWNSHIP else None),
                              e.at, note=e.note, township_code=township if isinstance(township, str) else None)
    return state
