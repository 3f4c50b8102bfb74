"""The alert inbox keys a telemetry batch commits with, on a real PostgreSQL.

Each pair the batch carried is ``[device_id, metric, [ts, value], ...]`` (ts in µs since the epoch) naming the
readings it stored that are newer than anything its device had sent before (the engine judges those one by one
when it is behind); a duplicate (a redelivery) or a late reading is stored or skipped as before but not named.
Two batches of one device writing at once name readings that never overlap: the second waits for the first's
last-seen row.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ingest.batch import Batch
from ingest.decode import Reading
from ingest.writer import EPOCH, prepare_connection, write_batch
from tests.fix_db import AsRole
from tests.fix_system import wait_until
from tests.ingest.writer_db import database_with, emptied

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    return database_with(pg_dsn, [("gas-1", "gas_detector", "yj", "燃气1"), ("gas-2", "gas_detector", "yj", "燃气2")])


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with emptied(dsn, "telemetry, device_status, alert_inbox, ingest_counters") as c:
        yield c


def _batch(*readings: tuple[str, str, int, float]) -> Batch:
    """Readings as (device, metric, seconds after NOW, value)."""
    return Batch(NOW, readings=[Reading(NOW + timedelta(seconds=s), d, m, v, 113.0, 25.8, None, None, None, False)
                                for d, m, s, v in readings])


def _keys(conn: psycopg.Connection) -> list[list[Any]]:
    """The newest inbox row's keys, each pair's named readings as (seconds after NOW, value) in time order."""
    row = conn.execute("SELECT keys FROM alert_inbox WHERE kind = 'telemetry' ORDER BY id DESC LIMIT 1").fetchone()
    assert row is not None
    return [[device_id, metric, *sorted((_seconds(us), value) for us, value in named)]
            for device_id, metric, *named in row[0]]


def _seconds(us: int) -> int:
    """A named reading's time (µs since the epoch) as seconds after NOW, exactly."""
    since = EPOCH + timedelta(microseconds=us) - NOW
    assert since % timedelta(seconds=1) == timedelta(0)
    return since // timedelta(seconds=1)


def test_a_batch_names_the_readings_it_stored_newer_than_its_device_had_sent(conn: psycopg.Connection) -> None:
    first = _batch(("gas-1", "gas_lel", 20, 30.0), ("gas-1", "gas_lel", 0, 2.0), ("gas-1", "battery", 0, 90.0),
                   ("gas-1", "gas_lel", 10, 12.5), ("gas-2", "gas_lel", 5, 1.0))
    write_batch(conn, first)
    assert _keys(conn) == [["gas-1", "battery", (0, 90.0)], ["gas-1", "gas_lel", (0, 2.0), (10, 12.5), (20, 30.0)],
                           ["gas-2", "gas_lel", (5, 1.0)]]
    # A redelivery stores nothing and names nothing: each pair is still keyed, to be judged by its newest.
    assert write_batch(conn, first).readings_duplicate == 5
    assert _keys(conn) == [["gas-1", "battery"], ["gas-1", "gas_lel"], ["gas-2", "gas_lel"]]
    # Duplicates, a late reading (older than gas-1's newest, 20 s) and new ones: only the new ones are named.
    mixed = write_batch(conn, _batch(("gas-1", "gas_lel", 10, 12.5), ("gas-1", "gas_lel", 15, 60.0),
                                     ("gas-1", "gas_lel", 30, 4.0), ("gas-1", "gas_lel", 40, 3.0),
                                     ("gas-2", "gas_lel", 5, 1.0)))
    assert (mixed.readings_stored, mixed.readings_duplicate) == (3, 2)
    assert _keys(conn) == [["gas-1", "gas_lel", (30, 4.0), (40, 3.0)], ["gas-2", "gas_lel"]]
    # The fast path (no key stored before) names by the same rule: a late reading is not named.
    write_batch(conn, _batch(("gas-1", "gas_lel", 35, 80.0), ("gas-2", "gas_lel", 6, 1.5)))
    assert _keys(conn) == [["gas-1", "gas_lel"], ["gas-2", "gas_lel", (6, 1.5)]]


def test_two_batches_of_a_device_at_once_name_readings_that_do_not_overlap(dsn: str, as_role: AsRole,
                                                                         conn: psycopg.Connection) -> None:
    write_batch(conn, _batch(("gas-1", "gas_lel", 0, 1.0)))  # gas-1 has a last-seen row to wait on
    # both as ingest connects (its grants: the last-seen rows are locked for update)
    with psycopg.connect(as_role(dsn, "ingest")) as first, psycopg.connect(as_role(dsn, "ingest")) as other, \
            psycopg.connect(dsn, autocommit=True) as watch:  # each look a statement of its own: a fresh view
        prepare_connection(first)
        prepare_connection(other)
        with first.transaction():  # the first batch held open: its rows and last seen not committed yet
            write_batch(first, _batch(("gas-1", "gas_lel", 10, 2.0), ("gas-1", "gas_lel", 30, 3.0)))
            raised: list[BaseException] = []

            def second() -> None:
                try:
                    write_batch(other, _batch(("gas-1", "gas_lel", 20, 50.0), ("gas-1", "gas_lel", 40, 4.0)))
                except BaseException as exc:  # handed to the test
                    raised.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            wait_until("the second batch to wait for gas-1's last seen", lambda: watch.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                (other.info.backend_pid,)).fetchone())
        thread.join(timeout=30)
        assert not thread.is_alive() and not raised
    rows = conn.execute("SELECT keys FROM alert_inbox WHERE kind = 'telemetry' ORDER BY id").fetchall()
    named = [[_seconds(us) for us, _ in key[2:]] for (keys,) in rows for key in keys]
    assert named == [[0], [10, 30], [40]]  # 20 s was late by the time the second batch could look
