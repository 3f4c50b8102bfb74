"""网格员 in the lifecycle, as tables with a fixed clock: 巡查上报 → 待受理 → 受理立案 / 不予立案 / 合并, and 核查 on
site after a unit's 处置反馈 for the categories that need it (``SITE_CHECKED``), in the grid member's own grids."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.assessment import assignments
from alerts.lifecycle import (
    MOVES,
    SITE_CHECKED,
    Action,
    Actor,
    IllegalMove,
    Incident,
    LogEntry,
    Refusal,
    Role,
    offered,
    replay,
    transition,
)
from alerts.status import OPEN, Status

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
T1, G1, G2 = "431002001", "431002001001", "431002001002"
GRID = Actor("wg431002001001", Role.GRID, grids=(G1,))
OTHER_GRID = Actor("wg431002001002", Role.GRID, grids=(G2,))
COMMAND = Actor("zhihui", Role.COMMAND)
DISTRICT = Actor("qx431002", Role.DISTRICT, district_code="431002")
OTHER_DISTRICT = Actor("qx431021", Role.DISTRICT, district_code="431021")
STAFF = Actor("zj431002001", Role.TOWNSHIP, T1)
CHECKED = "city_management"
REPORT = {"level": 3, "category": CHECKED, "grid_code": G1, "district_code": "431002"}


def at(status: Status | None, category: str = CHECKED, township: str | None = T1) -> Incident:
    return Incident(id=1, status=status, level=3, township_code=township, category=category, grid_code=G1,
                    district_code="431002")


@pytest.mark.parametrize(("start", "action", "actor", "note", "expected"), [
    (None, Action.PATROL_REPORT, GRID, "井盖缺失", Status.REPORTED),
    (Status.REPORTED, Action.ACCEPT, COMMAND, "", Status.NEW),
    (Status.REPORTED, Action.ACCEPT, DISTRICT, "", Status.NEW),
    (Status.REPORTED, Action.DECLINE, COMMAND, "非本市管辖范围", Status.DECLINED),
    (Status.SITE_CHECK, Action.SITE_PASS, GRID, "", Status.RESOLVED),
    (Status.SITE_CHECK, Action.SITE_FAIL, GRID, "井盖仍未盖好", Status.IN_PROGRESS),
    (Status.IN_PROGRESS, Action.FEEDBACK, STAFF, "已处置", Status.SITE_CHECK),  # a checked category
])
def test_grid_moves(start: Status | None, action: Action, actor: Actor, note: str, expected: Status) -> None:
    inc = at(start, township=None if start in (None, Status.REPORTED) else T1)
    nxt, entry = transition(inc, action, actor, NOW, note=note, details=REPORT if start is None else None)
    assert nxt.status is expected and entry.to_status is expected and entry.from_status is start


def test_feedback_of_a_category_without_site_check_goes_straight_to_the_desk() -> None:
    assert "flood" not in SITE_CHECKED
    nxt, _ = transition(at(Status.IN_PROGRESS, category="flood"), Action.FEEDBACK, STAFF, NOW, note="已处置")
    assert nxt.status is Status.RESOLVED and nxt.verify_deadline is not None


@pytest.mark.parametrize(("start", "action", "actor", "note", "refusal"), [
    (Status.SITE_CHECK, Action.SITE_PASS, OTHER_GRID, "", Refusal.NOT_YOUR_GRID),  # not its grid
    (Status.SITE_CHECK, Action.SITE_FAIL, GRID, "", Refusal.NOTE_REQUIRED),  # 返工 says why
    (Status.SITE_CHECK, Action.VERIFY, COMMAND, "", Refusal.WRONG_STATE),  # the desk waits for the check
    (Status.SITE_CHECK, Action.REWORK, COMMAND, "再办", Refusal.WRONG_STATE),
    (Status.SITE_CHECK, Action.SITE_PASS, STAFF, "", Refusal.WRONG_ROLE),  # the unit does not check itself
    (Status.RESOLVED, Action.SITE_PASS, GRID, "", Refusal.WRONG_STATE),
    (Status.REPORTED, Action.DECLINE, COMMAND, " ", Refusal.NOTE_REQUIRED),  # the reporter is told why
    (Status.REPORTED, Action.ACCEPT, GRID, "", Refusal.WRONG_ROLE),  # nobody accepts their own report
    (Status.REPORTED, Action.ACCEPT, OTHER_DISTRICT, "", Refusal.NOT_YOUR_DISTRICT),
    (Status.REPORTED, Action.DISPATCH, COMMAND, "", Refusal.WRONG_STATE),  # accepted first, then dispatched
    (Status.REPORTED, Action.SIGN, STAFF, "", Refusal.WRONG_STATE),
    (Status.DECLINED, Action.ACCEPT, COMMAND, "", Refusal.WRONG_STATE),
    (Status.IN_PROGRESS, Action.SITE_PASS, GRID, "", Refusal.WRONG_STATE),
    (Status.IN_PROGRESS, Action.SIGN, GRID, "", Refusal.WRONG_STATE),
    (Status.DISPATCHED, Action.SIGN, GRID, "", Refusal.WRONG_ROLE),  # a grid member is not the unit
])
def test_grid_refusals(start: Status, action: Action, actor: Actor, note: str, refusal: Refusal) -> None:
    inc = at(start, township=None if start in (Status.REPORTED, Status.DECLINED) else T1)
    with pytest.raises(IllegalMove) as exc:
        transition(inc, action, actor, NOW, note=note)
    assert exc.value.refusal is refusal


def test_a_grid_member_reports_only_from_its_own_grids() -> None:
    draft = Incident(id=None, status=None, level=3, township_code=None, category=CHECKED)
    for details in (REPORT | {"grid_code": G2}, {k: v for k, v in REPORT.items() if k != "grid_code"}):
        with pytest.raises(IllegalMove) as exc:
            transition(draft, Action.PATROL_REPORT, GRID, NOW, note="井盖缺失", details=details)
        assert exc.value.refusal is Refusal.NOT_YOUR_GRID
    with pytest.raises(IllegalMove) as exc:  # nobody else reports a patrol
        transition(draft, Action.PATROL_REPORT, COMMAND, NOW, note="x", details=REPORT)
    assert exc.value.refusal is Refusal.WRONG_ROLE


def test_what_each_side_is_offered() -> None:
    assert offered(Status.REPORTED, Role.COMMAND) == [Action.MERGE, Action.ACCEPT, Action.DECLINE]
    assert offered(Status.REPORTED, Role.DISTRICT) == [Action.MERGE, Action.ACCEPT, Action.DECLINE]
    assert offered(Status.SITE_CHECK, Role.GRID) == [Action.SITE_PASS, Action.SITE_FAIL]
    desk = offered(Status.SITE_CHECK, Role.COMMAND)  # the desk waits: no closing, 返工 or merge of finished work
    assert not {Action.VERIFY, Action.REWORK, Action.MERGE} & set(desk)
    assert offered(Status.REPORTED, Role.TOWNSHIP) == [] and offered(Status.REPORTED, Role.GRID) == []
    assert Status.REPORTED not in OPEN and Status.DECLINED not in OPEN and Status.SITE_CHECK in OPEN
    assert all(m.roles == {Role.GRID} for a, m in MOVES.items()
               if a in (Action.PATROL_REPORT, Action.SITE_PASS, Action.SITE_FAIL))


def _grid_loop(desk: Actor = COMMAND) -> tuple[Incident, list[LogEntry]]:
    """A grid member's report through the whole loop, the desk's moves made by ``desk``."""
    draft = Incident(id=None, status=None, level=3, township_code=None, category=CHECKED)
    steps: list[tuple[Action, Actor, str, str | None]] = [
        (Action.PATROL_REPORT, GRID, "井盖缺失", None), (Action.ACCEPT, desk, "", None),
        (Action.DISPATCH, desk, "", T1), (Action.SIGN, STAFF, "", None), (Action.FEEDBACK, STAFF, "已盖好", None),
        (Action.SITE_FAIL, GRID, "井盖松动", None), (Action.FEEDBACK, STAFF, "已固定", None),
        (Action.SITE_PASS, GRID, "", None), (Action.VERIFY, desk, "", None)]
    inc, entries, clock = draft, [], NOW
    for action, actor, note, township in steps:
        clock += timedelta(minutes=5)
        inc, entry = transition(inc, action, actor, clock, note=note, township_code=township,
                                details=REPORT if action is Action.PATROL_REPORT else None)
        entries.append(entry)
    return inc, entries


@pytest.mark.parametrize("desk", [COMMAND, DISTRICT])
def test_assessment_replays_a_grid_report_and_a_district_desk(desk: Actor) -> None:
    """考核 replays every log it counts: a grid member's moves and a district desk's are checked again as the
    lifecycle's replay checks them (with the grid and district their rows name), not refused."""
    _, entries = _grid_loop(desk)
    (stretch,) = assignments(1, entries)
    assert (stretch.unit, stretch.signed_at is not None, stretch.closed_at is not None) == (T1, True, True)


def test_the_whole_grid_loop_replays_from_its_log() -> None:
    inc, entries = _grid_loop()
    assert [e.to_status for e in entries] == [
        Status.REPORTED, Status.NEW, Status.DISPATCHED, Status.SIGNED, Status.SITE_CHECK, Status.IN_PROGRESS,
        Status.SITE_CHECK, Status.RESOLVED, Status.CLOSED]
    assert inc.rework_count == 1 and inc.grid_code == G1
    assert all(e.details["grid"] == G1 for e in entries if e.role is Role.GRID)
    assert replay(entries) == replace(inc, id=None)
    forged = [*entries[:7], replace(entries[7], details={"grid": G2})]  # a check logged for another grid
    with pytest.raises(IllegalMove):
        replay(forged)
