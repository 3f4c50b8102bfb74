"""The MQTT outbox: messages written with the moves that caused them, published at least once.

A message is marked published only after the broker acknowledged it (QoS 1), so a crash
in between publishes it again; township apps key on incident id and action.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
import psycopg
from psycopg.rows import class_row

from cityops.mqtt import PublishAcks, new_client
from cityops.settings import MqttAddress

log = logging.getLogger("cityops.alerts.outbox")

Publisher = Callable[[str, bytes], None]  # (topic under city/<city>/, payload) → returns once acknowledged


@dataclass(frozen=True, slots=True)
class Message:
    """A row of ``mqtt_outbox`` not published yet."""

    id: int
    topic: str  # under city/<city>/
    payload: object  # jsonb, sent as JSON


def drain_outbox(conn: psycopg.Connection, publish: Publisher, limit: int = 500) -> int:
    with conn.cursor(row_factory=class_row(Message)) as cur:
        rows = cur.execute("SELECT id, topic, payload FROM mqtt_outbox WHERE published_at IS NULL ORDER BY id"
                           " LIMIT %s", (limit,)).fetchall()
    conn.commit()
    sent = []
    for message in rows:
        try:
            publish(message.topic, json.dumps(message.payload, ensure_ascii=False).encode())
        except (OSError, RuntimeError) as exc:
            log.warning("outbox message %s not published yet: %s", message.id, exc)
            break
        sent.append(message.id)
    if sent:
        conn.execute("UPDATE mqtt_outbox SET published_at = now() WHERE id = ANY(%s)", (sent,))
        conn.commit()
    return len(sent)


def outbox_client_id(engine: str) -> str:
    """The MQTT client id of the engine named ``engine`` (``python -m alerts --name``), also its account."""
    return f"cityops-{engine}-outbox"


class MqttPublisher:
    """A paho client for the outbox, publishing under ``city/<city>/``."""

    def __init__(self, broker: MqttAddress, city: str, client_id: str = "cityops-alerts-outbox") -> None:
        self._city = city
        self._client = new_client(broker, client_id)
        self._acks = PublishAcks(self._client)
        self._client.connect_async(broker.host, broker.port, keepalive=30)
        self._client.loop_start()

    def __call__(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(f"city/{self._city}/{topic}", payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish refused: {mqtt.error_string(info.rc)}")
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            raise RuntimeError("broker did not acknowledge within 10 s")
        if (refused := self._acks.refusal(info)) is not None:  # e.g. an ACL without this topic: keep it queued
            raise RuntimeError(f"broker refused {topic}: {refused}")

    def connected(self) -> bool:
        return self._client.is_connected()

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
