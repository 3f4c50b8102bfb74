"""Migration 0003 on real TimescaleDB (2.23 in PGlite, or ``CITYOPS_TEST_TIMESCALE_URL``'s server) and its
plain-PostgreSQL fallback.

TimescaleDB: the hourly continuous aggregate and its refresh policy (which reaches back far
enough for readings up to 7 days late), compression segmented by device and metric (rows
stay readable and keyed writes stay idempotent in compressed chunks), retention, and the
``python -m ingest policies`` command that changes them. Plain PostgreSQL: the same
relation and function names with the same columns and answers; the command is a no-op
that says so.

PGlite serves one connection at a time, runs no background jobs (``run_job`` by hand)
and cannot COPY, so rows go in with INSERT and every block closes its connection. On a real
server the jobs also run in the background: a test that shows a bucket stale until the policy
runs holds them off (``jobs_paused``); ``tests/store/test_timescale_jobs.py`` checks the runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cityops.settings import PROJECT_ROOT
from ingest import policies
from tests.fix_db import jobs_paused, migrated_timescale
from tests.fix_system import new_database

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
INSERT = ("INSERT INTO telemetry (ts, device_id, metric, value, township_code) VALUES (%s, %s, %s, %s, %s)"
          " ON CONFLICT DO NOTHING")
HOURLY = ("SELECT bucket, device_id, metric, township_code, avg_value, min_value, max_value, n FROM telemetry_1h"
          " WHERE device_id = ANY(%s) ORDER BY 1, 2, 3")


@pytest.fixture(scope="module")
def timescale() -> Iterator[str]:
    with migrated_timescale() as dsn:
        yield dsn


@pytest.fixture(scope="module")
def plain(pg_dsn: str) -> str:
    return new_database(pg_dsn)


def _insert(conn: psycopg.Connection, rows: list[tuple]) -> int:
    """One statement, not executemany: psycopg pipelines executemany, which hangs PGlite's socket now and then."""
    columns = [list(c) for c in zip(*rows, strict=True)]
    return conn.execute(
        "INSERT INTO telemetry (ts, device_id, metric, value, township_code)"
        " SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::float8[], %s::text[])"
        " ON CONFLICT DO NOTHING", columns).rowcount


def _one(conn: psycopg.Connection, sql: str, params: tuple = ()) -> tuple:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


def _job(conn: psycopg.Connection, proc: str, relation: str) -> int:
    return int(_one(conn, "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s"
                          " AND hypertable_name = %s", (proc, relation))[0])


def _expected(rows: list[tuple]) -> list[tuple]:
    groups: dict[tuple, list[float]] = defaultdict(list)
    for ts, device, metric, value, township in rows:
        groups[(ts.replace(minute=0, second=0), device, metric, township)].append(value)
    return [(*k, pytest.approx(sum(v) / len(v)), min(v), max(v), len(v)) for k, v in sorted(groups.items())]


def _ingest_cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CITYOPS_DATABASE_URL=dsn)
    return subprocess.run([sys.executable, "-m", "ingest", "policies", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_migration_adds_hourly_aggregate_compression_and_retention(timescale: str) -> None:
    with psycopg.connect(timescale, autocommit=True) as conn:
        assert _one(conn, "SELECT materialized_only FROM timescaledb_information.continuous_aggregates"
                          " WHERE view_name = 'telemetry_1h'") == (False,)
        assert _one(conn, "SELECT schedule_interval, config->>'start_offset', config->>'end_offset'"
                          " FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'"
                          " AND hypertable_name = 'telemetry_1h'") == (timedelta(minutes=30), "8 days", "01:00:00")
        settings = conn.execute(
            "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc"
            " FROM timescaledb_information.compression_settings WHERE hypertable_name = 'telemetry'"
            " ORDER BY attname").fetchall()
        assert settings == [("device_id", 1, None, None), ("metric", 2, None, None), ("ts", None, 1, False)]
        assert policies.current(conn) == policies.Policies(timedelta(days=7), timedelta(days=365))


def test_hourly_aggregate_takes_late_readings_through_its_own_policy(timescale: str) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = [(start + timedelta(minutes=7 * i), device, metric, float(i * scale), township)
            for start in (now - 2 * DAY, now - 3 * HOUR)  # two days back: materialized by the first refresh
            for device, township in (("h-a", "431002001"), ("h-b", "431002002"))
            for metric, scale in (("rain_1h", 1), ("water_level", 10))
            for i in range(12)]  # 7-minute steps across two hourly buckets
    devices = ["h-a", "h-b"]
    with psycopg.connect(timescale, autocommit=True) as conn, jobs_paused(conn, "telemetry_1h"):
        _insert(conn, rows)
        assert conn.execute(HOURLY, (devices,)).fetchall() == _expected(rows)  # real time, nothing materialized
        refresh = _job(conn, "policy_refresh_continuous_aggregate", "telemetry_1h")
        conn.execute("CALL run_job(%s)", (refresh,))
        mat = _one(conn, "SELECT materialization_hypertable_schema || '.' || materialization_hypertable_name"
                         " FROM timescaledb_information.continuous_aggregates WHERE view_name = 'telemetry_1h'")[0]
        assert _one(conn, f"SELECT count(*) FROM {mat}")[0] == len(_expected(rows)) == 16
        assert conn.execute(HOURLY, (devices,)).fetchall() == _expected(rows)

        # A reading two days late lands in a materialized bucket: not visible until the
        # policy runs again, which it reaches because its window goes back 8 days.
        late = (now - 2 * DAY + timedelta(minutes=30), "h-a", "rain_1h", 1000.0, "431002001")
        conn.execute(INSERT, late)
        assert conn.execute(HOURLY, (devices,)).fetchall() == _expected(rows)
        conn.execute("CALL run_job(%s)", (refresh,))
        assert conn.execute(HOURLY, (devices,)).fetchall() == _expected([*rows, late])


def test_compressed_chunks_stay_readable_and_idempotent(timescale: str) -> None:
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - 10 * DAY
    rows = [(old + timedelta(minutes=i), "c-1", metric, float(i), "431002001")
            for metric in ("rain_1h", "battery") for i in range(60)]
    with psycopg.connect(timescale, autocommit=True) as conn:
        _insert(conn, rows)
        conn.execute("CALL run_job(%s)", (_job(conn, "policy_compression", "telemetry"),))
        compressed = conn.execute(
            "SELECT c.chunk_name FROM timescaledb_information.chunks c WHERE c.hypertable_name = 'telemetry'"
            " AND c.is_compressed AND c.range_start <= %s AND %s < c.range_end", (old, old)).fetchall()
        assert len(compressed) == 1, "the 10-day-old chunk is compressed (older than the 7-day default)"
        assert not _one(conn, "SELECT bool_or(is_compressed) FROM timescaledb_information.chunks"
                              " WHERE hypertable_name = 'telemetry' AND range_end > now() - interval '6 days'")[0]
        assert _one(conn, "SELECT count(*), sum(value) FROM telemetry WHERE device_id = 'c-1'") == (
            120, 2 * sum(range(60)))
        # A redelivered reading into the compressed chunk adds nothing; a new one still goes in.
        assert conn.execute(INSERT, rows[5]).rowcount == 0
        assert conn.execute(INSERT, (old + timedelta(seconds=30), "c-1", "rain_1h", 0.5, "431002001")).rowcount == 1
        assert _one(conn, "SELECT count(*) FROM telemetry WHERE device_id = 'c-1'") == (121,)


def test_retention_drops_chunks_older_than_a_year(timescale: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(timescale, autocommit=True) as conn:
        _insert(conn, [(now - 400 * DAY, "r-1", "rain_1h", 1.0, None),
                                           (now - 300 * DAY, "r-1", "rain_1h", 2.0, None)])
        conn.execute("CALL run_job(%s)", (_job(conn, "policy_retention", "telemetry"),))
        assert conn.execute("SELECT value FROM telemetry WHERE device_id = 'r-1'").fetchall() == [(2.0,)]


def test_policies_command_changes_both_policies(timescale: str) -> None:
    done = _ingest_cli(timescale, "--compress-after", "2d", "--retain", "90d")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("TimescaleDB: telemetry chunks are compressed after 2 days"
                                   " and dropped after 90 days")
    with psycopg.connect(timescale, autocommit=True) as conn:
        assert policies.current(conn) == policies.Policies(2 * DAY, 90 * DAY)
        assert _one(conn, "SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name = 'telemetry'"
                          " AND proc_name IN ('policy_compression', 'policy_retention')") == (2,)

    refused = _ingest_cli(timescale, "--retain", "5d")
    assert refused.returncode == 2 and "--retain must be longer than 8 days" in refused.stderr
    assert _ingest_cli(timescale, "--compress-after", "7 days").returncode == 2  # not 7d: refused whole

    shown = _ingest_cli(timescale)
    assert shown.stdout.strip().endswith("compressed after 2 days and dropped after 90 days")
    assert _ingest_cli(timescale, "--compress-after", "1w", "--retain", "365d").returncode == 0  # the defaults again
    with psycopg.connect(timescale, autocommit=True) as conn:
        assert policies.current(conn) == policies.Policies(7 * DAY, 365 * DAY)


@pytest.mark.parametrize(
    ("text", "interval"), [("12h", 12 * HOUR), ("7d", 7 * DAY), ("2w", 14 * DAY), (" 365d ", 365 * DAY)])
def test_parse_interval(text: str, interval: timedelta) -> None:
    assert policies.parse_interval(text, "--retain") == interval


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "1m", "1.5d", "7 days"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(policies.PolicyError, match="--retain"):
        policies.parse_interval(text, "--retain")


# --- plain PostgreSQL ------------------------------------------------------------------------------

def _columns(dsn: str, relation: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                            " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                            (relation,)).fetchall()


def _health_answers(dsn: str) -> list[tuple]:
    """The same devices and statuses on either flavour: device_health and ingest_add_counts must agree."""
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, expected_interval_s)"
                     " VALUES ('dh-1', 'rain_gauge', 'qx', 'a', 113, 25.8, 60), ('dh-2', 'smoke', 'ga', 'b', 113, 25.8,"
                     " 600), ('dh-3', 'smoke', 'ga', 'c', 113, 25.8, 60) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO device_status (device_id, last_seen, online, status_at) VALUES"
                     " ('dh-1', %s, true, %s), ('dh-2', %s, false, %s) ON CONFLICT DO NOTHING",
                     (at - 179 * timedelta(seconds=1), at - DAY, at - 31 * timedelta(minutes=1), at))
        health = conn.execute("SELECT device_id, last_seen, online_data, online_status, status_at"
                              " FROM device_health(%s) WHERE device_id LIKE 'dh-%%' ORDER BY 1", (at,)).fetchall()
        counts = conn.execute("""SELECT ingest_add_counts('{"a": 1, "b": 2}', '{"b": 3, "c": 4}')""").fetchall()
    return [*health, *counts]


def test_plain_fallback_has_the_same_names_columns_and_answers(plain: str, timescale: str) -> None:
    for relation in ("telemetry_1h", "ingest_counters"):
        assert _columns(plain, relation) == _columns(timescale, relation), relation
        assert _columns(plain, relation), relation
    assert _health_answers(plain) == _health_answers(timescale)
    assert [r[2] for r in _health_answers(plain)[:3]] == [True, False, False]  # 179 s of 3 × 60: in

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = [(now - HOUR + timedelta(minutes=10 * i), "p-1", "rain_1h", float(i), "431002001") for i in range(9)]
    with psycopg.connect(plain, autocommit=True) as conn:
        assert _one(conn, "SELECT flavour FROM schema_migrations WHERE version = '0003'") == ("plain",)
        assert _one(conn, "SELECT relkind FROM pg_class WHERE relname = 'telemetry_1h'") == ("v",)
        _insert(conn, rows)
        assert conn.execute(HOURLY, (["p-1"],)).fetchall() == _expected(rows)
        assert policies.current(conn) is None
        assert "nothing changed" in policies.apply(conn, policies.Policies(7 * DAY, 365 * DAY))

    done = _ingest_cli(plain, "--compress-after", "7d", "--retain", "365d")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("this database has the plain schema (no TimescaleDB): compression and retention"
                                   " policies do not exist here; nothing changed")
