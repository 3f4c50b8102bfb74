"""The MQTT side of ingest: persistent MQTT 5 session, QoS 1, ack strictly after commit.

paho's network thread only queues messages; a decoder thread cuts them into batches and
decodes and tags each; the writer thread commits a batch, then acks its messages. Decoding
the next batch overlaps with the database storing this one (psycopg waits for the server
outside the GIL), which is most of the speed of batched ingest. The buffers between them are
bounded: when the database is slow or down the writer stops acking, one decoded batch
waits, the inbox fills, and paho's thread blocks, so TCP pushes back and the broker holds
the rest. MQTT 5 ``ReceiveMaximum`` is also sent, but mosquitto 2.0.11
stops honouring it after the first ack (measured), so the local bound is what holds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg_pool import ConnectionPool, PoolTimeout

from cityops.settings import MqttAddress
from ingest.batch import Batch, Tagger, build_batch, refused_batch
from ingest.decode import DeviceLookup, Reason
from ingest.isolate import write_isolating
from ingest.prom import IngestMetrics
from ingest.topics import subscriptions
from ingest.writer import WriteResult, write_batch

log = logging.getLogger("cityops.ingest")
T = TypeVar("T")
_GATHER_S = 0.005  # while a batch fills, look at the inbox this often


@dataclass(frozen=True, slots=True)
class IngestConfig:
    city: str
    client_id: str = "cityops-ingest-1"
    share_group: str | None = "ingest"
    max_batch: int = 5000  # messages
    max_batch_bytes: int = 4 * 1024 * 1024  # payload bytes: bounds the rows of a batch of gateway messages
    max_wait_s: float = 0.2
    receive_maximum: int = 20000  # MQTT 5 flow control: unacked messages the broker may send
    max_buffer: int = 20000  # received, not yet committed: paho's thread waits when it is full
    session_expiry_s: int = 7 * 24 * 3600
    # Retire this worker for good: unsubscribe, store what the broker queued for its session,
    # then end the session. mosquitto keeps handing a share of the group's messages to an
    # offline persistent session, so a worker that is simply stopped strands them.
    retire: bool = False
    retire_idle_s: float = 3.0  # nothing received for this long after the unsubscribe: drained

    def __post_init__(self) -> None:
        if not 1 <= self.receive_maximum <= 65535:
            raise ValueError("receive_maximum must be 1..65535 (MQTT 5)")
        if self.max_batch < 1 or self.max_batch_bytes < 1 or self.max_wait_s <= 0:
            raise ValueError("max_batch and max_batch_bytes must be ≥ 1 and max_wait_s > 0")
        if self.max_buffer < self.max_batch:
            raise ValueError("max_buffer must hold at least one batch")


@dataclass(frozen=True, slots=True)
class _Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    epoch: int  # connection generation: a mid is only meaningful on the connection that delivered it


@dataclass(frozen=True, slots=True)
class _Prepared:
    received: list[_Received]
    messages: list[tuple[str, bytes]]  # (topic, payload) of each received message, as decoded
    batch: Batch


@dataclass(frozen=True, slots=True)
class _Written:
    result: WriteResult
    reasons: list[Reason]

    def __add__(self, other: _Written) -> _Written:
        return _Written(self.result + other.result, self.reasons + other.reasons)


class Ingestor:
    def __init__(self, config: IngestConfig, broker: MqttAddress, pool: ConnectionPool, devices: DeviceLookup,
                 tagger: Tagger, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self._pool = pool
        self._devices = devices
        self._tagger = tagger
        self._clock = clock
        # Received and not committed = the inbox + one decoded batch waiting + the one being written:
        # the inbox gets what is left of max_buffer, so the whole pipeline holds no more than that.
        self._inbox: queue.Queue[_Received] = queue.Queue(
            maxsize=max(config.max_batch, config.max_buffer - 2 * config.max_batch))
        self._prepared: queue.Queue[_Prepared] = queue.Queue(maxsize=1)  # decoded, waiting for the writer
        self._epoch = 0
        self._stop = threading.Event()
        self._unsubscribed = threading.Event()
        self._received = 0  # messages handed over by paho (counted on its thread)
        self._settled = 0  # messages committed and acked (counted on the writer thread)
        self._last_received = time.monotonic()
        self.metrics = IngestMetrics()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config.client_id,
                                   protocol=mqtt.MQTTv5, manual_ack=True)
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = self._on_unsubscribe
        self._client.reconnect_delay_set(0.5, 5)
        self._broker = broker

    # --- paho network thread -------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: object,
                    _p: object) -> None:
        self._epoch += 1
        log.info("ingest connected to broker (session present: %s, rc: %s)", flags.session_present, rc)
        filters = subscriptions(self.config.city, self.config.share_group)
        if self.config.retire:
            client.unsubscribe(filters)
        else:
            client.subscribe([(f, 1) for f in filters])

    def _on_subscribe(self, _c: mqtt.Client, _u: object, _mid: int, codes: list[object], _p: object) -> None:
        log.info("ingest subscribed (%s)", ", ".join(str(c) for c in codes))

    def _on_unsubscribe(self, _c: mqtt.Client, _u: object, _mid: int, codes: list[object], _p: object) -> None:
        log.info("ingest unsubscribed to retire (%s); storing what the broker still holds for this session",
                 ", ".join(str(c) for c in codes))
        self._last_received = time.monotonic()
        self._unsubscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
        self._epoch += 1  # acks for messages of the old connection must not be sent on the new one
        log.warning("ingest disconnected from broker: %s", rc)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self._received += 1
        self._last_received = time.monotonic()
        self._hand_on(self._inbox, _Received(msg.topic, msg.payload, msg.mid, msg.qos, self._epoch))

    def _hand_on(self, to: queue.Queue[T], item: T) -> None:
        """Put ``item`` on a bounded queue, waiting while it is full (that wait is the back-pressure)."""
        while not self._stop.is_set():
            try:
                to.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    # --- decoder thread -------------------------------------------------------------
    def _collect(self) -> list[_Received]:
        try:
            first = self._inbox.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        size = len(first.payload)
        deadline = time.monotonic() + self.config.max_wait_s
        while len(batch) < self.config.max_batch and size < self.config.max_batch_bytes:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # Let messages gather rather than wait on the queue: a wake-up per message would
                # hand the GIL back and forth with paho's thread, which halved single-reading ingest.
                time.sleep(min(remaining, _GATHER_S))
                continue
            batch.append(item)
            size += len(item.payload)
        return batch

    def _build(self, messages: Sequence[tuple[str, bytes]]) -> Batch:
        return build_batch(messages, city=self.config.city, now=self._clock(), devices=self._devices,
                           tagger=self._tagger)

    def _decode_loop(self) -> None:
        while not self._stop.is_set():
            received = self._collect()
            if not received:
                continue
            messages = [(m.topic, m.payload) for m in received]
            self._hand_on(self._prepared, _Prepared(received, messages, self._build(messages)))

    # --- writer thread --------------------------------------------------------------
    def _store(self, batch: Batch) -> _Written:
        with self._pool.connection(timeout=5) as conn:
            result = write_batch(conn, batch)
        return _Written(result, [d.reason for d in batch.dead_letters])

    def _refuse(self, message: tuple[str, bytes], exc: BaseException) -> _Written:
        topic, payload = message
        log.warning("database refused a message on %s, dead-lettered: %s", topic, exc)
        return self._store(refused_batch(topic, payload, f"{type(exc).__name__}: {exc}"[:500],
                                         city=self.config.city, now=self._clock()))

    def _commit(self, prepared: _Prepared) -> None:
        received, messages = prepared.received, prepared.messages

        def write(part: Sequence[tuple[str, bytes]]) -> _Written:
            # The whole batch was decoded ahead; the halves of a refused one are decoded again.
            return self._store(prepared.batch if len(part) == len(messages) else self._build(part))

        backoff = 0.2
        started = time.monotonic()
        while not self._stop.is_set():
            try:
                written = write_isolating(messages, write, self._refuse, _Written.__add__)
                break
            except (psycopg.Error, PoolTimeout) as exc:
                # Not the messages' fault (refusals were isolated above): hold the batch, ack
                # nothing; the broker keeps the rest until the database is back or fixed.
                self.metrics.database_up.set(0)
                self.metrics.buffer_depth.set(self._buffered() + len(received))
                log.warning("database unavailable, holding %d messages unacked: %s: %s", len(received),
                            type(exc).__name__, exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                started = time.monotonic()
        else:
            return
        result, reasons = written.result, written.reasons
        m = self.metrics
        m.database_up.set(1)
        m.commit_seconds.observe(time.monotonic() - started)
        m.batch_size.observe(len(received))
        m.messages.inc(len(received))
        m.rows.labels("telemetry").inc(result.readings_stored)
        m.rows.labels("events").inc(result.events_stored)
        m.duplicates.inc(result.readings_duplicate)
        for reason in reasons:
            m.rejects.labels(reason.value).inc()
        epoch = self._epoch
        acked = 0
        for msg in received:
            if msg.qos > 0 and msg.epoch == epoch:
                self._client.ack(msg.mid, msg.qos)
                acked += 1
        self._settled += len(received)
        log.debug("committed %d messages (%d rows new, %d duplicate), acked %d", len(received),
                  result.readings_stored, result.readings_duplicate, acked)
        m.buffer_depth.set(self._buffered())

    def _buffered(self) -> int:
        """Messages received and not yet in the batch being written (a waiting batch counts its messages)."""
        waiting = list(self._prepared.queue)  # copying a deque is one step under the GIL: no lock needed
        return self._inbox.qsize() + sum(len(p.received) for p in waiting)

    def run(self) -> None:
        """Block until ``stop()``; the writer runs in the calling thread, the decoder in its own."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=30, clean_start=False,
                                   properties=props)
        self._client.loop_start()
        decoder = threading.Thread(target=self._decode_loop, name="ingest-decoder", daemon=True)
        decoder.start()
        try:
            while not self._stop.is_set():
                try:
                    prepared = self._prepared.get(timeout=0.5)
                except queue.Empty:
                    if self._retired():
                        break
                    continue
                self._commit(prepared)
        finally:
            self._stop.set()  # the decoder too, when the writer ends on an error
            decoder.join()
            self._disconnect()

    def _retired(self) -> bool:
        """Retiring, unsubscribed, everything received is stored and acked, and the broker has gone quiet."""
        return (self.config.retire and self._unsubscribed.is_set() and self._settled == self._received
                and time.monotonic() - self._last_received >= self.config.retire_idle_s)

    def _disconnect(self) -> None:
        if self._retired():
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0  # the broker forgets the session: nothing more is queued for it
            self._client.disconnect(properties=props)
            log.info("ingest retired: %d messages stored and acknowledged, session ended", self._settled)
        else:
            self._client.disconnect()
        self._client.loop_stop()

    def stop(self) -> None:
        self._stop.set()

