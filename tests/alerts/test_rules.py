"""Every rule kind as tables of cases with a fixed clock, plus one contract every kind passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest

from alerts import verdicts as v
from alerts.rules import (
    CompoundRule,
    Condition,
    GeofenceRule,
    LevelThreshold,
    NoDataRule,
    RateRule,
    Rule,
    RuleError,
    ThresholdRule,
    load_rules,
    parse_rules,
)
from alerts.vehicles import Fix, Vehicle, VehicleCase
from alerts.vehicles import judge as vehicle_judge
from tests.alerts.paths import PATHS, Judge, on

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)

RAIN = ThresholdRule(
    id="heavy_rain", name="短时强降雨", category="flood", device_type="rain_gauge", metric="rain_1h",
    levels=(LevelThreshold(level=3, at_least=30), LevelThreshold(level=1, at_least=80)),
    for_minutes=10, clear_below=10,
)
RISE = RateRule(id="river_rising", kind="rate", name="涨水", category="flood", device_type="river_gauge",
                metric="water_level", window_minutes=30, clear_below=0.2,
                levels=(LevelThreshold(level=3, at_least=0.5), LevelThreshold(level=2, at_least=1.0)))
SILENT = NoDataRule(id="offline", kind="no_data", name="离线", category="device_health", factor=3, level=4,
                    inhibit_ratio=0.6, inhibit_min_devices=3)
FLOOD = CompoundRule(id="flood", kind="compound", name="叠加", category="flood", combine="all", within_minutes=60,
                     level=1, conditions=(Condition(device_type="rain_gauge", metric="rain_1h", at_least=50),
                                          Condition(device_type="river_gauge", metric="water_level", at_least=2.5)))
ZONE = GeofenceRule(id="zone", kind="geofence", name="禁行", category="production_safety",
                    device_type="hazmat_vehicle", zone=("431002001",), trigger="dwell", dwell_minutes=5, level=2)


def series(*values: float, every: int = 1) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=i * every), val) for i, val in enumerate(values)]


def stations(values: dict[tuple[str, str], float]) -> list[v.StationReading]:
    """One station per (device type, metric) with that value, for a compound rule."""
    return [v.StationReading(f"{t}-1", f"{t}1号", t, m, T0, value) for (t, m), value in values.items()]


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
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_threshold_duration(path: Judge, values: list[float], firing: bool, level: int | None, cleared: bool) -> None:
    got = on(path, RAIN, "rain-1", series(*values))
    assert (got.firing, got.level, got.cleared) == (firing, level, cleared)


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_threshold_reports_start_and_peak(path: Judge) -> None:
    got = on(path, RAIN, "rain-1", series(5, 31, 40, 33, 36, 32, 31, 30, 39, 45, 31, 34))
    assert got.since == T0 + timedelta(minutes=1)
    assert got.peak == 45 and got.last == 34


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
@pytest.mark.parametrize(("values", "firing"), [([85], False), ([85, 85], True), ([85, 20, 85], False)])
def test_threshold_times_in_a_row(path: Judge, values: list[float], firing: bool) -> None:
    speeding = RAIN.model_copy(update={"for_minutes": 0, "for_count": 2})
    assert on(path, speeding, "car", series(*values)).firing is firing


@pytest.mark.parametrize(
    ("values", "firing", "level", "cleared"),
    [
        ([1.0] * 31, False, None, True),  # flat for 30 minutes: cleared
        ([1.0 + 0.03 * i for i in range(31)], True, 3, False),  # +0.9 m in 30 min: yellow
        ([1.0 + 0.05 * i for i in range(31)], True, 2, False),  # +1.5 m: orange
        ([1.0 + 0.01 * i for i in range(31)], False, None, False),  # +0.3 m: in the band
        ([1.0, 3.0], False, None, False),  # not 30 minutes of history yet
    ],
)
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_rate_of_change(path: Judge, values: list[float], firing: bool, level: int | None, cleared: bool) -> None:
    got = on(path, RISE, "river-1", series(*values))
    assert (got.firing, got.level, got.cleared) == (firing, level, cleared)


def _silence(device_id: str, township: str, minutes_ago: float | None) -> v.DeviceSilence:
    seen = None if minutes_ago is None else T0 - timedelta(minutes=minutes_ago)
    return v.DeviceSilence(device_id, township, seen, T0 - timedelta(days=1), timedelta(minutes=1))


def test_no_data_per_device_and_area_inhibition() -> None:
    devices = [_silence("a1", "T-A", 10), _silence("a2", "T-A", 1), _silence("a3", "T-A", 0.5),
               _silence("b1", "T-B", 10), _silence("b2", "T-B", 10), _silence("b3", "T-B", None),
               _silence("b4", "T-B", 1)]
    verdicts, inhibited = v.no_data(SILENT, devices, T0)
    by = {x.subject: x for x in verdicts}
    assert by["a1"].firing and by["a1"].level == 4  # one silent device in a live township
    assert by["a2"].cleared and by["a3"].cleared
    assert by["township:T-B"].firing and not by["township:T-A"].firing  # 3 of 4 silent: the area is down
    assert inhibited == {"b1", "b2", "b3"} and "b1" not in by  # no storm of per-device warnings


@pytest.mark.parametrize(
    ("combine", "maxima", "firing"),
    [
        ("all", {("rain_gauge", "rain_1h"): 60, ("river_gauge", "water_level"): 3.0}, True),
        ("all", {("rain_gauge", "rain_1h"): 60, ("river_gauge", "water_level"): 2.0}, False),
        ("all", {("rain_gauge", "rain_1h"): 60}, False),
        ("any", {("rain_gauge", "rain_1h"): 60, ("river_gauge", "water_level"): 2.0}, True),
        ("any", {("rain_gauge", "rain_1h"): 10, ("river_gauge", "water_level"): 2.0}, False),
    ],
)
def test_compound_and_or(combine: str, maxima: dict[tuple[str, str], float], firing: bool) -> None:
    rule = FLOOD.model_copy(update={"combine": combine})
    got = v.compound(rule, "431002001", stations(maxima))
    assert (got.firing, got.cleared, got.subject) == (firing, not firing, "township:431002001")
    assert got.level == (1 if firing else None)


@pytest.mark.parametrize(
    ("grids", "trigger", "firing", "cleared"),
    [
        (["431002002001", "431002001003"], "enter", True, False),
        (["431002001003", "431002002001"], "enter", False, True),  # left the zone
        (["431002002001"] + ["431002001003"] * 3, "dwell", False, False),  # 2 minutes inside: not yet
        (["431002002001"] + ["431002001003"] * 7, "dwell", True, False),  # 6 minutes inside
    ],
)
def test_geofence_enter_leave_dwell(grids: list[str], trigger: str, firing: bool, cleared: bool) -> None:
    rule = ZONE.model_copy(update={"trigger": trigger})
    track = [(T0 + timedelta(minutes=i), g) for i, g in enumerate(grids)]
    got = v.geofence(rule, "truck-1", track)
    assert (got.firing, got.cleared) == (firing, cleared)


def test_event_count() -> None:
    assert v.event_count(5, 4, "hotspot:x", 5).firing
    assert not v.event_count(5, 4, "hotspot:x", 4).firing


def test_a_hotspot_clears_only_after_its_quiet_window() -> None:
    quiet = timedelta(hours=24)
    assert not v.hotspot_quiet("hotspot:x", T0, T0 + timedelta(hours=23), quiet).cleared
    assert v.hotspot_quiet("hotspot:x", T0, T0 + quiet, quiet).cleared
    assert v.hotspot_quiet("hotspot:x", None, T0, quiet).cleared  # its complaints are gone (retention)
    assert not v.hotspot_quiet("hotspot:x", None, T0, quiet).firing


# --- one contract every kind passes --------------------------------------------------------
# The vehicle kinds (alerts/vehicles.py; both paths in test_vehicles_batch.py): (kind, TOML, breaching fixes).
TRUCK = Vehicle("truck", "湘L·00001")
_CIRCLE = 'zones = [{id = "school", name = "校", center = [113.0, 25.8], radius_m = 300, limit_kmh = 20}]\n'
VEHICLE_SAMPLES = [("zone_speed", "limit_kmh = 80\n" + _CIRCLE, [(0, 50.0), (1, 50.0)]),
                   ("zone_forbidden", _CIRCLE, [(0, 30.0)]),
                   ("driving_time", "drive_hours = 1\n", [(m, 50.0) for m in range(0, 70, 5)]),
                   ("stopped", "stop_minutes = 10\n", [(0, 30.0), (1, 0.0), (15, 0.0)])]


def _drives(fixes: list[tuple[int, float]], where: tuple[float, float]) -> Callable[[Any, Judge], v.Verdict]:
    """A vehicle rule's judge of fixes (minutes after T0, speed) at one place."""
    return lambda rule, _p: vehicle_judge(VehicleCase(rule, TRUCK, [Fix(T0 + timedelta(minutes=m), *where, speed)
                                                                     for m, speed in fixes]))
# (sample rule TOML, a breaching evaluation, a quiet evaluation)
# The callables take the rule the TOML parses to (each kind its own class: the key names it) and the path.
# Telemetry kinds are judged on both paths (one case at a time, a batch together); the others have one.
Case = tuple[str, Callable[[Any, Judge], v.Verdict], Callable[[Any, Judge], v.Verdict]]
CONTRACT: dict[str, Case] = {
    "threshold": ('id = "k_threshold"\nname = "n"\ncategory = "c"\ndevice_type = "d"\nmetric = "m"\n'
                  'levels = [{level = 2, at_least = 5.0}]\nclear_below = 1.0\n',
                  lambda r, p: on(p, r, "s", series(9)), lambda r, p: on(p, r, "s", series(0))),
    "rate": ('id = "k_rate"\nkind = "rate"\nname = "n"\ncategory = "c"\ndevice_type = "d"\nmetric = "m"\n'
             'window_minutes = 1\nlevels = [{level = 3, at_least = 1.0}]\nclear_below = 0.1\n',
             lambda r, p: on(p, r, "s", series(0, 5)), lambda r, p: on(p, r, "s", series(5, 5))),
    "no_data": ('id = "k_no_data"\nkind = "no_data"\nname = "n"\ncategory = "c"\n',
                lambda r, _p: v.no_data(r, [_silence("s", "T", 60)], T0)[0][-1],
                lambda r, _p: v.no_data(r, [_silence("s", "T", 0)], T0)[0][-1]),
    "compound": ('id = "k_compound"\nkind = "compound"\nname = "n"\ncategory = "c"\ncombine = "all"\n'
                 'within_minutes = 5\nlevel = 1\nconditions = [{device_type = "a", metric = "x", at_least = 1.0},'
                 ' {device_type = "b", metric = "y", at_least = 1.0}]\n',
                 lambda r, _p: v.compound(r, "T", stations({("a", "x"): 2, ("b", "y"): 2})),
                 lambda r, _p: v.compound(r, "T", [])),
    "geofence": ('id = "k_geofence"\nkind = "geofence"\nname = "n"\ncategory = "c"\ndevice_type = "d"\n'
                 'zone = ["4310"]\nlevel = 2\n',
                 lambda r, _p: v.geofence(r, "s", [(T0, "431002001001")]),
                 lambda r, _p: v.geofence(r, "s", [(T0, "440000000001")])),
    "event_count": ('id = "k_event_count"\nkind = "event_count"\nname = "n"\ncategory = "c"\n'
                    'event_category = "hotline"\nradius_m = 100\nwindow_hours = 1\nat_least = 3\nlevel = 4\n',
                    lambda r, _p: v.event_count(r.at_least, r.level, "s", 3),
                    lambda r, _p: v.event_count(r.at_least, r.level, "s", 1)),
    **{kind: (f'id = "k_{kind}"\nkind = "{kind}"\nname = "n"\ncategory = "hazmat"\nlevel = 3\n{extra}',
              _drives(breach, (113.0, 25.8)), _drives([(0, 30.0)], (112.0, 25.0)))
       for kind, extra, breach in VEHICLE_SAMPLES},
}


BATCHED = ("threshold", "rate")


@pytest.mark.parametrize(("kind", "path"), [(k, p) for k in sorted(CONTRACT)
                                            for p in (PATHS if k in BATCHED else ["per_reading"])])
def test_every_kind_honours_the_contract(kind: str, path: str) -> None:
    body, breach, calm = CONTRACT[kind]
    (rule,) = parse_rules("[[rule]]\n" + body)
    assert rule.kind == kind
    judge = PATHS[path]
    fired, again, still = breach(rule, judge), breach(rule, judge), calm(rule, judge)
    assert fired.firing and fired.level in (1, 2, 3, 4)
    assert fired == again  # pure: same data, same verdict
    assert not still.firing
    with pytest.raises(RuleError):  # and a malformed one is refused, naming the rule file
        parse_rules("[[rule]]\n" + body + "unknown_field = 1\n", "sample.toml")


def test_kinds_in_the_contract_are_all_the_kinds() -> None:
    union = get_args(get_args(Rule)[0])
    assert {get_args(cls.model_fields["kind"].annotation)[0] for cls in union} == set(CONTRACT)


def test_shipped_rules_load() -> None:
    kinds = {r.kind for r in load_rules()}
    assert kinds == set(CONTRACT) - {"geofence"}  # the shipped forbidden zones are zone_forbidden's, with hours


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
        ('[[rule]]\nid = "gas_leak"\nkind = "no_data"\nname = "n"\ncategory = "c"\n', "duplicate rule ids"),
        ('[[rule]]\nid = "x2"\nkind = "teleport"\nname = "n"\ncategory = "c"\n', "teleport"),
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
