"""考核: the figures leaders rank townships and departments by, computed from the incident log alone.

Pure: no clock, no I/O. ``assignments`` replays one incident's log (``alerts.lifecycle.transition``, the
same moves that wrote it) into the stretches during which one unit held it; ``figures`` counts a period's
stretches per unit, on their columns (``StretchTable``: a city's month is ~22,000 stretches, ~150 ms a pass
stretch by stretch in Python); ``rank`` scores and orders them. The definitions, in the README and on the page:

- 按期签收率 = signed by the sign deadline / dispatched (派遣 and 转派 to the unit in the period).
- 按期结案率 = handled by the finish deadline / (应结案数 − 缓办数): 应结案数 counts the stretches whose finish
  deadline fell in the period (as 缓办 moved it: the clock stops while postponed); 缓办数 those of them in
  缓办 at the period's end (their clock is stopped, so they are neither on time nor late yet). Handled means
  the unit's feedback that the desk accepted (核查结案), at or before the deadline.
- 结案率 = closed / dispatched; 退单率 = returned / dispatched, with 退单 found wrong (the desk dispatched it
  to the same unit again) counted apart; 返工率 = stretches that failed 核查 at least once / stretches
  核查 decided on in the period (closed or sent back); three or more failures are counted apart.
- 红/橙 (levels 1-2) 按期结案率 apart from the rest.
- 签收用时 and 办结用时 (to the accepted feedback) as median and p90, on the working clock (缓办 time left out).
- The score: a weighted sum of the rates (``Weights``), 0-100, banded 优/良/中/差, with the movement of the
  rank against the previous period.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from alerts.deadlines import is_overdue
from alerts.lifecycle import Action, Incident, LogEntry, actor_of, transition

EMERGENCY_LEVELS = frozenset({1, 2})  # 红色 I级, 橙色 II级


@dataclass(frozen=True, slots=True)
class Stretch:
    """One unit holding one incident: from its 派遣/转派 to the next one, a 退单, or the incident's end."""

    incident_id: int
    unit: str
    level: int
    category: str
    dispatched_at: datetime
    sign_deadline: datetime
    finish_deadline: datetime  # as 缓办 moved it, up to the end of the log
    signed_at: datetime | None = None
    handled_at: datetime | None = None  # the feedback the desk accepted
    closed_at: datetime | None = None
    returned_at: datetime | None = None
    returned_wrongly: bool = False  # 退单, then dispatched to this same unit again
    transferred_at: datetime | None = None  # the desk's 转派 to another unit ended it
    reworks: int = 0
    decided_at: datetime | None = None  # the first 核查 decision (结案 or 返工)
    paused: timedelta = timedelta(0)  # time in 缓办, up to the end of the log
    paused_since: datetime | None = None  # in 缓办 since, at the end of the log

    @property
    def sign_on_time(self) -> bool:
        return self.signed_at is not None and not is_overdue(self.sign_deadline, self.signed_at)

    @property
    def handled_on_time(self) -> bool:
        return self.handled_at is not None and not is_overdue(self.finish_deadline, self.handled_at)


def assignments(incident_id: int, entries: Sequence[LogEntry]) -> list[Stretch]:
    """The stretches of one incident, from its whole log in order (replayed move by move)."""
    state = Incident(id=incident_id, status=None, level=0, township_code=None)
    done: list[Stretch] = []
    current: Stretch | None = None
    feedback_at: datetime | None = None
    for e in entries:
        township = e.details.get("township_code")
        actor = actor_of(e)
        if state.status is None:  # the first row (立案, or a grid member's 巡查上报) says the level and category
            level, category = e.details.get("level"), e.details.get("category")
            state = replace(state, level=level if isinstance(level, int) else 0,
                            category=category if isinstance(category, str) else "")
        state, _ = transition(state, e.action, actor, e.at, note=e.note, details=e.details,
                              township_code=township if isinstance(township, str) else None)
        if e.action in (Action.DISPATCH, Action.TRANSFER):
            if current is not None:  # only a 转派 moves it while a unit holds it
                done.append(replace(current, transferred_at=e.at))
            if done and done[-1].unit == state.township_code and done[-1].returned_at is not None:
                done[-1] = replace(done[-1], returned_wrongly=True)
            assert state.township_code and state.sign_deadline and state.finish_deadline
            feedback_at = None
            current = Stretch(incident_id, state.township_code, state.level, state.category, e.at,
                              state.sign_deadline, state.finish_deadline)
            continue
        if current is None:
            continue
        if e.action is Action.SIGN and actor.township_code == current.unit:
            current = replace(current, signed_at=e.at)
        elif e.action is Action.FEEDBACK and actor.township_code == current.unit:
            feedback_at = e.at
        elif e.action is Action.VERIFY:
            current = replace(current, handled_at=feedback_at, closed_at=e.at, decided_at=current.decided_at or e.at)
        elif e.action is Action.REWORK:
            current = replace(current, reworks=current.reworks + 1, decided_at=current.decided_at or e.at)
        elif e.action is Action.RETURN:
            done.append(replace(current, returned_at=e.at))
            current = None
        elif e.action is Action.POSTPONE:
            current = replace(current, paused_since=e.at)
        elif e.action is Action.RESUME and current.paused_since is not None:
            current = replace(current, paused=current.paused + (e.at - current.paused_since), paused_since=None,
                              finish_deadline=state.finish_deadline or current.finish_deadline)
    if current is not None:
        done.append(current)
    return done


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile, linear between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class Figures:
    """One unit's figures for one period; each rate None when its denominator is 0 (shown as —)."""

    unit: str
    dispatched: int = 0
    signed_on_time: int = 0
    due: int = 0  # 应结案数
    postponed: int = 0  # 缓办数
    handled_on_time: int = 0
    closed: int = 0
    returned: int = 0
    returned_wrongly: int = 0
    decided: int = 0  # 核查 decided on
    reworked: int = 0  # failed 核查 at least once
    reworked_thrice: int = 0
    emergency_due: int = 0
    emergency_on_time: int = 0
    routine_due: int = 0
    routine_on_time: int = 0
    sign_minutes: tuple[float, ...] = ()
    handle_minutes: tuple[float, ...] = ()
    incidents: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # figure → the incidents it counts

    @property
    def sign_rate(self) -> float | None:
        return _rate(self.signed_on_time, self.dispatched)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.handled_on_time, self.due - self.postponed)

    @property
    def close_rate(self) -> float | None:
        return _rate(self.closed, self.dispatched)

    @property
    def return_rate(self) -> float | None:
        return _rate(self.returned, self.dispatched)

    @property
    def rework_rate(self) -> float | None:
        return _rate(self.reworked, self.decided)

    @property
    def emergency_rate(self) -> float | None:
        return _rate(self.emergency_on_time, self.emergency_due)

    @property
    def routine_rate(self) -> float | None:
        return _rate(self.routine_on_time, self.routine_due)

    def sign_median(self) -> float | None:
        return _quantile(self.sign_minutes, 0.5)

    def sign_p90(self) -> float | None:
        return _quantile(self.sign_minutes, 0.9)

    def handle_median(self) -> float | None:
        return _quantile(self.handle_minutes, 0.5)

    def handle_p90(self) -> float | None:
        return _quantile(self.handle_minutes, 0.9)


def stretches_until(logs: Mapping[int, Sequence[LogEntry]], end: datetime) -> list[Stretch]:
    """Every incident's stretches as its log stood at ``end``: a past period is judged on what was known
    by its end, not on moves made later."""
    return [s for incident_id, entries in logs.items()
            for s in assignments(incident_id, [e for e in entries if e.at < end])]


# -- the stretches as columns: ``figures`` counts a city's month in numpy, not stretch by stretch --

NULL = int(np.iinfo(np.int64).min)  # a time not (yet) there: below every period's start
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_TIMES = ("dispatched_at", "sign_deadline", "finish_deadline", "signed_at", "handled_at", "closed_at",
          "returned_at", "transferred_at", "decided_at", "paused_since")
# A row's columns, StretchTable's fields after names and stretches: the ids, the unit's and category's codes
# (``Names``), the level, the times (µs since the epoch, NULL for None), ``paused`` in µs, reworks, returned_wrongly.
_COLUMNS = ("incident_id", "unit", "category", "level", *_TIMES, "paused", "reworks", "returned_wrongly")
_ROW = struct.Struct(f"<{len(_COLUMNS)}q")

Column = npt.NDArray[np.int64]


def _us(at: datetime | None) -> int:
    """An aware time as whole µs since the epoch: exact, so ties at a period's bounds stay ties."""
    return NULL if at is None else (at - _EPOCH) // _US


class Names:
    """Units and categories as small ints, for the columns; codes only ever get added, so a row packed once
    keeps its meaning (not thread-safe: its owner locks)."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, name: str) -> int:
        found = self._codes.get(name)
        if found is None:
            found = self._codes[name] = len(self.names)
            self.names.append(name)
        return found


def row_of(s: Stretch, names: Names) -> bytes:
    """``s`` as one packed row of ``StretchTable``: worked out once per replay, joined per call (joining
    bytes is ~20× cheaper than numpy reading tuples back)."""
    return _ROW.pack(s.incident_id, names.code(s.unit), names.code(s.category), s.level,
                     *(_us(getattr(s, t)) for t in _TIMES), s.paused // _US, s.reworks, int(s.returned_wrongly))


@dataclass(frozen=True, eq=False)
class StretchTable:
    """Stretches as columns (one entry per stretch, in ``stretches``' order); ``unit`` and ``category`` are
    codes into ``names``."""

    names: tuple[str, ...]
    stretches: Sequence[Stretch]  # for what is shown of them (the incidents behind a figure)
    incident_id: Column
    unit: Column
    category: Column
    level: Column
    dispatched_at: Column
    sign_deadline: Column
    finish_deadline: Column
    signed_at: Column
    handled_at: Column
    closed_at: Column
    returned_at: Column
    transferred_at: Column
    decided_at: Column
    paused_since: Column
    paused: Column
    reworks: Column
    returned_wrongly: Column

    @classmethod
    def from_rows(cls, rows: bytes, names: Sequence[str], stretches: Sequence[Stretch]) -> StretchTable:
        """From ``row_of`` rows joined, in ``stretches``' order, coded by the ``Names`` that holds ``names``."""
        flat = np.frombuffer(rows, dtype=np.int64).reshape(-1, len(_COLUMNS))
        columns = np.ascontiguousarray(flat.T)
        columns.flags.writeable = False  # a table is shared between the requests it serves
        return cls(tuple(names), stretches, *columns)

    @classmethod
    def of(cls, stretches: Iterable[Stretch]) -> StretchTable:
        listed, names = list(stretches), Names()
        return cls.from_rows(b"".join(row_of(s, names) for s in listed), names.names, listed)

    def __len__(self) -> int:
        return len(self.incident_id)


def figures(stretches: StretchTable | Iterable[Stretch], period: Period, key: Mapping[str, str] | None = None,
            categories: frozenset[str] | None = None, levels: frozenset[int] | None = None) -> dict[str, Figures]:
    """Each unit's figures for ``period`` from ``stretches_until(logs, period.end)`` (as a table, or the
    stretches themselves), units in the order of their first stretch counted.

    ``key`` maps a unit to what is ranked (its district, for the district ranking); ``categories`` and
    ``levels`` filter the incidents counted.
    """
    t = stretches if isinstance(stretches, StretchTable) else StretchTable.of(stretches)
    keep = np.ones(len(t), dtype=bool)
    if categories is not None:
        keep &= np.isin(t.category, [code for code, name in enumerate(t.names) if name in categories])
    if levels is not None:
        keep &= np.isin(t.level, list(levels))
    ranked_as = [name if key is None else key.get(name, name) for name in t.names]
    whos = list(dict.fromkeys(ranked_as))
    code_of = {who: i for i, who in enumerate(whos)}
    who_of_unit = np.array([code_of[who] for who in ranked_as], dtype=np.int64)
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(who_of_unit[t.unit[kept]], kind="stable")]  # by unit, each in stretch order
    who = who_of_unit[t.unit[order]]

    def col(name: str) -> Column:
        return getattr(t, name)[order]  # type: ignore[no-any-return]

    start, end = _us(period.start), _us(period.end)

    def within(at: Column) -> npt.NDArray[np.bool_]:
        return (start <= at) & (at < end)  # NULL is below every start

    dispatched_at, finish_deadline, signed_at, handled_at, paused_since, returned_at, transferred_at = (
        col(c) for c in ("dispatched_at", "finish_deadline", "signed_at", "handled_at", "paused_since",
                         "returned_at", "transferred_at"))
    reworks, emergency = col("reworks"), np.isin(col("level"), list(EMERGENCY_LEVELS))
    dispatched, signed, handled = within(dispatched_at), signed_at != NULL, handled_at != NULL
    returned = dispatched & (returned_at != NULL)
    ended = np.where(returned_at != NULL, returned_at, transferred_at)  # given back or moved away
    due = within(finish_deadline) & ((ended == NULL) | (ended >= finish_deadline))  # still held when due
    postponed = due & (paused_since != NULL) & (paused_since <= end)  # its clock stopped at the period's end
    counted = due & ~postponed
    # on time: not ``is_overdue`` (past the deadline), so done at the deadline itself is on time
    on_time = counted & handled & (handled_at <= finish_deadline)
    decided = within(col("decided_at"))
    # in the order a stretch was counted by the loop of old, which ``incidents`` keeps: a unit's figures in the
    # order it first counted them
    masks = {"dispatched": dispatched, "signed_on_time": dispatched & signed & (signed_at <= col("sign_deadline")),
             "closed": dispatched & (col("closed_at") != NULL), "returned": returned,
             "returned_wrongly": returned & (col("returned_wrongly") != 0), "due": due, "postponed": postponed,
             "emergency_due": counted & emergency, "routine_due": counted & ~emergency, "handled_on_time": on_time,
             "emergency_on_time": on_time & emergency, "routine_on_time": on_time & ~emergency, "decided": decided,
             "reworked": decided & (reworks != 0), "reworked_thrice": decided & (reworks >= 3)}
    ids = col("incident_id")
    bounds = np.arange(len(whos) + 1)

    def per_unit(mask: npt.NDArray[np.bool_], values: npt.NDArray[Any]) -> tuple[list[Any], list[int], list[int]]:
        """``values`` where ``mask``, in unit order; each unit's slice bounds into them; each unit's first
        stretch counted (its position in the table; any number for a unit with none)."""
        at = np.flatnonzero(mask)
        cuts = np.searchsorted(who[at], bounds)
        firsts = order[at[np.minimum(cuts[:-1], len(at) - 1)]] if len(at) else cuts[:-1]
        return values[at].tolist(), cuts.tolist(), firsts.tolist()

    sign = dispatched & signed
    sign_minutes = per_unit(sign, _minutes(signed_at[sign] - dispatched_at[sign], sign))
    period_handled = within(handled_at)
    handle_minutes = per_unit(period_handled, _minutes(
        handled_at[period_handled] - dispatched_at[period_handled] - col("paused")[period_handled], period_handled))
    counts = [(name, *per_unit(mask, ids)) for name, mask in masks.items()]
    starts = np.flatnonzero(np.diff(who, prepend=-1))  # where each unit's stretches start (``who`` is sorted)
    out: dict[str, Figures] = {}
    for w in who[starts][np.argsort(order[starts])].tolist():  # in the order of each unit's first stretch
        named = sorted(((firsts[w], pos, name, tuple(got[cuts[w]:cuts[w + 1]]))
                        for pos, (name, got, cuts, firsts) in enumerate(counts) if cuts[w + 1] > cuts[w]))
        out[whos[w]] = Figures(whos[w], **{name: len(found) for _, _, name, found in named},
                               sign_minutes=_slice(sign_minutes, w), handle_minutes=_slice(handle_minutes, w),
                               incidents={name: found for _, _, name, found in named})
    return out


def _minutes(us: Column, where: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """µs as minutes (``timedelta.total_seconds() / 60``: the same float), laid out over ``where``."""
    out = np.zeros(len(where), dtype=np.float64)
    out[where] = us.astype(np.float64) / 1e6 / 60
    return out


def _slice(split: tuple[list[Any], list[int], list[int]], w: int) -> tuple[float, ...]:
    values, cuts, _ = split
    return tuple(values[cuts[w]:cuts[w + 1]])


@dataclass(frozen=True, slots=True)
class Weights:
    """The score's weights (configuration; they need not sum to 1: the score is normalised)."""

    sign: float = 0.25
    on_time: float = 0.35
    close: float = 0.20
    no_rework: float = 0.10
    no_return: float = 0.10

    @classmethod
    def from_text(cls, text: str) -> Weights:
        """``sign=0.3,on_time=0.4``: the named weights changed, the others at their defaults."""
        given: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            if name.strip() not in cls.__dataclass_fields__:
                raise ValueError(f"unknown 考核 weight {name.strip()!r}; known: {', '.join(cls.__dataclass_fields__)}")
            try:
                given[name.strip()] = float(value)
            except ValueError:
                raise ValueError(f"考核 weight {name.strip()!r} is not a number: {value!r}") from None
            if given[name.strip()] < 0:
                raise ValueError(f"考核 weight {name.strip()!r} is negative")
        return cls(**given)


BANDS: tuple[tuple[float, str], ...] = ((90.0, "excellent"), (80.0, "good"), (60.0, "fair"), (0.0, "poor"))


def score(f: Figures, w: Weights = Weights()) -> float | None:
    """0-100 from the rates that have a denominator (weights renormalised over them); None with none."""
    parts = [(w.sign, f.sign_rate), (w.on_time, f.on_time_rate), (w.close, f.close_rate),
             (w.no_rework, None if f.rework_rate is None else 1 - f.rework_rate),
             (w.no_return, None if f.return_rate is None else 1 - f.return_rate)]
    known = [(weight, rate) for weight, rate in parts if rate is not None and weight > 0]
    total = sum(weight for weight, _ in known)
    return round(100 * sum(weight * rate for weight, rate in known) / total, 1) if total else None


def band(value: float | None) -> str | None:
    if value is None:
        return None
    return next(name for floor, name in BANDS if value >= floor)


@dataclass(frozen=True, slots=True)
class Ranked:
    figures: Figures
    score: float | None
    band: str | None
    rank: int | None  # None: nothing to score
    moved: int | None  # places gained since the previous period (+ up); None: not ranked then or now


def rank(now: Mapping[str, Figures], before: Mapping[str, Figures], units: Sequence[str],
         w: Weights = Weights()) -> list[Ranked]:
    """Every unit in ``units`` (those without incidents too), best score first; ties share a rank.

    Movement compares like with like: it is shown only when the previous period ranked at least half as many
    of ``units`` as this one (a first month after a start, say, ranks a handful: ↓160 would say nothing)."""
    def places(figs: Mapping[str, Figures]) -> dict[str, int]:
        scored = sorted(((s, u) for u in figs if (s := score(figs[u], w)) is not None), key=lambda x: -x[0])
        out: dict[str, int] = {}
        for i, (s, u) in enumerate(scored):
            out[u] = out[scored[i - 1][1]] if i and scored[i - 1][0] == s else i + 1
        return out

    chosen = set(units)
    place_now = places({u: f for u, f in now.items() if u in chosen})
    place_before = places({u: f for u, f in before.items() if u in chosen})
    if 2 * len(place_before) < len(place_now):
        place_before = {}
    rows = []
    for unit in units:
        f = now.get(unit, Figures(unit))
        s, r = score(f, w), place_now.get(unit)
        moved = place_before[unit] - r if r is not None and unit in place_before else None
        rows.append(Ranked(f, s, band(s), r, moved))
    return sorted(rows, key=lambda x: (x.rank is None, x.rank or 0, x.figures.unit))

