"""A plain paho publisher for tests: QoS 1, logged in, waits until the broker has every message.

It logs in to the session's broker as ``client_id`` (a bridge account, which may publish any
telemetry, event and status topic) and fails when the broker refuses a message, which it does
with a PUBACK reason code rather than by closing the connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import paho.mqtt.client as mqtt

from cityops.mqtt import PublishAcks, new_client
from tests.fix_mqtt import login

# paho numbers messages with 16-bit ids: never have more than this many awaiting PUBACK.
WINDOW = 20_000


def publish(port: int, messages: Iterable[tuple[str, bytes | str | dict | list]], client_id: str = "test-pub"
            ) -> int:
    address = login(port, client_id)
    client = new_client(address, client_id)
    acks = PublishAcks(client)
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    pending: list[tuple[str, mqtt.MQTTMessageInfo]] = []
    count = 0

    def settle() -> None:
        for topic, p in pending:
            p.wait_for_publish(timeout=120)
            if (refused := acks.refusal(p)) is not None:
                raise RuntimeError(f"the broker refused {topic}: {refused}")
        pending.clear()

    try:
        for topic, body in messages:
            payload = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
            info = client.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
            pending.append((topic, info))
            count += 1
            if len(pending) >= WINDOW:
                settle()
        settle()
    finally:
        client.loop_stop()
        client.disconnect()
    return count
