"""The two paths a telemetry rule is judged on, for the rule-kind tests to run on both: one case at a time
(``verdicts.judge``) and a committed batch's cases together in numpy (``batch.judge_cases``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from alerts import verdicts as v
from alerts.batch import judge_cases
from alerts.rules import RateRule, ThresholdRule

Judge = Callable[[v.TelemetryCase], v.Verdict]


def per_reading(case: v.TelemetryCase) -> v.Verdict:
    return v.judge(case)


def batch(case: v.TelemetryCase) -> v.Verdict:
    """The case judged in a batch with a quiet neighbour on each side, so it is not alone in its arrays."""
    before = v.TelemetryCase(case.rule, "neighbour-before", [(datetime.fromtimestamp(0).astimezone(), -1e9)])
    after = v.TelemetryCase(case.rule, "neighbour-after", [])
    ((_, got),) = [(i, verdict) for i, verdict in judge_cases([before, case, after]) if i == 1]
    return got


PATHS: dict[str, Judge] = {"per_reading": per_reading, "batch": batch}


def on(path: Judge, rule: ThresholdRule | RateRule, subject: str,
       readings: Sequence[tuple[datetime, float]], lines: dict[str, float] | None = None) -> v.Verdict:
    return path(v.TelemetryCase(rule, subject, list(readings), lines or {}))
