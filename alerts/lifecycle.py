"""The incident lifecycle as one pure function and one table of allowed moves.

``transition(incident, action, actor, now, ...)`` reads no clock and does no I/O: it
returns the next incident state and the log row that records the move, or raises
``IllegalMove`` with a named reason the UI turns into words. Reminders, escalations,
level changes, 属地变更 (retag: a new boundary version's codes, flagging a point now in another
township) and 确认属地 (confirm_area: clears the near-boundary flag that the create, amend and
retag rows carry, as a dispatcher's own 派遣 or 转派 does) are moves too (they keep the
status), so the log holds everything a leader audits, and replaying it rebuilds every incident.

A 协办 unit (assisting township or department) has a part of its own, moved by the moves of the table
that carry a ``part`` (协办签收, 协办进展, 协办反馈): 待签收 → 已签收 → 已反馈. Those moves are the assisting
unit's only (the primary unit, the desk or another unit is refused) and never move the incident's status,
which stays the primary unit's: its 处置反馈 is the one the desk verifies. ``closure_refusal`` is 核查结案's
guard over the warnings an incident carries (the store reads which are still open).

A grid member (网格员, ``Role.GRID``) acts in its own grids only: its 巡查上报 enters as 待受理 (``REPORTED``), which
the desk accepts (受理立案 → 待分拨, then routed as any incident) or declines (不予立案, with the reason) or merges
into the open incident it duplicates; and for the categories that need 核查 on site (``SITE_CHECKED``) a unit's
处置反馈 goes to 待核查 (``SITE_CHECK``), where the grid member of the incident's grid passes it (→ 已反馈, for
the desk to close) or fails it (→ 处置中: 返工, with the reason).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from alerts.deadlines import WITH_DESK, Deadlines, dispatch_window, is_overdue, waiting_on, windows
from alerts.status import OPEN, WITH_TOWNSHIP, Status


class Action(StrEnum):
    CREATE = "create"  # 立案
    DISPATCH = "dispatch"  # 派遣 (again after 退单: 重新派遣)
    TRANSFER = "transfer"  # 转派 / 改派: to another unit, with the reason
    ASSIST = "assist"  # 协办: add a secondary unit
    SIGN = "sign"  # 签收
    PROGRESS = "progress"  # 处置进展
    FEEDBACK = "feedback"  # 处置反馈
    VERIFY = "verify"  # 核查结案
    REWORK = "rework"  # 返工
    RETURN = "return"  # 退单: not ours, with the reason and the suggested owner
    POSTPONE = "postpone"  # 缓办 (approved by the command center)
    RESUME = "resume"  # 恢复办理
    MERGE = "merge"  # 合并 into the incident it duplicates
    RELEVEL = "relevel"  # 调整级别: the warning behind it rose or fell
    AMEND = "amend"  # 修改位置或类别 (may then re-route)
    CONFIRM_AREA = "confirm_area"  # 确认属地: the dispatcher confirmed a point near a township border
    REMIND = "remind"  # 催办
    ESCALATE = "escalate"  # 升级督办
    ASSIST_SIGN = "assist_sign"  # 协办签收: an assisting unit signs for its part
    ASSIST_PROGRESS = "assist_progress"  # 协办进展: an assisting unit's progress on its part
    ASSIST_FEEDBACK = "assist_feedback"  # 协办反馈: an assisting unit reports its part done
    PATROL_REPORT = "patrol_report"  # 巡查上报: a grid member reports what it saw (→ 待受理)
    ACCEPT = "accept"  # 受理立案: the desk accepts a grid report (→ 待分拨, then routed)
    DECLINE = "decline"  # 不予立案: the desk declines a grid report, with the reason its reporter sees
    SITE_PASS = "site_pass"  # 核查通过: the grid member found it done on site (→ 已反馈, the desk closes)
    SITE_FAIL = "site_fail"  # 核查不通过: not done on site (→ 处置中, 返工 with the reason)
    RETAG = "retag"  # 属地变更: a new boundary version re-tagged its point (a changed township: the desk confirms)


class Role(StrEnum):
    SYSTEM = "system"
    COMMAND = "command"  # 指挥中心值班员
    TOWNSHIP = "township"  # 镇街工作人员
    DEPARTMENT = "department"  # 部门 (行业主管部门): a unit like a township, scoped by the categories it handles
    DISTRICT = "district"  # 区县指挥中心值班员: the command desk of one district, its townships only
    GRID = "grid"  # 网格员: reports and checks on site in its own grids only
    LEADER = "leader"
    ADMIN = "admin"


class Refusal(StrEnum):
    WRONG_STATE = "wrong_state"
    WRONG_ROLE = "wrong_role"
    NOT_YOUR_TOWNSHIP = "not_your_township"
    NOTE_REQUIRED = "note_required"
    TARGET_REQUIRED = "target_required"
    SAME_TARGET = "same_target"
    SENSOR_STILL_BREACHING = "sensor_still_breaching"  # raised by the store's closure guard
    NOT_NEAR_BOUNDARY = "not_near_boundary"  # nothing to confirm: not flagged, or confirmed already
    NOT_YOUR_DISTRICT = "not_your_district"  # a district desk acting on another district's incident
    OUTSIDE_DISTRICT = "outside_district"  # a district desk naming a unit outside its district (the city's to do)
    NOT_ASSISTING = "not_assisting"  # a 协办 move by a unit that is not an assisting unit of the incident
    PART_STATE = "part_state"  # a 协办 move its part's state does not allow (not signed yet, signed or done already)
    NOT_YOUR_GRID = "not_your_grid"  # a grid member acting on (or reporting from) a grid not its own


class Part(StrEnum):
    """An assisting unit's part of an incident (协办)."""

    PENDING = "pending"  # 待签收
    SIGNED = "signed"  # 已签收: working on it
    DONE = "done"  # 已反馈: its part is done


class IllegalMove(Exception):
    def __init__(self, refusal: Refusal, action: Action, status: Status | None) -> None:
        super().__init__(f"{action} refused in state {status}: {refusal}")
        self.refusal = refusal
        self.action = action
        self.status = status


@dataclass(frozen=True, slots=True)
class PartMove:
    """What a 协办 move does to the assisting unit's part: from which part states, to which."""

    sources: frozenset[Part]
    target: Part


@dataclass(frozen=True, slots=True)
class Move:
    roles: frozenset[Role]
    sources: frozenset[Status | None]
    target: Status | None  # None: the status stays (reminders, escalations, 协办, level changes, 确认属地)
    needs_note: bool = False
    needs_township: bool = False
    part: PartMove | None = None  # a 协办 move: made by an assisting unit on its part only
    site_checked: Status | None = None  # the target instead, for a category that needs 核查 on site


def _move(roles: set[Role], sources: Iterable[Status | None], target: Status | None,
          needs_note: bool = False, needs_township: bool = False, part: PartMove | None = None,
          site_checked: Status | None = None) -> Move:
    return Move(frozenset(roles), frozenset(sources), target, needs_note, needs_township, part, site_checked)


def _part(sources: set[Part], target: Part) -> PartMove:
    return PartMove(frozenset(sources), target)


S, R = Status, Role
WORKING = {S.SIGNED, S.IN_PROGRESS}
# The staff of a unit incidents are dispatched to (镇街 or 部门): they act only on their unit's incidents.
UNIT_ROLES = frozenset({R.TOWNSHIP, R.DEPARTMENT})
# The command desks: the city's (指挥中心, the whole city) and a district's (区县指挥中心, its district only).
DESK_ROLES = frozenset({R.COMMAND, R.DISTRICT})
DESK = set(DESK_ROLES)
# The categories whose work a grid member checks on site (核查) before the desk may close it: 城市管理 (市容环境,
# 市政设施: what a patrol sees in the street). The sensors' categories keep the desk's verification alone (a
# warning that cleared says more than a look), and so do 12345 tickets (the caller is asked).
SITE_CHECKED: frozenset[str] = frozenset({"city_management"})
MOVES: dict[Action, Move] = {
    Action.CREATE: _move({R.SYSTEM, R.COMMAND}, {None}, S.NEW),
    Action.DISPATCH: _move({R.SYSTEM, *DESK}, {S.NEW}, S.DISPATCHED, needs_township=True),
    Action.TRANSFER: _move({R.SYSTEM, *DESK}, {S.DISPATCHED, *WORKING}, S.DISPATCHED, needs_note=True,
                           needs_township=True),
    Action.ASSIST: _move({R.SYSTEM, *DESK}, OPEN - {S.NEW}, None, needs_note=True, needs_township=True),
    Action.SIGN: _move(set(UNIT_ROLES), {S.DISPATCHED}, S.SIGNED),
    Action.PROGRESS: _move(set(UNIT_ROLES), WORKING, S.IN_PROGRESS, needs_note=True),
    Action.FEEDBACK: _move(set(UNIT_ROLES), WORKING, S.RESOLVED, needs_note=True, site_checked=S.SITE_CHECK),
    Action.VERIFY: _move(DESK, {S.RESOLVED}, S.CLOSED),
    Action.REWORK: _move(DESK, {S.RESOLVED}, S.IN_PROGRESS, needs_note=True),
    Action.RETURN: _move(set(UNIT_ROLES), {S.DISPATCHED, S.SIGNED}, S.NEW, needs_note=True),
    Action.POSTPONE: _move(DESK, WORKING, S.POSTPONED, needs_note=True),
    Action.RESUME: _move({*DESK, *UNIT_ROLES, R.SYSTEM}, {S.POSTPONED}, S.IN_PROGRESS),
    Action.MERGE: _move(DESK, (OPEN - {S.RESOLVED, S.SITE_CHECK}) | {S.REPORTED}, S.MERGED, needs_note=True),
    Action.RELEVEL: _move({R.SYSTEM, R.COMMAND}, OPEN, None),
    Action.AMEND: _move({R.SYSTEM, *DESK}, OPEN, None, needs_note=True),
    Action.CONFIRM_AREA: _move(DESK, OPEN, None),
    # 催办 and 升级督办: overdue against a township's clock, or left 待分拨 / 待受理 past the dispatch window.
    Action.REMIND: _move({R.SYSTEM}, OPEN | WITH_DESK, None),
    Action.ESCALATE: _move({R.SYSTEM}, OPEN | WITH_DESK, None),
    # 协办: an assisting unit's part, while the incident is with the units (its status is the primary unit's).
    Action.ASSIST_SIGN: _move(set(UNIT_ROLES), WITH_TOWNSHIP, None, part=_part({Part.PENDING}, Part.SIGNED)),
    Action.ASSIST_PROGRESS: _move(set(UNIT_ROLES), WITH_TOWNSHIP, None, needs_note=True,
                                  part=_part({Part.SIGNED}, Part.SIGNED)),
    Action.ASSIST_FEEDBACK: _move(set(UNIT_ROLES), WITH_TOWNSHIP, None, needs_note=True,
                                  part=_part({Part.SIGNED}, Part.DONE)),
    # 网格员: 巡查上报 → 待受理, which the desk accepts, declines or merges; 核查 on site after a unit's 处置反馈.
    Action.PATROL_REPORT: _move({R.GRID}, {None}, S.REPORTED),
    Action.ACCEPT: _move(DESK, {S.REPORTED}, S.NEW),
    Action.DECLINE: _move(DESK, {S.REPORTED}, S.DECLINED, needs_note=True),
    Action.SITE_PASS: _move({R.GRID}, {S.SITE_CHECK}, S.RESOLVED),
    Action.SITE_FAIL: _move({R.GRID}, {S.SITE_CHECK}, S.IN_PROGRESS, needs_note=True),
    # 属地变更: the engine re-tags an open incident (or a report awaiting 受理) under a new boundary version; a
    # point now in another township is flagged (near_boundary) for the desk to confirm or re-route, never moved.
    Action.RETAG: _move({R.SYSTEM}, OPEN | {S.REPORTED}, None),
}


# Whom an escalation (升级督办) reached: the district's command center, the city's, a leader.
ESCALATED_TO = ("district", "city", "leader")


def district_of_unit(unit: str | None) -> str | None:
    """The district a unit lies in: a township's code begins with its district's (GB/T 2260, checked when
    the layers load); a department (``dept-…``) is the city's and lies in none."""
    return unit[:6] if unit is not None and len(unit) == 9 and unit.isdigit() else None


def desk_district(township_code: str | None, district_code: str | None) -> str | None:
    """Whose district desk an incident is on: the district of the township it is with (also after a 退单,
    which leaves it with the desk of that township's district), else the district of its point. The same
    rule as the generated column ``incidents.desk_district`` (store/migrations/0015)."""
    return district_of_unit(township_code) or district_code


def district_refusal(actor: Actor, incident: Incident, target: str | None = None) -> Refusal | None:
    """Why a district desk may not make a move on ``incident`` (naming ``target``), or None: the incident must
    be on its district's desk, and a unit it names must be a township of its district (a transfer to
    another district, or to a city department, goes through the city's command center)."""
    if actor.role is not Role.DISTRICT:
        return None
    if actor.district_code is None or incident.desk != actor.district_code:
        return Refusal.NOT_YOUR_DISTRICT
    if target is not None and district_of_unit(target) != actor.district_code:
        return Refusal.OUTSIDE_DISTRICT
    return None


def is_assisting(actor: Actor, incident: Incident) -> bool:
    """Whether ``actor`` is staff of a 协办 unit of ``incident`` (not its primary unit)."""
    return (actor.role in UNIT_ROLES and actor.township_code is not None
            and actor.township_code != incident.township_code and actor.township_code in incident.assist_units)


def offered(status: Status, role: Role, part: Part | None = None) -> list[Action]:
    """The moves ``role`` may make from ``status``, in the table's order: what a desk offers as buttons. With
    ``part`` (the state of an assisting unit's part), the 协办 moves that part allows instead."""
    return [action for action, move in MOVES.items() if status in move.sources and role in move.roles
            and (move.part is None if part is None else move.part is not None and part in move.part.sources)]


def closure_refusal(open_warnings: Collection[int], *, override: bool, note: str) -> Refusal | None:
    """核查结案's guard: every warning attached to the incident (a grouped incident carries several) must have
    cleared; one still open refuses the closure unless it is overridden with a reason."""
    if open_warnings and not (override and note.strip()):
        return Refusal.SENSOR_STILL_BREACHING
    return None


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: Role
    township_code: str | None = None  # the unit of township or department staff: they act only on their own
    district_code: str | None = None  # the district of a district desk: it acts only within it
    grids: tuple[str, ...] = ()  # a grid member's grids (12-digit codes): it reports and checks in these only


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class Incident:
    id: int | None
    status: Status | None
    level: int
    township_code: str | None
    category: str = ""
    rework_count: int = 0
    sign_deadline: datetime | None = None
    finish_deadline: datetime | None = None
    verify_deadline: datetime | None = None
    paused_at: datetime | None = None
    escalation_tier: int = 0  # 0 none, then reminded, escalated to the district, to a leader
    assist_units: tuple[str, ...] = ()
    near_boundary: bool = False  # the point is near a township border: the dispatcher should confirm the area
    district_code: str | None = None  # the district of its point (as tagged); ``desk`` says whose desk it is on
    dispatch_deadline: datetime | None = None  # 分拨时限: set when it enters 待分拨 (立案, 退单), the desk's clock
    escalated_to: str | None = None  # the rung its escalation reached (``ESCALATED_TO``), until the status moves
    assist_parts: tuple[tuple[str, Part], ...] = ()  # (unit, part) of the assisting units past 待签收, by unit
    grid_code: str | None = None  # the grid of its point (as tagged): whose grid member reports and checks it

    def part_of(self, unit: str | None) -> Part | None:
        """The part of an assisting unit (协办); None for a unit that does not assist it."""
        if unit is None or unit not in self.assist_units:
            return None
        return dict(self.assist_parts).get(unit, Part.PENDING)

    @property
    def desk(self) -> str | None:
        """The district whose desk it is on (``desk_district``)."""
        return desk_district(self.township_code, self.district_code)

    @property
    def deadlines(self) -> Deadlines:
        return Deadlines(self.sign_deadline, self.finish_deadline, self.verify_deadline)

    @property
    def deadline(self) -> datetime | None:
        """The deadline it waits on now (``alerts.status.STEPS``); None when no clock runs."""
        clock = waiting_on(self.status)
        return None if clock is None else self.deadlines.of(clock)


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


def _effects(inc: Incident, action: Action, now: datetime, township: str | None, details: dict[str, object],
             actor_unit: str | None) -> Incident:
    """What a move changes besides the status."""
    sign, finish, verify = windows(inc.level, inc.category)
    if action in (Action.DISPATCH, Action.TRANSFER):
        return replace(inc, township_code=township, sign_deadline=now + sign, finish_deadline=now + finish,
                       verify_deadline=None)
    if action is Action.FEEDBACK:
        return replace(inc, verify_deadline=now + verify)
    if action in (Action.REWORK, Action.SITE_FAIL):
        return replace(inc, rework_count=inc.rework_count + 1, verify_deadline=None)
    if action is Action.SITE_PASS:
        return replace(inc, verify_deadline=now + verify)
    if action is Action.POSTPONE:
        return replace(inc, paused_at=now)
    if action is Action.RESUME and inc.paused_at is not None:
        paused = now - inc.paused_at  # the clock stopped while postponed: give the time back
        later = inc.finish_deadline + paused if inc.finish_deadline else None
        return replace(inc, paused_at=None, finish_deadline=later)
    if action is Action.ASSIST and township and township not in inc.assist_units:
        return replace(inc, assist_units=(*inc.assist_units, township))
    move = MOVES[action]
    if move.part is not None and actor_unit is not None:
        parts = dict(inc.assist_parts) | {actor_unit: move.part.target}
        return replace(inc, assist_parts=tuple(sorted(parts.items())))
    if action in (Action.CREATE, Action.PATROL_REPORT, Action.AMEND, Action.RETAG):  # the point's flag, areas
        near, district, grid = details.get("near_boundary"), details.get("district_code"), details.get("grid_code")
        inc = replace(inc, near_boundary=near) if isinstance(near, bool) else inc
        inc = replace(inc, district_code=district) if isinstance(district, str) else inc
        inc = replace(inc, grid_code=grid) if isinstance(grid, str) else inc
    if action is Action.PATROL_REPORT or (action is Action.RETAG and inc.status is S.REPORTED):
        # with the township of its point until the desk accepts and routes it
        point = details.get("township_code_of_point")
        inc = replace(inc, township_code=point) if isinstance(point, str) else inc
    if action is Action.AMEND:
        category = details.get("category")
        return replace(inc, category=category) if isinstance(category, str) and category else inc
    if action is Action.CONFIRM_AREA:
        return replace(inc, near_boundary=False)
    if action is Action.RELEVEL:
        level = details.get("level")
        return replace(inc, level=level) if isinstance(level, int) and 1 <= level <= 4 else inc
    if action in (Action.REMIND, Action.ESCALATE):
        tier, to = details.get("tier"), details.get("to")
        inc = replace(inc, escalation_tier=tier) if isinstance(tier, int) else inc
        return replace(inc, escalated_to=to) if action is Action.ESCALATE and to in ESCALATED_TO else inc
    return inc


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
    details = dict(details or {})
    if incident.status not in move.sources:
        raise IllegalMove(Refusal.WRONG_STATE, action, incident.status)
    if actor.role not in move.roles:
        raise IllegalMove(Refusal.WRONG_ROLE, action, incident.status)
    if move.part is not None:  # a 协办 move: the assisting unit's own, on its part
        part = incident.part_of(actor.township_code) if is_assisting(actor, incident) else None
        if part is None:
            raise IllegalMove(Refusal.NOT_ASSISTING, action, incident.status)
        if part not in move.part.sources:
            raise IllegalMove(Refusal.PART_STATE, action, incident.status)
    elif actor.role in UNIT_ROLES and actor.township_code != incident.township_code:
        raise IllegalMove(Refusal.NOT_YOUR_TOWNSHIP, action, incident.status)  # a 协办 unit too: not its moves
    if actor.role is Role.DISTRICT:
        refusal = district_refusal(actor, incident, township_code if move.needs_township else None)
        if refusal is not None:
            raise IllegalMove(refusal, action, incident.status)
    grid = details.get("grid_code") if action is Action.PATROL_REPORT else incident.grid_code
    if actor.role is Role.GRID and (not isinstance(grid, str) or grid not in actor.grids):
        raise IllegalMove(Refusal.NOT_YOUR_GRID, action, incident.status)
    if move.needs_note and not note.strip():
        raise IllegalMove(Refusal.NOTE_REQUIRED, action, incident.status)
    if move.needs_township and not township_code:
        raise IllegalMove(Refusal.TARGET_REQUIRED, action, incident.status)
    if action is Action.TRANSFER and township_code == incident.township_code:
        raise IllegalMove(Refusal.SAME_TARGET, action, incident.status)
    if action is Action.MERGE and not isinstance(details.get("into"), int):
        raise IllegalMove(Refusal.TARGET_REQUIRED, action, incident.status)
    if action is Action.CONFIRM_AREA and not incident.near_boundary:
        raise IllegalMove(Refusal.NOT_NEAR_BOUNDARY, action, incident.status)

    target = township_code if move.needs_township else None
    nxt = _effects(incident, action, now, target, details, actor.township_code)
    status = move.target or incident.status
    if move.site_checked is not None and nxt.category in SITE_CHECKED:
        status = move.site_checked
    assert status is not None  # only CREATE starts from None, and it has a target
    if status is not incident.status:
        nxt = replace(nxt, escalation_tier=0)  # the status moved on: escalation starts over
    if action in (Action.DISPATCH, Action.TRANSFER) and actor.role in DESK_ROLES:
        nxt = replace(nxt, near_boundary=False)  # a dispatcher who chose the unit has settled the area
    nxt = replace(nxt, status=status)
    if action in (Action.DISPATCH, Action.TRANSFER) and nxt.sign_deadline and nxt.finish_deadline:
        # the deadlines this unit was given, as given: a later level change must not move them in 考核
        details |= {"sign_deadline": nxt.sign_deadline.isoformat(), "finish_deadline": nxt.finish_deadline.isoformat()}
    if status is not incident.status:
        nxt = replace(nxt, escalated_to=None)
    if status in WITH_DESK and incident.status is not status:  # 立案, 退单, 巡查上报: with the desk, on its clock
        nxt = replace(nxt, dispatch_deadline=now + dispatch_window(nxt.level, nxt.category))
    elif status not in WITH_DESK:
        nxt = replace(nxt, dispatch_deadline=None)
    if actor.role is Role.DISTRICT:
        details |= {"district": actor.district_code}  # which district's desk acted (replay checks it again)
    if actor.role is Role.GRID:
        details |= {"grid": grid}  # in which of its grids the grid member acted (replay checks it again)
    entry = LogEntry(
        at=now, actor=actor.name, role=actor.role, unit=actor.township_code or target,
        action=action, from_status=incident.status, to_status=status, note=note.strip(),
        details=details | ({"township_code": target} if target else {}),
    )
    return nxt, entry


def actor_of(e: LogEntry) -> Actor:
    """Who made a logged move, as ``transition`` checks it again: a unit's code, a district desk's district and
    the grid a grid member acted in, from the row itself."""
    district, grid = e.details.get("district"), e.details.get("grid")
    return Actor(e.actor, e.role, e.unit if e.role in UNIT_ROLES else None,
                 district if e.role is Role.DISTRICT and isinstance(district, str) else None,
                 (grid,) if e.role is Role.GRID and isinstance(grid, str) else ())


def replay(entries: list[LogEntry], level: int | None = None, category: str | None = None) -> Incident:
    """Rebuild an incident's current state from its log alone (the log is the truth).

    The create row carries the starting level and category; pass them for older logs.
    """
    first = entries[0].details if entries else {}
    start_level, start_category = first.get("level", level), first.get("category", category)
    if not isinstance(start_level, int) or not isinstance(start_category, str):
        raise ValueError("the log does not say the starting level and category; pass them")
    state = Incident(id=None, status=None, level=start_level, township_code=None, category=start_category)
    for e in entries:
        township = e.details.get("township_code")
        state, _ = transition(state, e.action, actor_of(e), e.at, note=e.note, details=e.details,
                              township_code=township if isinstance(township, str) else None)
    return state


def ladder_due(deadline: datetime | None, window: timedelta, tier: int, now: datetime,
               rungs: tuple[str, str, str] = ("township", "district", "leader")) -> tuple[int, str] | None:
    """The rung owed now on the reminder ladder: (tier, to whom), or None.

    Remind once overdue (past the deadline), escalate when half a window overdue, again when a whole
    window overdue; each rung once. ``rungs`` names whom: for a township's clock the township, then the
    district command center, then a leader.
    """
    if deadline is None or not is_overdue(deadline, now):
        return None
    ladder = [(timedelta(0), rungs[0]), (window / 2, rungs[1]), (window, rungs[2])]
    due = [(n, to) for n, (after, to) in enumerate(ladder, start=1) if now - deadline >= after]
    rung, to = due[-1]
    return (rung, to) if rung > tier else None


# Left 待分拨 past the dispatch window: remind the desk that should dispatch it (its district's, or the city's
# for an incident on no district's desk), then escalate to the city's command center, then to a leader.
DISPATCH_RUNGS = ("desk", "city", "leader")


def escalation_due(inc: Incident, now: datetime) -> tuple[Action, int, str] | None:
    """The reminder or escalation an overdue incident is owed now, if any: (action, tier, to whom).

    The deadline is the one its status waits on (``alerts.status.STEPS``), or for 待分拨 the dispatch
    deadline (the desk's), as for 待受理; postponed and finished incidents have none, so they wait.
    """
    if inc.status in WITH_DESK:
        due = ladder_due(inc.dispatch_deadline, dispatch_window(inc.level, inc.category), inc.escalation_tier, now,
                         DISPATCH_RUNGS)
    else:
        clock = waiting_on(inc.status)
        if clock is None:
            return None
        due = ladder_due(inc.deadline, windows(inc.level, inc.category).of(clock), inc.escalation_tier, now)
    if due is None:
        return None
    tier, to = due
    return (Action.REMIND if tier == 1 else Action.ESCALATE), tier, to
