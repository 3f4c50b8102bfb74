"""A 12345 ticket's reporter the whole way on real parts: published over MQTT, stored by the ingest process in a
table of its own (never in the event's payload), copied to the incident by the engine, and sent to the
township app masked only; a phone that is no phone is a dead letter naming the field. The page and the
export: tests/dashboard/test_reporter.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from cityops.localserver import LocalMosquitto
from ingest import broker_acl
from tests.fix_db import AsRole
from tests.fix_mqtt import CITY, Peer, login
from tests.fix_system import ServiceFactory, wait_until
from tests.mqtt_publish import publish

TOPIC = f"city/{CITY}/event/zw/hotline12345"


def _rows(dsn: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def township(demo_dsn: str) -> tuple[str, float, float]:
    (code, lon, lat), = _rows(demo_dsn, "SELECT code, label_lon, label_lat FROM regions WHERE level = 'township'"
                                        " ORDER BY code OFFSET 50 LIMIT 1")
    return code, lon, lat


@pytest.fixture
def app(broker: LocalMosquitto, township: tuple[str, float, float]) -> Iterator[Peer]:
    """The township's app, logged in as its own account, listening to its dispatches."""
    peer = Peer(login(broker.port, broker_acl.township(CITY, township[0])))
    assert peer.subscribe(f"city/{CITY}/dispatch/{township[0]}") == ["Granted QoS 1"]
    yield peer
    peer.close()


def test_a_reporter_is_stored_apart_and_leaves_only_masked(
        demo_dsn: str, services: ServiceFactory, broker: LocalMosquitto, app: Peer,
        township: tuple[str, float, float], as_role: AsRole) -> None:
    ingest = services("ingest", demo_dsn, "--client-id", "reporter-ingest", "--share-group", "reporter")
    alerts = services("alerts", demo_dsn, "--name", "reporter-engine")
    ingest.wait_for_log("ingest subscribed")
    alerts.wait_for_log("alert engine active")
    code, lon, lat = township
    now = datetime.now(UTC).isoformat()
    ticket = {"ts": now, "category": "hotline", "title": "井盖缺失", "level": 3, "lon": lon, "lat": lat}
    publish(broker.port, [
        (TOPIC, {**ticket, "event_id": "rep-good", "reporter": {"name": "张三丰", "phone": "139 0000 1234"}}),
        (TOPIC, {**ticket, "event_id": "rep-bad", "reporter": {"name": "李四", "phone": "12345"}}),
        (TOPIC, {**ticket, "event_id": "rep-none", "level": None}),  # no reporter, no level: an event only
    ])

    def logs() -> str:
        return f"--- ingest\n{ingest.log()}\n--- alerts\n{alerts.log()}"

    (topic, body), = wait_until("the dispatch on the township's topic", lambda: app.received(within=0.5),
                                logs=logs)
    sent = json.loads(body)
    assert topic == f"city/{CITY}/dispatch/{code}" and sent["action"] == "dispatch"
    assert sent["reporter"] == {"name": "张**", "phone": "139****1234"}
    assert not any(word in json.dumps(sent, ensure_ascii=False) for word in ("张三丰", "13900001234", "三丰"))

    assert _rows(demo_dsn, "SELECT event_id, name, phone FROM event_reporters") == [
        ("rep-good", "张三丰", "13900001234")]  # in its stored form
    assert _rows(demo_dsn, "SELECT event_id, payload ? 'reporter' FROM events ORDER BY event_id") == [
        ("rep-good", False), ("rep-none", False)]  # every role reads events: no reporter there
    assert _rows(demo_dsn, "SELECT i.id, c.name, c.phone FROM incidents i JOIN incident_contacts c ON c.incident_id"
                           " = i.id WHERE i.source_ref = 'event:hotline12345:rep-good'") == [
        (sent["incident_id"], "张三丰", "13900001234")]
    (reason, detail, payload), = _rows(demo_dsn, "SELECT reason, detail, payload FROM dead_letters")
    assert (reason, json.loads(bytes(payload))["event_id"]) == ("bad_schema", "rep-bad")
    assert detail.startswith("reporter.phone: Value error, not a plausible Chinese mobile or landline number")

    # ingest writes reporters and cannot read them back; the engine and the dashboard read them.
    with psycopg.connect(as_role(demo_dsn, "ingest")) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT name FROM event_reporters")
    for role, table in (("alerts", "event_reporters"), ("alerts", "incident_contacts"),
                        ("dashboard", "incident_contacts")):
        assert _rows(as_role(demo_dsn, role), f"SELECT count(*) FROM {table}") == [(1,)]
