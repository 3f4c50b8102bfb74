"""The incident state machine as tables of cases, with a fixed clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest

from alerts.deadlines import windows
from alerts.lifecycle import (
    MOVES,
    SYSTEM,
    UNIT_ROLES,
    Action,
    Actor,
    IllegalMove,
    Incident,
    Refusal,
    Role,
    escalation_due,
    offered,
    replay,
    transition,
)
from alerts.status import Status

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
T1 = "431002001"
T2 = "431002002"
COMMAND = Actor("zhihui", Role.COMMAND)
STAFF = Actor("zj431002001", Role.TOWNSHIP, T1)
OTHER_STAFF = Actor("zj431002002", Role.TOWNSHIP, T2)


class MoveArgs(TypedDict, total=False):
    """The keyword arguments of ``transition`` a case passes."""
    note: str
    township_code: str | None
    details: dict[str, object]


def at(status: Status | None, township: str | None = T1, level: int = 2) -> Incident:
    return Incident(id=1, status=status, level=level, township_code=township)


@pytest.mark.parametrize(
    ("start", "action", "actor", "kwargs", "expected"),
    [
        (None, Action.CREATE, SYSTEM, {}, Status.NEW),
        (Status.NEW, Action.DISPATCH, SYSTEM, {"township_code": T1}, Status.DISPATCHED),
        (Status.NEW, Action.DISPATCH, COMMAND, {"township_code": T2}, Status.DISPATCHED),
        (Status.DISPATCHED, Action.SIGN, STAFF, {}, Status.SIGNED),
        (Status.SIGNED, Action.PROGRESS, STAFF, {"note": "已到场"}, Status.IN_PROGRESS),
        (Status.SIGNED, Action.FEEDBACK, STAFF, {"note": "已关阀"}, Status.RESOLVED),
        (Status.IN_PROGRESS, Action.FEEDBACK, STAFF, {"note": "已处置"}, Status.RESOLVED),
        (Status.RESOLVED, Action.VERIFY, COMMAND, {}, Status.CLOSED),
        (Status.RESOLVED, Action.REWORK, COMMAND, {"note": "现场仍有异味"}, Status.IN_PROGRESS),
        (Status.DISPATCHED, Action.RETURN, STAFF, {"note": "不属本镇"}, Status.NEW),
        (Status.SIGNED, Action.TRANSFER, COMMAND, {"township_code": T2, "note": "属地调整"}, Status.DISPATCHED),
        (Status.IN_PROGRESS, Action.POSTPONE, COMMAND, {"note": "待汛期后施工"}, Status.POSTPONED),
        (Status.POSTPONED, Action.RESUME, STAFF, {}, Status.IN_PROGRESS),
        (Status.SIGNED, Action.ASSIST, COMMAND, {"township_code": T2, "note": "请协助封路"}, Status.SIGNED),
        (Status.DISPATCHED, Action.MERGE, COMMAND, {"note": "重复", "details": {"into": 7}}, Status.MERGED),
        (Status.DISPATCHED, Action.REMIND, SYSTEM, {"details": {"tier": 1}}, Status.DISPATCHED),
        (Status.IN_PROGRESS, Action.ESCALATE, SYSTEM, {"details": {"tier": 2}}, Status.IN_PROGRESS),
        (Status.SIGNED, Action.RELEVEL, SYSTEM, {"details": {"level": 1}}, Status.SIGNED),
    ],
)
def test_allowed_moves(start: Status | None, action: Action, actor: Actor, kwargs: MoveArgs,
                       expected: Status) -> None:
    nxt, entry = transition(at(start), action, actor, NOW, **kwargs)
    assert nxt.status is expected
    assert (entry.from_status, entry.to_status, entry.actor, entry.role, entry.at) == (
        start, expected, actor.name, actor.role, NOW)


@pytest.mark.parametrize(
    ("start", "action", "actor", "kwargs", "refusal"),
    [
        (Status.SIGNED, Action.SIGN, STAFF, {}, Refusal.WRONG_STATE),  # double click: signed once
        (Status.DISPATCHED, Action.SIGN, OTHER_STAFF, {}, Refusal.NOT_YOUR_TOWNSHIP),
        (Status.DISPATCHED, Action.SIGN, COMMAND, {}, Refusal.WRONG_ROLE),
        (Status.RESOLVED, Action.VERIFY, STAFF, {}, Refusal.WRONG_ROLE),
        (Status.SIGNED, Action.VERIFY, COMMAND, {}, Refusal.WRONG_STATE),  # nothing closed unverified
        (Status.SIGNED, Action.FEEDBACK, STAFF, {"note": "  "}, Refusal.NOTE_REQUIRED),
        (Status.RESOLVED, Action.REWORK, COMMAND, {}, Refusal.NOTE_REQUIRED),
        (Status.NEW, Action.DISPATCH, COMMAND, {}, Refusal.TARGET_REQUIRED),
        (Status.CLOSED, Action.REWORK, COMMAND, {"note": "x"}, Refusal.WRONG_STATE),
        (Status.DISPATCHED, Action.RETURN, STAFF, {}, Refusal.NOTE_REQUIRED),
        (Status.SIGNED, Action.TRANSFER, COMMAND, {"township_code": T1, "note": "x"}, Refusal.SAME_TARGET),
        (Status.SIGNED, Action.TRANSFER, STAFF, {"township_code": T2, "note": "x"}, Refusal.WRONG_ROLE),
        (Status.SIGNED, Action.POSTPONE, STAFF, {"note": "想缓办"}, Refusal.WRONG_ROLE),  # needs approval
        (Status.DISPATCHED, Action.MERGE, COMMAND, {"note": "重复"}, Refusal.TARGET_REQUIRED),
        (Status.CLOSED, Action.REMIND, SYSTEM, {}, Refusal.WRONG_STATE),
        (Status.MERGED, Action.SIGN, STAFF, {}, Refusal.WRONG_STATE),
    ],
)
def test_refused_moves(start: Status, action: Action, actor: Actor, kwargs: MoveArgs,
                       refusal: Refusal) -> None:
    with pytest.raises(IllegalMove) as err:
        transition(at(start), action, actor, NOW, **kwargs)
    assert err.value.refusal is refusal


def test_dispatch_sets_deadlines_by_level() -> None:
    red, _ = transition(at(Status.NEW, None, level=1), Action.DISPATCH, SYSTEM, NOW, township_code=T1)
    blue, _ = transition(at(Status.NEW, None, level=4), Action.DISPATCH, SYSTEM, NOW, township_code=T1)
    assert red.township_code == T1
    assert red.sign_deadline == NOW + timedelta(minutes=15)
    flood = Incident(1, Status.NEW, 1, None, category="flood")
    fast, _ = transition(flood, Action.DISPATCH, SYSTEM, NOW, township_code=T1)
    assert fast.sign_deadline == NOW + windows(1, "flood")[0] < red.sign_deadline  # a flood waits less
    assert blue.sign_deadline is not None and red.sign_deadline < blue.sign_deadline
    assert red.finish_deadline is not None and blue.finish_deadline is not None
    assert red.finish_deadline < blue.finish_deadline


def test_rework_is_counted() -> None:
    nxt, _ = transition(at(Status.RESOLVED), Action.REWORK, COMMAND, NOW, note="照片不清晰")
    again, _ = transition(replace_status(nxt, Status.RESOLVED), Action.REWORK, COMMAND, NOW, note="仍未处置")
    assert (nxt.rework_count, again.rework_count) == (1, 2)


def replace_status(incident: Incident, status: Status) -> Incident:
    return Incident(incident.id, status, incident.level, incident.township_code, rework_count=incident.rework_count)


def test_postponement_stops_the_finish_clock() -> None:
    signed = Incident(1, Status.SIGNED, 2, T1, finish_deadline=NOW + timedelta(hours=8))
    paused, _ = transition(signed, Action.POSTPONE, COMMAND, NOW, note="批准缓办")
    resumed, _ = transition(paused, Action.RESUME, STAFF, NOW + timedelta(days=2))
    assert resumed.finish_deadline == NOW + timedelta(days=2, hours=8)
    assert resumed.paused_at is None


def test_escalation_ladder_and_reset() -> None:
    sign = windows(2)[0]
    inc = Incident(1, Status.DISPATCHED, 2, T1, sign_deadline=NOW)
    assert escalation_due(inc, NOW - timedelta(seconds=1)) is None
    assert escalation_due(inc, NOW) is None  # at the deadline it is still on time: overdue means past it
    assert escalation_due(inc, NOW + timedelta(microseconds=1)) == (Action.REMIND, 1, "township")
    reminded, _ = transition(inc, Action.REMIND, SYSTEM, NOW, details={"tier": 1})
    assert escalation_due(reminded, NOW + timedelta(minutes=1)) is None  # reminded once, not every tick
    assert escalation_due(reminded, NOW + sign / 2) == (Action.ESCALATE, 2, "district")
    assert escalation_due(reminded, NOW + sign) == (Action.ESCALATE, 3, "leader")
    top, _ = transition(reminded, Action.ESCALATE, SYSTEM, NOW + sign, details={"tier": 3})
    assert escalation_due(top, NOW + 10 * sign) is None
    signed, _ = transition(top, Action.SIGN, STAFF, NOW + sign)
    assert signed.escalation_tier == 0  # the status moved on: the ladder starts over for the next deadline
    postponed = Incident(1, Status.POSTPONED, 2, T1, finish_deadline=NOW)
    assert escalation_due(postponed, NOW + timedelta(days=3)) is None


def test_confirm_area_clears_the_near_boundary_flag_once() -> None:
    created, entry = transition(Incident(None, None, 2, None), Action.CREATE, SYSTEM, NOW,
                                details={"level": 2, "category": "hotline", "near_boundary": True})
    assert created.near_boundary and entry.details["near_boundary"] is True
    signed = Incident(1, Status.SIGNED, 2, T1, near_boundary=True)
    confirmed, entry = transition(signed, Action.CONFIRM_AREA, COMMAND, NOW, note="电话核实，属本镇")
    assert (confirmed.near_boundary, confirmed.status, confirmed.township_code) == (False, Status.SIGNED, T1)
    assert (entry.action, entry.actor, entry.at, entry.from_status, entry.to_status, entry.note) == (
        Action.CONFIRM_AREA, "zhihui", NOW, Status.SIGNED, Status.SIGNED, "电话核实，属本镇")
    for incident, actor, refusal in [
        (confirmed, COMMAND, Refusal.NOT_NEAR_BOUNDARY),  # a second click confirms nothing more
        (at(Status.DISPATCHED), COMMAND, Refusal.NOT_NEAR_BOUNDARY),  # never flagged
        (signed, STAFF, Refusal.WRONG_ROLE),  # the township does not confirm its own area
        (Incident(1, Status.CLOSED, 2, T1, near_boundary=True), COMMAND, Refusal.WRONG_STATE),
    ]:
        with pytest.raises(IllegalMove) as err:
            transition(incident, Action.CONFIRM_AREA, actor, NOW)
        assert err.value.refusal is refusal
    moved, entry = transition(confirmed, Action.AMEND, COMMAND, NOW, note="位置更正",
                              details={"category": "hotline", "near_boundary": True})
    assert moved.near_boundary and entry.details["near_boundary"] is True  # a new point is judged afresh
    auto, _ = transition(Incident(1, Status.NEW, 2, None, near_boundary=True), Action.DISPATCH, SYSTEM, NOW,
                         township_code=T1)
    assert auto.near_boundary  # routed by the map alone: still to confirm
    chosen, _ = transition(moved, Action.TRANSFER, COMMAND, NOW, township_code=T2, note="属邻镇")
    assert not chosen.near_boundary  # a dispatcher who picked the unit has settled the area


def _random_history(rng: random.Random) -> tuple[int, str, list, Incident]:
    """Walk the table of moves at random with actors allowed to make each move."""
    level = rng.randint(1, 4)
    category = rng.choice(["flood", "hotline", "other"])
    state = Incident(None, None, level, None, category=category)
    entries = []
    now = NOW
    for _ in range(rng.randint(1, 25)):
        options = [a for a, m in MOVES.items() if state.status in m.sources
                   and (a is not Action.CONFIRM_AREA or state.near_boundary)]
        if not options:
            break
        action = rng.choice(options)
        role = rng.choice(sorted(MOVES[action].roles))
        unit = state.township_code
        if action is Action.PROGRESS and state.assist_units and rng.random() < 0.3:
            unit = rng.choice(state.assist_units)  # a 协办 unit's progress note
        actor = Actor(f"u-{role}", role, unit if role in UNIT_ROLES else None)
        now += timedelta(minutes=rng.randint(1, 90))
        target = T2 if state.township_code == T1 else T1
        details: dict[str, object] = ({"level": level, "category": category} if action is Action.CREATE
                   else {"into": 99, "tier": rng.randint(1, 3), "level": rng.randint(1, 4)})
        details["near_boundary"] = rng.random() < 0.5  # read by create and amend only
        state, entry = transition(state, action, actor, now, note="说明", township_code=target, details=details)
        entries.append(entry)
    return level, category, entries, state


def test_replaying_the_log_rebuilds_every_state() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        level, category, entries, final = _random_history(rng)
        assert replay(entries, level, category) == final


@pytest.mark.parametrize(("status", "role", "moves"), [
    (Status.DISPATCHED, Role.TOWNSHIP, [Action.SIGN, Action.RETURN]),
    (Status.IN_PROGRESS, Role.TOWNSHIP, [Action.PROGRESS, Action.FEEDBACK]),
    (Status.RESOLVED, Role.TOWNSHIP, []),
    (Status.POSTPONED, Role.COMMAND, [Action.ASSIST, Action.RESUME, Action.MERGE, Action.RELEVEL, Action.AMEND,
                                      Action.CONFIRM_AREA]),
    (Status.CLOSED, Role.COMMAND, []),
])
def test_offered_moves_follow_the_table(status: Status, role: Role, moves: list[Action]) -> None:
    assert offered(status, role) == moves


def test_department_staff_work_their_units_incidents_and_assist_with_notes_only() -> None:
    dept = "dept-slj"
    dispatched, _ = transition(Incident(1, Status.NEW, 2, None, category="flood"), Action.DISPATCH, SYSTEM, NOW,
                               township_code=dept)
    staff = Actor("bmslj", Role.DEPARTMENT, dept)
    signed, entry = transition(dispatched, Action.SIGN, staff, NOW)
    assert signed.status is Status.SIGNED and entry.unit == dept
    with pytest.raises(IllegalMove) as refused:  # another unit's department staff
        transition(dispatched, Action.SIGN, Actor("bmgaj", Role.DEPARTMENT, "dept-gaj"), NOW)
    assert refused.value.refusal is Refusal.NOT_YOUR_TOWNSHIP

    # A township incident the department assists (协办): a progress note, and the status stays the township's.
    township, _ = transition(Incident(2, Status.NEW, 2, None, category="flood"), Action.DISPATCH, SYSTEM, NOW,
                             township_code=T1)
    township, _ = transition(township, Action.SIGN, Actor("zj", Role.TOWNSHIP, T1), NOW)
    assisted, _ = transition(township, Action.ASSIST, SYSTEM, NOW, note="行业主管部门协办", township_code=dept)
    noted, entry = transition(assisted, Action.PROGRESS, staff, NOW, note="已派员到场")
    assert noted.status is Status.SIGNED and entry.unit == dept and entry.to_status is Status.SIGNED
    for action in (Action.FEEDBACK, Action.RETURN):
        with pytest.raises(IllegalMove):
            transition(assisted, action, staff, NOW, note="不是它的")
