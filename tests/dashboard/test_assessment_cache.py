"""The 考核 cache on the database: what it gives is what a fresh read and replay of the log gives, as moves land,
for the period now and one before it, its table's columns too; a log row committed after a later one was already
read is not lost; and a table is kept while nothing it depends on changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.assessment import Stretch, StretchTable, stretches_until
from alerts.incidents import Location, act, open_incident, read_logs
from alerts.lifecycle import Action
from dashboard.assessment_cache import REUSE_S, SETTLE_S, AssessmentCache, _Window
from tests.alerts.test_assessment import DESK, NOVEMBER, A, Story, at, staff, stories
from tests.alerts.test_assessment_columns import unpacked

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
ENDS = (NOVEMBER.end, NOVEMBER.start, at(11, 20, 12), datetime(2027, 1, 1, tzinfo=UTC))


def _open(conn: psycopg.Connection, story: Story) -> int:
    iid = open_incident(conn, title="考核缓存", category=story.category, level=story.level, source_kind="manual",
                        location=Location(113.0, 25.8, A[:6], None, None, None), now=story.created)
    assert iid is not None
    return iid


def _moves(conn: psycopg.Connection, iid: int, story: Story, moves: slice) -> None:
    for m in story.moves[moves]:
        act(conn, iid, m.action, m.actor, m.at, note=m.note, township_code=m.to, details=m.details)


def _key(s: Stretch) -> tuple[int, datetime]:
    return s.incident_id, s.dispatched_at


def _fresh(conn: psycopg.Connection, end: datetime, since: datetime = SINCE) -> list[Stretch]:
    return sorted(stretches_until(read_logs(conn, (since, end)), end), key=_key)


def _stretches(cache: AssessmentCache, conn: psycopg.Connection, since: datetime, end: datetime) -> list[Stretch]:
    return list(cache.table(conn, since, end).stretches)


def _same_as_fresh(cache: AssessmentCache, conn: psycopg.Connection, since: datetime = SINCE) -> None:
    """The cache's table holds the stretches a fresh read gives, and its columns say what a table built from
    them says (the codes may differ: the window's were given as its rows came)."""
    for end in ENDS:
        fresh = _fresh(conn, end, since)
        table = cache.table(conn, since, end)
        assert sorted(table.stretches, key=_key) == fresh, (since, end)
        assert unpacked(table) == list(table.stretches)
        assert sorted(unpacked(table), key=_key) == unpacked(StretchTable.of(fresh))


def test_the_cache_follows_the_log_as_moves_land(demo_db: Callable[[], str]) -> None:
    clock = [0.0]
    cache = AssessmentCache(clock=lambda: clock[0])
    told = stories()
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        ids = [_open(conn, s) for s in told[:6]]
        for iid, story in zip(ids, told[:6], strict=True):
            _moves(conn, iid, story, slice(0, 2))  # dispatched and the first move after it
        _same_as_fresh(cache, conn)
        assert _stretches(cache, conn, SINCE, NOVEMBER.end), "the first half already has stretches"
        for step, moves, new in ((10.0, slice(2, 3), told[6]), (SETTLE_S + 1, slice(3, 4), told[7]),
                                 (1.0, slice(4, 5), told[8])):  # within the settling time, past it, and again
            clock[0] += step
            for iid, story in zip(ids, told[:6], strict=True):
                _moves(conn, iid, story, moves)  # old incidents move on
            iid = _open(conn, new)  # and a new one arrives with its whole log
            _moves(conn, iid, new, slice(None))
            _same_as_fresh(cache, conn)
        for iid, story in zip(ids, told[:6], strict=True):
            _moves(conn, iid, story, slice(5, None))
        clock[0] += SETTLE_S + 1
        _same_as_fresh(cache, conn)


def test_a_move_committed_after_a_later_one_was_read_is_not_lost(demo_db: Callable[[], str]) -> None:
    clock = [0.0]
    cache = AssessmentCache(clock=lambda: clock[0])
    dsn = demo_db()
    story = Story(0, 3, at(11, 10, 9))
    with psycopg.connect(dsn, autocommit=True) as reader, psycopg.connect(dsn) as slow, \
            psycopg.connect(dsn, autocommit=True) as quick:
        assert _stretches(cache, reader, SINCE, NOVEMBER.end) == []
        held = _open(slow, story)  # its log rows take their ids now, and commit later
        act(slow, held, Action.DISPATCH, DESK, at(11, 10, 10), township_code=A)
        done = _open(quick, story)
        act(quick, done, Action.DISPATCH, DESK, at(11, 10, 10), township_code=A)
        clock[0] += 1
        assert [s.incident_id for s in _stretches(cache, reader, SINCE, NOVEMBER.end)] == [done]
        slow.commit()
        clock[0] += SETTLE_S - 2
        act(quick, done, Action.SIGN, staff(A), at(11, 10, 10, 30))
        assert sorted(s.incident_id for s in _stretches(cache, reader, SINCE, NOVEMBER.end)) == sorted([held, done])
        clock[0] += SETTLE_S + 1  # both settle; nothing is read twice
        _same_as_fresh(cache, reader)
        assert len(_stretches(cache, reader, SINCE, NOVEMBER.end)) == 2


def test_an_incident_whose_first_move_in_the_window_comes_later_brings_its_older_log(
        demo_db: Callable[[], str]) -> None:
    clock = [0.0]
    cache = AssessmentCache(clock=lambda: clock[0])
    old = Story(0, 3, at(9, 10, 9)).dispatched(A, at(9, 10, 10)).then(Action.SIGN, staff(A), at(9, 10, 11))
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        iid = _open(conn, old)
        _moves(conn, iid, old, slice(None))
        clock[0] += SETTLE_S + 1
        assert _stretches(cache, conn, SINCE, NOVEMBER.end) == []  # September: before the window
        clock[0] += SETTLE_S + 1
        _stretches(cache, conn, SINCE, NOVEMBER.end)  # its rows settle outside the window
        act(conn, iid, Action.FEEDBACK, staff(A), at(10, 20, 9), note="处理完毕")  # a move in October
        got = _stretches(cache, conn, SINCE, NOVEMBER.end)
        assert [s.signed_at for s in got] == [at(9, 10, 11)]
        _same_as_fresh(cache, conn)


def test_a_later_start_is_served_from_the_window_read_before_it(demo_db: Callable[[], str]) -> None:
    """A rolling period's start moves on with every call, and the cockpit's week lies in 考核's month: the window
    read first serves every later start (each only the incidents moved since its own start) until it is
    ``REUSE_S`` old; then a new one is read."""
    clock = [0.0]
    cache = AssessmentCache(clock=lambda: clock[0])
    told = stories()
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        for story in told:
            _moves(conn, _open(conn, story), story, slice(None))
        clock[0] += SETTLE_S + 1
        last_moves = sorted(max(m.at for m in story.moves) for story in told)
        first = last_moves[0] - timedelta(hours=1)
        _same_as_fresh(cache, conn, first)
        loads: list[datetime] = []
        real_load = cache._load

        def counted_load(conn: psycopg.Connection, since: datetime) -> _Window:
            loads.append(since)
            return real_load(conn, since)

        cache._load = counted_load  # type: ignore[method-assign]
        for since in (first + timedelta(hours=1), *last_moves, last_moves[-1] + timedelta(seconds=1)):
            _same_as_fresh(cache, conn, since)  # the later the start, the fewer incidents moved since
        assert loads == [], "a later start is served from the window held"
        _same_as_fresh(cache, conn, first - timedelta(seconds=1))
        assert loads == [first - timedelta(seconds=1)], "an earlier start is not in the window: one is read"
        clock[0] += REUSE_S
        _same_as_fresh(cache, conn, first)
        assert loads[1:] == [first], "a day old, the window is read afresh"


def test_a_table_is_kept_while_nothing_it_depends_on_changed(demo_db: Callable[[], str]) -> None:
    """Kept for the same bounds, and for bounds moved on past no move (a rolling period); built anew once a move
    lands, or a bound passes one."""
    clock = [0.0]
    cache = AssessmentCache(clock=lambda: clock[0])
    story = stories()[0]  # dispatched 11-10 10:00, signed 10:30, fed back 20:00, closed 21:00
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        iid = _open(conn, story)
        _moves(conn, iid, story, slice(0, 2))
        clock[0] += SETTLE_S + 1
        now = cache.table(conn, SINCE, NOVEMBER.end)
        assert [s.signed_at for s in now.stretches] == [at(11, 10, 10, 30)]
        assert cache.table(conn, SINCE, NOVEMBER.end) is now
        assert cache.table(conn, SINCE + timedelta(days=1), NOVEMBER.end + timedelta(days=1)) is now
        before = cache.table(conn, SINCE, at(11, 10, 10, 15))  # between the dispatch and the sign
        assert before is not now and [s.signed_at for s in before.stretches] == [None]
        assert cache.table(conn, SINCE, at(11, 10, 10, 29)) is before
        assert cache.table(conn, SINCE, at(11, 10, 10, 31)) is now, "past the sign: the same rows as now"
        _moves(conn, iid, story, slice(2, 3))  # fed back
        clock[0] += 1
        grown = cache.table(conn, SINCE, NOVEMBER.end)
        assert grown is not now
        _same_as_fresh(cache, conn)
