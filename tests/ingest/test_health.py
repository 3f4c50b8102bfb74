"""Device health: last-seen never moves backwards; online from data and from the status topic.

The rule "online from data = the last reading is younger than 3 × the expected interval" lives
twice, as ``ingest.health.ONLINE_SQL`` (what the dashboard reads) and in the SQL function
``device_health`` (migration 0003); the last test holds them to the same answers, boundaries included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from ingest.batch import UNTAGGED, Batch, Codes, build_batch
from ingest.decode import DeviceInfo
from ingest.health import ONLINE_SQL, online_percent
from ingest.writer import prepare_connection, write_batch
from tests.fix_system import new_database

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
S = timedelta(seconds=1)
TOPIC = "city/chenzhou/telemetry/qx/rain_gauge/{}"
# device id → expected interval (s); all rain gauges of dept qx
INTERVALS = {"g-10": 10, "g-60": 60, "g-300": 300, "g-never": 60, "g-status-only": 60}
SITE = DeviceInfo("rain_gauge", 113.0, 25.8, "431002", "431002001", "431002001001")


def test_online_percent() -> None:
    assert online_percent(2, 4) == 50.0 and online_percent(1, 3) == 33.3 and online_percent(0, 0) is None


# --- on a real PostgreSQL -----------------------------------------------------------

def _no_tags(lon: np.ndarray, _lat: np.ndarray) -> list[Codes]:
    return [UNTAGGED] * len(lon)


def _batch(messages: list[tuple[str, object]], now: datetime) -> Batch:
    raw = [(t, p if isinstance(p, bytes) else json.dumps(p).encode()) for t, p in messages]
    return build_batch(raw, city="chenzhou", now=now, tagger=_no_tags,
                       devices=lambda d: SITE if d in INTERVALS else None)


def _reading(device_id: str, ts: datetime, value: float = 1.0) -> tuple[str, object]:
    return TOPIC.format(device_id), {"ts": ts.isoformat(), "values": {"rain_1h": value}}


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    dsn = new_database(pg_dsn)
    with psycopg.connect(dsn) as conn:
        conn.cursor().executemany(
            "INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code,"
            " grid_code, expected_interval_s) VALUES (%s, 'rain_gauge', 'qx', %s, 113.0, 25.8, '431002',"
            " '431002001', '431002001001', %s)", [(d, d, i) for d, i in INTERVALS.items()])
    return dsn


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn) as c:
        prepare_connection(c)
        yield c


@pytest.mark.parametrize(
    ("last_seen", "interval_s", "online"),
    [
        (None, 60, False),
        (NOW, 60, True),
        (NOW - 179 * S, 60, True),
        (NOW - 180 * S, 60, False),  # exactly 3 × the interval: no longer online
        (NOW - 29 * S, 10, True),
        (NOW - 31 * S, 10, False),
        (NOW + 120 * S, 60, True),  # a device clock slightly ahead (ingest allows 5 min)
    ],
)
def test_online_from_data(conn: psycopg.Connection, last_seen: datetime | None, interval_s: int,
                          online: bool) -> None:
    row = conn.execute("SELECT coalesce(" + ONLINE_SQL + ", false)"
                       " FROM (SELECT %(interval)s::integer AS expected_interval_s) AS d,"
                       " (SELECT %(last_seen)s::timestamptz AS last_seen) AS s",
                       {"now": NOW, "interval": interval_s, "last_seen": last_seen}).fetchone()
    assert row == (online,)


def _status(conn: psycopg.Connection, device_id: str) -> tuple:
    row = conn.execute("SELECT last_seen, online, status_at FROM device_status WHERE device_id = %s",
                       (device_id,)).fetchone()
    assert row is not None
    return row


def test_late_and_out_of_order_readings_are_stored_but_never_regress_last_seen(conn: psycopg.Connection) -> None:
    t0 = NOW - timedelta(minutes=30)
    # One batch, readings out of order: last-seen is the newest of them.
    write_batch(conn, _batch([_reading("g-60", t0 + 2 * S), _reading("g-60", t0), _reading("g-60", t0 + S)], NOW))
    assert _status(conn, "g-60")[0] == t0 + 2 * S
    # A later batch carrying older readings (late, out of order): stored, last-seen unchanged.
    late = [_reading("g-60", t0 - timedelta(hours=h), float(h)) for h in (5, 1, 3)]
    result = write_batch(conn, _batch(late, NOW))
    assert result.readings_stored == 3
    assert _status(conn, "g-60")[0] == t0 + 2 * S
    assert conn.execute("SELECT count(*) FROM telemetry WHERE device_id = 'g-60'").fetchone() == (6,)
    # The latest value per metric is still the newest reading, not the last one to arrive.
    assert conn.execute("SELECT value FROM telemetry WHERE device_id = 'g-60' ORDER BY ts DESC LIMIT 1"
                        ).fetchone() == (1.0,)
    # A newer reading moves it forward; data never touches the status-topic columns.
    write_batch(conn, _batch([_reading("g-60", t0 + 5 * S)], NOW))
    assert _status(conn, "g-60") == (t0 + 5 * S, None, None)


def test_status_topic_sets_online_and_when_it_changed(conn: psycopg.Connection) -> None:
    topic = "city/chenzhou/status/g-10"
    write_batch(conn, _batch([_reading("g-10", NOW - 5 * S)], NOW))
    write_batch(conn, _batch([(topic, b"offline")], NOW))
    assert _status(conn, "g-10") == (NOW - 5 * S, False, NOW)
    # The retained message again (every re-subscribe delivers it): status_at stays when it changed.
    write_batch(conn, _batch([(topic, b"offline")], NOW + 60 * S))
    assert _status(conn, "g-10") == (NOW - 5 * S, False, NOW)
    # Back online then the last will, in one batch: applied in order.
    write_batch(conn, _batch([(topic, b"online"), (topic, b"offline")], NOW + 120 * S))
    assert _status(conn, "g-10")[1:] == (False, NOW + 120 * S)
    write_batch(conn, _batch([(topic, b"online")], NOW + 180 * S))
    assert _status(conn, "g-10") == (NOW - 5 * S, True, NOW + 180 * S)
    # A status for a device with no readings yet.
    write_batch(conn, _batch([("city/chenzhou/status/g-status-only", b"online")], NOW))
    assert _status(conn, "g-status-only") == (None, True, NOW)


def _device_health(conn: psycopg.Connection, now: datetime) -> dict[str, tuple]:
    """device id → the row of the SQL function ``device_health(now)`` without its id."""
    return {r[0]: r[1:] for r in conn.execute("SELECT * FROM device_health(%s) ORDER BY device_id", (now,))}


def test_device_health_in_sql_matches_the_dashboards_rule(conn: psycopg.Connection) -> None:
    write_batch(conn, _batch([_reading("g-300", NOW - timedelta(minutes=2))], NOW))
    conn.commit()
    for offset in (0, 29, 30, 31, 180, 181, 899, 900, 901, 3600):
        now = NOW + offset * S
        health = _device_health(conn, now)
        assert list(health) == sorted(INTERVALS)
        rule = {r[0]: r[1:] for r in conn.execute(
            "SELECT d.device_id, d.device_type, d.dept, d.district_code, d.township_code, d.grid_code,"
            " d.expected_interval_s, s.last_seen, coalesce(" + ONLINE_SQL + ", false), s.online, s.status_at"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id", {"now": now})}
        for device_id, row in health.items():
            assert row == rule[device_id], f"{device_id} at +{offset} s"
    by_id = _device_health(conn, NOW)
    assert by_id["g-never"] == ("rain_gauge", "qx", "431002", "431002001", "431002001001", 60, None, False, None, None)
    later = _device_health(conn, NOW + 14 * 60 * S)
    online_data = 7  # the column of device_health after the id
    assert by_id["g-300"][online_data] and not later["g-300"][online_data]  # seen 2 min before NOW, 15 min allowed
