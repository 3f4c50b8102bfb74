"""防汛 rules, pure and with a fixed clock: each station's own lines, rainfall over 1 h / 3 h / 24 h with the
national grades named, and the compound red warning naming the stations and values behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts import verdicts as v
from alerts.rules import CompoundRule, RuleError, ThresholdRule, load_rules, parse_rules
from tests.alerts.paths import PATHS, Judge, on

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
SHIPPED = {r.id: r for r in load_rules()}
RIVER = SHIPPED["river_high"]
RESERVOIR = SHIPPED["reservoir_high"]
RAIN_1H, RAIN_3H, RAIN_24H = SHIPPED["heavy_rain"], SHIPPED["rain_3h"], SHIPPED["rain_24h"]
FLOOD = SHIPPED["flood_compound"]
assert isinstance(RIVER, ThresholdRule) and isinstance(RESERVOIR, ThresholdRule)
assert isinstance(RAIN_1H, ThresholdRule) and isinstance(RAIN_3H, ThresholdRule)
assert isinstance(RAIN_24H, ThresholdRule) and isinstance(FLOOD, CompoundRule)

LOW_BANKS = {"warning": 2.5, "guarantee": 3.2}  # two river stations with lines of their own
HIGH_BANKS = {"warning": 3.4, "guarantee": 4.6}
DAM = {"flood_limit": 19.5, "warning": 20.6, "guarantee": 21.7}


def minutes(*values: float, every: float = 1) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=i * every), val) for i, val in enumerate(values)]


def judge(path: Judge, rule: ThresholdRule, lines: dict[str, float], values: list[float]) -> v.Verdict:
    at_station = rule.at_station(lines)
    assert at_station is not None
    return on(path, at_station, "river-1", minutes(*values), lines)


@pytest.mark.parametrize(
    ("lines", "stage", "level", "line"),
    [
        (LOW_BANKS, 2.1, None, None),  # 0.4 m below its warning line
        (LOW_BANKS, 2.3, 4, "warning"),  # within 0.3 m of it: 接近警戒, blue
        (LOW_BANKS, 2.6, 3, "warning"),  # over 警戒水位: yellow
        (LOW_BANKS, 3.3, 2, "guarantee"),  # over 保证水位: orange
        (LOW_BANKS, 3.8, 1, "guarantee"),  # 0.6 m over 保证水位: red
        (HIGH_BANKS, 3.3, 4, "warning"),  # the same 3.3 m at a station with higher banks: only approaching
        (HIGH_BANKS, 3.5, 3, "warning"),
    ],
)
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_river_level_is_judged_against_the_stations_own_lines(
        path: Judge, lines: dict[str, float], stage: float, level: int | None, line: str | None) -> None:
    got = judge(path, RIVER, lines, [stage] * 6)  # for_minutes = 5
    assert (got.firing, got.level) == (level is not None, level)
    assert got.details is not None and got.details.get("line") == line
    if line is not None:
        assert got.details["line_value"] == lines[line]
        said = "距" if stage < lines[line] else "超"
        assert got.basis is not None and f"{said}{ {'warning': '警戒水位', 'guarantee': '保证水位'}[line]}" in got.basis


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_level_names_the_line_it_is_defined_on_until_a_higher_one_has_lasted(path: Judge) -> None:
    got = judge(path, RIVER, LOW_BANKS, [2.6] * 6 + [3.3] * 2)  # over 保证 for 1 minute only: still 超警戒
    assert got.level == 3 and got.details is not None and got.details["line"] == "warning"
    assert got.basis == "水位 3.30 m，超警戒水位 0.80 m"
    assert judge(path, RIVER, LOW_BANKS, [2.3] * 6).basis == "水位 2.30 m，距警戒水位 0.20 m"


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_the_level_says_which_line_and_by_how_much(path: Judge) -> None:
    got = judge(path, RIVER, LOW_BANKS, [2.9] * 6)
    assert got.basis == "水位 2.90 m，超警戒水位 0.40 m"
    assert got.details == {"metric": "water_level", "value": 2.9, "lines": LOW_BANKS, "line": "warning",
                           "line_value": 2.5}


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_station_clears_below_its_own_lowest_level_less_the_margin(path: Judge) -> None:
    at_station = RIVER.at_station(LOW_BANKS)
    assert at_station is not None
    assert at_station.clear_below == pytest.approx(2.5 - 0.3 - 0.2)
    assert on(path, at_station, "r", minutes(*[2.6] * 6, 1.9)).cleared
    assert not on(path, at_station, "r", minutes(*[2.6] * 6, 2.1)).cleared  # in the band: neither


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_reservoir_warns_from_its_flood_limit_and_a_river_rule_skips_a_station_without_lines(path: Judge) -> None:
    assert judge(path, RESERVOIR, DAM, [19.7] * 6).level == 4  # over 汛限水位
    assert judge(path, RESERVOIR, DAM, [20.9] * 6).level == 3
    assert judge(path, RESERVOIR, DAM, [21.8] * 6).level == 2
    no_limit = RESERVOIR.at_station({"warning": 20.6, "guarantee": 21.7})
    assert no_limit is not None and sorted(lt.level for lt in no_limit.levels) == [2, 3]
    assert RIVER.at_station({}) is None  # a station registered without lines is not judged on lines


# --- rainfall accumulations -----------------------------------------------------------------

def rolling(per_hour: list[float], every_min: int = 10) -> list[tuple[datetime, float]]:
    """A gauge's rolling 1-h totals every ``every_min`` minutes, hour by hour at the given rates."""
    out = []
    for h, rate in enumerate(per_hour):
        for m in range(0, 60, every_min):
            out.append((T0 + timedelta(hours=h, minutes=m + every_min), rate))
    return out


def test_three_hours_are_summed_from_the_readings_at_whole_hours_back() -> None:
    readings = rolling([12.0, 30.0, 41.5])
    hourly = v.hourly_readings(readings, 3, timedelta(minutes=10))
    assert hourly == {0: 41.5, 1: 30.0, 2: 12.0}
    assert v.accumulation(hourly, 3) == (83.5, 3)
    assert v.accumulation(hourly, 1) == (41.5, 1)


def test_a_silent_hour_adds_nothing_so_the_total_is_a_lower_bound() -> None:
    readings = [r for r in rolling([20.0, 30.0, 41.5]) if not (T0 + timedelta(hours=1) < r[0] <= T0
                                                              + timedelta(hours=2))]
    hourly = v.hourly_readings(readings, 3, timedelta(minutes=10))
    assert v.accumulation(hourly, 3) == (61.5, 2)


@pytest.mark.parametrize(
    ("rule_id", "total", "level", "grade"),
    [
        ("rain_3h", 49.9, None, None),
        ("rain_3h", 50.0, 2, None),  # 暴雨橙色预警信号: 50 mm in 3 h
        ("rain_3h", 100.0, 1, None),  # 暴雨红色预警信号: 100 mm in 3 h
        ("rain_24h", 9.9, None, "小雨"),  # GB/T 28592-2012 表1, 24 h
        ("rain_24h", 10.0, None, "中雨"),
        ("rain_24h", 25.0, None, "大雨"),
        ("rain_24h", 50.0, 4, "暴雨"),
        ("rain_24h", 99.9, 4, "暴雨"),
        ("rain_24h", 100.0, 3, "大暴雨"),
        ("rain_24h", 249.9, 3, "大暴雨"),
        ("rain_24h", 250.0, 2, "特大暴雨"),
    ],
)
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_accumulations_warn_at_their_levels_and_name_the_national_grade(
        path: Judge, rule_id: str, total: float, level: int | None, grade: str | None) -> None:
    rule = SHIPPED[rule_id]
    assert isinstance(rule, ThresholdRule)
    got = path(v.TelemetryCase(rule, "rain-1", [(T0, total)], {}, covered=rule.accumulate_hours))
    assert (got.firing, got.level) == (level is not None, level)
    assert got.details is not None and got.details.get("grade") == grade
    assert got.details["hours"] == got.details["hours_covered"] == rule.accumulate_hours
    assert got.basis is not None and got.basis.startswith(f"{rule.accumulate_hours}小时雨量 {total:.1f} mm")


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_an_hour_of_heavy_rain_is_named_on_the_hourly_scale(path: Judge) -> None:
    got = on(path, RAIN_1H, "rain-1", minutes(*[35.0] * 11))
    assert (got.level, got.basis) == (3, "1小时雨量 35.0 mm，暴雨")
    assert [RAIN_1H.grade_of(x) for x in (0.0, 2.5, 2.6, 8.1, 15.9, 16.0)] == [None, "小雨", "中雨", "大雨", "大雨",
                                                                               "暴雨"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('levels = [{level = 3, at_least = 1.0}]\nlines = [{level = 3, line = "warning"}]\nclear_below = 0.5\n',
         "one of them"),
        ('lines = [{level = 3, line = "warning"}]\nclear_below = 0.5\n', "clear_margin"),
        ('lines = [{level = 2, line = "warning"}, {level = 3, line = "guarantee"}]\n', "higher line"),
        ('lines = [{level = 3, line = "dyke"}]\n', "dyke"),
        ('levels = [{level = 3, at_least = 50.0}]\nclear_below = 5.0\naccumulate_hours = 3\nfor_minutes = 10\n',
         "accumulation"),
        ('levels = [{level = 3, at_least = 50.0}]\nclear_below = 5.0\n'
         'grades = [{name = "大雨", at_least = 25.0}, {name = "中雨", at_least = 10.0}]\n', "grades must rise"),
    ],
)
def test_a_broken_flood_rule_is_refused(body: str, complaint: str) -> None:
    head = '[[rule]]\nid = "f1"\nname = "n"\ncategory = "flood"\ndevice_type = "river_gauge"\nmetric = "water_level"\n'
    with pytest.raises(RuleError) as err:
        parse_rules(head + body, "flood.toml")
    assert "flood.toml" in str(err.value) and complaint in str(err.value)


def test_a_compound_condition_gives_a_value_or_a_line() -> None:
    with pytest.raises(RuleError, match="at_least or line"):
        parse_rules('[[rule]]\nid = "c1"\nkind = "compound"\nname = "n"\ncategory = "c"\ncombine = "all"\n'
                    'within_minutes = 60\nlevel = 1\nconditions = [{device_type = "a", metric = "x"},'
                    ' {device_type = "b", metric = "y", at_least = 1.0}]\n')


# --- the compound red warning ---------------------------------------------------------------

def station(device_id: str, device_type: str, metric: str, value: float, lines: dict[str, float] | None = None,
            minute: int = 0) -> v.StationReading:
    return v.StationReading(device_id, f"{device_id}号", device_type, metric, T0 + timedelta(minutes=minute), value,
                            lines or {})


def test_the_compound_names_the_stations_and_values_that_made_it() -> None:
    readings = [station("rain-a", "rain_gauge", "rain_1h", 62.5), station("rain-b", "rain_gauge", "rain_1h", 12.0),
                station("rain-c", "rain_gauge", "rain_1h", 55.0, minute=3),
                station("river-a", "river_gauge", "water_level", 3.3, HIGH_BANKS),  # 3.3 m: under its own line
                station("river-b", "river_gauge", "water_level", 2.9, LOW_BANKS, minute=20),
                station("dam-a", "reservoir_gauge", "water_level", 20.1, DAM)]  # over 汛限, under 警戒
    got = v.compound(FLOOD, "431021001", readings)
    assert (got.firing, got.level, got.subject) == (True, 1, "township:431021001")
    assert got.details is not None
    rain, level = got.details["conditions"]
    assert [s["device_id"] for s in rain["stations"]] == ["rain-a", "rain-c"]  # the strongest first
    assert [s["value"] for s in rain["stations"]] == [62.5, 55.0]
    assert [(s["device_id"], s["value"], s["line_value"]) for s in level["stations"]] == [("river-b", 2.9, 2.5)]
    assert level["stations"][0]["ts"] == (T0 + timedelta(minutes=20)).isoformat()
    assert got.basis == "rain-a号 1小时雨量 62.5 mm 等2站；river-b号 水位 2.90 m（超警戒水位 0.40 m）"


def test_no_station_over_its_own_warning_line_no_compound() -> None:
    readings = [station("rain-a", "rain_gauge", "rain_1h", 80.0),
                station("river-a", "river_gauge", "water_level", 3.3, HIGH_BANKS),
                station("gauge-without-lines", "river_gauge", "water_level", 9.9)]
    got = v.compound(FLOOD, "431021001", readings)
    assert (got.firing, got.cleared, got.basis) == (False, True, None)
    assert got.details is not None and [c["met"] for c in got.details["conditions"]] == [True, False]
