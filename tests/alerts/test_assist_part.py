"""协办 as moves of the lifecycle's table, and 核查结案's guard over every warning an incident carries: pure,
as tables of cases with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.lifecycle import (
    MOVES,
    SYSTEM,
    UNIT_ROLES,
    Action,
    Actor,
    IllegalMove,
    Incident,
    Part,
    Refusal,
    Role,
    closure_refusal,
    offered,
    replay,
    transition,
)
from alerts.status import WITH_TOWNSHIP, Status
from i18n.labels import LANGS, action_label, refusal_message, t

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LEAD, HELPER, STRANGER = "431002001", "431002002", "431002003"
DEPT = "dept-slj"
LEAD_STAFF = Actor("zj431002001", Role.TOWNSHIP, LEAD)
HELPER_STAFF = Actor("zj431002002", Role.TOWNSHIP, HELPER)
STRANGER_STAFF = Actor("zj431002003", Role.TOWNSHIP, STRANGER)
DEPT_STAFF = Actor("bmslj", Role.DEPARTMENT, DEPT)
COMMAND = Actor("zhihui", Role.COMMAND)
ASSIST_MOVES = (Action.ASSIST_SIGN, Action.ASSIST_PROGRESS, Action.ASSIST_FEEDBACK)


def assisted(status: Status = Status.SIGNED, **parts: Part) -> Incident:
    """An incident with LEAD, assisted by HELPER and the water department; ``parts`` by unit."""
    return Incident(1, status, 2, LEAD, category="flood", assist_units=(HELPER, DEPT),
                    assist_parts=tuple(sorted(parts.items())))


def test_the_assist_moves_are_rows_of_the_table_for_the_units_only() -> None:
    for action in ASSIST_MOVES:
        move = MOVES[action]
        assert move.part is not None and move.roles == UNIT_ROLES and move.target is None
        assert move.sources == WITH_TOWNSHIP
    assert {a for a, m in MOVES.items() if m.part is not None} == set(ASSIST_MOVES)
    for lang in LANGS:  # every move and every part state in both languages
        assert [action_label(a, lang) for a in ASSIST_MOVES] == (
            ["协办签收", "协办进展", "协办反馈"] if lang == "zh" else
            ["Sign for assisting part", "Assisting progress", "Assisting feedback"])
        assert all(t(f"assist.part.{p.value}", lang) != f"assist.part.{p.value}" for p in Part)
        for refusal in (Refusal.NOT_ASSISTING, Refusal.PART_STATE):
            assert refusal_message(refusal, Action.ASSIST_SIGN, lang) != refusal.value


@pytest.mark.parametrize(("status", "parts", "actor", "action", "kwargs", "part"), [
    (Status.DISPATCHED, {}, HELPER_STAFF, Action.ASSIST_SIGN, {}, Part.SIGNED),  # before the lead signs, too
    (Status.SIGNED, {}, DEPT_STAFF, Action.ASSIST_SIGN, {}, Part.SIGNED),
    (Status.IN_PROGRESS, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.ASSIST_PROGRESS, {"note": "已封路"}, Part.SIGNED),
    (Status.SIGNED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.ASSIST_FEEDBACK, {"note": "协助转移完毕"}, Part.DONE),
    (Status.RESOLVED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.ASSIST_FEEDBACK, {"note": "补报"}, Part.DONE),
    (Status.POSTPONED, {DEPT: Part.SIGNED}, DEPT_STAFF, Action.ASSIST_PROGRESS, {"note": "等待水位回落"},
     Part.SIGNED),
])
def test_an_assisting_unit_moves_its_part_and_never_the_status(
        status: Status, parts: dict[str, Part], actor: Actor, action: Action, kwargs: dict[str, str],
        part: Part) -> None:
    before = assisted(status, **parts)
    nxt, entry = transition(before, action, actor, NOW, **kwargs)  # type: ignore[arg-type]
    assert nxt.status is status and nxt.township_code == LEAD  # the status is the lead unit's
    assert nxt.part_of(actor.township_code) is part
    assert (entry.action, entry.unit, entry.from_status, entry.to_status) == (action, actor.township_code,
                                                                              status, status)
    other = DEPT if actor.township_code == HELPER else HELPER
    assert nxt.part_of(other) is before.part_of(other)  # the other unit's part is its own


@pytest.mark.parametrize(("status", "parts", "actor", "action", "refusal"), [
    # not an assisting unit of it: the lead, another township, the desk
    (Status.SIGNED, {}, LEAD_STAFF, Action.ASSIST_SIGN, Refusal.NOT_ASSISTING),
    (Status.SIGNED, {}, STRANGER_STAFF, Action.ASSIST_SIGN, Refusal.NOT_ASSISTING),
    (Status.SIGNED, {}, COMMAND, Action.ASSIST_SIGN, Refusal.WRONG_ROLE),
    # its part's order: sign first, once; nothing after its feedback
    (Status.SIGNED, {}, HELPER_STAFF, Action.ASSIST_FEEDBACK, Refusal.PART_STATE),
    (Status.SIGNED, {}, HELPER_STAFF, Action.ASSIST_PROGRESS, Refusal.PART_STATE),
    (Status.SIGNED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.ASSIST_SIGN, Refusal.PART_STATE),
    (Status.SIGNED, {HELPER: Part.DONE}, HELPER_STAFF, Action.ASSIST_PROGRESS, Refusal.PART_STATE),
    # only while the incident is with the units
    (Status.CLOSED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.ASSIST_FEEDBACK, Refusal.WRONG_STATE),
    (Status.NEW, {}, HELPER_STAFF, Action.ASSIST_SIGN, Refusal.WRONG_STATE),
    # the lead unit's moves are not an assisting unit's
    (Status.DISPATCHED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.SIGN, Refusal.NOT_YOUR_TOWNSHIP),
    (Status.SIGNED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.PROGRESS, Refusal.NOT_YOUR_TOWNSHIP),
    (Status.SIGNED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.FEEDBACK, Refusal.NOT_YOUR_TOWNSHIP),
    (Status.SIGNED, {HELPER: Part.SIGNED}, DEPT_STAFF, Action.RETURN, Refusal.NOT_YOUR_TOWNSHIP),
    (Status.POSTPONED, {HELPER: Part.SIGNED}, HELPER_STAFF, Action.RESUME, Refusal.NOT_YOUR_TOWNSHIP),
])
def test_refused_assist_and_lead_moves(status: Status, parts: dict[str, Part], actor: Actor, action: Action,
                                       refusal: Refusal) -> None:
    with pytest.raises(IllegalMove) as err:
        transition(assisted(status, **parts), action, actor, NOW, note="说明")
    assert err.value.refusal is refusal


@pytest.mark.parametrize(("part", "moves"), [
    (Part.PENDING, [Action.ASSIST_SIGN]),
    (Part.SIGNED, [Action.ASSIST_PROGRESS, Action.ASSIST_FEEDBACK]),
    (Part.DONE, []),
])
def test_what_an_assisting_card_offers(part: Part, moves: list[Action]) -> None:
    assert offered(Status.IN_PROGRESS, Role.TOWNSHIP, part) == moves
    assert offered(Status.CLOSED, Role.TOWNSHIP, part) == []
    assert not set(ASSIST_MOVES) & set(offered(Status.IN_PROGRESS, Role.TOWNSHIP))  # the lead's card: its moves


def test_the_lead_units_feedback_is_the_one_verified_and_both_units_replay() -> None:
    state, entries = Incident(None, None, 2, None, category="flood"), []
    steps = [(Action.CREATE, SYSTEM, {"details": {"level": 2, "category": "flood"}}),
             (Action.DISPATCH, SYSTEM, {"township_code": LEAD}),
             (Action.ASSIST, COMMAND, {"township_code": HELPER, "note": "请协助转移群众"}),
             (Action.ASSIST_SIGN, HELPER_STAFF, {}),
             (Action.SIGN, LEAD_STAFF, {}),
             (Action.ASSIST_PROGRESS, HELPER_STAFF, {"note": "已转移 12 人", "details": {"people_evacuated": 12}}),
             (Action.ASSIST_FEEDBACK, HELPER_STAFF, {"note": "协助完毕", "details": {"result": "resolved"}})]
    for action, actor, kwargs in steps:
        state, entry = transition(state, action, actor, NOW, **kwargs)  # type: ignore[arg-type]
        entries.append(entry)
    assert state.status is Status.SIGNED and state.part_of(HELPER) is Part.DONE  # the helper's done is not the lead's
    with pytest.raises(IllegalMove) as err:
        transition(state, Action.VERIFY, COMMAND, NOW)
    assert err.value.refusal is Refusal.WRONG_STATE  # nothing to verify until the lead reports
    state, entry = transition(state, Action.FEEDBACK, LEAD_STAFF, NOW, note="险情已排除")
    entries.append(entry)
    assert state.status is Status.RESOLVED
    assert [e.unit for e in entries if e.role is Role.TOWNSHIP] == [HELPER, LEAD, HELPER, HELPER, LEAD]
    assert replay(entries) == state


@pytest.mark.parametrize(("open_warnings", "override", "note", "refusal"), [
    ([], False, "", None),  # every warning cleared
    ([7], False, "", Refusal.SENSOR_STILL_BREACHING),
    ([7, 9], False, "", Refusal.SENSOR_STILL_BREACHING),
    ([9], True, "  ", Refusal.SENSOR_STILL_BREACHING),  # an override needs its reason
    ([9], False, "传感器故障", Refusal.SENSOR_STILL_BREACHING),  # a reason is no override
    ([7, 9], True, "传感器故障，已报修", None),
])
def test_closure_refusal(open_warnings: list[int], override: bool, note: str, refusal: Refusal | None) -> None:
    assert closure_refusal(open_warnings, override=override, note=note) is refusal
