"""Per-source counters (received, stored, duplicates, rejected by reason, late), committed with each batch.

Pure tests of the tally, then the writer on a real PostgreSQL: one upsert per batch, in
the batch's transaction, so a redelivery shows up as duplicates and a failed batch
leaves no count behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import psycopg
import pytest

from ingest.batch import UNTAGGED, Batch, Codes, build_batch
from ingest.counters import (
    BAD_TOPIC_SOURCE,
    STATUS_SOURCE,
    CounterRow,
    NewRows,
    Source,
    SourceKind,
    SourceTally,
    counter_day,
    counter_rows,
    source_of,
)
from ingest.decode import DeviceInfo
from ingest.writer import write_batch
from tests.ingest.writer_db import database_with, emptied

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 16:00 in 郴州
GAUGE = DeviceInfo("rain_gauge", 113.0, 25.8, "431002", "431002001", "431002001001")
RAIN = "city/chenzhou/telemetry/qx/rain_gauge/rain-1"
HOTLINE = "city/chenzhou/event/zw/hotline12345"
TELEMETRY = Source(SourceKind.TELEMETRY, "qx/rain_gauge")


def _no_tags(lon: np.ndarray, _lat: np.ndarray) -> list[Codes]:
    return [UNTAGGED] * len(lon)


def _devices(device_id: str) -> DeviceInfo | None:
    return GAUGE if device_id in ("rain-1", "rain-2") else None


def _reading(ts: datetime, **values: float) -> dict:
    return {"ts": ts.isoformat(), "values": values}


def _event(event_id: str, ts: datetime, title: str = "路面塌陷") -> bytes:
    return json.dumps({"event_id": event_id, "ts": ts.isoformat(), "category": "road", "title": title}).encode()


def _batch(messages: list[tuple[str, object]], now: datetime = NOW) -> Batch:
    raw = [(t, p if isinstance(p, bytes) else json.dumps(p).encode()) for t, p in messages]
    return build_batch(raw, city="chenzhou", now=now, devices=_devices, tagger=_no_tags)


@pytest.mark.parametrize(
    ("topic", "source"),
    [
        (RAIN, TELEMETRY),
        (HOTLINE, Source(SourceKind.EVENT, "hotline12345")),
        ("city/chenzhou/status/rain-1", STATUS_SOURCE),
        ("city/chenzhou/telemetry/qx", BAD_TOPIC_SOURCE),
        ("city/other/event/zw/hotline12345", BAD_TOPIC_SOURCE),
    ],
)
def test_source_of_topic(topic: str, source: Source) -> None:
    assert source_of(topic, "chenzhou") == source


def test_counter_day_is_the_city_calendar_day() -> None:
    assert counter_day(datetime(2026, 11, 22, 15, 59, tzinfo=UTC)) == date(2026, 11, 22)
    assert counter_day(datetime(2026, 11, 22, 16, 0, tzinfo=UTC)) == date(2026, 11, 23)  # 00:00 Beijing


def test_tally_of_a_mixed_batch() -> None:
    batch = _batch([
        (RAIN, _reading(NOW, rain_1h=1, battery=90)),
        (RAIN, [_reading(NOW - timedelta(minutes=30), rain_1h=2), _reading(NOW, rain_1h=3)]),
        (RAIN, b"not json"),
        (RAIN, _reading(NOW, rain_1h=-1)),
        ("city/chenzhou/telemetry/qx/rain_gauge/ghost", _reading(NOW, rain_1h=1)),
        (HOTLINE, _event("E1", NOW)),
        ("city/chenzhou/status/rain-1", b"offline"),
        ("city/chenzhou/telemetry/qx", b"{}"),
    ])
    t = batch.tally
    assert t.received == {"qx/rain_gauge": 5, "hotline12345": 1, "(status)": 1, "(bad_topic)": 1}
    assert t.kinds == {"qx/rain_gauge": SourceKind.TELEMETRY, "hotline12345": SourceKind.EVENT,
                       "(status)": SourceKind.STATUS, "(bad_topic)": SourceKind.BAD_TOPIC}
    assert t.rejected == {"qx/rain_gauge": {"not_json": 1, "out_of_range": 1, "unknown_device": 1},
                          "(bad_topic)": {"bad_topic": 1}}
    assert t.offered["qx/rain_gauge"] == 4 == len(batch.readings)
    assert t.device_rows == {"rain-1": {"qx/rain_gauge": 4}}


def test_rows_attribute_stored_readings_and_count_duplicates() -> None:
    t = SourceTally()
    other = Source(SourceKind.TELEMETRY, "sw/rain_gauge")
    for source, rows in ((TELEMETRY, 3), (other, 2)):  # one device under two topics in one batch
        t.receive(source)
        t.offer(source, rows, "rain-1")
    t.receive(TELEMETRY)
    t.offer(TELEMETRY, 4, "rain-2")
    rows = counter_rows(t, NewRows({"rain-1": (4, 1), "rain-2": (1, 0)}))
    assert rows == [
        CounterRow("qx/rain_gauge", "telemetry", received=2, stored=3 + 1, duplicates=3, rejected={}, late=1),
        CounterRow("sw/rain_gauge", "telemetry", received=1, stored=1, duplicates=1, rejected={}, late=0),
    ]
    assert sum(r.stored for r in rows) == 5 and all(r.duplicates >= 0 for r in rows)


# --- on a real PostgreSQL -----------------------------------------------------------

@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    return database_with(pg_dsn, [("rain-1", "rain_gauge", "qx", "雨量站1"), ("rain-2", "rain_gauge", "qx", "雨量站2")])


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with emptied(dsn, "telemetry, events, device_status, dead_letters, ingest_counters") as c:
        yield c


def _counters(conn: psycopg.Connection, day: date = date(2026, 11, 22)) -> dict[str, tuple]:
    rows = conn.execute("SELECT source, day, kind, received, stored, duplicates, rejected, late FROM ingest_counters"
                        " WHERE day = %s", (day,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_writer_upserts_counters_with_each_batch(conn: psycopg.Connection) -> None:
    messages: list[tuple[str, object]] = [
        (RAIN, _reading(NOW - timedelta(minutes=11), rain_1h=1, battery=90)),  # 2 late rows
        (RAIN, [_reading(NOW - timedelta(minutes=9), rain_1h=2), _reading(NOW, rain_1h=3)]),
        ("city/chenzhou/telemetry/qx/rain_gauge/rain-2", _reading(NOW - timedelta(hours=2), rain_1h=4)),
        (RAIN, b"{bad"),
        (HOTLINE, _event("E1", NOW - timedelta(hours=1))),  # late
        (HOTLINE, _event("E2", NOW)),
        ("city/chenzhou/status/rain-1", b"online"),
    ]
    day = date(2026, 11, 22)
    first = write_batch(conn, _batch(messages))
    assert (first.readings_stored, first.readings_duplicate, first.events_stored, first.dead_letters) == (5, 0, 2, 1)
    assert _counters(conn) == {
        "(status)": (day, "status", 1, 1, 0, {}, 0),
        "hotline12345": (day, "event", 2, 2, 0, {}, 1),
        "qx/rain_gauge": (day, "telemetry", 4, 5, 0, {"not_json": 1}, 3),
    }

    # The same messages again (a redelivery), a minute later: nothing new stored, all counted.
    write_batch(conn, _batch(messages, NOW + timedelta(minutes=1)))
    assert _counters(conn) == {
        "(status)": (day, "status", 2, 2, 0, {}, 0),
        "hotline12345": (day, "event", 4, 2, 2, {}, 1),
        "qx/rain_gauge": (day, "telemetry", 8, 5, 5, {"not_json": 2}, 3),
    }

    # Reasons merge key by key; the next Beijing day starts new rows.
    write_batch(conn, _batch([(RAIN, _reading(NOW, rain_1h=-5)), (RAIN, b"[]")], NOW + timedelta(hours=9)))
    assert _counters(conn)["qx/rain_gauge"] == (day, "telemetry", 8, 5, 5, {"not_json": 2}, 3)
    assert _counters(conn, day + timedelta(days=1)) == {
        "qx/rain_gauge": (day + timedelta(days=1), "telemetry", 2, 0, 0, {"bad_schema": 1, "out_of_range": 1}, 0)}
    # The dead letters themselves agree with the counters.
    assert conn.execute("SELECT count(*) FROM dead_letters").fetchone() == (4,)


def test_a_batch_overlapping_stored_rows_and_itself_stores_each_key_once(conn: psycopg.Connection) -> None:
    # The fast path copies straight into telemetry; a stored key sends the batch through
    # staging with ON CONFLICT DO NOTHING, which must keep the new rows and count the rest.
    first = write_batch(conn, _batch([(RAIN, _reading(NOW - timedelta(minutes=1), rain_1h=1))]))
    assert (first.readings_stored, first.readings_duplicate) == (1, 0)
    again = [_reading(NOW - timedelta(minutes=1), rain_1h=1), _reading(NOW, rain_1h=2)]
    mixed = write_batch(conn, _batch([(RAIN, again), (RAIN, _reading(NOW, rain_1h=2))]))
    assert (mixed.readings_stored, mixed.readings_duplicate) == (1, 2)
    assert conn.execute("SELECT ts, value FROM telemetry ORDER BY ts").fetchall() == [
        (NOW - timedelta(minutes=1), 1.0), (NOW, 2.0)]
    assert conn.execute("SELECT last_seen FROM device_status WHERE device_id = 'rain-1'").fetchone() == (NOW,)
    assert _counters(conn)["qx/rain_gauge"][3:5] == (2, 2)  # stored, duplicates over both batches


def test_a_failed_batch_leaves_no_counts(conn: psycopg.Connection) -> None:
    batch = _batch([(RAIN, _reading(NOW, rain_1h=1)), (HOTLINE, _event("E9", NOW, title="坏\u0000标题"))])
    with pytest.raises(psycopg.DataError):
        write_batch(conn, batch)
    assert _counters(conn) == {}
    assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (0,)
