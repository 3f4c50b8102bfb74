"""The vehicle rules judge the same on both paths: thousands of seeded tracks (through school circles in and out
of their hours, tunnel polygons, the town's region codes, standing, resting, silent terminals, points exactly on
a circle's edge) placed one fix at a time (``vehicles.judge``) and a round's fixes together in numpy
(``batch.judge_vehicles``), every verdict compared whole; and the engine's choice of path by round size."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.batch import judge_vehicles
from alerts.rules import VehicleRule, ZoneSpeedRule, load_rules
from alerts.vehicles import M_PER_DEG_LAT, Fix, Vehicle, VehicleCase, judge

T0 = datetime(2026, 9, 7, 22, 0, tzinfo=UTC)  # 06:00 in 郴州: tracks run through the morning school hours
RULES: list[VehicleRule] = [r for r in load_rules() if r.kind in ("zone_speed", "zone_forbidden", "driving_time",
                                                                   "stopped")]
SPEED = next(r for r in RULES if isinstance(r, ZoneSpeedRule))
GRIDS = ["431002001001", "431002006002", "431003002001", "431021101001", None]


def _places() -> list[tuple[float, float]]:
    """Zone centres and polygon corners, points on a circle's edge, and open country."""
    out: list[tuple[float, float]] = [(112.70, 25.50), (113.30, 25.40)]
    for z in SPEED.zones:
        if z.center is not None and z.radius_m is not None:
            out += [z.center, (z.center[0], z.center[1] + z.radius_m / M_PER_DEG_LAT)]  # exactly on the edge
        out += list(z.polygon)[:2]
    return out


def _track(rng: random.Random, places: list[tuple[float, float]]) -> list[Fix]:
    """Mixed fixes, or a long steady drive (minute by minute, a short stop or a rest now and then), or a stop."""
    mode = rng.choice(["mixed", "mixed", "drive", "park"])
    n = {"mixed": rng.choice([0, 1, 2, 3, 10, 60, 400]), "drive": rng.choice([200, 300]), "park": 45}[mode]
    ts, out = T0 + timedelta(minutes=rng.randint(0, 180)), []
    lon, lat = rng.choice(places)
    for _ in range(n):
        step = {"mixed": rng.choice([10, 30, 60, 60, 300, 1500]),  # now and then silent for 25 min
                "drive": rng.choice([60] * 200 + [1260]), "park": 60}[mode]
        ts += timedelta(seconds=step)
        if mode == "mixed" and rng.random() < 0.1:
            lon, lat = rng.choice(places)
        speed = ({"drive": rng.choice([55.0] * 50 + [0.0]), "park": rng.choice([0.0, 1.0])}.get(mode) if mode != "mixed"
                 else rng.choice([0.0, 0.0, 3.0, 39.9, 40.0, 45.0, 60.0, 61.0, 79.0, 85.0, 130.0, rng.uniform(0, 120)]))
        assert speed is not None
        out.append(Fix(ts, lon + rng.choice([0.0, 0.0, 1e-4, -1e-3]), lat, speed, rng.choice(GRIDS)))
    return out


def _cases(seed: int, n: int) -> list[VehicleCase]:
    rng, places = random.Random(seed), _places()
    return [VehicleCase(rng.choice(RULES), Vehicle(f"hazmat-{i}", f"湘L·{i:05d}", "危运", rng.randint(1, 9), "",
                                                   *rng.choice(places)), _track(rng, places)) for i in range(n)]


@pytest.mark.parametrize("seed", range(3))
def test_every_vehicle_verdict_of_a_round_is_the_per_reading_one(seed: int) -> None:
    cases = _cases(seed, 1000)
    expected = [judge(c) for c in cases]
    got = judge_vehicles(cases)
    mismatched = [(c, e, g) for c, e, g in zip(cases, expected, got, strict=True) if e != g]
    assert not mismatched, mismatched[:2]
    outcomes = {(c.rule.kind, e.firing, e.cleared) for c, e in zip(cases, expected, strict=True)}
    assert {(kind, True, False) for kind in ("zone_speed", "zone_forbidden", "driving_time", "stopped")} <= outcomes
    assert {(kind, False, True) for kind in ("zone_speed", "zone_forbidden", "driving_time", "stopped")} <= outcomes
    assert {e.level for e in expected if e.firing} == {2, 3}
    assert {e.details["zone_id"] for e in expected if e.firing and e.details and e.details.get("zone_id")} >= {
        "town", "tunnel_sxl"}
