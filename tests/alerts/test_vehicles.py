"""The vehicle rules (危货运输) as tables of tracks with a fixed clock: 精准限速 against the zone the vehicle is in,
forbidden zones in their hours (Asia/Shanghai), 疲劳驾驶 and standing outside a permitted place; the shipped
zones and rules as the file says; and a file with a wrong zone refused whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.rules import (
    DrivingTimeRule,
    OverLevel,
    RuleError,
    StoppedRule,
    Zone,
    ZoneForbiddenRule,
    ZoneSpeedRule,
    load_rules,
    parse_rules,
)
from alerts.vehicles import Fix, Vehicle, VehicleCase, in_force, judge

# 07:40 in 郴州 (UTC+8): school time
SCHOOL_TIME = datetime(2026, 9, 7, 23, 40, tzinfo=UTC)
NOON = datetime(2026, 9, 8, 4, 0, tzinfo=UTC)  # 12:00 local
SCHOOL = Zone.model_validate({"id": "school", "name": "育英小学周边", "center": (113.0, 25.8), "radius_m": 300,
                              "limit_kmh": 40, "hours": [{"start": "07:00", "end": "08:30"},
                                                         {"start": "16:30", "end": "18:00"}]})
TOWN = Zone(id="town", name="城区道路", regions=("4310020",), limit_kmh=60)
TUNNEL = Zone(id="tunnel", name="隧道", polygon=((113.1, 25.9), (113.11, 25.9), (113.11, 25.91), (113.1, 25.91)),
              limit_kmh=60)
SPEED = ZoneSpeedRule(id="speed", kind="zone_speed", name="超速", category="hazmat", zones=(TOWN, SCHOOL, TUNNEL),
                      limit_kmh=80, for_count=2, level=3, levels=(OverLevel(level=2, over_percent=50),))
FORBIDDEN = ZoneForbiddenRule(id="banned", kind="zone_forbidden", name="禁行", category="hazmat",
                              zones=(SCHOOL, TUNNEL), level=2)
FATIGUE = DrivingTimeRule(id="tired", kind="driving_time", name="疲劳", category="hazmat", level=3)
STOPPED = StoppedRule(id="stood", kind="stopped", name="停车", category="hazmat", stop_minutes=30, level=3,
                      zones=(Zone(id="area", name="服务区", center=(113.2, 25.7), radius_m=200),))
TRUCK = Vehicle("hazmat-1", "湘L·D1234", "郴州危运公司", 3, "汽油", 112.9, 25.6)

AT_SCHOOL = (113.0, 25.8)
IN_TOWN = (112.95, 25.75)  # outside the school, tagged as a 北湖区 street
IN_TUNNEL = (113.105, 25.905)
COUNTRY = (112.7, 25.5)
GRIDS = {AT_SCHOOL: "431002003001", IN_TOWN: "431002006001", IN_TUNNEL: "431003004002", COUNTRY: "431002102001"}


def track(*legs: tuple[tuple[float, float], float], start: datetime = NOON, every_s: int = 30) -> list[Fix]:
    """Fixes every ``every_s`` seconds: (place, speed) each."""
    return [Fix(start + timedelta(seconds=every_s * i), p[0], p[1], speed, GRIDS[p]) for i, (p, speed)
            in enumerate(legs)]


@pytest.mark.parametrize(
    ("legs", "at", "firing", "level", "cleared", "zone", "limit"),
    [
        ([(COUNTRY, 75), (COUNTRY, 78)], NOON, False, None, True, None, 80),  # under 80 outside the zones
        ([(COUNTRY, 85), (COUNTRY, 90)], NOON, True, 3, False, None, 80),
        ([(IN_TOWN, 55), (IN_TOWN, 65)], NOON, False, None, False, "城区道路", 60),  # one fix over: not yet
        ([(IN_TOWN, 62), (IN_TOWN, 65)], NOON, True, 3, False, "城区道路", 60),  # 60 in town
        ([(IN_TOWN, 62), (AT_SCHOOL, 45)], NOON, True, 3, False, "育英小学周边", 40),  # 40 near the school, always
        ([(AT_SCHOOL, 62), (AT_SCHOOL, 65)], SCHOOL_TIME, True, 2, False, "育英小学周边", 40),  # 50 % over
        ([(AT_SCHOOL, 62), (AT_SCHOOL, 55)], SCHOOL_TIME, True, 3, False, "育英小学周边", 40),  # sustained: 37 %
        ([(AT_SCHOOL, 62), (AT_SCHOOL, 40)], SCHOOL_TIME, False, None, True, "育英小学周边", 40),  # at the limit
        ([(IN_TUNNEL, 70), (IN_TUNNEL, 66)], NOON, True, 3, False, "隧道", 60),  # a polygon
        ([], NOON, False, None, False, None, None),
    ],
)
def test_speeding_is_against_the_limit_of_the_zone_the_vehicle_is_in(
        legs: list[tuple[tuple[float, float], float]], at: datetime, firing: bool, level: int | None, cleared: bool,
        zone: str | None, limit: float | None) -> None:
    verdict = judge(VehicleCase(SPEED, TRUCK, track(*legs, start=at)))
    assert (verdict.firing, verdict.level, verdict.cleared) == (firing, level, cleared)
    if firing:
        assert verdict.details is not None and verdict.basis is not None
        assert (verdict.details["zone"], verdict.details["limit_kmh"]) == (zone, limit)
        assert verdict.details["plate"] == "湘L·D1234" and verdict.details["cargo_class"] == 3
        assert f"限速 {limit:.0f} km/h" in verdict.basis and f"车速 {legs[-1][1]:.1f} km/h" in verdict.basis
        assert (zone or "限速区外") in verdict.basis
        assert verdict.since == at  # the first fix of the run over the limit


@pytest.mark.parametrize(
    ("local", "school", "tunnel"),
    [("06:59", False, True), ("07:00", True, True), ("08:29", True, True), ("08:30", False, True),
     ("12:00", False, True), ("16:30", True, True), ("17:59", True, True), ("18:00", False, True)],
)
def test_a_zone_is_in_force_in_its_hours_of_the_city_day(local: str, school: bool, tunnel: bool) -> None:
    hour, minute = map(int, local.split(":"))
    at = datetime(2026, 9, 8, hour, minute, tzinfo=UTC) - timedelta(hours=8)  # local time in 郴州
    assert (in_force(SCHOOL, at), in_force(TUNNEL, at)) == (school, tunnel)


def test_hours_past_midnight() -> None:
    night = Zone.model_validate({"id": "night", "name": "夜间", "regions": ["4310"],
                                 "hours": [{"start": "22:00", "end": "06:00"}]})
    local = [datetime(2026, 9, 8, h, 0, tzinfo=UTC) - timedelta(hours=8) for h in (21, 22, 3, 6)]
    assert [in_force(night, at) for at in local] == [False, True, True, False]


@pytest.mark.parametrize(
    ("legs", "at", "firing", "cleared", "zone"),
    [
        ([(IN_TOWN, 40), (AT_SCHOOL, 30)], SCHOOL_TIME, True, False, "育英小学周边"),
        ([(IN_TOWN, 40), (AT_SCHOOL, 30)], NOON, False, True, None),  # the school's ban is over at noon
        ([(IN_TOWN, 40), (IN_TUNNEL, 50)], NOON, True, False, "隧道"),  # tunnels: always
        ([(AT_SCHOOL, 30), (IN_TOWN, 40)], SCHOOL_TIME, False, True, None),  # left it
        ([(IN_TUNNEL, 0), (IN_TUNNEL, 0)], NOON, False, False, None),  # parked there: it did not drive in
    ],
)
def test_forbidden_zones_in_their_hours(legs: list[tuple[tuple[float, float], float]], at: datetime, firing: bool,
                                        cleared: bool, zone: str | None) -> None:
    verdict = judge(VehicleCase(FORBIDDEN, TRUCK, track(*legs, start=at)))
    assert (verdict.firing, verdict.cleared) == (firing, cleared)
    if firing:
        assert verdict.details is not None and verdict.details["zone"] == zone and verdict.level == 2
        assert verdict.since == at + timedelta(seconds=30)  # when it entered
        assert verdict.basis is not None and f"驶入{zone}" in verdict.basis and "禁行时段" in verdict.basis


def _drive(minutes: list[tuple[int, float]], start: datetime = NOON) -> list[Fix]:
    """A fix a minute: (minutes, speed) stretches in order."""
    out, t = [], start
    for n, speed in minutes:
        for _ in range(n):
            out.append(Fix(t, *COUNTRY, speed, GRIDS[COUNTRY]))
            t += timedelta(minutes=1)
    return out


@pytest.mark.parametrize(
    ("stretches", "firing", "cleared", "driven"),
    [
        ([(230, 60)], False, False, 229),  # 3 h 49 min: not yet
        ([(242, 60)], True, False, 241),  # past 4 h without a rest
        ([(300, 60)], True, False, 299),  # 5 h
        ([(100, 60), (20, 0), (200, 60)], False, False, 199),  # a 20-minute rest (21 min between moving fixes)
        ([(100, 60), (18, 0), (200, 60)], True, False, 317),  # 18 min standing is not a rest
        ([(250, 60), (21, 0)], False, True, None),  # resting now: cleared
        ([(250, 60), (5, 0)], True, False, 249),  # a short stop does not clear it
        ([(40, 0)], False, True, None),  # never moved
    ],
)
def test_fatigue_is_driving_four_hours_without_a_twenty_minute_rest(
        stretches: list[tuple[int, float]], firing: bool, cleared: bool, driven: int | None) -> None:
    verdict = judge(VehicleCase(FATIGUE, TRUCK, _drive(stretches)))
    assert (verdict.firing, verdict.cleared) == (firing, cleared)
    if driven is not None:
        assert verdict.last == driven
    if firing:
        assert verdict.basis is not None and "连续驾驶" in verdict.basis and verdict.level == 3


def test_silence_of_the_terminal_counts_as_a_rest() -> None:
    fixes = _drive([(150, 60)]) + _drive([(150, 60)], start=NOON + timedelta(minutes=175))  # 25 min unheard
    verdict = judge(VehicleCase(FATIGUE, TRUCK, fixes))
    assert not verdict.firing and verdict.last == 149


@pytest.mark.parametrize(
    ("where", "stretches", "firing", "cleared"),
    [
        (COUNTRY, [(10, 50), (29, 0)], False, False),  # 28 minutes standing: not yet
        (COUNTRY, [(10, 50), (32, 0)], True, False),
        (COUNTRY, [(10, 50), (32, 0), (1, 30)], False, True),  # moving again
        ((112.9, 25.6), [(10, 50), (60, 0)], False, True),  # its own depot
        ((113.2, 25.7), [(10, 50), (60, 0)], False, True),  # a permitted place (服务区)
    ],
)
def test_stopped_outside_a_permitted_place(where: tuple[float, float], stretches: list[tuple[int, float]],
                                           firing: bool, cleared: bool) -> None:
    fixes = [f._replace(lon=where[0], lat=where[1]) for f in _drive(stretches)]
    verdict = judge(VehicleCase(STOPPED, TRUCK, fixes))
    assert (verdict.firing, verdict.cleared) == (firing, cleared)
    if firing:
        assert verdict.details is not None and verdict.details["plate"] == "湘L·D1234"


def test_the_shipped_vehicle_rules() -> None:
    rules = {r.id: r for r in load_rules()}
    speed, banned = rules["hazmat_speeding"], rules["hazmat_forbidden_zone"]
    assert isinstance(speed, ZoneSpeedRule) and isinstance(banned, ZoneForbiddenRule)
    limits = {z.id: z.limit_kmh for z in speed.zones}
    assert limits["town"] == 60 and all(limits[z] == 40 for z in limits if z.startswith("school"))
    schools = [z for z in banned.zones if z.id.startswith("school")]
    assert schools and all([(h.start.strftime("%H:%M"), h.end.strftime("%H:%M")) for h in z.hours]
                           == [("07:00", "08:30"), ("16:30", "18:00")] for z in schools)
    assert all(not z.hours for z in banned.zones if z.id.startswith("tunnel"))  # always
    fatigue = rules["hazmat_fatigue"]
    assert isinstance(fatigue, DrivingTimeRule) and (fatigue.drive_hours, fatigue.rest_minutes) == (4, 20)
    assert {r.category for r in rules.values() if r.kind in ("zone_speed", "zone_forbidden", "driving_time",
                                                              "stopped")} == {"hazmat"}


SPEED_RULE = ('[[rule]]\nid = "speed_x"\nkind = "zone_speed"\nname = "n"\ncategory = "hazmat"\nlimit_kmh = 80\n'
              'level = 3\nzones = ["school"]\n')
SCHOOL_ZONE = '[[zone]]\nid = "school"\nname = "校"\ncenter = [113.0, 25.8]\nradius_m = 300\nlimit_kmh = 40\n'


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (SPEED_RULE, "unknown zones ['school']"),  # a rule naming a zone the file lacks
        (SPEED_RULE + SCHOOL_ZONE.replace("limit_kmh = 40\n", ""), "limit_kmh"),
        (SPEED_RULE + SCHOOL_ZONE.replace("radius_m = 300\n", ""), "center and radius_m"),
        (SPEED_RULE + SCHOOL_ZONE + 'regions = ["4310"]\n', "one of center"),  # a circle and regions
        (SPEED_RULE + SCHOOL_ZONE + 'hours = [{ start = 07:00:00, end = 07:00:00 }]\n', "must differ"),
        (SPEED_RULE.replace("level = 3", 'level = 3\nlevels = [{ level = 4, over_percent = 50 }]') + SCHOOL_ZONE,
         "more severe level"),
        (SPEED_RULE + SCHOOL_ZONE.replace("center = [113.0, 25.8]", "center = [250.0, 25.8]"), "lon, lat"),
    ],
)
def test_a_wrong_zone_or_vehicle_rule_refuses_the_whole_file(text: str, complaint: str) -> None:
    with pytest.raises(RuleError, match=r"vehicles\.toml") as caught:
        parse_rules(text, "vehicles.toml")
    assert complaint in str(caught.value)
    assert len(parse_rules(SPEED_RULE + SCHOOL_ZONE)) == 1  # the same file put right loads
