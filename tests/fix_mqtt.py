"""A real mosquitto per test session, started with the project's own LocalMosquitto and locked as `up`'s is.

The session's broker serves every test module, each with a database of its own, so its accounts
are kept in this process rather than in a database (``ingest.broker_sync.LocalAccounts``):
``login(port, account)`` creates the account on first use (``ingest.broker_acl`` makes one of each
kind; a bare name is a bridge, which may publish any telemetry, event and status topic), reloads the
broker and waits until it accepts the account. Tests of the registry itself start brokers of their own.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from cityops.localserver import LocalMosquitto, free_port
from cityops.mqtt import PublishAcks, new_client, url
from cityops.settings import MqttAddress
from ingest import broker_acl
from ingest.broker_acl import BrokerAccount
from ingest.broker_sync import LocalAccounts

CITY = "chenzhou"
# The flag that names an instance of a service, and its account: a restarted instance must log in as
# the same account, because the broker keys persistent sessions by account.
_SERVICES: dict[str, tuple[str, Callable[[str, str], BrokerAccount]]] = {
    "ingest": ("--client-id", broker_acl.ingest), "alerts": ("--name", broker_acl.alerts)}


class Peer:
    """One logged-in MQTT 5 client, as a device, an app or an attacker runs it: what the broker answers it."""

    def __init__(self, address: MqttAddress, client_id: str | None = None) -> None:
        self.client = new_client(address, client_id or address.username or "anonymous")
        self.acks = PublishAcks(self.client)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.disconnected = threading.Event()
        self._subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        connected: queue.Queue[ReasonCode] = queue.Queue()
        self.client.on_connect = lambda _c, _u, _f, rc, _p: connected.put(rc)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda _c, _u, _m, codes, _p: self._subacks.put(codes)
        self.client.on_disconnect = lambda *_a: self.disconnected.set()
        self.client.connect(address.host, address.port, keepalive=10)
        self.client.loop_start()
        reason = connected.get(timeout=10)
        if reason.is_failure:
            self.close()
            raise ConnectionRefusedError(f"{address.username!r} refused: {reason}")

    def publish(self, topic: str, payload: bytes | str) -> str:
        """QoS 1; the broker's answer in PUBACK: Success, or why it dropped the message."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        return self.acks.refusal(info) or "Success"

    def subscribe(self, *topics: str) -> list[str]:
        """QoS 1; the SUBACK's reason codes, one per topic."""
        self.client.subscribe([(t, 1) for t in topics])
        return [str(code) for code in self._subacks.get(timeout=10)]

    def received(self, within: float) -> list[tuple[str, bytes]]:
        deadline, got = time.monotonic() + within, []
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.messages.get(timeout=left))
            except queue.Empty:
                break
        return got

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


_BY_PORT: dict[int, LocalAccounts] = {}


def login(port: int, account: BrokerAccount | str) -> MqttAddress:
    """The session broker on ``port``, logged in as ``account`` (a name alone: a bridge of that name)."""
    return _BY_PORT[port].login(broker_acl.bridge(CITY, account) if isinstance(account, str) else account)


def service_url(port: int, module: str, args: list[str]) -> str:
    """CITYOPS_MQTT_URL for ``python -m <module> <args>``: the instance's own account."""
    if module not in _SERVICES:
        return f"mqtt://127.0.0.1:{port}"
    flag, account = _SERVICES[module]
    name = args[args.index(flag) + 1] if flag in args else module
    return url(login(port, account(CITY, f"{module}-{name}")))


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalMosquitto]:
    folder = Path(tempfile.mkdtemp(prefix="cityops-mqtt-"))
    server = LocalMosquitto(folder, free_port(), tls_port=free_port())
    server.start()  # a broker that does not start fails the fixture, never skips
    _BY_PORT[server.port] = LocalAccounts(server, CITY)
    yield server
    server.stop()
