"""MQTT clients as every cityops process makes them: MQTT 5, logged in, TLS when the address says so.

The embedded broker takes an account's user name as its client id (see ``ingest.broker_acl``), so
there the session is the account's whatever id the client sends; other brokers use the client id
given here. The passwords of the embedded broker's accounts are kept in one JSON file of the run
folder (0600, never committed).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from cityops.files import write_private
from cityops.settings import MqttAddress


def read_credentials(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object of MQTT account → password")
    return {str(k): v for k, v in data.items()}


def write_credentials(path: Path, passwords: Mapping[str, str]) -> None:
    """Add or replace these accounts' passwords in the file, which is replaced whole."""
    known = read_credentials(path) | dict(passwords)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(known, indent=0, sort_keys=True).encode())


def url(address: MqttAddress) -> str:
    """The address as CITYOPS_MQTT_URL, with its login (passwords are URL-safe tokens)."""
    login = f"{address.username}:{address.password}@" if address.username else ""
    return f"{'mqtts' if address.tls else 'mqtt'}://{login}{address.host}:{address.port}"


def connack(address: MqttAddress, timeout: float = 5.0) -> ReasonCode:
    """The broker's CONNACK reason for this login (a real connection, closed at once)."""
    client = new_client(address, address.username or "cityops-login-probe")
    reason: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: reason.append(rc)
    client.connect(address.host, address.port, keepalive=10)
    deadline = time.monotonic() + timeout
    while not reason and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    client.disconnect()
    if not reason:
        raise TimeoutError(f"no CONNACK from {address.host}:{address.port} within {timeout:.0f} s")
    return reason[0]


def wait_until_accepted(address: MqttAddress, timeout: float = 10.0) -> float:
    """Seconds until the broker accepts this login (mosquitto applies a reload shortly after SIGHUP)."""
    start = time.monotonic()
    while (reason := connack(address)).is_failure:
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{address.username!r} still refused after {timeout:.0f} s: {reason}")
        time.sleep(0.05)
    return time.monotonic() - start


def new_client(address: MqttAddress, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client for ``address`` (not yet connected): logged in as its user, TLS verified by its CA."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client


class PublishAcks:
    """Which QoS-1 publishes the broker refused.

    mosquitto answers a publish its ACL refuses with PUBACK reason 0x87 "Not authorized" (MQTT 5;
    under MQTT 3.1.1 there is no code and the refusal looks like success) and drops the message;
    paho marks it published all the same, so only ``on_publish`` sees the refusal.
    """

    def __init__(self, client: mqtt.Client) -> None:
        self._refused: dict[int, str] = {}
        self._lock = threading.Lock()
        client.on_publish = self._on_publish

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: ReasonCode, _p: Properties) -> None:
        with self._lock:
            if reason.is_failure:
                self._refused[mid] = str(reason)
            else:
                self._refused.pop(mid, None)  # a message id is reused: forget an old refusal

    def refusal(self, info: mqtt.MQTTMessageInfo) -> str | None:
        """Once ``info`` is acknowledged: the broker's reason when it refused the message."""
        with self._lock:
            return self._refused.pop(info.mid, None)
