"""A plain paho publisher for tests: QoS 1, waits until the broker has every message."""

from __future__ import annotations

import json
from collections.abc import Iterable

import paho.mqtt.client as mqtt


def publish(port: int, messages: Iterable[tuple[str, bytes | str | dict | list]], client_id: str = "test-pub"
            ) -> int:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    sent = []
    for topic, body in messages:
        payload = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
        info = client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        sent.append(info)
    for info in sent:
        info.wait_for_publish(timeout=60)
    client.loop_stop()
    client.disconnect()
    return len(sent)
