"""The store half of ingest, in a process of its own: decode, tag and commit what the MQTT half received.

paho's receive loop is pure Python and needs most of a core to keep up with a broker's
backlog. With decoding and COPY in the same process they share one GIL, and every socket
read paho makes hands the GIL to a busy decoder for up to a switch interval: single-reading
ingest reached only 0.7 × a subscriber that just counts (measured). So the MQTT process
only receives, forwards each batch over a pipe and acks what this process reports
committed; this process decodes the next batch while the database stores this one.

Protocol, pickled over two one-way pipes:
  MQTT → store: ``(seq, [(topic, payload), ...])`` per batch; ``None`` to stop.
  store → MQTT: ``Ready`` once, then ``Committed`` for every batch in order, and ``Holding``
  each time a write fails for a reason that is not the messages' own (database down).
A store process whose pipe reaches EOF (its MQTT process died) stops: whatever it had not
reported is unacked, the broker redelivers it, and the writes are idempotent.
"""

from __future__ import annotations

import gc
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import NamedTuple

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from cityops.runtime import setup_logging
from ingest.batch import Batch, Tagger, build_batch, refused_batch
from ingest.decode import DeviceLookup, DeviceLookupUnavailable
from ingest.isolate import write_isolating
from ingest.writer import WriteResult, write_batch

log = logging.getLogger("cityops.ingest")

Messages = list[tuple[str, bytes]]


class StoreOptions(NamedTuple):
    dsn: str
    city: str
    near_boundary_m: float


class Ready(NamedTuple):
    devices: int  # registered devices loaded
    boundary_version: str


class Committed(NamedTuple):
    seq: int
    result: WriteResult
    reasons: list[str]  # the dead-letter reason of each rejected message
    commit_s: float


class Holding(NamedTuple):
    error: str  # why the write failed; the batch is written again after a pause


@dataclass(frozen=True, slots=True)
class _Written:
    result: WriteResult
    reasons: list[str]

    def __add__(self, other: _Written) -> _Written:
        return _Written(self.result + other.result, self.reasons + other.reasons)


class Store:
    """Decodes batches on a reader thread and writes them on the calling thread, one reply per batch."""

    def __init__(self, batches: Connection, replies: Connection, *, city: str, pool: ConnectionPool,
                 devices: DeviceLookup, tagger: Tagger,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._batches = batches
        self._replies = replies
        self._city = city
        self._pool = pool
        self._devices = devices
        self._tagger = tagger
        self._clock = clock
        # Unbounded here because the MQTT side keeps at most two batches in flight.
        self._decoded: queue.Queue[tuple[int, Messages, Batch | None]] = queue.Queue()
        self._stop = threading.Event()
        self._reader_failed: BaseException | None = None

    def run(self) -> None:
        threading.Thread(target=self._read_loop, name="ingest-store-reader", daemon=True).start()
        while not self._stop.is_set():
            try:
                seq, messages, batch = self._decoded.get(timeout=0.5)
            except queue.Empty:
                continue
            reply = self._commit(seq, messages, batch)
            if reply is None:
                break
            self._reply(reply)
        if self._reader_failed is not None:  # this process ends; the MQTT side sees it and stops too
            raise RuntimeError("the ingest store's reader failed") from self._reader_failed

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    item = self._batches.recv()
                except (EOFError, OSError):
                    item = None
                if item is None:
                    self._stop.set()  # asked to stop, or the MQTT process is gone
                    return
                seq, messages = item
                try:
                    batch: Batch | None = self._build(messages)
                except DeviceLookupUnavailable:
                    batch = None  # decoded again by the writer, which waits for the database
                self._decoded.put((seq, messages, batch))
        except BaseException as exc:  # raised again by run(), with this as its cause
            self._reader_failed = exc
            self._stop.set()

    def _reply(self, reply: Committed | Holding) -> None:
        try:
            self._replies.send(reply)
        except OSError:
            self._stop.set()

    def _build(self, messages: Sequence[tuple[str, bytes]]) -> Batch:
        return build_batch(messages, city=self._city, now=self._clock(), devices=self._devices, tagger=self._tagger)

    def _store(self, batch: Batch) -> _Written:
        with self._pool.connection(timeout=5) as conn:
            result = write_batch(conn, batch)
        return _Written(result, [d.reason.value for d in batch.dead_letters])

    def _refuse(self, message: tuple[str, bytes], exc: BaseException) -> _Written:
        topic, payload = message
        log.warning("database refused a message on %s, dead-lettered: %s", topic, exc, extra={"topic": topic})
        return self._store(refused_batch(topic, payload, f"{type(exc).__name__}: {exc}"[:500],
                                         city=self._city, now=self._clock()))

    def _commit(self, seq: int, messages: Messages, batch: Batch | None) -> Committed | None:
        """Write until it succeeds; ``None`` when told to stop first (the batch stays unacked)."""

        def write(part: Sequence[tuple[str, bytes]]) -> _Written:
            # The whole batch was decoded ahead (unless the registry was unreachable then); the
            # halves of a refused one are decoded again.
            if batch is not None and len(part) == len(messages):
                return self._store(batch)
            return self._store(self._build(part))

        backoff = 0.2
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                written = write_isolating(messages, write, self._refuse, _Written.__add__)
            except (psycopg.Error, PoolTimeout, DeviceLookupUnavailable) as exc:
                # Not the messages' fault (refusals were isolated above): hold the batch; the
                # MQTT side acks nothing (and logs it) and the broker keeps the rest until the
                # database is back.
                self._reply(Holding(f"{type(exc).__name__}: {exc}"))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            return Committed(seq, written.result, written.reasons, time.monotonic() - started)
        return None


def store_main(batches: Connection, replies: Connection, options: StoreOptions) -> None:
    """Entry point of the store process (started with multiprocessing's spawn)."""
    # Ctrl-C and SIGTERM reach the whole process group; the MQTT process decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging("ingest")  # the worker is this store process's host:pid
    # Imported here: the MQTT process never needs geopandas behind the tagger.
    from ingest.registry import DeviceRegistry
    from ingest.tagging import FollowingTagger
    from ingest.writer import prepare_connection
    from store.db import make_pool

    pool = make_pool(options.dsn, "ingest", max_size=2, configure=prepare_connection)
    try:
        registry = DeviceRegistry(pool)
        devices = registry.refresh()
        tagger = FollowingTagger(options.dsn, near_m=options.near_boundary_m)
        store = Store(batches, replies, city=options.city, pool=pool, devices=registry, tagger=tagger)
        replies.send(Ready(devices, str(tagger.version)))
        # A batch allocates about ten objects per reading; with CPython's default thresholds the
        # collector then walks the whole live batch every few thousand readings (30 % of decode
        # time, measured). Startup objects are frozen out of collection and the young generation
        # is larger; reference counting still frees everything that is not a cycle at once.
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        store.run()
    finally:
        pool.close()
