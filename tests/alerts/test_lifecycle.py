"""The incident state machine as tables of cases, with a fixed clock."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest

from alerts.deadlines import DISPATCH_BY_LEVEL, dispatch_window, windows
from alerts.lifecycle import (
    ESCALATED_TO,
    MOVES,
    SYSTEM,
    UNIT_ROLES,
    Action,
    Actor,
    IllegalMove,
    Incident,
    Refusal,
    Role,
    desk_district,
    district_of_unit,
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
D1, D2 = "431002", "431021"  # 北湖区 (T1, T2 lie in it), 桂阳县
T3 = "431021001"  # a township of D2
G1 = "431002001001"  # a grid of T1
DISTRICT = Actor("qx431002", Role.DISTRICT, district_code=D1)
OTHER_DISTRICT = Actor("qx431021", Role.DISTRICT, district_code=D2)


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
    state = Incident(None, None, level, None, category=category, district_code=D1)
    entries = []
    now = NOW
    for _ in range(rng.randint(1, 25)):
        helpers = [u for u in state.assist_units if u != state.township_code]
        options = [a for a, m in MOVES.items() if state.status in m.sources
                   and (a is not Action.CONFIRM_AREA or state.near_boundary)
                   and (m.part is None or any(state.part_of(u) in m.part.sources for u in helpers))]
        if not options:
            break
        action = rng.choice(options)
        role = rng.choice(sorted(MOVES[action].roles))
        unit = state.township_code
        part = MOVES[action].part
        if part is not None:  # a 协办 unit's move on its part
            unit = rng.choice([u for u in helpers if state.part_of(u) in part.sources])
        actor = Actor(f"u-{role}", role, unit if role in UNIT_ROLES else None,
                      D1 if role is Role.DISTRICT else None,  # T1, T2: both townships of D1
                      (G1,) if role is Role.GRID else ())
        now += timedelta(minutes=rng.randint(1, 90))
        target = T2 if state.township_code == T1 else T1
        details: dict[str, object] = ({"level": level, "category": category, "district_code": D1, "grid_code": G1}
                                      if action in (Action.CREATE, Action.PATROL_REPORT)
                   else {"into": 99, "tier": rng.randint(1, 3), "level": rng.randint(1, 4),
                         "to": rng.choice(ESCALATED_TO)})
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
    assisted, _ = transition(assisted, Action.ASSIST_SIGN, staff, NOW)
    noted, entry = transition(assisted, Action.ASSIST_PROGRESS, staff, NOW, note="已派员到场")
    assert noted.status is Status.SIGNED and entry.unit == dept and entry.to_status is Status.SIGNED
    for action in (Action.PROGRESS, Action.FEEDBACK, Action.RETURN):
        with pytest.raises(IllegalMove):
            transition(assisted, action, staff, NOW, note="不是它的")


# -- 区县指挥中心: a district's desk acts within its district only --

def in_district(status: Status | None, township: str | None = T1, district: str | None = D1) -> Incident:
    return Incident(id=1, status=status, level=2, township_code=township, district_code=district)


@pytest.mark.parametrize(("unit", "point", "desk"), [
    (T1, D1, D1), (T3, D1, D2),  # with a township: that township's district, wherever the point lies
    (None, D2, D2),  # not yet dispatched: the point's district
    ("dept-slj", D1, D1),  # with a city department: the point's district
    (None, None, None), ("dept-slj", None, None),
])
def test_the_desk_an_incident_is_on(unit: str | None, point: str | None, desk: str | None) -> None:
    assert desk_district(unit, point) == desk == in_district(Status.DISPATCHED, unit, point).desk
    assert district_of_unit(T3) == D2 and district_of_unit("dept-slj") is None


@pytest.mark.parametrize(("start", "action", "kwargs", "expected"), [
    (Status.NEW, Action.DISPATCH, {"township_code": T2}, Status.DISPATCHED),
    (Status.SIGNED, Action.TRANSFER, {"township_code": T2, "note": "属地调整"}, Status.DISPATCHED),
    (Status.SIGNED, Action.ASSIST, {"township_code": T2, "note": "请协助"}, Status.SIGNED),
    (Status.IN_PROGRESS, Action.POSTPONE, {"note": "待汛期后"}, Status.POSTPONED),
    (Status.POSTPONED, Action.RESUME, {}, Status.IN_PROGRESS),
    (Status.RESOLVED, Action.VERIFY, {}, Status.CLOSED),
    (Status.RESOLVED, Action.REWORK, {"note": "仍有积水"}, Status.IN_PROGRESS),
    (Status.DISPATCHED, Action.MERGE, {"note": "重复", "details": {"into": 7}}, Status.MERGED),
])
def test_a_district_desk_works_its_districts_incidents(start: Status, action: Action, kwargs: MoveArgs,
                                                        expected: Status) -> None:
    nxt, entry = transition(in_district(start), action, DISTRICT, NOW, **kwargs)
    assert nxt.status is expected and entry.role is Role.DISTRICT and entry.details["district"] == D1
    with pytest.raises(IllegalMove) as err:  # the same move by another district's desk
        transition(in_district(start), action, OTHER_DISTRICT, NOW, **kwargs)
    assert err.value.refusal is Refusal.NOT_YOUR_DISTRICT
    assert transition(in_district(start), action, COMMAND, NOW, **kwargs)[0].status is expected  # the city's: any


@pytest.mark.parametrize(("start", "action", "actor", "kwargs", "refusal"), [
    # naming a unit outside its district: another district's township, a city department
    (Status.NEW, Action.DISPATCH, DISTRICT, {"township_code": T3}, Refusal.OUTSIDE_DISTRICT),
    (Status.SIGNED, Action.TRANSFER, DISTRICT, {"township_code": T3, "note": "属邻县"}, Refusal.OUTSIDE_DISTRICT),
    (Status.SIGNED, Action.TRANSFER, DISTRICT, {"township_code": "dept-slj", "note": "x"}, Refusal.OUTSIDE_DISTRICT),
    (Status.SIGNED, Action.ASSIST, DISTRICT, {"township_code": T3, "note": "x"}, Refusal.OUTSIDE_DISTRICT),
    # a district account without its district acts nowhere
    (Status.RESOLVED, Action.VERIFY, Actor("qx", Role.DISTRICT), {}, Refusal.NOT_YOUR_DISTRICT),
    # what no desk does: a district desk is not a township's staff, nor the engine
    (Status.DISPATCHED, Action.SIGN, DISTRICT, {}, Refusal.WRONG_ROLE),
    (Status.DISPATCHED, Action.REMIND, DISTRICT, {}, Refusal.WRONG_ROLE),
])
def test_a_district_desk_is_refused_outside_its_district(start: Status, action: Action, actor: Actor,
                                                         kwargs: MoveArgs, refusal: Refusal) -> None:
    with pytest.raises(IllegalMove) as err:
        transition(in_district(start), action, actor, NOW, **kwargs)
    assert err.value.refusal is refusal


def test_only_the_city_transfers_to_another_district() -> None:
    moved, _ = transition(in_district(Status.SIGNED), Action.TRANSFER, COMMAND, NOW, township_code=T3, note="属邻县")
    assert moved.township_code == T3 and moved.desk == D2  # now on the other district's desk
    with pytest.raises(IllegalMove) as err:  # and no longer the first district's to act on
        transition(moved, Action.TRANSFER, DISTRICT, NOW, township_code=T1, note="要回来")
    assert err.value.refusal is Refusal.NOT_YOUR_DISTRICT


def test_a_district_desks_moves_replay() -> None:
    created, first = transition(Incident(None, None, 2, None), Action.CREATE, SYSTEM, NOW,
                                details={"level": 2, "category": "", "district_code": D1})
    entries = [first]
    state = created
    for action, kwargs in ((Action.DISPATCH, {"township_code": T1}), (Action.TRANSFER, {"township_code": T2,
                                                                                          "note": "改派"})):
        state, entry = transition(state, action, DISTRICT, NOW, **kwargs)  # type: ignore[arg-type]
        entries.append(entry)
    assert replay(entries) == state and state.district_code == D1


# -- 分拨时限: what waits in 待分拨 climbs a ladder of its own --

def test_the_dispatch_window_is_per_level_and_category() -> None:
    assert [dispatch_window(level) for level in (1, 2, 3, 4)] == [DISPATCH_BY_LEVEL[lv] for lv in (1, 2, 3, 4)]
    assert DISPATCH_BY_LEVEL[1] < DISPATCH_BY_LEVEL[2] < DISPATCH_BY_LEVEL[3] < DISPATCH_BY_LEVEL[4]
    assert dispatch_window(2, "flood") == DISPATCH_BY_LEVEL[2] / 2 and dispatch_window(2, "hotline") == \
        DISPATCH_BY_LEVEL[2] * 2


@pytest.mark.parametrize("how", ["created", "returned"])
def test_left_undispatched_it_reminds_the_desk_then_escalates(how: str) -> None:
    created, _ = transition(Incident(None, None, 2, None, district_code=D1), Action.CREATE, SYSTEM, NOW,
                            details={"level": 2, "category": ""})
    window = dispatch_window(2)
    start = created
    if how == "returned":  # 退单: back on the desk of the township's district, the window starts again
        dispatched, _ = transition(created, Action.DISPATCH, SYSTEM, NOW, township_code=T1)
        assert dispatched.dispatch_deadline is None
        start, _ = transition(dispatched, Action.RETURN, STAFF, NOW, note="不属本镇")
    assert start.status is Status.NEW and start.dispatch_deadline == NOW + window and start.desk == D1
    assert escalation_due(start, NOW + window) is None  # at the deadline: still on time
    assert escalation_due(start, NOW + window + timedelta(seconds=1)) == (Action.REMIND, 1, "desk")
    reminded, _ = transition(start, Action.REMIND, SYSTEM, NOW + window, details={"tier": 1, "to": "desk"})
    assert reminded.escalated_to is None and escalation_due(reminded, NOW + window + timedelta(minutes=1)) is None
    assert escalation_due(reminded, NOW + window * 1.5) == (Action.ESCALATE, 2, "city")
    up, _ = transition(reminded, Action.ESCALATE, SYSTEM, NOW, details={"tier": 2, "to": "city"})
    assert up.escalated_to == "city" and escalation_due(up, NOW + window * 2) == (Action.ESCALATE, 3, "leader")
    dispatched, _ = transition(up, Action.DISPATCH, DISTRICT, NOW, township_code=T2)
    assert (dispatched.escalated_to, dispatched.escalation_tier, dispatched.dispatch_deadline) == (None, 0, None)


def test_an_escalation_marks_whom_it_reached_until_the_status_moves() -> None:
    inc = replace(at(Status.SIGNED), finish_deadline=NOW)
    up, _ = transition(inc, Action.ESCALATE, SYSTEM, NOW, details={"tier": 2, "to": "district"})
    assert up.escalated_to == "district"
    top, _ = transition(up, Action.ESCALATE, SYSTEM, NOW, details={"tier": 3, "to": "leader"})
    assert top.escalated_to == "leader"
    reminded, _ = transition(inc, Action.REMIND, SYSTEM, NOW, details={"tier": 1, "to": "township"})
    assert reminded.escalated_to is None  # a reminder reaches nobody above
    moved, _ = transition(top, Action.FEEDBACK, STAFF, NOW, note="已处置")
    assert (moved.escalated_to, moved.escalation_tier) == (None, 0)
