"""The numbers of the data-quality report, computed from what ``quality_reads`` read; pure, no I/O.

Units follow ``ingest.counters``: received and rejected count MQTT messages; stored,
duplicates and late count rows. Rates are percentages: rejected of received, late of
stored, online of registered devices. A month-on-month change is relative (%) for
counts and in percentage points for rates; None when there is nothing to compare with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from i18n.timefmt import local
from reports.month import Month
from reports.quality_reads import Fleet, QualityFigures

WORST_DEVICES = 10
DEAD_LETTER_EXAMPLES = 10
SECONDS_PER_HOUR = 3600
KIND_ORDER = ("telemetry", "event", "status", "bad_topic")
_COUNTS = ["received", "stored", "duplicates", "rejected_n", "late"]


def ratio(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is 0 (never 0 %)."""
    return 100 * part / whole if whole else None


def _ratios(parts: pd.Series, wholes: pd.Series) -> pd.Series:
    """``ratio`` row by row, None kept as None (a float column would turn it into NaN)."""
    return pd.Series([ratio(p, w) for p, w in zip(parts, wholes, strict=True)], index=parts.index, dtype=object)


@dataclass(frozen=True, slots=True)
class Totals:
    received: int
    stored: int
    duplicates: int
    rejected: int
    late: int
    devices: int  # registered at the month's end (or at the clock while it runs)
    online: int

    @property
    def reject_rate(self) -> float | None:
        return ratio(self.rejected, self.received)

    @property
    def late_rate(self) -> float | None:
        return ratio(self.late, self.stored)

    @property
    def online_rate(self) -> float | None:
        return ratio(self.online, self.devices)

    @property
    def empty(self) -> bool:
        return self.received == 0


def totals(counters: pd.DataFrame, fleet: Fleet) -> Totals:
    sums = {c: int(counters[c].sum()) if len(counters) else 0 for c in _COUNTS}
    return Totals(sums["received"], sums["stored"], sums["duplicates"], sums["rejected_n"], sums["late"],
                  fleet.devices, fleet.online)


def relative_change(now: int, before: int) -> float | None:
    return 100 * (now - before) / before if before else None


def point_change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


@dataclass(frozen=True, slots=True)
class MonthChanges:
    """This month against the previous one: counts in %, rates in percentage points. Message figures are
    not compared with a month that received nothing (a system's first month)."""

    received: float | None
    stored: float | None
    rejected: float | None
    late: float | None
    duplicates: float | None
    devices: float | None
    reject_rate: float | None
    late_rate: float | None
    online_rate: float | None


def changes(now: Totals, before: Totals) -> MonthChanges:
    def counts(attr: str) -> float | None:
        return None if before.empty else relative_change(getattr(now, attr), getattr(before, attr))

    def rates(attr: str) -> float | None:
        return None if before.empty else point_change(getattr(now, attr), getattr(before, attr))

    return MonthChanges(counts("received"), counts("stored"), counts("rejected"), counts("late"), counts("duplicates"),
                   relative_change(now.devices, before.devices), rates("reject_rate"), rates("late_rate"),
                   point_change(now.online_rate, before.online_rate))


def by_source(counters: pd.DataFrame) -> pd.DataFrame:
    """One row per source with its counts and rates, devices first, then event systems, then the rest."""
    columns = ["source", "kind", "dept", "device_type", *_COUNTS, "reject_rate", "late_rate"]
    if not len(counters):
        return pd.DataFrame(columns=columns)
    keys = ["source", "kind"]
    sums = counters.groupby(keys, sort=False)[_COUNTS].sum().astype("int64")
    labels = counters.groupby(keys, sort=False)[["dept", "device_type"]].first()
    out = sums.join(labels).reset_index()
    out["reject_rate"] = _ratios(out["rejected_n"], out["received"])
    out["late_rate"] = _ratios(out["late"], out["stored"])
    out["order"] = [KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER) for k in out["kind"]]
    return out.sort_values(["order", "received", "source"], ascending=[True, False, True])[columns].reset_index(
        drop=True)


def by_reason(counters: pd.DataFrame) -> pd.DataFrame:
    """reason, n (messages), share (% of all rejected), most frequent first."""
    total: Counter[str] = Counter()
    for rejected in counters["rejected"] if len(counters) else ():
        total.update({reason: int(n) for reason, n in rejected.items()})
    rows = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    all_rejected = sum(total.values())
    return pd.DataFrame([(reason, n, ratio(n, all_rejected)) for reason, n in rows], columns=["reason", "n", "share"])


def by_day(counters: pd.DataFrame, month: Month, last_day: date) -> pd.DataFrame:
    """day, received, rejected (messages) for every day of the month up to ``last_day``, zeros included."""
    days = [month.first_day + timedelta(days=i) for i in range((last_day - month.first_day).days + 1)]
    if len(counters):
        sums = counters.groupby("day")[["received", "rejected_n"]].sum().astype("int64")
    else:
        sums = pd.DataFrame(columns=["received", "rejected_n"], dtype="int64")
    out = sums.reindex(days, fill_value=0).rename(columns={"rejected_n": "rejected"})
    out.index.name = "day"
    return out.reset_index()


@dataclass(frozen=True, slots=True)
class Reporting:
    """Readings expected from every device over the month and received (each device's capped at its
    expected: one chatty device does not make up for a silent one): 报送完整率."""

    expected: int
    received: int

    @property
    def completeness(self) -> float | None:
        return ratio(self.received, self.expected)


def device_reporting(devices: pd.DataFrame) -> pd.DataFrame:
    """Per device: expected readings (registered seconds ÷ interval), missing, completeness (%), and
    silent hours (whole hours without a reading; only for devices expected to report thrice an hour or more)."""
    out = devices.copy()
    interval = out["expected_interval_s"].astype("int64")
    active = out["active_s"].astype("int64")
    reports = out["reports"].astype("int64")
    out["expected"] = active // interval
    out["missing"] = (out["expected"] - reports).clip(lower=0)
    out["completeness"] = _ratios(reports.clip(upper=out["expected"]), out["expected"])
    silent = (active // SECONDS_PER_HOUR - out["hours"].astype("int64")).clip(lower=0)
    out["silent_hours"] = silent.astype(object).where(interval * 3 <= SECONDS_PER_HOUR, None)
    return out


def reporting_totals(reporting: pd.DataFrame) -> Reporting:
    expected = reporting["expected"].astype("int64")
    capped = reporting["reports"].astype("int64").clip(upper=expected)
    return Reporting(int(expected.sum()), int(capped.sum()))


def worst_devices(reporting: pd.DataFrame, n: int = WORST_DEVICES) -> pd.DataFrame:
    """The ``n`` devices that missed the largest share of their readings (devices that missed none are not listed)."""
    missed = reporting[(reporting["missing"] > 0) & (reporting["expected"] > 0)]
    ranked = missed.assign(order=[float(c) for c in missed["completeness"]]).sort_values(
        ["order", "missing", "device_id"], ascending=[True, False, True])
    return ranked.drop(columns="order").head(n).reset_index(drop=True)


def dead_letter_examples(dead_letters: pd.DataFrame, reasons: pd.DataFrame,
                         n: int = DEAD_LETTER_EXAMPLES) -> pd.DataFrame:
    """The newest dead letter of each reason, the most frequent reasons (by the counters) first."""
    rank = {reason: i for i, reason in enumerate(reasons["reason"])}
    order = [rank.get(r, len(rank)) for r in dead_letters["reason"]]
    return (dead_letters.assign(order=order).sort_values(["order", "reason"]).drop(columns="order")
            .head(n).reset_index(drop=True))


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Everything the document prints, computed once."""

    month: Month
    as_of_end: bool  # True: the month is over; False: figures up to ``figures.as_of``
    figures: QualityFigures
    totals: Totals
    previous: Totals
    changes: MonthChanges
    sources: pd.DataFrame
    reasons: pd.DataFrame
    daily: pd.DataFrame
    reporting: Reporting
    worst: pd.DataFrame
    examples: pd.DataFrame


def compute(figures: QualityFigures) -> QualityReport:
    now = totals(figures.counters, figures.fleet)
    before = totals(figures.previous_counters, figures.previous_fleet)
    reasons = by_reason(figures.counters)
    reporting = device_reporting(figures.devices)
    ended = figures.as_of >= figures.month.end
    last_day = figures.month.next_first_day - timedelta(days=1) if ended else local(figures.as_of).date()
    return QualityReport(
        month=figures.month, as_of_end=ended, figures=figures, totals=now, previous=before,
        changes=changes(now, before), sources=by_source(figures.counters), reasons=reasons,
        daily=by_day(figures.counters, figures.month, last_day), reporting=reporting_totals(reporting),
        worst=worst_devices(reporting), examples=dead_letter_examples(figures.dead_letters, reasons),
    )
