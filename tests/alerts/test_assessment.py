"""考核 figures from a hand-built history, every figure worked out by hand below (times in Beijing time).

Windows (alerts.deadlines): level 3 signs within 1 h and finishes within 24 h, level 4 within 2 h / 72 h,
level 2 within 30 min / 8 h, and a flood halves them. The period is November 2026 in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.assessment import Period, Weights, band, figures, rank, score, stretches_until
from alerts.lifecycle import Action, Actor, Incident, LogEntry, Role, transition

SH = ZoneInfo("Asia/Shanghai")
A, B, C = "431002001", "431002002", "431002003"
DESK = Actor("zhihui", Role.COMMAND)
NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH))


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def staff(unit: str) -> Actor:
    return Actor(f"zj{unit}", Role.TOWNSHIP, unit)


@dataclass(frozen=True, slots=True)
class Move:
    action: Action
    actor: Actor
    at: datetime
    note: str
    to: str | None
    details: dict[str, object] | None


class Story:
    """One incident's log, written move by move through the lifecycle (so every row is a legal move)."""

    def __init__(self, incident_id: int, level: int, created: datetime, category: str = "市容") -> None:
        self.incident = Incident(incident_id, None, level, None, category)
        self.created, self.category, self.level = created, category, level
        self.entries: list[LogEntry] = []
        self.moves: list[Move] = []  # after the create: what a database test replays through alerts.incidents.act
        self.then(Action.CREATE, DESK, created, details={"level": level, "category": category})

    def then(self, action: Action, actor: Actor, when: datetime, *, to: str | None = None,
             details: dict[str, object] | None = None) -> Story:
        note = "说明" if action in (Action.TRANSFER, Action.FEEDBACK, Action.REWORK, Action.RETURN,
                                  Action.POSTPONE) else ""
        self.incident, entry = transition(self.incident, action, actor, when, note=note, township_code=to,
                                          details=details)
        self.entries.append(entry)
        if action is not Action.CREATE:
            self.moves.append(Move(action, actor, when, note, to, details))
        return self

    def dispatched(self, unit: str, when: datetime) -> Story:
        return self.then(Action.DISPATCH, DESK, when, to=unit)


def history() -> dict[int, list[LogEntry]]:
    return {story.incident.id or 0: story.entries for story in stories()}


def stories() -> list[Story]:
    s = Action.SIGN
    return [
        # 1: all on time. sign 30 min, handled in 600 min.
        Story(1, 3, at(11, 10, 9)).dispatched(A, at(11, 10, 10)).then(s, staff(A), at(11, 10, 10, 30))
        .then(Action.FEEDBACK, staff(A), at(11, 10, 20)).then(Action.VERIFY, DESK, at(11, 10, 21)),
        # 2: signed late (deadline 10:00) and handled late (deadline 11-13 09:00): 90 min, 1,620 min.
        Story(2, 3, at(11, 12, 8)).dispatched(A, at(11, 12, 9)).then(s, staff(A), at(11, 12, 10, 30))
        .then(Action.FEEDBACK, staff(A), at(11, 13, 12)).then(Action.VERIFY, DESK, at(11, 13, 13)),
        # 3: 缓办 for 48 h moves the finish deadline from 11-15 08:00 to 11-17 08:00: on time; 71 h − 48 h.
        Story(3, 3, at(11, 14, 7)).dispatched(A, at(11, 14, 8)).then(s, staff(A), at(11, 14, 8, 10))
        .then(Action.POSTPONE, DESK, at(11, 14, 9)).then(Action.RESUME, DESK, at(11, 16, 9))
        .then(Action.FEEDBACK, staff(A), at(11, 17, 7)).then(Action.VERIFY, DESK, at(11, 17, 8)),
        # 4: 返工 three times, then closed before its deadline (11-21 08:00): last feedback 600 min in.
        Story(4, 3, at(11, 20, 7)).dispatched(A, at(11, 20, 8)).then(s, staff(A), at(11, 20, 8, 20))
        .then(Action.FEEDBACK, staff(A), at(11, 20, 12)).then(Action.REWORK, DESK, at(11, 20, 13))
        .then(Action.FEEDBACK, staff(A), at(11, 20, 14)).then(Action.REWORK, DESK, at(11, 20, 15))
        .then(Action.FEEDBACK, staff(A), at(11, 20, 16)).then(Action.REWORK, DESK, at(11, 20, 17))
        .then(Action.FEEDBACK, staff(A), at(11, 20, 18)).then(Action.VERIFY, DESK, at(11, 20, 19)),
        # 5: a level-2 flood (sign 15 min, finish 4 h) 退单 by A, found wrong: dispatched to A again at 10:30;
        # signed in 10 min, handled at 13:00 (deadline 14:30) in 150 min.
        Story(5, 2, at(11, 25, 9), "flood").dispatched(A, at(11, 25, 10))
        .then(Action.RETURN, staff(A), at(11, 25, 10, 5)).dispatched(A, at(11, 25, 10, 30))
        .then(s, staff(A), at(11, 25, 10, 40)).then(Action.FEEDBACK, staff(A), at(11, 25, 13))
        .then(Action.VERIFY, DESK, at(11, 25, 14)),
        # 6: B unsigned at its sign deadline (09:00), 转派 to A; A never signs: due 11-29 09:00, late.
        Story(6, 3, at(11, 28, 7)).dispatched(B, at(11, 28, 8)).then(Action.TRANSFER, DESK, at(11, 28, 9), to=A),
        # 7: dispatched on the period's last evening, signed after it ended: late for November, not due in it.
        Story(7, 3, at(11, 30, 19)).dispatched(A, at(11, 30, 20)).then(s, staff(A), at(12, 1, 1)),
        # 8: dispatched in October, in 缓办 from before its deadline (11-01 20:00) to the period's end.
        Story(8, 3, at(10, 31, 19)).dispatched(A, at(10, 31, 20)).then(s, staff(A), at(10, 31, 20, 10))
        .then(Action.POSTPONE, DESK, at(11, 1, 10)),
        # 9: level 4 due exactly at the period's start (11-01 00:00), handled a minute before it, closed after.
        Story(9, 4, at(10, 28, 23)).dispatched(A, at(10, 29, 0)).then(s, staff(A), at(10, 29, 0, 30))
        .then(Action.FEEDBACK, staff(A), at(10, 31, 23, 59)).then(Action.VERIFY, DESK, at(11, 1, 0, 30)),
        # 10: B's perfect October.
        Story(10, 3, at(10, 20, 7)).dispatched(B, at(10, 20, 8)).then(s, staff(B), at(10, 20, 8, 10))
        .then(Action.FEEDBACK, staff(B), at(10, 20, 10)).then(Action.VERIFY, DESK, at(10, 20, 11)),
    ]


@pytest.fixture(scope="module")
def november() -> dict[str, object]:
    return dict(figures(stretches_until(history(), NOVEMBER.end), NOVEMBER))


def test_township_a_in_november(november: dict) -> None:
    a = november[A]
    assert (a.dispatched, a.signed_on_time, a.closed, a.returned, a.returned_wrongly) == (8, 4, 5, 1, 1)
    assert a.sign_rate == 4 / 8 and a.close_rate == 5 / 8 and a.return_rate == 1 / 8
    assert (a.due, a.postponed, a.handled_on_time) == (8, 1, 5)  # 应结案 1-6, 8, 9 (5a returned, 7 in December)
    assert a.on_time_rate == 5 / 7
    assert (a.emergency_due, a.emergency_on_time, a.routine_due, a.routine_on_time) == (1, 1, 6, 4)
    assert (a.decided, a.reworked, a.reworked_thrice) == (6, 1, 1) and a.rework_rate == 1 / 6
    assert sorted(a.sign_minutes) == [10, 10, 20, 30, 90]
    assert a.sign_median() == 20 and a.sign_p90() == pytest.approx(30 + 0.6 * 60)
    assert sorted(a.handle_minutes) == [150, 600, 600, 1380, 1620]
    assert a.handle_median() == 600 and a.handle_p90() == pytest.approx(1380 + 0.6 * 240)
    # the incidents behind each figure, for the list a leader opens
    assert sorted(a.incidents["due"]) == [1, 2, 3, 4, 5, 6, 8, 9] and a.incidents["postponed"] == (8,)
    assert sorted(a.incidents["handled_on_time"]) == [1, 3, 4, 5, 9]


def test_a_unit_the_desk_moved_it_away_from_is_not_due_for_it(november: dict) -> None:
    b = november[B]
    assert (b.dispatched, b.signed_on_time, b.due, b.closed, b.decided) == (1, 0, 0, 0, 0)
    assert b.on_time_rate is None and b.rework_rate is None


def test_scores_bands_and_movement() -> None:
    logs = history()
    now = figures(stretches_until(logs, NOVEMBER.end), NOVEMBER)
    before = figures(stretches_until(logs, NOVEMBER.start), NOVEMBER.previous())
    a = 0.25 * 4 / 8 + 0.35 * 5 / 7 + 0.20 * 5 / 8 + 0.10 * 5 / 6 + 0.10 * 7 / 8
    assert score(now[A]) == round(100 * a, 1) == 67.1 and band(67.1) == "fair"
    assert score(now[B]) == round(100 * 0.10 / 0.55, 1)  # only sign, close and return rates have a denominator
    assert score(before[B]) == 100.0 and before[A].closed == 0  # 9 was closed in November, not by October's end
    rows = rank(now, before, [A, B, C])
    assert [(r.figures.unit, r.rank, r.moved, r.band) for r in rows] == [
        (A, 1, 1, "fair"), (B, 2, -1, "poor"), (C, None, None, None)]
    assert rank(now, before, [A, B], Weights(sign=1, on_time=0, close=0, no_rework=0, no_return=0))[0].score == 50.0
    # Movement is like for like: a unit outside the ranking (a department beside townships) does not shift the
    # previous places, and a previous period that ranked under half as many units shows none.
    assert [r.moved for r in rank(now, {**before, C: before[B]}, [A, B])] == [1, -1]
    assert [r.moved for r in rank(now, {B: before[B]}, [A, B])] == [None, -1]
    assert [r.moved for r in rank({**now, C: now[A]}, {B: before[B]}, [A, B, C])] == [None, None, None]


def test_a_period_is_judged_on_what_was_known_by_its_end() -> None:
    """Incident 7 was signed after November ended: November's figures never change for it."""
    logs = history()
    late = figures(stretches_until(logs, NOVEMBER.end), NOVEMBER)[A]
    later = figures(stretches_until(logs, datetime(2027, 1, 1, tzinfo=SH)), NOVEMBER)[A]
    assert late.signed_on_time == 4 and later.signed_on_time == 4  # signed late either way
    assert late.sign_minutes == tuple(m for m in later.sign_minutes if m != 300)


def test_filters_and_district_key() -> None:
    logs = history()
    floods = figures(stretches_until(logs, NOVEMBER.end), NOVEMBER, categories=frozenset({"flood"}))
    assert floods[A].dispatched == 2 and floods[A].emergency_due == 1
    urgent = figures(stretches_until(logs, NOVEMBER.end), NOVEMBER, levels=frozenset({1, 2}))
    assert set(urgent) == {A}
    district = figures(stretches_until(logs, NOVEMBER.end), NOVEMBER, key={A: "431002", B: "431002"})
    assert district["431002"].dispatched == 9


def test_weights_come_from_configuration() -> None:
    assert Weights.from_text("") == Weights()
    assert Weights.from_text(" sign=0.5, no_return=0 ") == Weights(sign=0.5, no_return=0.0)
    for bad, words in (("speed=1", "unknown"), ("sign=high", "not a number"), ("sign=-1", "negative")):
        with pytest.raises(ValueError, match=words):
            Weights.from_text(bad)
