"""考核: the figures leaders rank townships and departments by, computed from the incident log alone.

Pure: no clock, no I/O. ``assignments`` replays one incident's log (``alerts.lifecycle.transition``, the
same moves that wrote it) into the stretches during which one unit held it; ``figures`` counts a period's
stretches per unit; ``rank`` scores and orders them. The definitions, in the README and on the page:

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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

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

    def still_held_at(self, at: datetime) -> bool:
        """Not given back (退单) or moved away (转派) before ``at``: its finish deadline is then its own."""
        ended = self.returned_at or self.transferred_at
        return ended is None or ended >= at

    def postponed_at(self, at: datetime) -> bool:
        return self.paused_since is not None and self.paused_since <= at

    @property
    def sign_on_time(self) -> bool:
        return self.signed_at is not None and not is_overdue(self.sign_deadline, self.signed_at)

    @property
    def handled_on_time(self) -> bool:
        return self.handled_at is not None and not is_overdue(self.finish_deadline, self.handled_at)

    @property
    def time_to_sign(self) -> timedelta | None:
        return None if self.signed_at is None else self.signed_at - self.dispatched_at

    @property
    def time_to_handle(self) -> timedelta | None:
        return None if self.handled_at is None else self.handled_at - self.dispatched_at - self.paused


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


def _minutes(delta: timedelta | None) -> list[float]:
    return [] if delta is None else [delta.total_seconds() / 60]


def stretches_until(logs: Mapping[int, Sequence[LogEntry]], end: datetime) -> list[Stretch]:
    """Every incident's stretches as its log stood at ``end``: a past period is judged on what was known
    by its end, not on moves made later."""
    return [s for incident_id, entries in logs.items()
            for s in assignments(incident_id, [e for e in entries if e.at < end])]


def figures(stretches: Iterable[Stretch], period: Period, key: Mapping[str, str] | None = None,
            categories: frozenset[str] | None = None, levels: frozenset[int] | None = None) -> dict[str, Figures]:
    """Each unit's figures for ``period`` from ``stretches_until(logs, period.end)``.

    ``key`` maps a unit to what is ranked (its district, for the district ranking); ``categories`` and
    ``levels`` filter the incidents counted.
    """
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    minutes: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    start, end = period.start, period.end  # ``period.holds`` inlined: this loop runs over a city's month
    for s in stretches:
        if (categories is not None and s.category not in categories) or (levels is not None and s.level not in levels):
            continue
        who = key.get(s.unit, s.unit) if key is not None else s.unit
        counts, times = tally[who], minutes[who]
        if start <= s.dispatched_at < end:
            counts["dispatched"].append(s.incident_id)
            if s.sign_on_time:
                counts["signed_on_time"].append(s.incident_id)
            if s.closed_at is not None:
                counts["closed"].append(s.incident_id)
            if s.returned_at is not None:
                counts["returned"].append(s.incident_id)
                if s.returned_wrongly:
                    counts["returned_wrongly"].append(s.incident_id)
            times["sign_minutes"] += _minutes(s.time_to_sign)
        if start <= s.finish_deadline < end and s.still_held_at(s.finish_deadline):
            counts["due"].append(s.incident_id)
            if s.postponed_at(end):
                counts["postponed"].append(s.incident_id)
            else:
                emergency = s.level in EMERGENCY_LEVELS
                counts["emergency_due" if emergency else "routine_due"].append(s.incident_id)
                if s.handled_on_time:
                    counts["handled_on_time"].append(s.incident_id)
                    counts["emergency_on_time" if emergency else "routine_on_time"].append(s.incident_id)
        if s.decided_at is not None and start <= s.decided_at < end:
            counts["decided"].append(s.incident_id)
            if s.reworks:
                counts["reworked"].append(s.incident_id)
            if s.reworks >= 3:
                counts["reworked_thrice"].append(s.incident_id)
        if s.handled_at is not None and start <= s.handled_at < end:
            times["handle_minutes"] += _minutes(s.time_to_handle)
    return {who: Figures(who, **{name: len(ids) for name, ids in counts.items()},
                         sign_minutes=tuple(minutes[who]["sign_minutes"]),
                         handle_minutes=tuple(minutes[who]["handle_minutes"]),
                         incidents={name: tuple(ids) for name, ids in counts.items()})
            for who, counts in tally.items()}


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

