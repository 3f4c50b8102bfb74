"""The batch path judges exactly as the per-reading path: thousands of seeded cases of every telemetry rule
kind (fixed levels with durations and counts, the shipped rules on each station's own lines, rainfall
accumulations, rates; ints and floats, ties at the bounds, empty and one-reading histories) fed to both,
every verdict compared whole (level, start, peak, last value, details and words)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts import verdicts as v
from alerts.batch import judge_cases
from alerts.evaluate import BATCH_FROM, judged
from alerts.rules import LevelThreshold, RateRule, ThresholdRule, load_rules

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
SHIPPED = {r.id: r for r in load_rules()}
FIXED = [r for r in SHIPPED.values() if isinstance(r, ThresholdRule | RateRule) and r.levels]
ON_LINES = [r for r in SHIPPED.values() if isinstance(r, ThresholdRule) and r.lines]
COUNTED = ThresholdRule(id="speeding", name="超速", category="production_safety", device_type="hazmat_vehicle",
                        metric="speed_kmh", levels=(LevelThreshold(level=3, at_least=80),
                                                    LevelThreshold(level=2, at_least=100)),
                        for_count=3, clear_below=60)
STATIONS = [{"warning": 2.5, "guarantee": 3.2}, {"warning": 3.4, "guarantee": 4.6},
            {"flood_limit": 19.5, "warning": 20.6, "guarantee": 21.7}, {"warning": 2.0}]


def _bounds(rule: ThresholdRule | RateRule) -> list[float]:
    values = [lt.at_least for lt in rule.levels] + ([rule.clear_below] if rule.clear_below is not None else [])
    return values or [0.0]


def _history(rng: random.Random, rule: ThresholdRule | RateRule, n: int) -> list[tuple[datetime, float]]:
    """Values around the rule's bounds (exactly on them too), irregular steps in time, ints now and then."""
    bounds = _bounds(rule)
    span = max(bounds) - min(bounds) or 1.0
    ts, out = T0, []
    for _ in range(n):
        ts += timedelta(seconds=rng.choice([10, 30, 60, 60, 61, 90, 300]))
        pick = rng.random()
        value: float = (rng.choice(bounds) if pick < 0.25 else round(rng.uniform(min(bounds) - span, max(bounds)
                                                                                  + span), rng.choice([0, 1, 3])))
        out.append((ts, int(value) if pick > 0.9 else value))
    return out


def _cases(seed: int, n: int) -> list[v.TelemetryCase]:
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.3:
            rule: ThresholdRule | RateRule = rng.choice(ON_LINES)
            lines = rng.choice(STATIONS)
            at_station = rule.at_station(lines)
            if at_station is None:
                continue
            cases.append(v.TelemetryCase(at_station, f"d{i}", _history(rng, at_station, rng.choice([0, 1, 1, 8, 40])),
                                         lines))
        elif kind < 0.45:
            rule = rng.choice([r for r in FIXED if isinstance(r, ThresholdRule) and r.accumulate_hours > 1])
            cases.append(v.TelemetryCase(rule, f"d{i}", _history(rng, rule, 1), {}, rng.randint(0, 24)))
        else:
            rule = rng.choice([*FIXED, COUNTED])
            if isinstance(rule, ThresholdRule) and rule.accumulate_hours > 1:
                continue
            cases.append(v.TelemetryCase(rule, f"d{i}", _history(rng, rule, rng.choice([0, 1, 1, 2, 5, 30, 120]))))
    return cases


@pytest.mark.parametrize("seed", range(5))
def test_every_verdict_of_a_batch_is_the_per_reading_one(seed: int) -> None:
    cases = _cases(seed, 3000)
    expected = [v.judge(c) for c in cases]
    got = judge_cases(cases)
    assert [i for i, _ in got] == list(range(len(cases)))
    mismatched = [(cases[i], expected[i], verdict) for i, verdict in got if verdict != expected[i]]
    assert not mismatched, mismatched[:3]
    kinds = {(type(c.rule).__name__, e.firing, e.cleared) for c, e in zip(cases, expected, strict=True)}
    assert len(kinds) == 6  # the cases reach every outcome of both kinds: firing, cleared, neither
    assert {e.level for e in expected if e.firing} == {1, 2, 3, 4}


def test_the_engine_applies_the_same_verdicts_on_either_path() -> None:
    cases = _cases(7, 2000)
    open_now = {(c.rule.id, c.subject) for c in cases[::7]}
    small = [judged(cases[k:k + BATCH_FROM - 1], open_now) for k in range(0, len(cases), BATCH_FROM - 1)]
    one_at_a_time = [pair for part in small for pair in part]
    together = judged(cases, open_now)
    assert together == one_at_a_time
    assert {(c.rule.id, c.subject) for c, x in together if not x.firing} == {
        (c.rule.id, c.subject) for c, x in together if (c.rule.id, c.subject) in open_now and not x.firing}
    assert sum(x.firing for _, x in together) > 100
