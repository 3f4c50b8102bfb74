"""The batch path of the telemetry rules: a committed batch's cases judged together, in numpy.

``verdicts.judge`` judges one case at a time; here every case of a rule (threshold with fixed
values or each station's own lines, accumulation, rate) is judged at once over ragged arrays
(all histories end to end, a start offset per case), and a ``Verdict`` is built only for the
cases the caller keeps (those firing, or whose warning is open), with the same words as the
per-reading path. Same cases, same verdicts: tests/alerts/test_batch_contract.py holds both
paths to it, case by case.

The vehicle rules' cases (``judge_vehicles``) are placed together: every fix of a round tested against each
zone of its rule in one array operation (circles, polygons, region codes), and each fix's local time once,
then each case judged on its placed track as ``alerts.vehicles.judge`` judges it
(tests/alerts/test_vehicles_batch.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import chain
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from alerts.rules import NoDataRule, RateRule, ThresholdRule, VehicleRule, Zone
from alerts.vehicles import VehicleCase, hours_apply, local_time, verdict_of, zone_mask
from alerts.verdicts import DeviceSilence, TelemetryCase, Verdict, quiet, worded

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
BoolArray = npt.NDArray[np.bool_]
Keep = Callable[[Sequence[TelemetryCase], BoolArray], BoolArray]  # (cases, firing) → which verdicts to build


def _keep_all(cases: Sequence[TelemetryCase], firing: BoolArray) -> BoolArray:
    return np.ones(len(cases), dtype=bool)


class _Ragged:
    """The histories of n cases (none empty) end to end: values, times (µs since the epoch), each case's start
    and end."""

    def __init__(self, cases: Sequence[TelemetryCase]) -> None:
        lengths = np.fromiter((len(c.history) for c in cases), dtype=np.int64, count=len(cases))
        self.end = np.cumsum(lengths)
        self.start = self.end - lengths
        flat = list(chain.from_iterable(c.history for c in cases))
        self.values = np.fromiter(map(itemgetter(1), flat), dtype=np.float64, count=len(flat))
        self.us = np.fromiter(((ts - EPOCH) // US for ts in map(itemgetter(0), flat)), dtype=np.int64, count=len(flat))
        self.case = np.repeat(np.arange(len(cases)), lengths)  # the case of each reading
        self.position = np.arange(len(flat))
        self.last = self.values[self.end - 1]
        self.last_us = self.us[self.end - 1]

    def last_where(self, mask: BoolArray) -> npt.NDArray[np.int64]:
        """Per case, the index of its last reading where ``mask`` holds; −1 where none does."""
        found: npt.NDArray[np.int64] = np.maximum.reduceat(np.where(mask, self.position, -1), self.start)
        return found

    def max_from(self, first: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Per case, its largest value from reading ``first`` on."""
        found: npt.NDArray[np.float64] = np.maximum.reduceat(
            np.where(self.position >= first[self.case], self.values, -np.inf), self.start)
        return found


def _rule_table(rules: Sequence[ThresholdRule | RateRule]) -> tuple[list[int], npt.NDArray[np.float64]]:
    """The levels of a group of cases, most severe first, and per case the columns of its rule: each level's
    value (+inf: not one of its levels), then clear_below (−inf: none), for_count and the window (µs)."""
    levels = sorted({lt.level for r in rules for lt in r.levels})
    column = {level: j for j, level in enumerate(levels)}
    distinct: dict[int, int] = {}  # id of a rule → its row (the cases of one rule share its object)
    rows: list[list[float]] = []
    index = np.empty(len(rules), dtype=np.int64)
    for i, r in enumerate(rules):
        k = distinct.get(id(r))
        if k is None:
            k = distinct[id(r)] = len(rows)
            row = [np.inf] * len(levels)
            for lt in r.levels:
                row[column[lt.level]] = lt.at_least
            clear = -np.inf if r.clear_below is None else r.clear_below
            rows.append([*row, clear, float(getattr(r, "for_count", 1)), float(r.window // US)])
        index[i] = k
    return levels, np.array(rows, dtype=np.float64).reshape(-1, len(levels) + 3)[index]


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
    levels, table = _rule_table(rules)
    clear, for_count, window = table[:, -3], table[:, -2].astype(np.int64), table[:, -1].astype(np.int64)
    out.cleared = rag.last < clear
    undecided = ~out.cleared
    for j, level in enumerate(levels):  # most severe first, as verdicts.threshold
        at_least = table[:, j]
        above = rag.values >= at_least[rag.case]
        run_start = np.maximum(rag.last_where(~above) + 1, rag.start)  # the trailing run of readings above
        run = rag.end - run_start
        first = np.minimum(run_start, rag.end - 1)
        met = undecided & (run > 0) & (run >= for_count) & (rag.last_us - rag.us[first] >= window)
        if met.any():
            peak = rag.max_from(run_start)
            out.firing |= met
            out.level[met], out.since[met], out.peak[met] = level, first[met], peak[met]
            undecided &= ~met
    return out


def _rates(rules: Sequence[RateRule], rag: _Ragged) -> _Decided:
    n = len(rules)
    out = _Decided(n)
    levels, table = _rule_table(rules)
    window = table[:, -1].astype(np.int64)
    base = rag.last_where(rag.us <= (rag.last_us - window)[rag.case])
    out.judged = base >= 0
    out.last = np.where(out.judged, rag.last - rag.values[np.maximum(base, 0)], rag.last)
    out.cleared = out.judged & (out.last < table[:, -3])
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
        for k in np.flatnonzero(keep(group, decided.firing)):
            case = group[k]
            since = case.history[decided.since[k] - rag.start[k]][0] if decided.since[k] >= 0 else None
            verdict = _verdict(case, decided, int(k), since)
            kept.append((members[k], verdict if is_rate else worded(case, verdict)))
    kept.sort(key=lambda iv: iv[0])
    return kept


def _in_force(zone: Zone, times: Sequence[time], n: int) -> BoolArray:
    """Which of n fixes (at local ``times``) fall in the zone's hours."""
    if not zone.hours:
        return np.ones(n, dtype=bool)
    return np.fromiter((any(h.covers(t) for h in zone.hours) for t in times), dtype=bool, count=n)


def judge_vehicles(cases: Sequence[VehicleCase]) -> list[Verdict]:
    """Every case's verdict, in case order: the fixes of each rule's cases placed in its zones together."""
    by_rule: dict[int, list[int]] = defaultdict(list)  # id of a rule → its cases (the cases of one rule share it)
    for i, c in enumerate(cases):
        by_rule[id(c.rule)].append(i)
    verdicts: dict[int, Verdict] = {}
    for members in by_rule.values():
        rule: VehicleRule = cases[members[0]].rule
        zones = getattr(rule, "zones", ())
        fixes = [f for i in members for f in cases[i].track]
        lons = np.fromiter((f.lon for f in fixes), dtype=np.float64, count=len(fixes))
        lats = np.fromiter((f.lat for f in fixes), dtype=np.float64, count=len(fixes))
        grids = [f.grid_code for f in fixes]
        timed = hours_apply(rule)
        times = [local_time(f.ts) for f in fixes] if timed and any(z.hours for z in zones) else []
        masks = [zone_mask(z, lons, lats, grids) & (_in_force(z, times, len(fixes)) if timed else True)
                 for z in zones]
        table = np.column_stack(masks) if masks else np.zeros((len(fixes), 0), dtype=bool)
        placed = [tuple(np.flatnonzero(row).tolist()) for row in table]
        start = 0
        for i in members:
            n = len(cases[i].track)
            verdicts[i] = verdict_of(cases[i], placed[start:start + n])
            start += n
    return [verdicts[i] for i in range(len(cases))]


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every device as silence judges it, column by column (a city's 100,000 at each tick, read as plain rows)."""

    device_ids: Sequence[str]
    townships: Sequence[str | None]
    seen_us: npt.NDArray[np.int64]  # last seen (its registration when never), µs since the epoch
    interval_us: npt.NDArray[np.int64]  # how often it reports

    @classmethod
    def of(cls, devices: Sequence[DeviceSilence]) -> Fleet:
        return cls([d.device_id for d in devices], [d.township_code for d in devices],
                   np.array([((d.last_seen or d.registered_at) - EPOCH) // US for d in devices], dtype=np.int64),
                   np.array([d.expected_interval // US for d in devices], dtype=np.int64))


def silences(rule: NoDataRule, fleet: Fleet, now: datetime,
             open_subjects: set[str] | None = None) -> tuple[list[Verdict], set[str]]:
    """``verdicts.no_data``'s verdicts and inhibited devices, judged over arrays (a city's every device at each
    tick), in its order; given ``open_subjects`` (those with an open warning) only the firing verdicts and
    theirs are built."""
    n = len(fleet.device_ids)
    if n == 0:
        return [], set()
    intervals, which = np.unique(fleet.interval_us, return_inverse=True)
    limits = np.array([(timedelta(microseconds=int(u)) * rule.factor) // US for u in intervals],  # timedelta's
                      dtype=np.int64)  # rounding, as no_data's
    silent = (now - EPOCH) // US - fleet.seen_us > limits[which]
    towns, member_of = np.unique(np.array([t or "-" for t in fleet.townships], dtype=object), return_inverse=True)
    members = np.bincount(member_of, minlength=len(towns))
    quiet_ones = np.bincount(member_of, weights=silent, minlength=len(towns)).astype(np.int64)
    down = (towns != "-") & (members >= rule.inhibit_min_devices) & (quiet_ones >= rule.inhibit_ratio * members)
    held = down[member_of] & silent  # a down township's silent devices: its area warning stands for them
    inhibited = {fleet.device_ids[k] for k in np.flatnonzero(held).tolist()}
    wanted = ~held  # offline or cleared, except the inhibited
    if open_subjects is not None:
        wanted &= silent | np.fromiter((d in open_subjects for d in fleet.device_ids), dtype=bool, count=n)
    order = np.argsort(member_of, kind="stable")  # township by township, each one's devices in their given order
    emitted = order[wanted[order]]
    starts = np.searchsorted(member_of[emitted], np.arange(len(towns) + 1))
    verdicts: list[Verdict] = []
    for t, town in enumerate(towns):
        area = f"township:{town}"
        if town != "-" and (down[t] or open_subjects is None or area in open_subjects):
            verdicts.append(Verdict(area, firing=bool(down[t]), cleared=not down[t],
                                    level=rule.level if down[t] else None, last=float(quiet_ones[t])))
        for k in emitted[starts[t]:starts[t + 1]].tolist():
            device_id = fleet.device_ids[k]
            verdicts.append(Verdict(device_id, firing=True, cleared=False, level=rule.level) if silent[k]
                            else Verdict(device_id, firing=False, cleared=True))
    return verdicts, inhibited
