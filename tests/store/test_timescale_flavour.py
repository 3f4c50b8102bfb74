"""The TimescaleDB schema flavour, proven against real TimescaleDB: 2.23 in PGlite/WASM, or the server of
``CITYOPS_TEST_TIMESCALE_URL`` (a database of its own there, its background jobs running).

PGlite: starts ``tools/timescale/serve.mjs`` (``npm ci`` on first use); a server that does not
start fails these tests, it never skips them. The plain flavour is migrated on a
project-local PostgreSQL alongside, to prove both flavours expose the same columns.

The PGlite server takes one client connection at a time: every block below closes its
connection before the next one opens. It cannot COPY and runs no background jobs, so
rows go in with INSERT and the refresh policy is run by hand with ``run_job``; where a test
shows a bucket stale until a refresh, the real server's scheduler is held off (``jobs_paused``).
What only the real server's scheduler shows is in ``tests/store/test_timescale_jobs.py``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cityops.localserver import LocalPostgres, free_port
from store.migrate import migrate, plan
from tests.fix_db import PGLITE_TIMESCALE_VERSION, jobs_paused, migrated_timescale, timescale_url

SERIES = ("telemetry", "events", "telemetry_1m")
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def timescale() -> Iterator[tuple[str, list[str]]]:
    """A migrated TimescaleDB: (dsn, versions recorded as applied)."""
    with migrated_timescale() as dsn:
        with psycopg.connect(dsn) as conn:  # closed before the tests: PGlite serves one connection at a time
            applied = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        yield dsn, applied


@pytest.fixture(scope="module")
def plain_dsn() -> Iterator[str]:
    """A plain PostgreSQL migrated with the plain flavour."""
    base = Path(tempfile.mkdtemp(prefix="cityops-plain-"))
    base.chmod(0o755)  # as root the cluster belongs to OS user postgres, who must reach it
    pg = LocalPostgres(base / "pg", free_port())
    try:
        pg.start()
        migrate(pg.dsn, timescale="auto")
        yield pg.dsn
    finally:
        try:
            pg.stop("immediate")
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _one(conn: psycopg.Connection, sql: str, params: tuple = ()) -> tuple:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


def test_migration_creates_hypertables_continuous_aggregate_and_policy(timescale: tuple[str, list[str]]) -> None:
    dsn, applied = timescale
    assert applied == [m.version for m in plan("timescale")]
    assert "0002" in applied
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert {r[0] for r in conn.execute("SELECT flavour FROM schema_migrations")} == {"timescale"}
        (version,) = _one(conn, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
        if timescale_url() is None:
            assert version.startswith(PGLITE_TIMESCALE_VERSION + "."), version
        else:  # the test database got the newest version the real server offers
            assert (version,) == _one(conn, "SELECT default_version FROM pg_available_extensions"
                                            " WHERE name = 'timescaledb'")
        # 0006 adds a second refresh policy to telemetry_1m: TimescaleDB 2.21 or later
        assert tuple(int(part) for part in version.split(".")[:2]) >= (2, 21), version

        dims: dict[str, str] = dict(conn.execute(
            "SELECT d.hypertable_name, d.column_name || ' ' || d.time_interval::text"
            " FROM timescaledb_information.hypertables h"
            " JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)"
            " WHERE h.hypertable_schema = 'public'"
        ).fetchall())
        assert dims == {"telemetry": "ts 1 day", "events": "ts 7 days"}

        caggs = conn.execute(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
            " WHERE view_schema = 'public' ORDER BY view_name"
        ).fetchall()
        # real-time: reads raw rows past the watermark (telemetry_1h: tests/ingest/test_timescale.py)
        assert caggs == [("telemetry_1h", False), ("telemetry_1m", False)]

        jobs = conn.execute(
            "SELECT schedule_interval, config->>'start_offset', config->>'end_offset'"
            " FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = 'telemetry_1m'"
            " ORDER BY schedule_interval"
        ).fetchall()
        # every minute for the last 3 hours; hourly for late readings, back as far as ingest accepts them
        assert jobs == [(MINUTE, "03:00:00", "00:01:00"), (60 * MINUTE, "8 days", "03:00:00")]


def test_telemetry_1m_aggregates_in_real_time_and_after_the_policy_runs(timescale: tuple[str, list[str]]) -> None:
    dsn, _ = timescale
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    base = now - timedelta(minutes=30)  # inside the policy's [now - 3 h, now - 1 min] window
    rows = []
    for device, township in (("dev-a", "431002001"), ("dev-b", "431002002")):
        for metric, scale in (("pm25", 1.0), ("noise_db", 10.0)):
            for i in range(9):  # 3 minutes × 3 readings, 20 s apart
                rows.append((base + timedelta(seconds=20 * i), device, metric, scale * (i + 1), township))
    expected: dict[tuple, list[float]] = defaultdict(list)
    for ts, device, metric, value, township in rows:
        expected[(ts.replace(second=0), device, metric, township)].append(value)

    insert = ("INSERT INTO telemetry (ts, device_id, metric, value, township_code)"
              " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")
    query = ("SELECT bucket, device_id, metric, township_code, avg_value, min_value, max_value, n"
             " FROM telemetry_1m WHERE bucket >= %s ORDER BY 1, 2, 3")

    def want() -> list[tuple]:
        return [(k[0], k[1], k[2], k[3], pytest.approx(sum(v) / len(v)), min(v), max(v), len(v))
                for k, v in sorted(expected.items())]

    with psycopg.connect(dsn, autocommit=True) as conn, jobs_paused(conn, "telemetry_1m"):
        with conn.cursor() as cur:
            cur.executemany(insert, rows)
            # A redelivered reading with the same key (and a different value) is ignored.
            cur.execute(insert, (base, "dev-a", "pm25", 999.0, "431002001"))
            assert cur.rowcount == 0
        assert _one(conn, "SELECT count(*) FROM telemetry")[0] == len(rows)
        assert _one(conn, "SELECT count(*) FROM show_chunks('telemetry')")[0] >= 1

        # Nothing materialized yet: every row comes from real-time aggregation.
        assert conn.execute(query, (base,)).fetchall() == want()
        assert len(want()) == 12

        # Background jobs never run in PGlite: run the refresh policy by hand.
        job_id, mat_schema, mat_table = _one(
            conn,
            "SELECT j.job_id, c.materialization_hypertable_schema, c.materialization_hypertable_name"
            " FROM timescaledb_information.jobs j"
            " JOIN timescaledb_information.continuous_aggregates c ON c.view_name = j.hypertable_name"
            " WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND c.view_name = 'telemetry_1m'"
            " AND j.config->>'end_offset' = '00:01:00'",  # the frequent one: telemetry_1m has two
        )
        conn.execute("CALL run_job(%s)", (job_id,))
        materialized = _one(conn, f'SELECT count(*) FROM "{mat_schema}"."{mat_table}"')[0]
        assert materialized == 12
        assert conn.execute(query, (base,)).fetchall() == want()

        # Real TimescaleDB semantics the plain view does not share: a late reading in a
        # bucket that is already materialized stays invisible until the next refresh
        # (the policy, every minute, reaching back 3 hours).
        late = (base + timedelta(seconds=5), "dev-b", "pm25", 100.0, "431002002")
        conn.execute(insert, late)
        assert conn.execute(query, (base,)).fetchall() == want()
        expected[(base, "dev-b", "pm25", "431002002")].append(100.0)
        conn.execute("CALL refresh_continuous_aggregate('telemetry_1m', %s, %s)", (base, base + MINUTE))
        assert conn.execute(query, (base,)).fetchall() == want()

        # Readings newer than the watermark are aggregated in real time again.
        fresh = (base + 5 * MINUTE, "dev-a", "pm25", 7.0, "431002001")
        conn.execute(insert, fresh)
        expected[(fresh[0], "dev-a", "pm25", "431002001")].append(7.0)
        assert conn.execute(query, (base,)).fetchall() == want()


def test_a_reading_hours_late_reaches_telemetry_1m_with_the_hourly_refresh(timescale: tuple[str, list[str]]) -> None:
    dsn, _ = timescale
    bucket = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=5)  # past the 3 h window
    insert = ("INSERT INTO telemetry (ts, device_id, metric, value, township_code)"
              " VALUES (%s, 'dev-late', 'pm25', %s, '431002003')")
    query = "SELECT avg_value, n FROM telemetry_1m WHERE device_id = 'dev-late' AND bucket = %s"
    with psycopg.connect(dsn, autocommit=True) as conn, jobs_paused(conn, "telemetry_1m"):
        (late_job,) = _one(conn, "SELECT job_id FROM timescaledb_information.jobs"
                                 " WHERE hypertable_name = 'telemetry_1m' AND config->>'end_offset' = '03:00:00'")
        conn.execute(insert, (bucket, 10.0))
        conn.execute("CALL run_job(%s)", (late_job,))
        assert conn.execute(query, (bucket,)).fetchall() == [(10.0, 1)]
        conn.execute(insert, (bucket + timedelta(seconds=30), 30.0))  # arrives hours late
        assert conn.execute(query, (bucket,)).fetchall() == [(10.0, 1)]  # materialized, so stale until...
        conn.execute("CALL run_job(%s)", (late_job,))
        assert conn.execute(query, (bucket,)).fetchall() == [(20.0, 2)]  # ...the hourly refresh


def test_events_hypertable_is_idempotent_on_its_key(timescale: tuple[str, list[str]]) -> None:
    dsn, _ = timescale
    ts = datetime.now(UTC) - timedelta(hours=1)
    insert = ("INSERT INTO events (ts, source_system, event_id, dept, category, title, payload)"
              " VALUES (%s, 'city-hotline', %s, 'urban', 'road', %s, %s::jsonb) ON CONFLICT DO NOTHING")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute(insert, (ts, "E1", "pothole", '{"a": 1}')).rowcount == 1
        assert conn.execute(insert, (ts, "E1", "pothole again", '{"a": 2}')).rowcount == 0
        assert _one(conn, "SELECT title, payload->>'a' FROM events WHERE event_id = 'E1'") == ("pothole", "1")


def _columns(dsn: str) -> dict[str, list[tuple[str, str]]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cols: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for table, column, data_type in conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ):
            cols[table].append((column, data_type))
        return dict(cols)


def test_both_flavours_expose_identical_relations_and_columns(
    timescale: tuple[str, list[str]], plain_dsn: str
) -> None:
    ts_cols = _columns(timescale[0])
    plain_cols = _columns(plain_dsn)
    for name in SERIES:
        assert name in ts_cols, f"{name} missing in the timescale flavour"
        assert ts_cols[name] == plain_cols.get(name), f"{name} differs between flavours"
    assert ts_cols == plain_cols  # every other relation comes from the shared 0001 as well
    with psycopg.connect(plain_dsn, autocommit=True) as conn:
        assert {r[0] for r in conn.execute("SELECT flavour FROM schema_migrations")} == {"plain"}
