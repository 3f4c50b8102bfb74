"""The MQTT half of ingest: persistent MQTT 5 session, QoS 1, ack strictly after commit.

paho's network thread only queues messages; a sender thread cuts them into batches and
hands each to the store process (``ingest.storer``), which decodes, tags and commits it;
this process's main thread acks a batch's messages when the store reports it committed.
The store decodes the next batch while the database stores this one, and keeps decoding
off this process's GIL, which paho's receive loop needs whole (see ``ingest.storer``).

Everything received and not yet committed is bounded by ``max_buffer``: at most two batches
are with the store, and the inbox holds the rest (so ``max_buffer`` must hold three batches).
When the database is slow or down the store stops reporting, nothing is acked, the inbox
fills, and paho's thread blocks, so TCP pushes back and the broker holds the rest. MQTT 5
``ReceiveMaximum`` is also sent, but mosquitto 2.0.11 stops honouring it after the first ack
(measured), so the local bound is what holds.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import NamedTuple, cast

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from cityops.mqtt import new_client
from cityops.probe import Readiness
from cityops.settings import MqttAddress
from ingest.broker_acl import ingest_probe_topic
from ingest.prom import IngestMetrics
from ingest.storer import Committed, Holding, Ready, StoreOptions, store_main
from ingest.topics import subscriptions

log = logging.getLogger("cityops.ingest")
_GATHER_S = 0.005  # while a batch fills, look at the inbox this often
_IN_FLIGHT = 2  # batches with the store: one being written, the next being decoded
_READY_S = 120.0  # the store process loads devices and boundary layers before it is ready
_STOP_S = 10.0  # on stop, the store finishes the batch it is writing (and this process acks it) within this


class StoreProcessDied(RuntimeError):
    """The store process ended without being asked to; this worker stops so a supervisor restarts it."""


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
        if self.max_buffer < (_IN_FLIGHT + 1) * self.max_batch:
            raise ValueError(f"max_buffer ({self.max_buffer}) must hold {_IN_FLIGHT + 1} batches of max_batch "
                             f"({self.max_batch}): {_IN_FLIGHT} with the store and one filling")


class _Received(NamedTuple):
    topic: str
    payload: bytes
    mid: int
    qos: int
    epoch: int  # connection generation: a mid is only meaningful on the connection that delivered it
    at: float  # time.monotonic() when it arrived: the ingest lag is the age of the oldest not yet committed


class Ingestor:
    def __init__(self, config: IngestConfig, broker: MqttAddress, *, dsn: str, near_boundary_m: float) -> None:
        self.config = config
        self._store_options = StoreOptions(dsn, config.city, near_boundary_m)
        # Received and not committed = the inbox + the batches with the store: the inbox gets
        # what is left of max_buffer, so the whole pipeline holds no more than that.
        self._inbox: queue.Queue[_Received] = queue.Queue(maxsize=config.max_buffer - _IN_FLIGHT * config.max_batch)
        self._in_flight: deque[tuple[int, list[_Received]]] = deque()  # sent to the store, in order
        self._slots = threading.Semaphore(_IN_FLIGHT)
        self._epoch = 0
        self._epoch_lock = threading.Lock()  # an ack round and a reconnect do not interleave
        self._stop = threading.Event()
        self._unsubscribed = threading.Event()
        self._subscribed = threading.Event()  # the broker confirmed the subscriptions of this connection
        self._received = 0  # messages handed over by paho (counted on its thread)
        self._settled = 0  # messages committed and acked (counted on the main thread)
        self._last_received = time.monotonic()
        self.metrics = IngestMetrics()
        self.metrics.lag.set_function(self.lag_s)
        self._database_up = True  # False from a Holding reply (the store cannot commit) to the next commit
        self._client = new_client(broker, config.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = self._on_unsubscribe
        # paho annotates the delays as int, but only adds and doubles them as seconds: half a second works.
        self._client.reconnect_delay_set(cast(int, 0.5), 5)
        self._broker = broker

    # --- readiness (the probe's HTTP thread and the heartbeat's) ------------------------
    def lag_s(self) -> float:
        """Seconds the oldest received, not yet committed message has waited (0 when none waits)."""
        oldest: float | None = None
        try:
            oldest = self._in_flight[0][1][0].at
        except IndexError:
            with self._inbox.mutex:  # the queue's own lock: a consistent peek at its head
                if self._inbox.queue:
                    oldest = self._inbox.queue[0].at
        return max(0.0, time.monotonic() - oldest) if oldest is not None else 0.0

    def readiness(self) -> Readiness:
        # "broker": connected and subscribed, so what devices publish now has a subscriber to queue for
        return Readiness({"database": self._database_up,
                          "broker": self._client.is_connected()
                          and (self._subscribed.is_set() or self.config.retire)},
                         {"client_id": self.config.client_id, "lag_s": round(self.lag_s(), 3),
                          "buffered": self._received - self._settled})

    # --- paho network thread -------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: object,
                    _p: object) -> None:
        with self._epoch_lock:
            self._epoch += 1
        log.info("ingest connected to broker (session present: %s, rc: %s)", flags.session_present, rc)
        filters = subscriptions(self.config.city, self.config.share_group)
        if self.config.retire:
            client.unsubscribe(filters)
        else:
            client.subscribe([(f, 1) for f in filters])

    def _on_subscribe(self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], _p: object) -> None:
        log.info("ingest subscribed (%s)", ", ".join(str(c) for c in codes))
        if not any(c.is_failure for c in codes):
            self._subscribed.set()

    def _on_unsubscribe(self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], _p: object) -> None:
        log.info("ingest unsubscribed to retire (%s); storing what the broker still holds for this session",
                 ", ".join(str(c) for c in codes))
        self._last_received = time.monotonic()
        self._unsubscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
        self._subscribed.clear()
        with self._epoch_lock:
            self._epoch += 1  # acks for messages of the old connection must not be sent on the new one
        log.warning("ingest disconnected from broker: %s", rc)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self._received += 1
        self._last_received = time.monotonic()
        item = _Received(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self._epoch, self._last_received)
        while not self._stop.is_set():  # waiting here while the inbox is full is the back-pressure
            try:
                self._inbox.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    # --- sender thread --------------------------------------------------------------
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
                # hand the GIL back and forth with paho's thread.
                time.sleep(min(remaining, _GATHER_S))
                continue
            batch.append(item)
            size += len(item.payload)
        return batch

    def _send_loop(self, batches: Connection) -> None:
        seq = 0
        try:
            while not self._stop.is_set():
                if not self._slots.acquire(timeout=0.5):
                    continue
                received = self._collect()
                if not received:
                    self._slots.release()
                    continue
                seq += 1
                self._in_flight.append((seq, received))  # before sending: the reply may come at once
                batches.send((seq, [(m.topic, m.payload) for m in received]))
        except OSError:
            return  # the store process is gone; the main thread notices and stops
        finally:
            # The store's stop signal comes after this thread's last batch: one writer per pipe.
            with contextlib.suppress(OSError):
                batches.send(None)

    # --- main thread ------------------------------------------------------------------
    def _settle(self, committed: Committed) -> None:
        seq, received = self._in_flight.popleft()
        if seq != committed.seq:
            raise RuntimeError(f"store replied for batch {committed.seq}, expected {seq}")
        result = committed.result
        m = self.metrics
        self._database_up = True
        m.database_up.set(1)
        m.commit_seconds.observe(committed.commit_s)
        m.batch_size.observe(len(received))
        m.messages.inc(len(received))
        m.rows.labels("telemetry").inc(result.readings_stored)
        m.rows.labels("events").inc(result.events_stored)
        m.duplicates.inc(result.readings_duplicate)
        for reason in committed.reasons:
            m.rejects.labels(reason).inc()
        acked = 0
        with self._epoch_lock:
            for msg in received:
                if msg.qos > 0 and msg.epoch == self._epoch:
                    self._client.ack(msg.mid, msg.qos)
                    acked += 1
        self._settled += len(received)
        self._slots.release()
        m.buffer_depth.set(self._received - self._settled)
        log.debug("committed %d messages (%d rows new, %d duplicate), acked %d", len(received),
                  result.readings_stored, result.readings_duplicate, acked)

    def _start_store(self) -> tuple[multiprocessing.process.BaseProcess, Connection, Connection]:
        """Start the store process and wait until it has its database pool, devices and boundaries."""
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        batches_reader, batches_writer = ctx.Pipe(duplex=False)
        replies_reader, replies_writer = ctx.Pipe(duplex=False)
        process = ctx.Process(target=store_main, args=(batches_reader, replies_writer, self._store_options),
                              name="cityops-ingest-store", daemon=True)
        process.start()
        batches_reader.close()  # the child's ends: closing ours lets each side see EOF when the other dies
        replies_writer.close()
        deadline = time.monotonic() + _READY_S
        while not self._stop.is_set():
            if replies_reader.poll(0.5):
                ready = self._receive(replies_reader)
                if ready is None:  # stopping anyway
                    break
                if not isinstance(ready, Ready):
                    raise StoreProcessDied(f"store process sent {ready!r} before it was ready")
                log.info("ingest store process ready (%d devices, boundaries %s)", ready.devices,
                         ready.boundary_version)
                break
            if time.monotonic() > deadline:
                process.kill()
                raise StoreProcessDied(f"the ingest store process was not ready within {_READY_S:.0f} s")
        return process, batches_writer, replies_reader

    def _receive(self, replies: Connection) -> Ready | Committed | Holding | None:
        """The store's next reply; None when it ended because this process is stopping (the sender
        sends it the stop signal, so it may end while the main thread is still reading)."""
        try:
            reply: Ready | Committed | Holding = replies.recv()  # unpickled: what the store sends (ingest.storer)
        except (EOFError, OSError) as exc:
            if self._stop.is_set():
                return None
            raise StoreProcessDied("the ingest store process ended; nothing it held was acked") from exc
        return reply

    def run(self) -> None:
        """Block until ``stop()``: start the store process, connect, and ack what it commits."""
        process, batches, replies = self._start_store()
        sender = threading.Thread(target=self._send_loop, args=(batches,), name="ingest-sender", daemon=True)
        try:
            if self._stop.is_set():
                return
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.config.session_expiry_s
            props.ReceiveMaximum = self.config.receive_maximum
            self._client.connect_async(self._broker.host, self._broker.port, keepalive=30, clean_start=False,
                                       properties=props)
            self._client.loop_start()
            sender.start()
            while not self._stop.is_set():
                if not replies.poll(0.5):
                    if self._retired():
                        break
                    continue
                reply = self._receive(replies)
                if reply is None:
                    break
                self._on_reply(reply)
        finally:
            self._stop.set()  # the sender too, when this thread ends on an error
            if sender.ident is not None:
                sender.join(_STOP_S)  # it sends the store the stop signal after its last batch
            else:
                with contextlib.suppress(OSError):
                    batches.send(None)
            self._stop_store(process, replies)
            self._disconnect()

    def _on_reply(self, reply: Ready | Committed | Holding) -> None:
        match reply:
            case Committed() as committed:
                self._settle(committed)
            case Holding() as holding:
                held = self._received - self._settled
                self._database_up = False
                self.metrics.database_up.set(0)
                self.metrics.buffer_depth.set(held)
                log.warning("database unavailable, holding %d messages unacked: %s", held, holding.error)

    def _stop_store(self, process: multiprocessing.process.BaseProcess, replies: Connection) -> None:
        """Ack the batch the store finishes after its stop signal; end it if it does not stop in time."""
        deadline = time.monotonic() + _STOP_S
        while time.monotonic() < deadline:  # until EOF: the store may be gone with its last reply unread
            try:
                if replies.poll(0.2):
                    self._on_reply(replies.recv())
            except (EOFError, OSError):
                break
        process.join(timeout=1)
        if process.is_alive():
            log.warning("ingest store process did not stop within %.0f s; killing it (its batch stays unacked)",
                        _STOP_S)
            process.kill()  # it ignores SIGTERM (the MQTT process decides when it stops)
            process.join()

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
            self._confirm_acks()
            self._client.disconnect()
            log.info("ingest stopped: %d messages committed and acknowledged, %d received and left unacknowledged"
                     " for the broker to deliver again", self._settled, self._received - self._settled)
        self._client.loop_stop()

    def _confirm_acks(self) -> None:
        """Wait until the broker has read the acks sent so far, before closing the connection.

        A broker still streaming a backlog at us gets a TCP reset when we close with its data unread,
        and drops the connection without reading what is left of ours: acks it had not read yet were
        lost and those messages came again after a restart (measured: 845 and 2,365 of a 100,000
        backlog). The broker answers a QoS-1 publish only after every packet before it, so its
        PUBACK says the acks were read. Nobody subscribes to the topic.
        """
        info = self._client.publish(ingest_probe_topic(self.config.client_id), b"", qos=1)
        try:
            info.wait_for_publish(timeout=5)
        except (RuntimeError, ValueError) as exc:  # not connected: nothing more can be acked anyway
            log.warning("could not confirm the last acks with the broker: %s", exc)
            return
        if not info.is_published():
            log.warning("the broker did not confirm the last acks within 5 s; some messages may come again")

    def stop(self) -> None:
        self._stop.set()
