"""The batch path judges exactly as the per-reading path: thousands of seeded cases of every telemetry rule
kind (fixed levels with durations and counts, the shipped rules on each station's own lines, rainfall
accumulations, rates; ints and floats, ties at the bounds, empty and one-reading histories) fed to both,
every verdict compared whole (level, start, peak, last value, details and words); and silence (no_data)
judged over arrays as device by device, for fleets with areas down, devices never heard from and devices
exactly at their limit."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from alerts import verdicts as v
from alerts.batch import Fleet, judge_cases, silences
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
            on_lines = rng.choice(ON_LINES)
            lines = rng.choice(STATIONS)
            at_station = on_lines.at_station(lines)
            if at_station is None:
                continue
            cases.append(v.TelemetryCase(at_station, f"d{i}", _history(rng, at_station, rng.choice([0, 1, 1, 8, 40])),
                                         lines))
        elif kind < 0.45:
            rule: ThresholdRule | RateRule = rng.choice(
                [r for r in FIXED if isinstance(r, ThresholdRule) and r.accumulate_hours > 1])
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


def _rounds(seed: int, pairs: int) -> list[v.TelemetryCase]:
    """Cases as the engine builds them for pairs that stored several readings since the last round: per pair a
    few rules, then each new reading in time order with every rule's case of it, its history cut there."""
    rng = random.Random(seed)
    cases: list[v.TelemetryCase] = []
    for i in range(pairs):
        lines = rng.choice(STATIONS)
        rules = [r for r in rng.sample([*FIXED, COUNTED, *ON_LINES], 3) if not (
            isinstance(r, ThresholdRule) and r.accumulate_hours > 1) and not isinstance(r, RateRule)]
        mine = [at for r in rules if (at := r.at_station(lines) if r.lines else r) is not None]
        if not mine:
            continue
        series = _history(rng, mine[0], rng.choice([2, 5, 12, 40]))
        first_new = rng.randrange(len(series))
        cases.extend(v.TelemetryCase(rule, f"p{i}", series[:end], lines if rule.lines else {})
                     for end in range(first_new + 1, len(series) + 1) for rule in mine)
    return cases


def _one_round_per_reading(cases: list[v.TelemetryCase], open_now: set[tuple[str, str]]
                           ) -> list[tuple[v.TelemetryCase, v.Verdict]]:
    """Each case judged in a round of its own, the warnings open as the rounds before left them."""
    is_open = set(open_now)
    applied = []
    for case in cases:
        applied.extend(judged([case], is_open))
        verdict = v.judge(case)
        key = (case.rule.id, case.subject)
        if verdict.firing:
            is_open.add(key)
        elif verdict.cleared:
            is_open.discard(key)
    return applied


@pytest.mark.parametrize("seed", range(4))
def test_several_readings_of_a_pair_in_a_round_apply_as_one_round_per_reading(seed: int) -> None:
    cases = _rounds(seed, 400)
    rng = random.Random(seed)
    open_now = {(c.rule.id, c.subject) for c in cases if rng.random() < 0.05}
    expected = _one_round_per_reading(cases, open_now)
    assert judged(cases, open_now) == expected  # the numpy path (thousands of cases)
    small = 0
    for subject in sorted({c.subject for c in cases}):  # a pair alone in its round: mostly the one-at-a-time path
        mine = [c for c in cases if c.subject == subject]
        small += len(mine) < BATCH_FROM
        assert judged(mine, open_now) == [(c, x) for c, x in expected if c.subject == subject]
    assert small > 100
    # the rounds reach what judging the newest reading alone misses: a warning opened and cleared within the
    # round, and one opened again after that
    applied: dict[tuple[str, str], str] = defaultdict(str)
    for c, x in expected:
        applied[(c.rule.id, c.subject)] += "F" if x.firing else "C" if x.cleared else "-"
    assert sum("F" in seen and "C" in seen for key, seen in applied.items() if key not in open_now) > 10
    assert any("FC" in seen and "CF" in seen for seen in applied.values())


def _fleet(seed: int, n: int) -> list[v.DeviceSilence]:
    """Devices over a few townships (and none), some never heard from, some exactly at their silence limit."""
    rng = random.Random(seed)
    towns = [f"43100200{k}" for k in range(8)] + [None]
    fleet = []
    for i in range(n):
        interval = timedelta(seconds=rng.choice([10, 60, 300, 3600, 7]))
        town = rng.choice(towns)
        down = town in ("431002001", "431002002")  # mostly silent: an area out
        age = (interval * 10 if down and rng.random() < 0.9 else
               rng.choice([interval * 3, interval * 3 + timedelta(microseconds=1), interval * 0.5, interval * 10]))
        seen = None if rng.random() < 0.05 else T0 - age
        fleet.append(v.DeviceSilence(f"dev-{i:05d}", town, seen, T0 - timedelta(days=1) if seen else T0 - age,
                                     interval))
    rng.shuffle(fleet)
    return fleet


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("factor", [3.0, 1.1, 2.5])
def test_silence_judged_over_arrays_is_no_data_verdict_for_verdict(seed: int, factor: float) -> None:
    rule = SHIPPED["device_offline"].model_copy(update={"factor": factor})
    assert rule.kind == "no_data"
    fleet = _fleet(seed, 4000)
    expected, inhibited = v.no_data(rule, fleet, T0)
    # the same inhibited devices too: what both paths record against their area warnings (record_inhibited)
    assert silences(rule, Fleet.of(fleet), T0) == (expected, inhibited) and inhibited
    open_now = {x.subject for x in expected[::9]} | {"township:431002005"}
    assert silences(rule, Fleet.of(fleet), T0, open_now) == \
        ([x for x in expected if x.firing or x.subject in open_now], inhibited)
    assert {x.firing for x in expected} == {True, False}
    assert any(x.firing and x.subject.startswith("township:") for x in expected)  # an area down, its devices inhibited
