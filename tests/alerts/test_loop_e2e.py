"""The whole loop on real parts: MQTT → ingest → PostgreSQL → alert → dispatch → sign → feedback → verify.

ingest and the alert engine run as real processes (``python -m ingest``, ``python -m alerts``)
against a real mosquitto and PostgreSQL; the test publishes like a device would.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from alerts.incidents import act
from alerts.lifecycle import Action, Actor, IllegalMove, Refusal, Role
from cityops.localserver import LocalMosquitto
from tests.fix_system import ServiceFactory, wait_until
from tests.mqtt_publish import publish
from tests.near_border import border_points


def _device(dsn: str, device_type: str) -> tuple[str, str, str]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT device_id, dept, township_code FROM devices WHERE device_type = %s AND township_code IS NOT NULL"
            " ORDER BY device_id LIMIT 1", (device_type,)).fetchone()
    assert row is not None, f"no {device_type} registered"
    return row


def _query(dsn: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


@dataclass(frozen=True)
class Pipeline:
    dsn: str
    logs: Callable[[], str]
    engine_log: Callable[[], str]


@pytest.fixture
def pipeline(demo_dsn: str, services: ServiceFactory, monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Pipeline:
    monkeypatch.setenv("CITYOPS_LOG_FORMAT", "json")  # as a log collector reads them
    # A session and share group per test module: the broker is the session's, and a module's ingest must not
    # inherit what the module before it left queued for its database (a storm's backlog ahead of a truck's fixes).
    name = request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")
    ingest = services("ingest", demo_dsn, "--client-id", f"e2e-ingest-{name}", "--share-group", f"e2e-{name}")
    alerts = services("alerts", demo_dsn)
    ingest.wait_for_log("ingest subscribed")
    alerts.wait_for_log("alert engine active")
    return Pipeline(demo_dsn, lambda: f"--- ingest\n{ingest.log()}\n--- alerts\n{alerts.log()}", alerts.log)


def json_records(log: str) -> list[dict[str, Any]]:
    """The log's lines that are JSON objects (a child process's own prints may not be)."""
    records = []
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            if isinstance(record := json.loads(line), dict):
                records.append(record)
    return records


def test_gas_reading_over_threshold_runs_the_whole_loop(pipeline: Pipeline, broker: LocalMosquitto) -> None:
    dsn = pipeline.dsn
    device_id, dept, township = _device(dsn, "gas_detector")
    topic = f"city/chenzhou/telemetry/{dept}/gas_detector/{device_id}"
    now = datetime.now(UTC).isoformat()
    publish(broker.port, [(topic, {"ts": now, "values": {"gas_lel": 62.5}})])

    found = wait_until("an incident for the gas warning", lambda: _query(
        dsn, "SELECT i.id, i.township_code, i.status, i.level FROM incidents i JOIN warnings w ON w.id = i.warning_id"
        " WHERE w.subject = %s", device_id), logs=pipeline.logs)
    (incident_id, routed_to, status, level), = found
    assert routed_to == township, "routed to the township that contains the detector"
    assert (status, level) == ("dispatched", 1)
    opened = [r for r in json_records(pipeline.engine_log()) if r.get("incident_id") == incident_id]
    assert opened and opened[0]["component"] == "alerts" and opened[0]["worker"] == "alerts"
    assert opened[0]["subject"] == device_id and opened[0]["level"] == "INFO"

    # A second breach of the same rule on the same device is the same warning, not a new one.
    publish(broker.port, [(topic, {"ts": datetime.now(UTC).isoformat(), "values": {"gas_lel": 70.0}})])
    wait_until("the open warning to record the new peak", lambda: _query(
        dsn, "SELECT 1 FROM warnings WHERE subject = %s AND peak_value = 70", device_id))
    assert _query(dsn, "SELECT count(*) FROM warnings WHERE subject = %s", device_id) == [(1,)]
    assert _query(dsn, "SELECT count(*) FROM incidents WHERE warning_id IS NOT NULL AND lon IS NOT NULL"
                       " AND township_code = %s", township) == [(1,)]

    staff = Actor(f"zj{township}", Role.TOWNSHIP, township)
    command = Actor("zhihui", Role.COMMAND)
    t = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        act(conn, incident_id, Action.SIGN, staff, t)
        with pytest.raises(IllegalMove) as twice:
            act(conn, incident_id, Action.SIGN, staff, t)  # a double click signs once
        assert twice.value.refusal is Refusal.WRONG_STATE
        act(conn, incident_id, Action.FEEDBACK, staff, t, note="关闭阀门，通风处置", details={"evacuated": 12})
        act(conn, incident_id, Action.REWORK, command, t, note="请补充现场复测读数")
        act(conn, incident_id, Action.FEEDBACK, staff, t, note="复测 3%LEL，已恢复", details={"evacuated": 0})
        with pytest.raises(IllegalMove) as guard:
            act(conn, incident_id, Action.VERIFY, command, t, note="核查属实")  # the detector still reads 70
        assert guard.value.refusal is Refusal.SENSOR_STILL_BREACHING

    publish(broker.port, [(topic, {"ts": datetime.now(UTC).isoformat(), "values": {"gas_lel": 3.0}})])
    wait_until("the warning to clear", lambda: _query(
        dsn, "SELECT 1 FROM warnings WHERE subject = %s AND status = 'cleared'", device_id), logs=pipeline.logs)
    with psycopg.connect(dsn) as conn:
        act(conn, incident_id, Action.VERIFY, command, datetime.now(UTC), note="核查属实")

    log = _query(dsn, "SELECT action, from_status, to_status, actor, role FROM incident_log WHERE incident_id = %s"
                      " ORDER BY id", incident_id)
    # 应急管理局 handles production safety: it assists (协办) from the dispatch on.
    assert [r[0] for r in log] == ["create", "dispatch", "assist", "sign", "feedback", "rework", "feedback", "verify"]
    assert _query(dsn, "SELECT assist_units FROM incidents WHERE id = %s", incident_id) == [(["dept-yjglj"],)]
    assert log[-1][1:] == ("resolved", "closed", "zhihui", "command")
    assert _query(dsn, "SELECT status, rework_count FROM incidents WHERE id = %s", incident_id) == [("closed", 1)]
    with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE incident_log SET note = 'rewritten' WHERE incident_id = %s", (incident_id,))


def test_malformed_payloads_land_in_dead_letters_with_reason(pipeline: Pipeline, broker: LocalMosquitto) -> None:
    dsn = pipeline.dsn
    device_id, dept, _ = _device(dsn, "rain_gauge")
    good_topic = f"city/chenzhou/telemetry/{dept}/rain_gauge/{device_id}"
    garbage = b"\x00garbage{"
    publish(broker.port, [
        (good_topic, garbage),
        ("city/chenzhou/telemetry/qx/rain_gauge/no-such-device", {"ts": datetime.now(UTC).isoformat(),
                                                                   "values": {"rain_1h": 3}}),
        (good_topic, {"ts": datetime.now(UTC).isoformat(), "values": {"rain_1h": 4.5}}),
    ])
    rows = wait_until("two dead letters", lambda: r if len(r := _query(
        dsn, "SELECT reason, payload, topic FROM dead_letters ORDER BY id")) >= 2 else None,
        logs=pipeline.logs)
    assert (rows[0][0], bytes(rows[0][1])) == ("not_json", garbage)
    assert rows[1][0] == "unknown_device"
    wait_until("the good reading stored beside the bad ones", lambda: _query(
        dsn, "SELECT 1 FROM telemetry WHERE device_id = %s AND value = 4.5", device_id))


def test_an_event_published_near_a_township_border_asks_the_dispatcher_to_confirm(
        pipeline: Pipeline, broker: LocalMosquitto) -> None:
    dsn, points = pipeline.dsn, border_points()
    now = datetime.now(UTC).isoformat()
    publish(broker.port, [("city/chenzhou/event/ga/police110", {
        "event_id": f"e2e-{where}", "ts": now, "category": "public_safety", "title": "井盖缺失", "level": 3,
        "lon": lon, "lat": lat}) for where, (lon, lat) in (("near", points.near), ("far", points.far))])
    rows = wait_until("an incident for each event", lambda: (r := _query(
        dsn, "SELECT e.event_id, e.township_code, e.near_boundary, i.township_code, i.near_boundary, i.status"
             " FROM events e JOIN incidents i ON i.source_ref = 'event:police110:' || e.event_id"
             " ORDER BY e.event_id")) and len(r) == 2 and r, logs=pipeline.logs)
    t = points.township
    assert rows == [("e2e-far", t, False, t, False, "dispatched"), ("e2e-near", t, True, t, True, "dispatched")]
