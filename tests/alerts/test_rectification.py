"""七张问题清单 as pure logic: the 整改 → 验收 loop's table of moves, replay from the log, recurrence in a grid or a
category within the window, the owner of a problem, the recurrence configuration validated whole, and a watch
rule's lowered copy of a threshold rule (``alerts.watch``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.lifecycle import Actor, Role
from alerts.rectification import (
    MOVES,
    Closure,
    ConfigError,
    Problem,
    RAction,
    RectificationRefused,
    Recurrence,
    RRefusal,
    RStatus,
    Scope,
    is_overdue,
    load_config,
    offered,
    owner_of,
    parse_config,
    recurring,
    replay,
    root_cause_missing,
    transition,
)
from alerts.rules import LevelThreshold, ThresholdRule, load_rules
from alerts.watch import Watch, WatchError, lowered, overrides, scaled
from i18n.labels import LANGS, t

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
OWNER = "431002001"
COMMAND = Actor("zhihui", Role.COMMAND)
DISTRICT = Actor("qx431002", Role.DISTRICT, district_code="431002")
OTHER_DISTRICT = Actor("qx431021", Role.DISTRICT, district_code="431021")
STAFF = Actor("zj431002001", Role.TOWNSHIP, OWNER)
OTHER_STAFF = Actor("zj431002002", Role.TOWNSHIP, "431002002")
SYSTEM = Actor("system", Role.SYSTEM)
R, S = RAction, RStatus


def at(status: RStatus | None) -> Problem:
    return Problem(status, OWNER, NOW + timedelta(days=15), (1, 2, 3))


# (from, action, who, note, then: a status, or the refusal)
TABLE: list[tuple[RStatus | None, RAction, Actor, str, RStatus | RRefusal]] = [
    (None, R.FLAG, SYSTEM, "", S.RECTIFYING),
    (None, R.FLAG, COMMAND, "", RRefusal.WRONG_ROLE),  # a problem is found, not made by hand
    (S.RECTIFYING, R.FLAG, SYSTEM, "", RRefusal.WRONG_STATE),
    (S.RECTIFYING, R.JOIN, SYSTEM, "", S.RECTIFYING),
    (S.REPORTED, R.JOIN, SYSTEM, "", S.REPORTED),
    (S.ACCEPTED, R.JOIN, SYSTEM, "", RRefusal.WRONG_STATE),  # accepted: a recurrence opens a new one
    (S.RECTIFYING, R.REPORT, STAFF, "更换老化管线120米", S.REPORTED),
    (S.RECTIFYING, R.REPORT, STAFF, "  ", RRefusal.NOTE_REQUIRED),
    (S.RECTIFYING, R.REPORT, OTHER_STAFF, "代报", RRefusal.NOT_OWNER),
    (S.RECTIFYING, R.REPORT, COMMAND, "代报", RRefusal.WRONG_ROLE),
    (S.REPORTED, R.REPORT, STAFF, "再报", RRefusal.WRONG_STATE),
    (S.REPORTED, R.ACCEPT, COMMAND, "", S.ACCEPTED),
    (S.REPORTED, R.ACCEPT, DISTRICT, "", S.ACCEPTED),
    (S.REPORTED, R.ACCEPT, OTHER_DISTRICT, "", RRefusal.NOT_YOUR_DISTRICT),
    (S.REPORTED, R.ACCEPT, STAFF, "", RRefusal.WRONG_ROLE),  # nobody accepts their own work
    (S.RECTIFYING, R.ACCEPT, COMMAND, "", RRefusal.WRONG_STATE),  # nothing accepted unreported
    (S.REPORTED, R.RETURN, COMMAND, "未见排水改造", S.RECTIFYING),
    (S.REPORTED, R.RETURN, COMMAND, "", RRefusal.NOTE_REQUIRED),
    (S.ACCEPTED, R.RETURN, COMMAND, "重新整改", RRefusal.WRONG_STATE),
    (S.RECTIFYING, R.WATCH, COMMAND, "汛期加密监测", S.RECTIFYING),
    (S.REPORTED, R.WATCH, DISTRICT, "汛期加密监测", S.REPORTED),
    (S.RECTIFYING, R.WATCH, COMMAND, "", RRefusal.NOTE_REQUIRED),
    (S.RECTIFYING, R.WATCH, STAFF, "自行盯防", RRefusal.WRONG_ROLE),
    (S.ACCEPTED, R.WATCH, COMMAND, "汛期加密监测", RRefusal.WRONG_STATE),
]


@pytest.mark.parametrize(("start", "action", "who", "note", "then"), TABLE)
def test_the_loop_table(start: RStatus | None, action: RAction, who: Actor, note: str,
                        then: RStatus | RRefusal) -> None:
    if isinstance(then, RRefusal):
        with pytest.raises(RectificationRefused) as refused:
            transition(at(start), action, who, NOW, note=note)
        assert refused.value.refusal is then
        assert (action in offered(at(start), who)) is (then is RRefusal.NOTE_REQUIRED)  # a note: the form says
    else:
        nxt, entry = transition(at(start), action, who, NOW, note=note)
        assert nxt.status is then and entry.to_status is then and entry.from_status is start
        assert (entry.actor, entry.role, entry.unit, entry.at) == (who.name, who.role, who.township_code, NOW)
        assert action in offered(at(start), who) or action in (R.FLAG, R.JOIN)


def test_every_action_and_state_is_in_the_table_and_named_in_both_languages() -> None:
    assert {row[1] for row in TABLE} == set(RAction) == set(MOVES)
    for lang in LANGS:
        names = {t(f"rect.status.{s.value}", lang) for s in RStatus} | {t(f"rect.action.{a.value}", lang)
                                                                         for a in RAction}
        assert len(names) == len(RStatus) + len(RAction) and all(names)
        assert all(t(f"rect.refusal.{r.value}", lang) for r in RRefusal)
    assert t("rect.status.rectifying", "zh") == "整改中" and t("rect.status.accepted", "en") == "Accepted"


def test_a_problem_replays_from_its_log_with_its_returns_and_joined_incidents() -> None:
    log = []
    steps: list[tuple[RAction, Actor, str, dict[str, object]]] = [
        (R.FLAG, SYSTEM, "", {"incidents": [1, 2, 3]}), (R.REPORT, STAFF, "第一次整改", {}),
        (R.RETURN, DISTRICT, "整改不彻底", {}), (R.JOIN, SYSTEM, "", {"incidents": [9, 3]}),
        (R.WATCH, COMMAND, "加密监测", {"watch_id": 4}), (R.REPORT, STAFF, "第二次整改", {}),
        (R.ACCEPT, COMMAND, "", {})]
    p = Problem(None, OWNER, NOW + timedelta(days=15))
    for n, (action, who, note, details) in enumerate(steps):
        p, entry = transition(p, action, who, NOW + timedelta(hours=n), note=note, details=details)
        log.append(entry)
    assert p == Problem(S.ACCEPTED, OWNER, NOW + timedelta(days=15), (1, 2, 3, 9), 1)
    assert replay(log, OWNER, NOW + timedelta(days=15)) == p
    assert log[2].details["district"] == "431002"  # which district desk returned it (replay checks it again)


def test_overdue_while_open_only() -> None:
    late = NOW + timedelta(days=16)
    assert is_overdue(at(S.RECTIFYING), late) and is_overdue(at(S.REPORTED), late)
    assert not is_overdue(at(S.ACCEPTED), late) and not is_overdue(at(S.RECTIFYING), NOW)


GRID, OTHER_GRID = "431002001001", "431002001002"
CONFIG = parse_config("deadline_days = 15\n[grid]\nmin_count = 3\nwindow_days = 30\n"
                      "[category]\nmin_count = 4\nwindow_days = 10\n")


def closure(n: int, days_ago: float, grid: str = GRID, cause: int = 1, category: str = "flood",
            township: str = OWNER) -> Closure:
    return Closure(n, cause, grid, category, township, NOW - timedelta(days=days_ago))


def test_the_third_closure_of_one_cause_in_one_grid_within_the_window_recurs() -> None:
    earlier = [closure(1, 20), closure(2, 5)]
    (found,) = recurring(closure(3, 0), earlier, CONFIG)
    assert (found.scope, found.code, found.root_cause, found.incidents) == (Scope.GRID, GRID, 1, (1, 2, 3))
    assert recurring(closure(3, 0), [closure(1, 31), closure(2, 5)], CONFIG) == []  # the first is out of the window
    assert recurring(closure(3, 0), [closure(1, 2, cause=2), closure(2, 5)], CONFIG) == []  # another cause
    assert recurring(closure(3, 0), [closure(1, 2, grid=OTHER_GRID), closure(2, 5)], CONFIG) == []  # another grid
    assert recurring(closure(3, 0, grid=""), earlier, CONFIG) == []  # no grid: no grid scope
    assert recurring(closure(2, 0), [closure(1, 1), closure(2, 0)], CONFIG) == []  # itself counts once


def test_after_acceptance_the_count_starts_again() -> None:
    accepted = {(Scope.GRID, GRID): {1, 2, 3}}
    earlier = [closure(1, 20), closure(2, 15), closure(3, 10), closure(4, 5)]
    def in_grid(found: list[Recurrence]) -> list[tuple[int, ...]]:
        return [r.incidents for r in found if r.scope is Scope.GRID]

    assert in_grid(recurring(closure(5, 0), earlier, CONFIG, accepted)) == []  # 4 and 5 only: not yet three
    assert in_grid(recurring(closure(6, 0), [*earlier, closure(5, 1)], CONFIG, accepted)) == [(4, 5, 6)]
    assert in_grid(recurring(closure(5, 0), earlier, CONFIG, {(Scope.GRID, OTHER_GRID): {1, 2, 3}})) == [
        (1, 2, 3, 4, 5)]  # another grid's problem: these still count


def test_one_category_across_grids_recurs_at_its_own_count_and_window() -> None:
    spread = [closure(1, 9, "431002001003"), closure(2, 6, "431002002001", township="431002002"),
              closure(3, 1, "431002002002", township="431002002")]
    (found,) = recurring(closure(4, 0, "431002003001", township="431002003"), spread, CONFIG)
    assert (found.scope, found.code, found.incidents) == (Scope.CATEGORY, "flood", (1, 2, 3, 4))
    assert recurring(closure(4, 0, "431002003001"), [closure(1, 11, "431002001003"), *spread[1:]], CONFIG) == []
    # the owner: the department that handles the category, else the township with most of them
    assert owner_of(found, [*spread, closure(4, 0, township="431002003")], ["dept-slj"]) == "dept-slj"
    assert owner_of(found, [*spread, closure(4, 0, township="431002003")], []) == "431002002"
    grid_rec = recurring(closure(3, 0), [closure(1, 20), closure(2, 5)], CONFIG)[0]
    assert owner_of(grid_rec, [], ["dept-slj"]) == OWNER  # a grid's problem is its township's


def test_the_configuration_is_validated_whole() -> None:
    shipped = load_config()
    assert shipped.grid is not None and shipped.grid.min_count == 3 and shipped.deadline_days == 15
    bad = ["deadline_days = 15\n",  # no scope
           "deadline_days = 0\n[grid]\nmin_count = 3\nwindow_days = 30\n",
           "deadline_days = 15\n[grid]\nmin_count = 1\nwindow_days = 30\n",  # one is not a recurrence
           "deadline_days = 15\n[grid]\nmin_count = 3\nwindow_days = 30\nwindow = 3\n",  # unknown key
           "deadline_days = 15\n[area]\nmin_count = 3\nwindow_days = 30\n",
           "deadline_days = [\n"]
    for text in bad:
        with pytest.raises(ConfigError):
            parse_config(text)


def test_a_desk_verify_needs_a_root_cause_unless_it_overrides() -> None:
    assert root_cause_missing(None, override=False) and root_cause_missing("3", override=False)
    assert root_cause_missing(True, override=False)
    assert not root_cause_missing(3, override=False) and not root_cause_missing(None, override=True)


GAS = next(r for r in load_rules() if r.id == "gas_leak")


def test_a_watch_lowers_a_rule_in_one_grid_validated_as_the_rule_file() -> None:
    assert isinstance(GAS, ThresholdRule)
    levels, clear = scaled(GAS, 0.6)
    assert [(lt.level, lt.at_least) for lt in levels] == [(2, 12.0), (1, 30.0)] and clear == 6.0
    watched = lowered(GAS, levels, clear)
    assert watched.id == GAS.id and watched.level_of(15.0) == 2 and GAS.level_of(15.0) is None
    for factor in (0.0, 1.0, 1.5):
        with pytest.raises(WatchError):
            scaled(GAS, factor)
    with pytest.raises(WatchError) as higher:  # a watch lowers; raising a value is a change of the rule
        lowered(GAS, (LevelThreshold(level=2, at_least=25.0), LevelThreshold(level=1, at_least=40.0)), 8.0)
    assert higher.value.key == "watch.err.not_lower"
    with pytest.raises(WatchError):  # the clear value above the lowest level: refused as the file would be
        lowered(GAS, levels, 13.0)
    with pytest.raises(WatchError):  # a level the rule does not have
        lowered(GAS, (LevelThreshold(level=3, at_least=5.0), *levels), clear)
    w = Watch(1, GAS.id, GRID, levels, clear, NOW, NOW + timedelta(days=90))
    gone = Watch(2, "no_such_rule", GRID, levels, clear, NOW, NOW + timedelta(days=90))
    assert overrides([w, gone], load_rules()) == {(GAS.id, GRID): watched}
    assert w.in_force(NOW) and not w.in_force(NOW + timedelta(days=90)) and not w.in_force(NOW - timedelta(seconds=1))
