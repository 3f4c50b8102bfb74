"""The alert engine as real processes: leader election, restarts, and what township apps hear over MQTT."""

from __future__ import annotations

import json
import queue
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
import pytest

from alerts import directives
from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from alerts.status import Status
from cityops.localserver import LocalMosquitto
from cityops.mqtt import new_client
from ingest import broker_acl
from tests.fix_db import one
from tests.fix_mqtt import login
from tests.fix_system import ServiceFactory, wait_until
from tests.mqtt_publish import publish

COMMAND = Actor("zhihui", Role.COMMAND)


def q(dsn: str, sql: str, *args: object) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, args).fetchall()


def device(dsn: str, device_type: str, nth: int) -> tuple[str, str, str]:
    return q(dsn, "SELECT device_id, dept, township_code FROM devices WHERE device_type = %s ORDER BY device_id"
                  " OFFSET %s LIMIT 1", device_type, nth)[0]


def reading(device_type: str, dev: tuple[str, str, str], metric: str, value: float, ts: datetime | None = None
            ) -> tuple[str, dict]:
    device_id, dept, _ = dev
    return (f"city/chenzhou/telemetry/{dept}/{device_type}/{device_id}",
            {"ts": (ts or datetime.now(UTC)).isoformat(), "values": {metric: value}})


class AppListener:
    """What township apps subscribed to their dispatch and directive topics receive: one app per township,
    each logged in as that township's account (which may receive only its own topics)."""

    def __init__(self, port: int, townships: list[str]) -> None:
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.clients: list[mqtt.Client] = []
        for t in townships:
            address = login(port, broker_acl.township("chenzhou", t))
            client = new_client(address, f"township-app-{t}")
            client.on_message = lambda _c, _u, m: self.messages.put((m.topic, json.loads(m.payload)))
            client.connect(address.host, address.port)
            client.subscribe([(f"city/chenzhou/dispatch/{t}", 1), (f"city/chenzhou/directive/{t}", 1)])
            client.loop_start()
            self.clients.append(client)
        time.sleep(0.5)

    def expect(self, topic: str, match: dict, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                got_topic, body = self.messages.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append((got_topic, body))
            if got_topic == topic and all(body.get(k) == v for k, v in match.items()):
                return body
        raise AssertionError(f"no message on {topic} matching {match}; saw {seen}")

    def close(self) -> None:
        for client in self.clients:
            client.loop_stop()
            client.disconnect()


@pytest.fixture
def ingest(demo_dsn: str, services: ServiceFactory) -> None:
    services("ingest", demo_dsn, "--client-id", "alerts-proc-ingest", "--share-group", "alerts-proc"
             ).wait_for_log("ingest subscribed")


def test_standby_engine_takes_over_without_duplicates(demo_dsn: str, services: ServiceFactory, ingest: None,
                                                      broker: LocalMosquitto) -> None:
    first = services("alerts", demo_dsn, "--name", "engine-a", "--tick", "1")
    first.wait_for_log("alert engine active")
    second = services("alerts", demo_dsn, "--name", "engine-b", "--tick", "1")
    time.sleep(3)
    assert "alert engine active" not in second.log(), "only one engine may be active"
    gas_a, gas_b = device(demo_dsn, "gas_detector", 20), device(demo_dsn, "gas_detector", 21)
    publish(broker.port, [reading("gas_detector", gas_a, "gas_lel", 55.0)])
    wait_until("engine A to open the first warning", lambda: q(demo_dsn, "SELECT 1 FROM warnings WHERE subject = %s",
                                                              gas_a[0]), logs=first.log)
    killed_at = time.monotonic()
    first.stop(signal.SIGKILL)
    second.wait_for_log("alert engine active", timeout=15)
    takeover = time.monotonic() - killed_at
    publish(broker.port, [reading("gas_detector", gas_a, "gas_lel", 58.0), reading("gas_detector", gas_b,
                                                                                   "gas_lel", 52.0)])
    wait_until("engine B to open the second warning", lambda: q(
        demo_dsn, "SELECT 1 FROM warnings WHERE subject = %s", gas_b[0]), logs=second.log)
    assert takeover < 10, f"takeover took {takeover:.1f} s"
    for subject in (gas_a[0], gas_b[0]):
        assert q(demo_dsn, "SELECT count(*), count(DISTINCT incident_id) FROM warnings WHERE subject = %s",
                 subject) == [(1, 1)]
    print(f"\nstandby took over {takeover:.1f} s after kill -9 of the active engine")


def test_a_duration_survives_an_engine_kill(demo_dsn: str, services: ServiceFactory, ingest: None,
                                            broker: LocalMosquitto) -> None:
    """heavy_rain needs 10 minutes at ≥ 20 mm/h: kill the engine 5 minutes into it."""
    gauge = device(demo_dsn, "rain_gauge", 30)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    engine = services("alerts", demo_dsn, "--name", "engine-r")
    engine.wait_for_log("alert engine active")
    publish(broker.port, [reading("rain_gauge", gauge, "rain_1h", 35.0, start + timedelta(minutes=m))
                          for m in range(6)])
    wait_until("the first half to be evaluated", lambda: not q(demo_dsn, "SELECT 1 FROM alert_inbox"))
    assert q(demo_dsn, "SELECT count(*) FROM warnings WHERE subject = %s", gauge[0]) == [(0,)]
    engine.stop(signal.SIGKILL)
    publish(broker.port, [reading("rain_gauge", gauge, "rain_1h", 36.0, start + timedelta(minutes=m))
                          for m in range(6, 11)])
    restarted = services("alerts", demo_dsn, "--name", "engine-r2")
    rows = wait_until("the warning after the restart", lambda: q(
        demo_dsn, "SELECT level, peak_value FROM warnings WHERE rule_id = 'heavy_rain' AND subject = %s",
        gauge[0]), logs=restarted.log)
    assert rows == [(3, 36.0)]


@pytest.fixture
def app(broker: LocalMosquitto, demo_dsn: str) -> Iterator[tuple[AppListener, list[str]]]:
    towns = [r[0] for r in q(demo_dsn, "SELECT code FROM regions WHERE level = 'township' ORDER BY code"
                                       " OFFSET 40 LIMIT 3")]
    listener = AppListener(broker.port, towns)
    yield listener, towns
    listener.close()


def test_township_apps_hear_the_whole_loop(demo_dsn: str, services: ServiceFactory,
                                           app: tuple[AppListener, list[str]]) -> None:
    listener, (t1, t2, t3) = app
    services("alerts", demo_dsn, "--name", "engine-m", "--tick", "1").wait_for_log("alert engine active")
    now = datetime.now(UTC)
    with psycopg.connect(demo_dsn) as conn:
        (lon, lat) = one(conn, "SELECT label_lon, label_lat FROM regions WHERE code = %s", (t1,))
        where = Location(lon, lat, t1[:6], t1, None, None)
        incident_id = open_incident(conn, title="道路积水", category="flood", level=3, source_kind="manual",
                                    location=where, now=now)
        conn.commit()
    assert incident_id is not None
    listener.expect(f"city/chenzhou/dispatch/{t1}", {"incident_id": incident_id, "action": "dispatch"})

    staff1, staff2 = Actor("zj1", Role.TOWNSHIP, t1), Actor("zj2", Role.TOWNSHIP, t2)
    with psycopg.connect(demo_dsn) as conn:
        act(conn, incident_id, Action.RETURN, staff1, now, note="不属本镇", details={"suggested": t2})  # 退单
        act(conn, incident_id, Action.DISPATCH, COMMAND, now, township_code=t2, note="改派")
    listener.expect(f"city/chenzhou/dispatch/{t2}", {"incident_id": incident_id, "action": "dispatch"})
    with psycopg.connect(demo_dsn) as conn:
        act(conn, incident_id, Action.SIGN, staff2, now)
        act(conn, incident_id, Action.POSTPONE, COMMAND, now, note="批准缓办：待水位回落")  # 缓办
        act(conn, incident_id, Action.RESUME, staff2, now + timedelta(minutes=30))
        act(conn, incident_id, Action.FEEDBACK, staff2, now, note="已抽排", details={"people_evacuated": 3})
        act(conn, incident_id, Action.REWORK, COMMAND, now, note="请补充照片")  # 返工
        act(conn, incident_id, Action.FEEDBACK, staff2, now, note="已补充照片")
        act(conn, incident_id, Action.VERIFY, COMMAND, now)
    actions = [r[0] for r in q(demo_dsn, "SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id",
                               incident_id)]
    assert actions == ["create", "dispatch", "assist", "return", "dispatch", "sign", "postpone", "resume", "feedback",
                       "rework", "feedback", "verify"]  # 水利局 assists (协办) every flood incident

    # An incident nobody signed for: the engine's timer reminds the township and the app hears it.
    with psycopg.connect(demo_dsn) as conn:
        late = open_incident(conn, title="井盖缺失", category="public_safety", level=4, source_kind="manual",
                             location=Location(lon, lat, t3[:6], t3, None, None), now=now - timedelta(hours=3))
        conn.commit()
    listener.expect(f"city/chenzhou/dispatch/{t3}", {"incident_id": late, "action": "escalate"})
    tiers = [r[0] for r in q(demo_dsn, "SELECT details->>'tier' FROM incident_log WHERE incident_id = %s"
                                       " AND action IN ('remind', 'escalate') ORDER BY id", late)]
    assert tiers == ["3"]  # three hours late: straight to the leader, once
    assert q(demo_dsn, "SELECT status FROM incidents WHERE id = %s", late) == [(Status.DISPATCHED.value,)]

    # 政令一键智达: every township hears it; one acknowledges; the laggard is reminded.
    with psycopg.connect(demo_dsn) as conn:
        directive_id = directives.issue(conn, title="启动防汛IV级应急响应", body="请立即部署", townships=[t1, t2],
                                        actor=COMMAND, now=now - timedelta(minutes=40),
                                        ack_within=timedelta(minutes=30))
    for t in (t1, t2):
        listener.expect(f"city/chenzhou/directive/{t}", {"directive_id": directive_id, "title": "启动防汛IV级应急响应"})
    with psycopg.connect(demo_dsn) as conn:
        assert directives.acknowledge(conn, directive_id, staff1, now)
    listener.expect(f"city/chenzhou/directive/{t2}", {"directive_id": directive_id, "reminder": 1})
    with psycopg.connect(demo_dsn) as conn:
        status = {t.township_code: t.acked_at is not None for t in directives.targets(conn, directive_id)}
    assert status == {t1: True, t2: False}
