"""A plain paho publisher for tests: QoS 1, waits until the broker has every message."""

from __future__ import annotations

import json
from collections.abc import Iterable

import paho.mqtt.client as mqtt

# paho numbers messages with 16-bit ids: never have more than this many awaiting PUBACK.
WINDOW = 20_000


def publish(port: int, messages: Iterable[tuple[str, bytes | str | dict | list]], client_id: str = "test-pub"
            ) -> int:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    pending: list[mqtt.MQTTMessageInfo] = []
    count = 0
    try:
        for topic, body in messages:
            payload = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
            info = client.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
            pending.append(info)
            count += 1
            if len(pending) >= WINDOW:
                for p in pending:
                    p.wait_for_publish(timeout=120)
                pending.clear()
        for p in pending:
            p.wait_for_publish(timeout=120)
    finally:
        client.loop_stop()
        client.disconnect()
    return count
