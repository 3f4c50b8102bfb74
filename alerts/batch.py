"""The batch path of the telemetry rules: a committed batch's cases judged together, in numpy.

``verdicts.judge`` judges one case at a time; here every case of a rule (threshold with fixed
values or each station's own lines, accumulation, rate) is judged at once over ragged arrays
(all histories end to end, a start offset per case), and a ``Verdict`` is built only for the
cases the caller keeps (those firing, or whose warning is open), with the same words as the
per-reading path. Same cases, same verdicts: tests/alerts/test_batch_contract.py holds both
paths to it, case by case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from alerts.rules import RateRule, ThresholdRule
from alerts.verdicts import TelemetryCase, Verdict, quiet, worded

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
BoolArray = npt.NDArray[np.bool_]
Keep = Callable[[Sequence[TelemetryCase], BoolArray], BoolArray]  # (cases, firing) → which verdicts to build


def _keep_all(cases: Sequence[TelemetryCase], firing: BoolArray) -> BoolArray:
    return np.ones(len(cases), dtype=bool)


class _Ragged:
    """The histories of n cases end to end: values, times (µs since the epoch), each case's start and end."""

    def __init__(self, cases: Sequence[TelemetryCase]) -> None:
        lengths = np.fromiter((len(c.history) for c in cases), dtype=np.int64, count=len(cases))
        self.end = np.cumsum(lengths)
        self.start = self.end - lengths
        flat = [r for c in cases for r in c.history]
        self.values = np.fromiter((v for _, v in flat), dtype=np.float64, count=len(flat))
        self.us = np.fromiter(((ts - EPOCH) // US for ts, _ in flat), dtype=np.int64, count=len(flat))
        self.case = np.repeat(np.arange(len(cases)), lengths)  # the case of each reading
        self.position = np.arange(len(flat))
        self.last = self.values[self.end - 1]
        self.last_us = self.us[self.end - 1]

    def last_where(self, mask: BoolArray) -> npt.NDArray[np.int64]:
        """Per case, the index of its last reading where ``mask`` holds; −1 where none does."""
        marked = np.where(mask, self.position, -1)
        found = np.full(len(self.start), -1, dtype=np.int64)
        np.maximum.at(found, self.case, marked)
        return found


def _level_table(rules: Sequence[ThresholdRule | RateRule]) -> tuple[list[int], npt.NDArray[np.float64]]:
    """The levels of a group of cases, most severe first, and each case's value for each (+inf: not its)."""
    levels = sorted({lt.level for r in rules for lt in r.levels})
    column = {level: j for j, level in enumerate(levels)}
    rows: dict[int, npt.NDArray[np.float64]] = {}
    table = np.empty((len(rules), len(levels)))
    for i, r in enumerate(rules):
        row = rows.get(id(r))
        if row is None:
            row = np.full(len(levels), np.inf)
            for lt in r.levels:
                row[column[lt.level]] = lt.at_least
            rows[id(r)] = row
        table[i] = row
    return levels, table


class _Decided:
    """What numpy decided for a group of cases of one rule kind; ``verdict(i)`` builds case i's."""

    def __init__(self, n: int) -> None:
        self.firing = np.zeros(n, dtype=bool)
        self.cleared = np.zeros(n, dtype=bool)
        self.level = np.zeros(n, dtype=np.int64)
        self.since = np.full(n, -1, dtype=np.int64)  # index into the flat history
        self.peak = np.zeros(n)
        self.last = np.zeros(n)  # the latest value (threshold) or the rise (rate)
        self.judged = np.zeros(n, dtype=bool)  # False: no history or (rate) none a window old: ``last`` only


def _thresholds(cases: Sequence[ThresholdRule | RateRule], rag: _Ragged) -> _Decided:
    rules = [c for c in cases if isinstance(c, ThresholdRule)]
    n = len(rules)
    out = _Decided(n)
    out.judged[:] = True
    out.last = rag.last
    clear = np.fromiter((-np.inf if r.clear_below is None else r.clear_below for r in rules), np.float64, n)
    out.cleared = rag.last < clear
    levels, table = _level_table(rules)
    for_count = np.fromiter((r.for_count for r in rules), np.int64, n)
    window = np.fromiter((r.window // US for r in rules), np.int64, n)
    undecided = ~out.cleared
    for j, level in enumerate(levels):  # most severe first, as verdicts.threshold
        at_least = table[:, j]
        above = rag.values >= at_least[rag.case]
        run_start = np.maximum(rag.last_where(~above) + 1, rag.start)  # the trailing run of readings above
        run = rag.end - run_start
        first = np.minimum(run_start, rag.end - 1)
        met = undecided & (run > 0) & (run >= for_count) & (rag.last_us - rag.us[first] >= window)
        if met.any():
            in_run = rag.position >= run_start[rag.case]
            peak = np.full(n, -np.inf)
            np.maximum.at(peak, rag.case[in_run], rag.values[in_run])
            out.firing |= met
            out.level[met], out.since[met], out.peak[met] = level, first[met], peak[met]
            undecided &= ~met
    return out


def _rates(rules: Sequence[RateRule], rag: _Ragged) -> _Decided:
    n = len(rules)
    out = _Decided(n)
    window = np.fromiter((r.window // US for r in rules), np.int64, n)
    base = rag.last_where(rag.us <= (rag.last_us - window)[rag.case])
    out.judged = base >= 0
    out.last = np.where(out.judged, rag.last - rag.values[np.maximum(base, 0)], rag.last)
    clear = np.fromiter((r.clear_below for r in rules), np.float64, n)
    out.cleared = out.judged & (out.last < clear)
    levels, table = _level_table(rules)
    for j in reversed(range(len(levels))):  # least severe first, so a more severe one overwrites it
        hit = out.judged & ~out.cleared & (out.last >= table[:, j])
        out.level[hit], out.since[hit] = levels[j], base[hit]
        out.firing |= hit
    out.peak = out.last
    return out


def _verdict(case: TelemetryCase, d: _Decided, i: int, since: datetime | None) -> Verdict:
    last = float(d.last[i])
    if not d.judged[i]:
        return Verdict(case.subject, firing=False, cleared=False, last=last)
    if d.cleared[i]:
        return Verdict(case.subject, firing=False, cleared=True, last=last)
    if not d.firing[i]:
        return Verdict(case.subject, firing=False, cleared=False, last=last)
    return Verdict(case.subject, firing=True, cleared=False, level=int(d.level[i]), since=since,
                   peak=float(d.peak[i]), last=last)


def judge_cases(cases: Sequence[TelemetryCase], keep: Keep = _keep_all) -> list[tuple[int, Verdict]]:
    """(index, verdict) of every case ``keep`` selects (given the cases and which of them fire), in index order."""
    by_kind: dict[bool, list[int]] = defaultdict(list)
    kept: list[tuple[int, Verdict]] = []
    for i, c in enumerate(cases):
        if c.history:
            by_kind[isinstance(c.rule, RateRule)].append(i)
        elif keep([c], np.zeros(1, dtype=bool))[0]:
            kept.append((i, quiet(c.subject)))
    for is_rate, members in by_kind.items():
        group = [cases[i] for i in members]
        rag = _Ragged(group)
        rules = [c.rule for c in group]
        decided = (_rates([r for r in rules if isinstance(r, RateRule)], rag) if is_rate
                   else _thresholds(rules, rag))
        flat_ts = [ts for c in group for ts, _ in c.history]
        for k in np.flatnonzero(keep(group, decided.firing)):
            case = group[k]
            since = flat_ts[decided.since[k]] if decided.since[k] >= 0 else None
            verdict = _verdict(case, decided, int(k), since)
            kept.append((members[k], verdict if is_rate else worded(case, verdict)))
    kept.sort(key=lambda iv: iv[0])
    return kept
