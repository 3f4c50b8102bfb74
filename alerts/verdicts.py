"""What each rule kind says about its subjects: pure functions of data and ``now``.

Every evaluator returns ``Verdict``s; one stage (alerts/apply.py) turns any verdict into
warning rows, whatever the kind, so all kinds share dedupe, levels and clearing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from alerts.rules import LINE_NAMES, LINE_ORDER, CompoundRule, GeofenceRule, NoDataRule, RateRule, ThresholdRule

Series = Sequence[tuple[datetime, float]]
Details = Mapping[str, Any]  # JSON: what made a warning (warnings.details)

# How a warning's text names a metric: (words, unit). Data in the database, in Chinese like the rule names.
METRIC_WORDS: dict[str, tuple[str, str]] = {"rain_1h": ("1小时雨量", "mm"), "water_level": ("水位", "m"),
                                            "gas_lel": ("可燃气体浓度", "%LEL"), "speed_kmh": ("车速", "km/h")}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule about one subject now: firing at a level, cleared, or neither (hysteresis band)."""

    subject: str
    firing: bool
    cleared: bool
    level: int | None = None
    since: datetime | None = None  # start of the sustained breach
    peak: float | None = None
    last: float | None = None
    details: Details | None = None  # what made it (JSON), kept on the warning
    basis: str | None = None  # the same in words, for the warning's and the incident's title


def _number(value: float, unit: str) -> str:
    return f"{value:.2f} {unit}" if unit == "m" else f"{value:.1f} {unit}".rstrip()


def _measure(metric: str, value: float, hours: int = 1) -> str:
    words, unit = METRIC_WORDS.get(metric, (metric, ""))
    if metric == "rain_1h" and hours > 1:
        words = f"{hours}小时雨量"
    return f"{words} {_number(value, unit)}"


def line_crossed(lines: Mapping[str, float], value: float) -> tuple[str, float] | None:
    """The highest of a station's lines that ``value`` reaches: (line, its height), or None."""
    reached = [(LINE_ORDER[name], name, height) for name, height in lines.items()
               if name in LINE_ORDER and value >= height]
    if not reached:
        return None
    _, name, height = max(reached)
    return name, height


def _line_words(lines: Mapping[str, float], value: float) -> str:
    crossed = line_crossed(lines, value)
    if crossed is not None:
        name, height = crossed
        return f"超{LINE_NAMES[name]} {value - height:.2f} m"
    if "warning" in lines:
        return f"低于{LINE_NAMES['warning']} {lines['warning'] - value:.2f} m"
    return ""


def explain(rule: ThresholdRule, verdict: Verdict, lines: Mapping[str, float]) -> Verdict:
    """A threshold verdict with what made it: the accumulation and its grade, the station's line crossed."""
    if verdict.last is None:
        return verdict
    value = verdict.peak if verdict.firing and verdict.peak is not None else verdict.last
    details: dict[str, Any] = {"metric": rule.metric, "value": value}
    words = [_measure(rule.metric, value, rule.accumulate_hours)]
    if rule.accumulate_hours > 1:
        details["hours"] = rule.accumulate_hours
    if (grade := rule.grade_of(value)) is not None:
        details["grade"] = grade
        words.append(grade)
    if lines:
        details["lines"] = dict(lines)
        # A firing level names the line it is defined on (接近警戒 is the warning line, from below); the
        # value may be past a higher line that has not lasted long enough yet to raise the level.
        by_level: dict[int, str] = {ll.level: ll.line for ll in rule.lines}
        line = by_level.get(verdict.level) if verdict.firing and verdict.level is not None else None
        if line is None and (crossed := line_crossed(lines, value)) is not None:
            line = crossed[0]
        if line is not None and line in lines:
            details["line"], details["line_value"] = line, lines[line]
            over = value - lines[line]
            words.append(f"超{LINE_NAMES[line]} {over:.2f} m" if over >= 0 else f"距{LINE_NAMES[line]} {-over:.2f} m")
        elif said := _line_words(lines, value):
            words.append(said)
    return Verdict(verdict.subject, verdict.firing, verdict.cleared, verdict.level, verdict.since, verdict.peak,
                   verdict.last, details, "，".join(words))


def quiet(subject: str) -> Verdict:
    return Verdict(subject, firing=False, cleared=False)


def threshold(rule: ThresholdRule, subject: str, readings: Series) -> Verdict:
    """Readings of one device and metric in time order, ending at the latest."""
    if not readings:
        return quiet(subject)
    last_ts, last = readings[-1]
    if rule.clear_below is not None and last < rule.clear_below:
        return Verdict(subject, firing=False, cleared=True, last=last)
    for lt in sorted(rule.levels, key=lambda lt: lt.level):  # most severe first
        run: list[tuple[datetime, float]] = []
        for ts, value in reversed(readings):
            if value < lt.at_least:
                break
            run.append((ts, value))
        if run and len(run) >= rule.for_count and last_ts - run[-1][0] >= rule.window:
            return Verdict(subject, firing=True, cleared=False, level=lt.level, since=run[-1][0],
                           peak=max(v for _, v in run), last=last)
    return Verdict(subject, firing=False, cleared=False, last=last)


def accumulation(hourly: Mapping[int, float], hours: int) -> tuple[float, int]:
    """The total over ``hours`` from rolling 1-h totals read at whole hours back: ``hourly[k]`` is the
    reading k hours before the latest (k = 0 the latest itself), each covering the hour before it, so
    the readings at 0, 1, … hours−1 back tile the window. Returns (total, hours covered): an hour with no
    reading (the gauge was silent, or too new) adds nothing, so the total is a lower bound and a breach
    it shows is a breach."""
    present = [hourly[k] for k in range(hours) if k in hourly]
    return round(sum(present), 1), len(present)


def hourly_readings(readings: Series, hours: int, tolerance: timedelta) -> dict[int, float]:
    """From one gauge's rolling 1-h totals in time order: the reading at each whole hour back from the
    latest (within ``tolerance`` before it), as ``accumulation`` wants them."""
    if not readings:
        return {}
    last_ts = readings[-1][0]
    found: dict[int, float] = {}
    for k in range(hours):
        anchor = last_ts - timedelta(hours=k)
        near = [(ts, value) for ts, value in readings if anchor - tolerance < ts <= anchor]
        if near:
            found[k] = near[-1][1]
    return found


def rate(rule: RateRule, subject: str, readings: Series) -> Verdict:
    """The rise from the last reading at least a window old to the latest one."""
    if not readings:
        return quiet(subject)
    last_ts, last = readings[-1]
    older = [(ts, v) for ts, v in readings if ts <= last_ts - rule.window]
    if not older:
        return Verdict(subject, firing=False, cleared=False, last=last)  # not enough history yet
    base_ts, base = older[-1]
    rise = last - base
    if rise < rule.clear_below:
        return Verdict(subject, firing=False, cleared=True, last=rise)
    level = rule.level_of(rise)
    if level is None:
        return Verdict(subject, firing=False, cleared=False, last=rise)
    return Verdict(subject, firing=True, cleared=False, level=level, since=base_ts, peak=rise, last=rise)


class TelemetryCase(NamedTuple):
    """One telemetry rule about one device and metric, with what it reads: the same input for the
    per-reading judge (``judge``) and the batch one (``alerts.batch.judge_cases``)."""

    rule: ThresholdRule | RateRule  # as it applies at this device (a rule on lines: the station's own put in)
    subject: str  # the device id
    history: Series  # in time order, ending at the latest: the window (a breach, a rate) or the latest alone
    lines: Mapping[str, float] = {}  # the station's own lines, for the warning's words
    covered: int | None = None  # an accumulation: hours with a reading (``history`` is its one total)


def worded(case: TelemetryCase, verdict: Verdict) -> Verdict:
    """A threshold verdict with what made it (``explain``), an accumulation's hours covered too."""
    if isinstance(case.rule, RateRule):
        return verdict
    verdict = explain(case.rule, verdict, case.lines)
    if case.covered is None or verdict.details is None:
        return verdict
    return Verdict(verdict.subject, verdict.firing, verdict.cleared, verdict.level, verdict.since, verdict.peak,
                   verdict.last, {**verdict.details, "hours_covered": case.covered}, verdict.basis)


def judge(case: TelemetryCase) -> Verdict:
    """The per-reading path: one case at a time."""
    if isinstance(case.rule, RateRule):
        return rate(case.rule, case.subject, case.history)
    return worded(case, threshold(case.rule, case.subject, case.history))


@dataclass(frozen=True, slots=True)
class DeviceSilence:
    device_id: str
    township_code: str | None
    last_seen: datetime | None  # None: never reported; counts from registration
    registered_at: datetime
    expected_interval: timedelta


def no_data(rule: NoDataRule, devices: Iterable[DeviceSilence], now: datetime) -> tuple[list[Verdict], set[str]]:
    """Per-device offline verdicts and area verdicts; returns (verdicts, inhibited device ids).

    ``now`` is the time of the freshest data the platform holds, not the wall clock: when
    ingest itself stalls, no device is to blame.

    When most devices of a township fall silent together the cause is the area (a power
    cut, the network), so one ``township:<code>`` warning stands for them all and their
    own offline warnings are inhibited.
    """
    verdicts: list[Verdict] = []
    by_township: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for d in devices:
        silent = now - (d.last_seen or d.registered_at) > d.expected_interval * rule.factor
        by_township[d.township_code or "-"].append((d.device_id, silent))
    inhibited: set[str] = set()
    for township, members in sorted(by_township.items()):
        silent_ids = [device_id for device_id, silent in members if silent]
        area_down = (township != "-" and len(members) >= rule.inhibit_min_devices
                     and len(silent_ids) >= rule.inhibit_ratio * len(members))
        if township != "-":
            verdicts.append(Verdict(f"township:{township}", firing=area_down, cleared=not area_down,
                                    level=rule.level if area_down else None, last=float(len(silent_ids))))
        if area_down:
            inhibited.update(silent_ids)
        for device_id, silent in members:
            if silent and not area_down:
                verdicts.append(Verdict(device_id, firing=True, cleared=False, level=rule.level))
            elif not silent:
                verdicts.append(Verdict(device_id, firing=False, cleared=True))
    return verdicts, inhibited


def held_back(inhibited: Iterable[str], townships: Mapping[str, str | None]) -> dict[str, list[str]]:
    """The inhibited devices by the area warning that stands for them (``township:<code>``), each in id order:
    what ``alerts.apply.record_inhibited`` records, from either path's inhibited ids."""
    held: dict[str, list[str]] = defaultdict(list)
    for device_id in sorted(inhibited):
        held[f"township:{townships[device_id]}"].append(device_id)
    return dict(held)


@dataclass(frozen=True, slots=True)
class StationReading:
    """A station's largest value of a metric in a compound rule's window, with its own lines."""

    device_id: str
    name: str
    device_type: str
    metric: str
    ts: datetime
    value: float
    lines: Mapping[str, float] = field(default_factory=dict)


def compound(rule: CompoundRule, township: str, readings: Iterable[StationReading]) -> Verdict:
    """Each condition met by the township's stations whose value in the window reaches its bound (a fixed
    value, or the station's own line); the details name every such station with its value, the strongest
    first, and the basis says the strongest of each condition in words."""
    readings = list(readings)
    met: list[bool] = []
    parts: list[dict[str, Any]] = []
    words: list[str] = []
    for c in rule.conditions:
        hits = []
        for r in readings:
            bound = c.bound_at(r.lines) if r.device_type in c.device_types and r.metric == c.metric else None
            if bound is not None and r.value >= bound:
                hits.append((r, bound))
        hits.sort(key=lambda h: (-(h[0].value - h[1]), h[0].device_id))
        met.append(bool(hits))
        parts.append({"device_type": list(c.device_types), "metric": c.metric, "line": c.line,
                      "at_least": c.at_least, "met": bool(hits),
                      "stations": [{"device_id": r.device_id, "name": r.name, "value": r.value,
                                    "ts": r.ts.isoformat(), "bound": bound, **({"line_value": r.lines[c.line]}
                                                                              if c.line else {})}
                                   for r, bound in hits]})
        if hits:
            top, _ = hits[0]
            said = f"{top.name} {_measure(top.metric, top.value)}"
            if c.line:
                said += f"（{_line_words(top.lines, top.value)}）"
            more = f" 等{len(hits)}站" if len(hits) > 1 else ""
            words.append(said + more)
    firing = all(met) if rule.combine == "all" else any(met)
    return Verdict(f"township:{township}", firing=firing, cleared=not firing,
                   level=rule.level if firing else None, last=float(sum(met)),
                   details={"conditions": parts}, basis="；".join(words) if firing else None)


def geofence(rule: GeofenceRule, subject: str, track: Sequence[tuple[datetime, str | None]]) -> Verdict:
    """``track``: (ts, grid code) of one moving device in time order."""
    if not track:
        return quiet(subject)

    def inside(code: str | None) -> bool:
        return code is not None and code.startswith(rule.zone)

    if not inside(track[-1][1]):
        return Verdict(subject, firing=False, cleared=True)
    entered = track[-1][0]
    for ts, code in reversed(track):
        if not inside(code):
            break
        entered = ts
    stayed = track[-1][0] - entered
    if rule.trigger == "dwell" and stayed < timedelta(minutes=rule.dwell_minutes):
        return Verdict(subject, firing=False, cleared=False)
    return Verdict(subject, firing=True, cleared=False, level=rule.level, since=entered,
                   last=stayed.total_seconds() / 60)


def event_count(at_least: int, level: int, subject: str, count: int) -> Verdict:
    firing = count >= at_least
    return Verdict(subject, firing=firing, cleared=False, level=level if firing else None, last=float(count))


def hotspot_quiet(subject: str, last_event: datetime | None, now: datetime, quiet: timedelta) -> Verdict:
    """A hotspot's warning at the timer: cleared once its grid has had no complaint of its kind for ``quiet``
    (complaints alone never clear it: each one only counts the cluster again)."""
    return Verdict(subject, firing=False, cleared=last_event is None or now - last_event >= quiet)
