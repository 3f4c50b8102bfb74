"""A storm walked across two counties, end to end on real parts: the simulator's world → MQTT → ingest →
PostgreSQL → the alert engine, as real processes (``python -m ingest``, ``python -m alerts``).

The storm's hour is played in order with its readings' own times (one simulated minute per round, each
round published and evaluated before the next, the hour ending now), so the engine sees the rain arrive
township by township. The warnings open along the path in its order, rivers pass their own warning lines
after the rain, and each compound red warning names the stations and values that made it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cityops.localserver import LocalMosquitto
from cityops.settings import PROJECT_ROOT
from layers.loader import load_active_layers
from simulator.accounts import INJECT, SIMULATOR, demo_accounts, publishing_accounts
from simulator.catalogue import build_catalogue
from simulator.world import World
from tests.alerts.test_loop_e2e import Pipeline, pipeline  # noqa: F401  (the fixture)
from tests.fix_mqtt import login
from tests.fix_system import ServiceFactory, wait_until
from tests.mqtt_publish import publish

PATH = ["431021", "431002"]  # 桂阳县 → 北湖区
WALK_MINUTES = 40
PLAYED_MINUTES = 62  # from the storm's start until now
FLOOD_STATIONS = ("rain_gauge", "river_gauge", "reservoir_gauge")


def _q(dsn: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def _kendall(xs: list[float], ys: list[float]) -> float:
    pairs = [(i, j) for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] != xs[j] and ys[i] != ys[j]]
    agree = sum((xs[i] < xs[j]) == (ys[i] < ys[j]) for i, j in pairs)
    return (2 * agree - len(pairs)) / len(pairs)


def test_a_walked_storm_opens_warnings_along_its_path_in_order(pipeline: Pipeline,  # noqa: F811
                                                               broker: LocalMosquitto) -> None:
    dsn = pipeline.dsn
    stations = [d for d in build_catalogue(load_active_layers(dsn).townships, 20261122)
                if d.device_type in FLOOD_STATIONS]
    world = World(stations, "chenzhou", 20261122)
    world.inject("rainstorm", path=PATH, minutes=WALK_MINUTES)
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(minutes=PLAYED_MINUTES)
    storm = None
    for m in range(PLAYED_MINUTES + 1):
        at = start + timedelta(minutes=m)
        messages = [(t, b) for t, b in world.messages(at) if "/telemetry/" in t]
        storm = storm or world.walking()[0]
        publish(broker.port, messages, client_id="storm-pub")
        n = len(messages)
        wait_until(f"minute {m} stored and evaluated", lambda at=at, n=n: _q(
            dsn, "SELECT (SELECT count(*) FROM telemetry WHERE ts = %s) >= %s"
                 " AND NOT EXISTS (SELECT 1 FROM alert_inbox)", at, n)[0][0], timeout=60, logs=pipeline.logs)
    assert storm is not None
    place = {d.device_id: d for d in stations}

    # Heavy rain opened warnings township by township in the path's order.
    opened = _q(dsn, "SELECT township_code, min(opened_at), min(subject) FROM warnings WHERE rule_id = 'heavy_rain'"
                     " GROUP BY township_code ORDER BY 2")
    assert len(opened) >= 6, opened
    assert {t[:6] for t, _, _ in opened} >= set(PATH)
    along = [storm.along((place[g].lon, place[g].lat)) for _, _, g in opened]
    assert _kendall(along, [o.timestamp() for _, o, _ in opened]) > 0.5, list(zip(opened, along, strict=True))
    by_county = {c: [o for t, o, _ in opened if t.startswith(c)] for c in PATH}
    assert min(by_county[PATH[0]]) < min(by_county[PATH[1]])  # it rained in 桂阳 first
    far = _q(dsn, "SELECT count(*) FROM warnings WHERE rule_id IN ('heavy_rain', 'flood_compound')"
                  " AND district_code IN ('431081', '431028', '431024')")  # 资兴, 安仁, 嘉禾: off the path
    assert far == [(0,)]

    # The compound red warnings name their stations and values; each value is a stored reading.
    compounds = _q(dsn, "SELECT w.township_code, w.details, w.title, i.title, i.level, i.township_code"
                        " FROM warnings w JOIN incidents i ON i.id = w.incident_id"
                        " WHERE w.rule_id = 'flood_compound' ORDER BY w.opened_at")
    assert len(compounds) >= 2, _q(dsn, "SELECT rule_id, subject, level, title FROM warnings ORDER BY opened_at")
    for township, details, title, incident_title, level, routed in compounds:
        assert level == 1 and routed == township and incident_title == title
        rain, water = details["conditions"]
        assert rain["met"] and water["met"]
        for part in (rain, water):
            for s in part["stations"]:
                assert place[s["device_id"]].township_code == township
                assert _q(dsn, "SELECT value FROM telemetry WHERE device_id = %s AND ts = %s", s["device_id"],
                          datetime.fromisoformat(s["ts"])) == [(s["value"],)]
        river = water["stations"][0]
        assert river["value"] >= river["line_value"] == place[river["device_id"]].lines.warning  # type: ignore[union-attr]
        assert place[rain["stations"][0]["device_id"]].name in title and place[river["device_id"]].name in title
        # The title says what opened it (the details, what it saw last): one of the river's stored readings.
        said = [v for (v,) in _q(dsn, "SELECT value FROM telemetry WHERE device_id = %s", river["device_id"])
                if f"{place[river['device_id']].name} 水位 {v:.2f} m（超警戒水位" in title]
        assert said and min(said) >= river["line_value"], title

        # The river passed its own warning line later than the heavy rain fell in its township.
        (rain_at,), = _q(dsn, "SELECT min(ts) FROM telemetry WHERE device_id = %s AND metric = 'rain_1h'"
                              " AND value >= 50", rain["stations"][0]["device_id"])
        (river_at,), = _q(dsn, "SELECT min(ts) FROM telemetry WHERE device_id = %s AND value >= %s",
                          river["device_id"], river["line_value"])
        assert river_at > rain_at + timedelta(minutes=5), (township, rain_at, river_at)

    # Each river's level warning names the line its level stands on: 警戒 for 蓝/黄, 保证 for 橙/红.
    lines = _q(dsn, "SELECT subject, details->>'line', level FROM warnings WHERE rule_id = 'river_high'")
    assert len(lines) >= 3 and {level for _, _, level in lines} & {2, 3}
    assert all(line == ("warning" if level >= 3 else "guarantee") for _, line, level in lines), lines
    print(f"\n{len(opened)} townships warned in order (first {opened[0][0]}, last {opened[-1][0]}),"
          f" {len(compounds)} compound red warnings: {json.dumps(compounds[0][2], ensure_ascii=False)}")


def _simulator_credentials(port: int, dsn: str, folder: Path) -> Path:
    """The broker accounts the simulator publishes and takes orders with (its district gateways, the
    department systems, its order reader and sender), created on the session's broker, as a credentials file."""
    devices = build_catalogue(load_active_layers(dsn).townships, 20261122)
    wanted = set(publishing_accounts(devices)) | {SIMULATOR, INJECT}
    passwords = {}
    for account in demo_accounts("chenzhou", devices, []):
        if account.username in wanted:
            address = login(port, account)
            passwords[account.username] = address.password
    path = folder / "credentials.json"
    path.write_text(json.dumps(passwords), encoding="utf-8")
    return path


def test_inject_rainstorm_path_walks_the_running_simulators_storm(
        pipeline: Pipeline, broker: LocalMosquitto, services: ServiceFactory,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo's command: ``python -m simulator inject rainstorm --path 431026 431027 --minutes 1`` to the
    running ``python -m simulator run``. A minute is a storm passing fast: its rain is in every gauge's
    hour at once, so the 3-hour rule (no duration) fires as it passes, 汝城县 first, then 桂东县."""
    dsn = pipeline.dsn
    monkeypatch.setenv("CITYOPS_MQTT_CREDENTIALS", str(_simulator_credentials(broker.port, dsn, tmp_path)))
    bad = subprocess.run([sys.executable, "-m", "simulator", "inject", "rainstorm", "--path", "4310"],
                         capture_output=True, text=True, cwd=PROJECT_ROOT, env=dict(os.environ), timeout=60)
    assert bad.returncode == 2 and "not a county (6 digits) or township (9 digits) code" in bad.stderr
    run = services("simulator", dsn, "run", "--interval", "1")
    run.wait_for_log("simulating", timeout=60)
    sent = datetime.now(UTC)
    order = services("simulator", dsn, "inject", "rainstorm", "--path", "431026", "431027", "--minutes", "1")
    run.wait_for_log("scenario injected", timeout=30)
    assert order.proc is not None and order.proc.wait(timeout=30) == 0
    assert "path=((113.69" in run.log() and "minutes=1.0" in run.log()

    def opened_in(county: str) -> datetime | None:
        (first,), = _q(dsn, "SELECT min(opened_at) FROM warnings WHERE rule_id = 'rain_3h' AND district_code = %s"
                            " AND opened_at >= %s", county, sent)
        return first

    first = wait_until("a 3-hour rain warning in 汝城县", lambda: opened_in("431026"), timeout=120, logs=run.log)
    second = wait_until("a 3-hour rain warning in 桂东县", lambda: opened_in("431027"), timeout=180, logs=run.log)
    assert first < second
    titles = _q(dsn, "SELECT title, details->>'hours' FROM warnings WHERE rule_id = 'rain_3h' AND opened_at >= %s",
                sent)
    assert titles and all(title.startswith("3小时强降雨 · ") and "（3小时雨量 " in title and hours == "3"
                          for title, hours in titles)
