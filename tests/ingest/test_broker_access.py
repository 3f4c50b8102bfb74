"""Attacks on the broker, against the real thing: mosquitto started by LocalMosquitto, its files rebuilt
from the registry by ``python -m ingest accounts sync`` (a real process), ingest storing what gets through.

What a client sees from mosquitto 2.0.11 (MQTT 5), asserted below: a refused login gets CONNACK
"Not authorized" (also for a wrong password: mosquitto does not say "Bad user name or password");
a publish the ACL refuses gets PUBACK "Not authorized" and is dropped, the connection stays; a
subscription outside the ACL gets SUBACK "Granted QoS 1" (mosquitto's acl_file does not check
SUBSCRIBE) and then no message, since each delivery is checked against the message's topic.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest

from cityops.localserver import LocalMosquitto, free_port
from cityops.mqtt import connack, url, wait_until_accepted
from cityops.settings import MqttAddress
from ingest import broker_accounts, broker_acl
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from layers.loader import load_active_layers
from tests.fix_db import AsRole
from tests.fix_mqtt import Peer
from tests.fix_system import Service, wait_until

CITY = "chenzhou"


@dataclass
class Locked:
    dsn: str
    broker: LocalMosquitto
    logins: dict[str, MqttAddress]  # the accounts the tests issued, by user name
    ingest: Service
    sync: Service

    def login(self, username: str) -> MqttAddress:
        return self.logins[username]

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()


def _issue(dsn: str, port: int, accounts: list[broker_acl.BrokerAccount]) -> dict[str, MqttAddress]:
    with psycopg.connect(dsn) as conn:
        return {name: MqttAddress("127.0.0.1", port, name, password)
                for name, password in broker_accounts.issue(conn, accounts).items()}


def _devices(dsn: str) -> dict[str, tuple[str, str]]:
    """device_type → (device_id, dept) of one registered device of each type."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT DISTINCT ON (device_type) device_type, device_id, dept FROM devices"
                            " ORDER BY device_type, device_id").fetchall()
    return {t: (i, d) for t, i, d in rows}


@pytest.fixture(scope="module")
def locked(demo_dsn: str, as_role: AsRole, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    run_dir = tmp_path_factory.mktemp("locked-run")
    broker = LocalMosquitto(run_dir / "mqtt", free_port())
    broker.start()
    env = dict(os.environ, CITYOPS_DATABASE_URL=demo_dsn, CITYOPS_INGEST_DATABASE_URL=as_role(demo_dsn, "ingest"),
               CITYOPS_RUN_DIR=str(run_dir), CITYOPS_MQTT_PORT=str(broker.port), CITYOPS_CITY=CITY,
               PYTHONUNBUFFERED="1", CITYOPS_DEMO="1")
    with psycopg.connect(demo_dsn) as conn:
        towns = [r[0] for r in conn.execute("SELECT code FROM regions WHERE level = 'township' ORDER BY code LIMIT 2")]
    logins = _issue(demo_dsn, broker.port, [
        *(broker_acl.device(CITY, i) for i, _ in _devices(demo_dsn).values()),
        *(broker_acl.township(CITY, t) for t in towns), broker_acl.system(CITY, "ga", "police110"),
        broker_acl.ingest(CITY, "ingest-locked"), broker_acl.alerts(CITY, "alerts-locked")])
    sync = Service("ingest", ["accounts", "sync"], env, run_dir / "sync.log").start()
    ingest = Service("ingest", ["--client-id", "ingest-locked", "--share-group", "locked"],
                     env | {"CITYOPS_MQTT_URL": url(logins["ingest-locked"])}, run_dir / "ingest.log")
    try:
        wait_until_accepted(logins["ingest-locked"], timeout=30)
        ingest.start().wait_for_log("ingest subscribed")
        yield Locked(demo_dsn, broker, logins, ingest, sync)
    finally:
        ingest.stop()
        sync.stop()
        broker.stop()


def _town(locked: Locked, nth: int) -> str:
    return sorted(n for n in locked.logins if n.startswith("town-"))[nth].removeprefix("town-")


def _reading(value: float, metric: str) -> str:
    return json.dumps({"ts": datetime.now(UTC).isoformat(), "values": {metric: value}})


def test_anonymous_and_wrong_passwords_are_refused_at_connect(locked: Locked) -> None:
    gas, _ = _devices(locked.dsn)["gas_detector"]
    good = locked.login(gas)
    assert str(connack(MqttAddress("127.0.0.1", locked.broker.port))) == "Not authorized"
    assert str(connack(MqttAddress("127.0.0.1", locked.broker.port, gas, "wrong-password"))) == "Not authorized"
    assert str(connack(MqttAddress("127.0.0.1", locked.broker.port, "nobody", good.password))) == "Not authorized"
    assert str(connack(good)) == "Success"
    # The issue's attack: one anonymous mosquitto_pub of a red 110 event.
    event = {"event_id": "anon-110", "ts": datetime.now(UTC).isoformat(), "category": "public_safety",
             "title": "假警情", "level": 1}
    cli = subprocess.run(["mosquitto_pub", "-p", str(locked.broker.port), "-q", "1", "-t",
                          "city/chenzhou/event/110/police", "-m", json.dumps(event)], capture_output=True, text=True)
    assert (cli.returncode, cli.stderr.splitlines()[0]) == (5, "Connection error: Connection Refused: not authorised.")


def test_a_device_cannot_publish_as_another_and_nothing_of_it_is_stored(locked: Locked) -> None:
    devices = _devices(locked.dsn)
    (gas, gas_dept), (rain, rain_dept) = devices["gas_detector"], devices["rain_gauge"]
    attacker = Peer(locked.login(gas))
    try:
        assert attacker.publish(f"city/chenzhou/telemetry/{rain_dept}/rain_gauge/{rain}",
                                _reading(123.4, "rain_1h")) == "Not authorized"
        assert attacker.publish(f"city/chenzhou/status/{rain}", "offline") == "Not authorized"
        assert attacker.publish(f"city/chenzhou/telemetry/{gas_dept}/gas_detector/{gas}",
                                _reading(7.7, "gas_lel")) == "Success"  # its own topic, on the same connection
        assert not attacker.disconnected.is_set()  # refused messages are dropped, the connection stays
    finally:
        attacker.close()
    wait_until("the device's own reading", lambda: locked.rows(
        "SELECT 1 FROM telemetry WHERE device_id = %s AND value = 7.7", gas), logs=locked.ingest.log)
    assert locked.rows("SELECT count(*) FROM telemetry WHERE device_id = %s", rain) == [(0,)]
    assert locked.rows("SELECT count(*) FROM device_status WHERE device_id = %s", rain) == [(0,)]
    assert locked.rows("SELECT count(*) FROM dead_letters") == [(0,)]


def test_a_device_cannot_raise_an_event(locked: Locked) -> None:
    gas, _ = _devices(locked.dsn)["gas_detector"]
    base = {"ts": datetime.now(UTC).isoformat(), "category": "public_safety", "title": "道路塌陷", "level": 1}
    attacker, police = Peer(locked.login(gas)), Peer(locked.login(broker_acl.system_username("ga", "police110")))
    try:
        assert attacker.publish("city/chenzhou/event/ga/police110", json.dumps({**base, "event_id": "fake-1"})
                                ) == "Not authorized"
        assert police.publish("city/chenzhou/event/yj/gas", json.dumps({**base, "event_id": "wrong-system"})
                              ) == "Not authorized"  # a system publishes only as itself
        assert police.publish("city/chenzhou/event/ga/police110", json.dumps({**base, "event_id": "real-1"})
                              ) == "Success"
    finally:
        attacker.close()
        police.close()
    wait_until("the system's own event", lambda: locked.rows("SELECT 1 FROM events WHERE event_id = 'real-1'"),
               logs=locked.ingest.log)
    assert locked.rows("SELECT event_id FROM events ORDER BY event_id") == [("real-1",)]


def test_a_township_hears_only_its_own_dispatches_and_cannot_forge_one(locked: Locked) -> None:
    mine, theirs = _town(locked, 0), _town(locked, 1)
    gas, gas_dept = _devices(locked.dsn)["gas_detector"]
    app = Peer(locked.login(broker_acl.township_broker_user(mine)))
    engine = Peer(locked.login("alerts-locked"))
    device = Peer(locked.login(gas))
    try:
        codes = app.subscribe(f"city/chenzhou/dispatch/{mine}", f"city/chenzhou/dispatch/{theirs}",
                              f"city/chenzhou/directive/{theirs}", "city/chenzhou/telemetry/+/+/+")
        assert codes == ["Granted QoS 1"] * 4  # mosquitto grants every SUBACK; delivery is what it checks
        assert engine.publish(f"city/chenzhou/dispatch/{theirs}", "for-them") == "Success"
        assert engine.publish(f"city/chenzhou/directive/{theirs}", "for-them") == "Success"
        assert device.publish(f"city/chenzhou/telemetry/{gas_dept}/gas_detector/{gas}", _reading(2.0, "gas_lel")
                              ) == "Success"
        assert engine.publish(f"city/chenzhou/dispatch/{mine}", "for-us") == "Success"
        assert app.received(within=2.0) == [(f"city/chenzhou/dispatch/{mine}", b"for-us")]
        assert app.publish(f"city/chenzhou/dispatch/{mine}", "forged") == "Not authorized"
        assert device.publish(f"city/chenzhou/dispatch/{mine}", "forged") == "Not authorized"
        assert app.received(within=0.5) == []
    finally:
        for peer in (app, engine, device):
            peer.close()


def test_an_account_cannot_take_over_ingest_s_session(locked: Locked) -> None:
    gas, gas_dept = _devices(locked.dsn)["gas_detector"]
    # mosquitto would hand ingest's persistent session to anyone connecting with its client id, and drop
    # the queued messages the newcomer may not read; the broker names every client by its user instead.
    intruder = Peer(locked.login(broker_acl.township_broker_user(_town(locked, 1))), client_id="ingest-locked")
    try:
        device = Peer(locked.login(gas))
        assert device.publish(f"city/chenzhou/telemetry/{gas_dept}/gas_detector/{gas}",
                              _reading(8.8, "gas_lel")) == "Success"
        device.close()
        wait_until("the reading stored by ingest", lambda: locked.rows(
            "SELECT 1 FROM telemetry WHERE device_id = %s AND value = 8.8", gas), logs=locked.ingest.log)
        assert not intruder.disconnected.is_set()
    finally:
        intruder.close()
    assert "ingest disconnected from broker" not in locked.ingest.log()


def test_a_device_registered_while_running_publishes_within_seconds_and_a_retired_one_cannot(
        locked: Locked) -> None:
    layers = load_active_layers(locked.dsn)
    spec = DeviceSpec("gas-new-1", "gas_detector", "yj", "新燃气监测点", 113.02, 25.78)
    with psycopg.connect(locked.dsn) as conn, conn.transaction():
        register_devices(conn, [spec], layer_tagger(layers), layers.version)
        password = broker_accounts.issue(conn, [broker_acl.device(CITY, spec.device_id)])[spec.device_id]
    new = MqttAddress("127.0.0.1", locked.broker.port, spec.device_id, password)
    seconds = wait_until_accepted(new)
    print(f"registered → accepted by the broker in {seconds:.2f} s")
    assert seconds < 5
    device = Peer(new)
    assert device.publish("city/chenzhou/telemetry/yj/gas_detector/gas-new-1", _reading(3.3, "gas_lel")) == "Success"
    wait_until("the new device's reading", lambda: locked.rows(
        "SELECT 1 FROM telemetry WHERE device_id = 'gas-new-1' AND value = 3.3"), logs=locked.ingest.log)

    with psycopg.connect(locked.dsn) as conn:
        assert broker_accounts.retire(conn, ["gas-new-1"]) == ["gas-new-1"]
    assert device.disconnected.wait(10), "the reload did not end the retired device's open connection"
    device.close()
    wait_until("the retired device refused", lambda: str(connack(new)) == "Not authorized", timeout=10)
    assert locked.rows("SELECT count(*) FROM telemetry WHERE device_id = 'gas-new-1'") == [(1,)]
    assert "broker accounts rebuilt" in locked.sync.log()


def test_the_registry_refuses_a_device_named_like_another_kind_s_account(locked: Locked) -> None:
    taken = broker_acl.township_broker_user(_town(locked, 0))
    with psycopg.connect(locked.dsn) as conn, pytest.raises(broker_accounts.BrokerAccountError, match="another kind"):
        broker_accounts.issue(conn, [broker_acl.device(CITY, taken)])
