"""The demo's hazmat vehicles drive between towns, not at random: each round trip leaves the depot, passes
township centres and comes back, with a rest at the depot; every fix carries speed and heading; at cruise they
keep to the zones' limits (the shipped rules find nothing to warn about); the speeding scenario sends one
through a school zone over its 40, and the fatigue scenario reports 5 hours on the road at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pytest

from alerts.rules import DrivingTimeRule, ZoneForbiddenRule, ZoneSpeedRule, load_rules
from alerts.vehicles import Fix, Vehicle, VehicleCase, judge
from simulator.catalogue import build_catalogue
from simulator.routes import Map, Route, heading, km, round_trip, through
from simulator.world import World

T0 = datetime(2026, 9, 7, 23, 30, tzinfo=UTC)  # 07:30 in 郴州: school time
RULES = {r.id: r for r in load_rules()}


@pytest.fixture(scope="module")
def world_devices() -> list:
    townships = gpd.read_file("layers/data/chenzhou-townships.geojson")
    return [d for d in build_catalogue(townships) if d.device_type == "hazmat_vehicle"]


def _fixes(messages: list[tuple[str, bytes]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for topic, payload in messages:
        if "/hazmat_vehicle/" in topic:
            body = json.loads(payload)
            out.setdefault(topic.rsplit("/", 1)[1], []).extend(body if isinstance(body, list) else [body])
    return out


def _as_fixes(reports: list[dict]) -> list[Fix]:
    return [Fix(datetime.fromisoformat(r["ts"]), r["lon"], r["lat"], r["values"]["speed_kmh"]) for r in reports]


def test_a_route_is_a_polyline_with_headings() -> None:
    route = Route(((113.0, 25.8), (113.0, 25.9), (113.1, 25.9)))
    assert km((113.0, 25.8), (113.0, 25.9)) == pytest.approx(11.06, abs=0.01)
    assert route.at(5.0)[1] == pytest.approx(0.0) and route.at(15.0)[1] == pytest.approx(90.0, abs=0.1)
    assert route.at(1e9)[0] == (113.1, 25.9) and route.at(-1)[0] == (113.0, 25.8)
    assert heading((113.0, 25.8), (112.9, 25.8)) == pytest.approx(270.0)
    assert through((113.0, 25.8), 90.0).at(1.5)[0] == pytest.approx((113.0, 25.8))


def test_routes_keep_out_of_banned_townships() -> None:
    towns = {"a": (113.0, 25.8), "core": (113.1, 25.8), "b": (113.2, 25.8), "c": (113.1, 25.9), "d": (113.2, 25.9)}
    where = Map(towns, frozenset({"core"}))
    assert not where.clear(towns["a"], towns["b"])  # straight through the core
    assert where.clear(towns["c"], towns["d"]) and where.clear(towns["a"], (112.9, 25.8))  # away from it
    rng = np.random.default_rng(1)
    for _ in range(20):
        route = round_trip(towns["a"], where, rng, reach_km=30)
        assert towns["core"] not in route.points and towns["b"] not in route.points[1:2]  # b only by way of c


def test_vehicles_drive_round_trips_between_towns_within_the_limits(world_devices: list) -> None:
    world = World(world_devices, "chenzhou", 7)
    reports: dict[str, list[dict]] = {}
    for step in range(360):  # an hour at 10 s
        for device_id, fixes in _fixes(world.messages(T0 + timedelta(seconds=10 * step))).items():
            reports.setdefault(device_id, []).extend(fixes)
    assert len(reports) == len(world_devices)
    assert all({"speed_kmh", "heading"} <= set(r["values"]) for fixes in reports.values() for r in fixes)
    moved = [d for d in world_devices if max(km((d.lon, d.lat), (r["lon"], r["lat"])) for r in reports[d.device_id])
             > 5]
    assert len(moved) > 0.8 * len(world_devices)  # off to other towns (those in the banned core stay parked)
    speed, banned = RULES["hazmat_speeding"], RULES["hazmat_forbidden_zone"]
    assert isinstance(speed, ZoneSpeedRule) and isinstance(banned, ZoneForbiddenRule)
    for d in world_devices:
        vehicle = Vehicle(d.device_id, d.device_id, depot_lon=d.lon, depot_lat=d.lat)
        track = _as_fixes(reports[d.device_id])
        for k in range(2, len(track), 30):
            assert not judge(VehicleCase(speed, vehicle, track[:k])).firing  # circles and the 80 km/h outside
            assert not judge(VehicleCase(banned, vehicle, track[:k])).firing  # schools and tunnels avoided


def test_the_speeding_scenario_drives_through_a_school_zone_too_fast(world_devices: list) -> None:
    world = World(world_devices, "chenzhou", 7)
    scenario = world.inject("hazmat_speeding")
    assert scenario.device_id is not None
    track: list[Fix] = []
    for step in range(60):
        track += _as_fixes(_fixes(world.messages(T0 + timedelta(seconds=10 * step)))[scenario.device_id])
    speed, banned = RULES["hazmat_speeding"], RULES["hazmat_forbidden_zone"]
    assert isinstance(speed, ZoneSpeedRule) and isinstance(banned, ZoneForbiddenRule)
    d = next(x for x in world_devices if x.device_id == scenario.device_id)
    vehicle = Vehicle(d.device_id, "湘L·TEST", depot_lon=d.lon, depot_lat=d.lat)
    verdicts = [judge(VehicleCase(speed, vehicle, track[:k])) for k in range(1, len(track) + 1)]
    fired = [v for v in verdicts if v.firing]
    assert fired and fired[0].details is not None and fired[0].details["limit_kmh"] == 40
    assert "小学" in fired[0].details["zone"] or "中学" in fired[0].details["zone"]
    assert any(judge(VehicleCase(banned, vehicle, track[:k])).firing for k in range(1, len(track) + 1))  # 07:30


def test_the_fatigue_scenario_reports_five_hours_without_a_stop(world_devices: list) -> None:
    world = World(world_devices, "chenzhou", 7)
    scenario = world.inject("hazmat_fatigue", district_code="431021")
    assert scenario.device_id is not None and scenario.device_id.startswith("hazmat-431021")
    first = _fixes(world.messages(T0))[scenario.device_id]
    assert len(first) == 601  # 5 h of a fix every 30 s, then now
    track = _as_fixes(first)
    assert track[-1].ts - track[0].ts == timedelta(hours=5) and min(f.speed for f in track) > 40
    driven = sum(km((a.lon, a.lat), (b.lon, b.lat)) for a, b in pairwise(track))
    assert driven == pytest.approx(250, rel=0.02)  # 5 h at 50 km/h along its route, town to town
    fatigue = RULES["hazmat_fatigue"]
    assert isinstance(fatigue, DrivingTimeRule)
    verdict = judge(VehicleCase(fatigue, Vehicle(scenario.device_id, "湘L·TEST"), track))
    assert verdict.firing and verdict.basis is not None and "连续驾驶 5小时00分" in verdict.basis
    later = _fixes(world.messages(T0 + timedelta(seconds=10)))[scenario.device_id]
    assert len(later) == 1 and later[0]["values"]["speed_kmh"] > 40  # and it drives on
