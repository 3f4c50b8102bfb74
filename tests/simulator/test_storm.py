"""A storm walked across counties, pure and with the clock in the test's hands: the rain moves along the
path, the gauges' rolling 1-h totals peak in the path's order, and rivers rise later than the rain,
downstream later still."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from layers.loader import demo_layers
from simulator.__main__ import path_items
from simulator.catalogue import CatalogueDevice, build_catalogue
from simulator.world import StormPath, World

T0 = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
PATH = ["431021", "431002", "431003"]  # 桂阳县 → 北湖区 → 苏仙区


@cache
def devices() -> tuple[CatalogueDevice, ...]:
    return tuple(build_catalogue(demo_layers().townships))


def world() -> World:
    return World(list(devices()), "chenzhou", 7)


def test_a_path_is_county_or_township_codes_and_points() -> None:
    w = world()
    (a, b, c) = w.resolve_path(["431021", "431002001", "113.0,25.8"])
    桂阳 = [d for d in devices() if d.township_code.startswith("431021")]
    assert a == pytest.approx((sum(d.lon for d in 桂阳) / len(桂阳), sum(d.lat for d in 桂阳) / len(桂阳)))
    assert b != a and c == (113.0, 25.8)
    for bad in (["999999"], ["abc"], [], ["200,100"]):
        with pytest.raises(ValueError):
            w.resolve_path(bad)
    assert path_items(["431021 ", "113.0,25.8;431002"]) == ["431021", "113.0,25.8", "431002"]
    for bad_arg in (["4310"], ["x,y"], ["113.0,95"]):
        with pytest.raises(ValueError):
            path_items(bad_arg)


def test_the_cell_walks_the_path_in_its_minutes() -> None:
    storm = StormPath(((112.7, 25.7), (113.0, 25.7)), 60, T0)
    assert storm.centre(T0 - timedelta(minutes=1)) is None and storm.centre(T0 + timedelta(minutes=61)) is None
    assert storm.centre(T0) == (112.7, 25.7)
    assert storm.centre(T0 + timedelta(minutes=30)) == pytest.approx((112.85, 25.7))
    assert storm.centre(T0 + timedelta(minutes=60)) == pytest.approx((113.0, 25.7))
    assert storm.along((112.85, 25.75)) == pytest.approx(0.5, abs=0.05)


def _peak(storm: StormPath, where: tuple[float, float], value: str) -> tuple[datetime, float]:
    """When ``where``'s rain_1h (or a river's rise there) peaks in the 4 hours from T0, and how high."""
    best = (T0, -1.0)
    for m in range(0, 240, 2):
        now = T0 + timedelta(minutes=m)
        got = storm.rain_1h(now, where) if value == "rain" else storm.rise_m(now, where, 3.0)
        if got > best[1]:
            best = (now, got)
    return best


def test_gauges_along_the_path_peak_in_its_order_and_far_ones_stay_dry() -> None:
    w = world()
    storm = StormPath(w.resolve_path(PATH), 90, T0)
    gauges = [d for d in devices() if d.device_type == "rain_gauge"]
    wet = []
    for g in gauges:
        when, mm = _peak(storm, (g.lon, g.lat), "rain")
        if mm >= 50:
            wet.append((storm.along((g.lon, g.lat)), when, g.township_code))
    assert len(wet) >= 8 and {t[:6] for _, _, t in wet} >= {"431021", "431002"}
    wet.sort()
    times = [when for _, when, _ in wet]
    inversions = sum(a > b for i, a in enumerate(times) for b in times[i + 1:])
    pairs = len(times) * (len(times) - 1) / 2
    assert inversions / pairs < 0.15, "the rain reaches the gauges in the path's order"
    far = [g for g in gauges if g.township_code.startswith(("431081", "431028"))]  # 资兴市, 安仁县: off the path
    assert max(_peak(storm, (g.lon, g.lat), "rain")[1] for g in far) < 5


def test_a_river_rises_after_the_rain_and_downstream_later() -> None:
    storm = StormPath(((112.70, 25.70), (113.10, 25.70)), 60, T0)
    upstream, downstream = (112.75, 25.70), (113.05, 25.70)
    for where in (upstream, downstream):
        rain_at, _ = _peak(storm, where, "rain")
        rise_at, rise = _peak(storm, where, "rise")
        assert rise > 2.0
        # both peaks are sampled every 2 minutes
        assert rise_at - rain_at == pytest.approx(storm.lag(where), abs=timedelta(minutes=5))
    assert storm.lag(downstream) - storm.lag(upstream) >= timedelta(minutes=15)


def _levels(messages: list[tuple[str, bytes]]) -> dict[str, float]:
    return {topic.rsplit("/", 1)[1]: next(iter(json.loads(body)["values"].values()))
            for topic, body in messages if "/telemetry/" in topic}


def test_the_world_reports_the_walked_storm_from_its_first_step() -> None:
    w = world()
    w.inject("rainstorm", path=PATH, minutes=60)
    rain: dict[str, float] = {}
    high: dict[str, float] = {}
    for m in range(0, 200, 2):
        values = _levels(w.messages(T0 + timedelta(minutes=m)))
        for device_id, value in values.items():
            if device_id.startswith("rain-"):
                rain[device_id] = max(rain.get(device_id, 0.0), value)
            elif device_id.startswith(("river-", "reservoir-")):
                high[device_id] = max(high.get(device_id, 0.0), value)
    assert w.walking() == []  # the storm is over and gone by then
    stations = {d.device_id: d for d in devices()}
    over = [i for i, v in high.items() if (lines := stations[i].lines) is not None and v >= lines.warning]
    assert {i.split("-")[1][:6] for i in over} <= {"431021", "431002", "431003", "431022", "431026", "431027"}
    assert len(over) >= 5 and max(rain.values()) >= 60
    assert rain["rain-431081001-1"] < 10  # 资兴市 stays dry


def test_only_a_rainstorm_walks_and_not_for_ever() -> None:
    w = world()
    with pytest.raises(ValueError, match="only a rainstorm"):
        w.inject("fire", path=PATH)
    with pytest.raises(ValueError, match="1 to 1440"):
        w.inject("rainstorm", path=PATH, minutes=0)
