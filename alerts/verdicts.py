"""What each rule kind says about its subjects: pure functions of data and ``now``.

Every evaluator returns ``Verdict``s; one stage (alerts/apply.py) turns any verdict into
warning rows, whatever the kind, so all kinds share dedupe, levels and clearing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.rules import CompoundRule, GeofenceRule, NoDataRule, RateRule, ThresholdRule

Series = Sequence[tuple[datetime, float]]


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


def quiet(subject: str) -> Verdict:
    return Verdict(subject, firing=False, cleared=False)


def threshold(rule: ThresholdRule, subject: str, readings: Series) -> Verdict:
    """Readings of one device and metric in time order, ending at the latest."""
    if not readings:
        return quiet(subject)
    last_ts, last = readings[-1]
    if last < rule.clear_below:
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


def compound(rule: CompoundRule, township: str, maxima: dict[tuple[str, str], float]) -> Verdict:
    """``maxima``: the largest value per (device_type, metric) in the township within the window."""
    met = [maxima.get((c.device_type, c.metric), float("-inf")) >= c.at_least for c in rule.conditions]
    firing = all(met) if rule.combine == "all" else any(met)
    return Verdict(f"township:{township}", firing=firing, cleared=not firing,
                   level=rule.level if firing else None, last=float(sum(met)))


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
