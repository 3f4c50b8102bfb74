"""The embedded broker restarted behind a gate: only the services log in until the gate opens.

Why: mosquitto 2.0.11 restores plain subscriptions from its persistence but not shared ones, so readings
published after a restart and before the ingest workers subscribe again are acknowledged and dropped. A
device refused at CONNECT keeps its messages and sends them once let in.
"""

from __future__ import annotations

from pathlib import Path

from cityops.localserver import LocalMosquitto, free_port
from cityops.mqtt import connack, wait_until_accepted
from cityops.settings import MqttAddress
from ingest import broker_acl

CITY = "chenzhou"


def test_a_gated_broker_lets_in_only_the_services_until_the_gate_opens(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    broker = LocalMosquitto(tmp_path / "mqtt", free_port())
    accounts = [broker_acl.ingest(CITY, "cityops-ingest-1"), broker_acl.device(CITY, "gas-1")]
    passwords = {a.username: broker_acl.new_password() for a in accounts}
    files = broker_acl.render(CITY, [(a, broker_acl.hash_password(passwords[a.username])) for a in accounts])
    broker.install(files.passwords, files.acl)

    def login(username: str) -> MqttAddress:
        return MqttAddress("127.0.0.1", broker.port, username, passwords[username])

    broker.start_gated(["cityops-ingest-1"])
    try:
        assert not connack(login("cityops-ingest-1")).is_failure
        assert connack(login("gas-1")).is_failure  # kept out, not dropped: it keeps what it has to send
        broker.open_gate()
        wait_until_accepted(login("gas-1"))
        assert not broker.gate_path.exists()
        broker.stop()
        broker.start()  # a plain start is never gated
        assert not connack(login("gas-1")).is_failure
    finally:
        broker.stop()
