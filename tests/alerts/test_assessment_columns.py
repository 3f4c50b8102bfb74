"""``figures`` on columns against the loop it replaced, kept here as the oracle: random stretches (times left
out, ties at the period's bounds, reworks 0-4, 缓办, 退单 right or wrong, 转派, several units, categories and
levels, district keys) give exactly the loop's figures, order included; and a table round-trips its stretches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.assessment import (
    EMERGENCY_LEVELS,
    NULL,
    Figures,
    Period,
    Stretch,
    StretchTable,
    figures,
    stretches_until,
)
from alerts.deadlines import is_overdue
from tests.alerts.test_assessment import NOVEMBER, history


def oracle(stretches: Iterable[Stretch], period: Period, key: Mapping[str, str] | None = None,
           categories: frozenset[str] | None = None, levels: frozenset[int] | None = None) -> dict[str, Figures]:
    """The 考核 figures stretch by stretch, as ``alerts.assessment.figures`` counted them before the columns."""
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    minutes: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in stretches:
        if (categories is not None and s.category not in categories) or (levels is not None and s.level not in levels):
            continue
        who = key.get(s.unit, s.unit) if key is not None else s.unit
        counts, times = tally[who], minutes[who]
        if period.holds(s.dispatched_at):
            counts["dispatched"].append(s.incident_id)
            if s.signed_at is not None and not is_overdue(s.sign_deadline, s.signed_at):
                counts["signed_on_time"].append(s.incident_id)
            if s.closed_at is not None:
                counts["closed"].append(s.incident_id)
            if s.returned_at is not None:
                counts["returned"].append(s.incident_id)
                if s.returned_wrongly:
                    counts["returned_wrongly"].append(s.incident_id)
            if s.signed_at is not None:
                times["sign_minutes"].append((s.signed_at - s.dispatched_at).total_seconds() / 60)
        ended = s.returned_at or s.transferred_at
        if period.holds(s.finish_deadline) and (ended is None or ended >= s.finish_deadline):
            counts["due"].append(s.incident_id)
            if s.paused_since is not None and s.paused_since <= period.end:
                counts["postponed"].append(s.incident_id)
            else:
                emergency = s.level in EMERGENCY_LEVELS
                counts["emergency_due" if emergency else "routine_due"].append(s.incident_id)
                if s.handled_at is not None and not is_overdue(s.finish_deadline, s.handled_at):
                    counts["handled_on_time"].append(s.incident_id)
                    counts["emergency_on_time" if emergency else "routine_on_time"].append(s.incident_id)
        if period.holds(s.decided_at):
            counts["decided"].append(s.incident_id)
            if s.reworks:
                counts["reworked"].append(s.incident_id)
            if s.reworks >= 3:
                counts["reworked_thrice"].append(s.incident_id)
        if s.handled_at is not None and period.holds(s.handled_at):
            times["handle_minutes"].append((s.handled_at - s.dispatched_at - s.paused).total_seconds() / 60)
    return {who: Figures(who, **{name: len(ids) for name, ids in counts.items()},
                         sign_minutes=tuple(minutes[who]["sign_minutes"]),
                         handle_minutes=tuple(minutes[who]["handle_minutes"]),
                         incidents={name: tuple(ids) for name, ids in counts.items()})
            for who, counts in tally.items()}


def _exactly(got: dict[str, Figures], want: dict[str, Figures]) -> None:
    """Equal, and in the same order: the units, and each unit's figures behind ``incidents``."""
    assert got == want
    assert list(got) == list(want)
    for unit, f in want.items():
        assert list(got[unit].incidents.items()) == list(f.incidents.items()), unit


SH = ZoneInfo("Asia/Shanghai")
PERIOD = Period(datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 11, 8, tzinfo=SH))
UNITS = ("431002001", "431002002", "431003001", "dept_water")
CATEGORIES = ("市容", "flood", "hotline")
# Times near the period's bounds (on them too, and a µs either side) or anywhere around it, in either zone.
BOUNDS = (PERIOD.start, PERIOD.end)
near = st.builds(lambda b, us: b + timedelta(microseconds=us), st.sampled_from(BOUNDS),
                 st.sampled_from((-1, 0, 1)) | st.integers(-3_600_000_000, 3_600_000_000))
anywhere = st.datetimes(datetime(2026, 10, 20), datetime(2026, 11, 20), timezones=st.sampled_from((UTC, SH)))
times = near | anywhere.map(lambda t: t.astimezone(UTC))
maybe = st.none() | times


@st.composite
def stretch(draw: st.DrawFn) -> Stretch:
    dispatched = draw(times)
    returned = draw(st.none() | times)
    return Stretch(draw(st.integers(1, 40)), draw(st.sampled_from(UNITS)), draw(st.integers(1, 4)),
                   draw(st.sampled_from(CATEGORIES)), dispatched, draw(times), draw(times),
                   signed_at=draw(maybe), handled_at=draw(maybe), closed_at=draw(maybe), returned_at=returned,
                   returned_wrongly=returned is not None and draw(st.booleans()),
                   transferred_at=None if returned is not None else draw(maybe), reworks=draw(st.integers(0, 4)),
                   decided_at=draw(maybe), paused=timedelta(microseconds=draw(st.integers(0, 3 * 86_400_000_000))),
                   paused_since=draw(maybe))


keys = st.none() | st.dictionaries(st.sampled_from(UNITS), st.sampled_from(("431002", "431003", "dept_water")))
filters = st.none() | st.frozensets(st.sampled_from((*CATEGORIES, "fire")))
level_filters = st.none() | st.frozensets(st.integers(1, 5))


@settings(max_examples=400, deadline=None)
@given(st.lists(stretch(), max_size=30), keys, filters, level_filters)
def test_the_columns_count_what_the_loop_counted(stretches: list[Stretch], key: dict[str, str] | None,
                                                 categories: frozenset[str] | None,
                                                 levels: frozenset[int] | None) -> None:
    want = oracle(stretches, PERIOD, key, categories, levels)
    _exactly(figures(StretchTable.of(stretches), PERIOD, key, categories, levels), want)
    _exactly(figures(stretches, PERIOD, key, categories, levels), want)  # a sequence is converted


def test_the_hand_worked_history_counts_as_the_loop_did() -> None:
    stretches = stretches_until(history(), NOVEMBER.end)
    for key in (None, {"431002001": "431002", "431002002": "431002"}):
        _exactly(figures(StretchTable.of(stretches), NOVEMBER, key), oracle(stretches, NOVEMBER, key))
    assert figures(StretchTable.of([]), NOVEMBER) == {}


def unpacked(t: StretchTable) -> list[Stretch]:
    """The stretches the table's columns say (what ``row_of`` packed, unpacked)."""
    def at(us: int) -> datetime | None:
        return None if us == NULL else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)

    def due(us: int) -> datetime:
        found = at(us)
        assert found is not None
        return found

    return [Stretch(int(t.incident_id[i]), t.names[t.unit[i]], int(t.level[i]), t.names[t.category[i]],
                    due(int(t.dispatched_at[i])), due(int(t.sign_deadline[i])), due(int(t.finish_deadline[i])),
                    signed_at=at(int(t.signed_at[i])), handled_at=at(int(t.handled_at[i])),
                    closed_at=at(int(t.closed_at[i])), returned_at=at(int(t.returned_at[i])),
                    returned_wrongly=bool(t.returned_wrongly[i]), transferred_at=at(int(t.transferred_at[i])),
                    reworks=int(t.reworks[i]), decided_at=at(int(t.decided_at[i])),
                    paused=timedelta(microseconds=int(t.paused[i])), paused_since=at(int(t.paused_since[i])))
            for i in range(len(t))]


@settings(max_examples=100, deadline=None)
@given(st.lists(stretch(), max_size=20))
def test_a_table_round_trips_its_stretches(stretches: list[Stretch]) -> None:
    t = StretchTable.of(stretches)
    assert list(t.stretches) == stretches
    assert unpacked(t) == stretches  # aware times compare by instant, whatever their zone
