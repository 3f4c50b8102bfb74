"""The store process's pipeline, run in this process against a real database and real pipes.

What the worker-level tests cannot reach: a store whose reader breaks must end (so the MQTT
process sees it gone and exits for its supervisor to restart), and a device registry the
database cannot answer holds the batch instead of dead-lettering good messages.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from ingest.batch import UNTAGGED, Codes
from ingest.decode import DeviceInfo, DeviceLookupUnavailable
from ingest.storer import Committed, Holding, Store
from ingest.writer import prepare_connection
from store.db import make_pool
from tests.fix_db import one

EVENT_TOPIC = "city/chenzhou/event/zw/store-hotline"


def _event(event_id: str) -> bytes:
    return json.dumps({"event_id": event_id, "ts": datetime.now(UTC).isoformat(), "category": "road",
                       "title": "井盖缺失", "lon": 113.03, "lat": 25.79}).encode()


@pytest.fixture
def pool(demo_dsn: str) -> Iterator[ConnectionPool]:
    pool = make_pool(demo_dsn, "test-store", max_size=2, configure=prepare_connection)
    yield pool
    pool.close()


def _run_in_thread(store: Store) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def target() -> None:
        try:
            store.run()
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, raised


def test_a_store_whose_reader_breaks_ends_instead_of_stalling(pool: ConnectionPool) -> None:
    def broken_tagger(_lon: np.ndarray, _lat: np.ndarray) -> list[Codes]:
        raise RuntimeError("boundary layers unreadable")

    batches_in, batches_out = multiprocessing.Pipe(duplex=False)
    replies_in, replies_out = multiprocessing.Pipe(duplex=False)
    store = Store(batches_in, replies_out, city="chenzhou", pool=pool, devices=lambda _d: None, tagger=broken_tagger)
    thread, raised = _run_in_thread(store)
    batches_out.send((1, [(EVENT_TOPIC, _event("store-broken-1"))]))
    thread.join(15)
    assert not thread.is_alive(), "the store stalled with a dead reader"
    assert len(raised) == 1 and "reader failed" in str(raised[0])
    assert isinstance(raised[0].__cause__, RuntimeError) and "unreadable" in str(raised[0].__cause__)
    assert not replies_in.poll(0), "nothing was reported stored"


def test_an_unreachable_device_registry_holds_the_batch_and_loses_no_message(pool: ConnectionPool,
                                                                              demo_dsn: str) -> None:
    with psycopg.connect(demo_dsn) as conn:
        device_id, dept = one(conn, "SELECT device_id, dept FROM devices WHERE device_type = 'rain_gauge'"
                                       " ORDER BY 1 LIMIT 1")
    reachable = threading.Event()

    def registry(asked: str) -> DeviceInfo | None:
        if not reachable.is_set():
            raise DeviceLookupUnavailable("database down")
        return DeviceInfo("rain_gauge", 113.0, 25.8, None, None, None) if asked == device_id else None

    batches_in, batches_out = multiprocessing.Pipe(duplex=False)
    replies_in, replies_out = multiprocessing.Pipe(duplex=False)
    store = Store(batches_in, replies_out, city="chenzhou", pool=pool, devices=registry,
                  tagger=lambda lon, _lat: [UNTAGGED] * len(lon))
    thread, raised = _run_in_thread(store)
    ts = datetime.now(UTC).replace(microsecond=0).isoformat()
    topic = f"city/chenzhou/telemetry/{dept}/rain_gauge/{device_id}"
    batches_out.send((1, [(topic, json.dumps({"ts": ts, "values": {"rain_1h": 7.5}}).encode())]))
    assert replies_in.poll(10)
    first = replies_in.recv()
    assert isinstance(first, Holding) and "database down" in first.error  # held, not dead-lettered
    reachable.set()
    reply = first
    while not isinstance(reply, Committed):
        assert replies_in.poll(15), "the held batch was never written"
        reply = replies_in.recv()
    assert reply.seq == 1 and reply.result.readings_stored == 1 and reply.reasons == []
    batches_out.send(None)
    thread.join(15)
    assert not thread.is_alive() and raised == []
