"""A 12345 hotspot the whole way on real parts: tickets published over MQTT by the hotline system, stored by the
ingest process, placed by the engine process (the demo's rule: ≥ 5 of a kind within 500 m in 7 days) into ONE
proactive-governance incident listing them, dispatched to the township; a later ticket inside it joins it, one of
another kind or far away does not; closing the incident through the lifecycle answers every ticket with its
outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alerts import hotspots
from alerts.incidents import act
from alerts.lifecycle import Action, Actor, Role
from cityops.localserver import LocalMosquitto
from tests.fix_db import AsRole
from tests.fix_mqtt import CITY
from tests.fix_system import ServiceFactory, wait_until
from tests.mqtt_publish import publish

TOPIC = f"city/{CITY}/event/zw/hotline12345"
M_LON = 1 / 100_400  # about a metre of longitude in 郴州


def _rows(dsn: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def test_tickets_over_mqtt_become_one_hotspot_incident_that_answers_them_all(
        demo_dsn: str, services: ServiceFactory, broker: LocalMosquitto, as_role: AsRole) -> None:
    ingest = services("ingest", demo_dsn, "--client-id", "hotspot-ingest", "--share-group", "hotspot")
    alerts = services("alerts", demo_dsn, "--name", "hotspot-engine")
    ingest.wait_for_log("ingest subscribed")
    alerts.wait_for_log("alert engine active")
    (town, lon, lat), = _rows(demo_dsn, "SELECT code, label_lon, label_lat FROM regions WHERE level = 'township'"
                                        " ORDER BY code OFFSET 20 LIMIT 1")

    def ticket(n: int, east_m: float, complaint: str = "违章停车") -> tuple[str, dict[str, object]]:
        return TOPIC, {"event_id": f"e2e-{n}", "ts": (datetime.now(UTC) - timedelta(minutes=30 - n)).isoformat(),
                       "category": "hotline", "title": complaint, "description": f"路口违停严重，造成拥堵（{n}）",
                       "lon": lon + east_m * M_LON, "lat": lat,
                       "reporter": {"name": "刘芳", "phone": f"139 0000 {n:04d}"}}

    def logs() -> str:
        return f"--- ingest\n{ingest.log()}\n--- alerts\n{alerts.log()}"

    publish(broker.port, [ticket(n, n * 60) for n in range(4)]
            + [ticket(10, 100, "噪音扰民"), ticket(11, 4000)])  # another kind; 4 km off
    wait_until("the six tickets stored", lambda: _rows(demo_dsn, "SELECT count(*) FROM events")[0][0] == 6, logs=logs)
    publish(broker.port, [ticket(4, 250)])  # the fifth of its kind within 500 m
    incident = wait_until("the hotspot's incident", lambda: _rows(
        demo_dsn, "SELECT incident_id FROM warnings WHERE rule_id = 'hotline_hotspot' AND incident_id IS NOT NULL"),
        logs=logs)[0][0]
    with psycopg.connect(demo_dsn) as conn:
        assert [t.event_id for t in hotspots.tickets(conn, incident)] == [f"e2e-{n}" for n in range(5)]
        assert conn.execute("SELECT title, township_code, status FROM incidents WHERE id = %s",
                            (incident,)).fetchone() == ("主动治理·高频诉求热点 · 违章停车（5件）", town, "dispatched")

    publish(broker.port, [ticket(5, 420)])  # later, inside the hotspot: it joins, no new incident
    wait_until("the sixth joins", lambda: _rows(demo_dsn, "SELECT count(*) FROM hotspot_tickets")[0][0] == 6,
               logs=logs)
    assert _rows(demo_dsn, "SELECT count(*), max(last_value) FROM warnings WHERE rule_id = 'hotline_hotspot'") == [
        (1, 6.0)]
    assert _rows(demo_dsn, "SELECT count(*) FROM incidents WHERE category = 'hotline'") == [(1,)]

    # The township handles it, the desk closes it (overriding the warning that watches for two quiet days).
    staff, desk, now = Actor(f"zj{town}", Role.TOWNSHIP, town), Actor("zhihui", Role.COMMAND), datetime.now(UTC)
    with psycopg.connect(demo_dsn) as conn:
        act(conn, incident, Action.SIGN, staff, now)
        act(conn, incident, Action.FEEDBACK, staff, now, note="已施划禁停标线并加装隔离桩，已回访诉求人",
            details={"result": "resolved"})
        act(conn, incident, Action.VERIFY, desk, now, note="现场核实已整治，违停消除", details={"override": True})
    with psycopg.connect(as_role(demo_dsn, "dashboard")) as conn:
        for n in range(6):
            answered = hotspots.ticket(conn, "hotline12345", f"e2e-{n}")
            assert answered is not None and (answered.incident_id, answered.status, answered.outcome) == (
                incident, "closed", "已施划禁停标线并加装隔离桩，已回访诉求人")
        assert hotspots.ticket(conn, "hotline12345", "e2e-10") is None  # another kind: in no hotspot
        assert hotspots.ticket(conn, "hotline12345", "e2e-11") is None  # too far
