"""Threshold rules with duration and hysteresis, evaluated on readings with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.rules import LevelThreshold, RuleError, ThresholdRule, evaluate_threshold, load_rules

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)

RAIN = ThresholdRule(
    id="heavy_rain", name="短时强降雨", category="flood", device_type="rain_gauge", metric="rain_1h",
    levels=(LevelThreshold(level=3, at_least=30), LevelThreshold(level=1, at_least=80)),
    for_minutes=10, clear_below=10,
)


def series(*values: float, every: int = 1) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=i * every), v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "firing", "level", "cleared"),
    [
        ([35] * 10, False, None, False),  # 9 minutes above: not yet
        ([35] * 11, True, 3, False),  # 10 minutes above: fires yellow
        ([5, *[35] * 11], True, 3, False),
        ([35] * 6 + [20] + [35] * 6, False, None, False),  # a dip below resets the duration
        ([85] * 11, True, 1, False),  # red sustained
        ([35] * 5 + [85] * 6, True, 3, False),  # red not yet sustained: yellow holds
        ([35] * 11 + [9], False, None, True),  # below clear_below: cleared
        ([35] * 11 + [15], False, None, False),  # between clear and threshold: neither (hysteresis)
        ([], False, None, False),
    ],
)
def test_threshold_duration(values: list[float], firing: bool, level: int | None, cleared: bool) -> None:
    v = evaluate_threshold(RAIN, series(*values))
    assert (v.firing, v.level, v.cleared) == (firing, level, cleared)


def test_verdict_reports_start_and_peak() -> None:
    v = evaluate_threshold(RAIN, series(5, 31, 40, 33, 36, 32, 31, 30, 39, 45, 31, 34))
    assert v.since == T0 + timedelta(minutes=1)
    assert v.peak == 45 and v.last == 34


def test_zero_duration_fires_on_one_reading() -> None:
    gas = RAIN.model_copy(update={"for_minutes": 0})
    assert evaluate_threshold(gas, series(31)).firing


def test_shipped_rules_load() -> None:
    ids = {r.id for r in load_rules()}
    assert {"gas_leak", "heavy_rain", "fire_alarm", "river_high"} <= ids


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('[[rule]]\nid = "x1"\nname = "n"\ncategory = "c"\ndevice_type = "d"\nmetric = "m"\n'
         'levels = [{level = 1, at_least = 10.0}, {level = 3, at_least = 50.0}]\nclear_below = 1.0\n',
         "more severe level"),
        ('[[rule]]\nid = "x1"\nname = "n"\ncategory = "c"\ndevice_type = "d"\nmetric = "m"\n'
         'levels = [{level = 5, at_least = 10.0}]\nclear_below = 1.0\n', "less than or equal to 4"),
        ('[[rule]]\nid = "x1"\nname = "n"\ncategory = "c"\ndevice_type = "d"\nmetric = "m"\n'
         'levels = [{level = 2, at_least = 10.0}]\nclear_below = 20.0\n', "clear_below"),
        ("[[rule]\n", "x"),  # not TOML at all
    ],
)
def test_broken_rule_file_is_refused_whole(tmp_path: Path, body: str, complaint: str) -> None:
    good = Path("alerts/rules.toml").read_text(encoding="utf-8")
    path = tmp_path / "rules.toml"
    path.write_text(good + "\n" + body, encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules(path)
    assert str(path) in str(err.value)
    if complaint != "x":
        assert complaint in str(err.value)
