"""TimescaleDB's jobs: the refresh, compression and retention policies the migrations add, and a job that fails.

Parametrized over the servers at hand: ``pglite`` always (TimescaleDB 2.23 in WASM, whose background
jobs never run) and ``server`` when ``CITYOPS_TEST_TIMESCALE_URL`` names a real TimescaleDB (a database of
its own there; ``scripts/timescale_server.sh`` starts one). Every test asserts on both what the jobs leave
behind; only how a job runs differs: PGlite's by ``CALL run_job`` in the test's session (the only way it
runs there), the real server's by its own scheduler (``alter_job(next_start => now)``, then waiting for
``job_stats`` to show the run), which is what production relies on and PGlite cannot show: a run that
fails is reported in ``job_errors``, and the compression policy's later runs over chunks it already
compressed fail nothing. A scheduler that does not run a job within a minute fails the test.

PGlite takes one connection at a time: each test uses one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest import policies
from ingest.batch import Batch
from ingest.decode import MAX_PAST, Reading
from ingest.writer import prepare_connection, write_batch
from tests.fix_db import migrated_timescale, one, timescale_servers

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
JOB_TIMEOUT = 60.0  # seconds the real server's scheduler gets to start and finish one run
FAILING = "cityops_test_failing_job"
FAILURE = "cityops test: this job fails on purpose"


@dataclass(frozen=True, slots=True)
class Db:
    server: str  # "pglite" or "server"
    dsn: str

    @property
    def background(self) -> bool:
        """Whether this server's scheduler runs the jobs (PGlite's never does)."""
        return self.server == "server"


@pytest.fixture(scope="module", params=timescale_servers())
def db(request: pytest.FixtureRequest) -> Iterator[Db]:
    with migrated_timescale(request.param) as dsn:
        yield Db(request.param, dsn)


def _insert(conn: psycopg.Connection, rows: list[tuple[datetime, str, str, float]]) -> int:
    """One INSERT statement (PGlite cannot COPY, and executemany's pipeline hangs its socket now and then)."""
    columns = [list(c) for c in zip(*rows, strict=True)]
    return conn.execute(
        "INSERT INTO telemetry (ts, device_id, metric, value, township_code)"
        " SELECT ts, d, m, v, '431002001' FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::float8[])"
        " AS r(ts, d, m, v) ON CONFLICT DO NOTHING", columns).rowcount


def _job(conn: psycopg.Connection, proc: str, relation: str, end_offset: str | None = None) -> int:
    rows = conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s AND hypertable_name = %s"
        " AND (%s::text IS NULL OR config->>'end_offset' = %s)", (proc, relation, end_offset, end_offset)).fetchall()
    assert len(rows) == 1, f"{len(rows)} {proc} jobs on {relation} (end_offset {end_offset})"
    return int(rows[0][0])


def _stats(conn: psycopg.Connection, job: int) -> tuple[str | None, int, int]:
    """(last run status, total runs, total failures) from job_stats; a job that never ran has no row."""
    row = conn.execute("SELECT last_run_status, coalesce(total_runs, 0), coalesce(total_failures, 0)"
                       " FROM timescaledb_information.job_stats"
                       " WHERE job_id = %s", (job,)).fetchone()
    return (row[0], int(row[1]), int(row[2])) if row else (None, 0, 0)


def _errors(conn: psycopg.Connection, job: int) -> list[tuple[str, str | None, str | None]]:
    return [(str(r[0]), r[1], r[2]) for r in conn.execute(
        "SELECT proc_name, sqlerrcode, err_message FROM timescaledb_information.job_errors WHERE job_id = %s"
        " ORDER BY start_time", (job,))]


def _wait_idle(conn: psycopg.Connection, job: int) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT
    while one(conn, "SELECT count(*) FROM timescaledb_information.job_stats WHERE job_id = %s"
                    " AND job_status = 'Running'", (job,))[0]:
        if time.monotonic() > deadline:
            pytest.fail(f"job {job} still running after {JOB_TIMEOUT:.0f} s", pytrace=False)
        time.sleep(0.1)


def _background_run(conn: psycopg.Connection, job: int) -> str:
    """Have the real server's scheduler run ``job`` now; the status of that run ('Success' or 'Failed')."""
    _wait_idle(conn, job)  # a run in progress (a policy just added runs at once) would set next_start after ours
    asked = one(conn, "SELECT clock_timestamp()")[0]
    conn.execute("SELECT alter_job(%s, next_start => clock_timestamp())", (job,))
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        row = conn.execute(
            "SELECT last_run_status, job_status FROM timescaledb_information.job_stats"
            " WHERE job_id = %s AND last_run_started_at >= %s", (job, asked)).fetchone()
        if row is not None and row[1] != "Running" and row[0] is not None:
            return str(row[0])
        if time.monotonic() > deadline:
            pytest.fail(f"the server's scheduler did not run job {job} within {JOB_TIMEOUT:.0f} s of next_start:"
                        " are its background workers running (shared_preload_libraries = 'timescaledb',"
                        " timescaledb.max_background_workers > 0, enough max_worker_processes)?", pytrace=False)
        time.sleep(0.1)


def _run(conn: psycopg.Connection, db: Db, job: int) -> None:
    """Run a job that must succeed: by the scheduler on a real server (its failure named), by hand in PGlite."""
    if not db.background:
        conn.execute("CALL run_job(%s)", (job,))
        return
    status = _background_run(conn, job)
    assert status == "Success", f"job {job} {status}: {_errors(conn, job)[-1:]}"


def _compressed(conn: psycopg.Connection, at: datetime) -> bool:
    return bool(one(conn, "SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry'"
                          " AND range_start <= %s AND %s < range_end", (at, at))[0])


def _materialized(conn: psycopg.Connection, view: str, device: str) -> list[tuple[datetime, int]]:
    """The buckets of ``device`` stored in ``view``'s materialization hypertable (not real-time rows)."""
    mat = one(conn, "SELECT format('%%I.%%I', materialization_hypertable_schema, materialization_hypertable_name)"
                    " FROM timescaledb_information.continuous_aggregates WHERE view_name = %s", (view,))[0]
    # The materialization table's columns are the view's, in order: bucket, device_id, ..., n last.
    return [(r[0], int(r[1])) for r in conn.execute(
        f"SELECT bucket, n FROM {mat} WHERE device_id = %s ORDER BY bucket", (device,))]


POLICIES = [  # proc, relation, schedule, config offsets: what 0002, 0003 and 0006 add
    ("policy_refresh_continuous_aggregate", "telemetry_1m", MINUTE, {"start_offset": "03:00:00",
                                                                     "end_offset": "00:01:00"}),
    ("policy_refresh_continuous_aggregate", "telemetry_1m", HOUR, {"start_offset": "8 days",
                                                                   "end_offset": "03:00:00"}),
    ("policy_refresh_continuous_aggregate", "telemetry_1h", 30 * MINUTE, {"start_offset": "8 days",
                                                                          "end_offset": "01:00:00"}),
    ("policy_compression", "telemetry", 12 * HOUR, {"compress_after": "7 days"}),
    ("policy_retention", "telemetry", DAY, {"drop_after": "365 days"}),
]


def test_every_timescale_policy_is_registered_and_runs(db: Db) -> None:
    """Every server: the five policies with their schedules and windows, scheduled. A real server: its scheduler
    for this database ran each of them when it was added, without a failure."""
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        jobs = conn.execute(
            "SELECT job_id, proc_name, hypertable_name, schedule_interval, scheduled, config"
            " FROM timescaledb_information.jobs WHERE hypertable_schema = 'public' ORDER BY job_id").fetchall()
        offsets = ("start_offset", "end_offset", "compress_after", "drop_after")
        found = [(p, h, s, {k: c[k] for k in offsets if k in c}) for _, p, h, s, _, c in jobs]
        assert all(on for *_, on, _ in jobs), jobs
        assert sorted(found, key=str) == sorted(POLICIES, key=str), jobs
        assert len(jobs) == len(POLICIES), jobs
        if not db.background:
            return
        # A real server: this database has a scheduler, and it ran every policy once when it was added.
        assert one(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                         " AND backend_type = 'TimescaleDB Background Worker Scheduler'") == (1,)
        deadline = time.monotonic() + JOB_TIMEOUT
        ids = [j[0] for j in jobs]
        while time.monotonic() < deadline and one(
                conn, "SELECT count(*) FILTER (WHERE coalesce(total_runs, 0) > 0 AND job_status <> 'Running')"
                      " FROM timescaledb_information.job_stats WHERE job_id = ANY(%s)", (ids,))[0] < len(ids):
            time.sleep(0.2)  # each policy's first run: started when it was added, perhaps not finished yet
        runs = {j[0]: _stats(conn, j[0]) for j in jobs}
        assert all(total >= 1 and failures == 0 and status == "Success"
                   for status, total, failures in runs.values()), runs
        assert conn.execute("SELECT job_id, err_message FROM timescaledb_information.job_errors"
                            " WHERE job_id = ANY(%s)", (ids,)).fetchall() == []


def test_the_refresh_policies_materialize_telemetry_1m_and_1h(db: Db) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    recent, older = now - 30 * MINUTE, now.replace(minute=0) - 2 * DAY
    rows = [(start + timedelta(seconds=20 * i), "job-r", "rain_1h", float(i)) for start in (recent, older)
            for i in range(6)]  # two minutes of readings each
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        assert _insert(conn, rows) == len(rows)
        _run(conn, db, _job(conn, "policy_refresh_continuous_aggregate", "telemetry_1m", "00:01:00"))
        # the last 3 hours (the older minutes too only if the real server's hourly run came in between)
        assert {(recent, 3), (recent + MINUTE, 3)} <= set(_materialized(conn, "telemetry_1m", "job-r"))
        _run(conn, db, _job(conn, "policy_refresh_continuous_aggregate", "telemetry_1m", "03:00:00"))
        assert _materialized(conn, "telemetry_1m", "job-r") == [
            (older, 3), (older + MINUTE, 3), (recent, 3), (recent + MINUTE, 3)]
        _run(conn, db, _job(conn, "policy_refresh_continuous_aggregate", "telemetry_1h"))
        assert _materialized(conn, "telemetry_1h", "job-r") == [(older, 6)]  # the last hour is not closed yet


def test_the_compression_policy_compresses_old_chunks_and_its_next_runs_fail_nothing(db: Db) -> None:
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - 10 * DAY
    rows = [(old + i * MINUTE, "job-c", metric, float(i)) for metric in ("rain_1h", "battery") for i in range(30)]
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        _insert(conn, rows)
        job = _job(conn, "policy_compression", "telemetry")
        before = _stats(conn, job)
        _run(conn, db, job)
        assert _compressed(conn, old), "the 10-day-old chunk is compressed (the policy compresses after 7 days)"
        assert one(conn, "SELECT coalesce(bool_or(is_compressed), false) FROM timescaledb_information.chunks"
                         " WHERE hypertable_name = 'telemetry' AND range_end > now() - interval '6 days'") == (False,)
        # Twice more over the chunks it has already compressed: nothing fails, nothing is logged.
        _run(conn, db, job)
        _run(conn, db, job)
        assert _errors(conn, job) == []
        if db.background:
            status, total, failures = _stats(conn, job)
            assert (status, total - before[1], failures) == ("Success", 3, before[2])
        assert one(conn, "SELECT count(*), sum(value) FROM telemetry WHERE device_id = 'job-c'") == (
            60, 2 * sum(range(30)))


def test_the_retention_policy_drops_chunks_older_than_a_year(db: Db) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        _insert(conn, [(now - 400 * DAY, "job-d", "rain_1h", 1.0), (now - 300 * DAY, "job-d", "rain_1h", 2.0)])
        old_chunks = one(conn, "SELECT count(*) FROM show_chunks('telemetry', older_than => interval '365 days')")
        assert old_chunks == (1,)
        _run(conn, db, _job(conn, "policy_retention", "telemetry"))
        assert conn.execute("SELECT value FROM telemetry WHERE device_id = 'job-d'").fetchall() == [(2.0,)]
        assert one(conn, "SELECT count(*) FROM show_chunks('telemetry', older_than => interval '365 days')") == (0,)


def _reading(ts: datetime, device: str, value: float) -> Reading:
    return Reading(ts, device, "water_level", value, 113.0, 25.8, "431002", "431002001", None, False)


def _store(conn: psycopg.Connection, db: Db, reading: Reading) -> int:
    """The reading through ingest's own writer (COPY) on a real server; PGlite cannot COPY, so an INSERT there.
    Returns the rows stored: 0 for a redelivery."""
    if db.background:
        return write_batch(conn, Batch(datetime.now(UTC), readings=[reading])).readings_stored
    return _insert(conn, [(reading.ts, reading.device_id, reading.metric, reading.value)])


def test_a_reading_five_days_late_lands_in_a_compressed_chunk(db: Db) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    day = now.replace(minute=0) - 5 * DAY
    late = _reading(day + 30 * MINUTE + 15 * timedelta(seconds=1), "job-l", 9.0)
    assert now - late.ts < MAX_PAST, "ingest accepts it: within the 7 days a reading may be late"
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        prepare_connection(conn)
        # Chunks compressed after 2 days, so the 5-day-old chunk is compressed before the late reading comes.
        policies.apply(conn, policies.Policies(2 * DAY, policies.DEFAULT_RETAIN))
        try:
            _insert(conn, [(day + i * MINUTE, "job-l", "water_level", 1.0) for i in range(60)])
            compression = _job(conn, "policy_compression", "telemetry")
            _run(conn, db, compression)
            assert _compressed(conn, late.ts)
            hourly = _job(conn, "policy_refresh_continuous_aggregate", "telemetry_1h")
            _run(conn, db, hourly)
            assert _materialized(conn, "telemetry_1h", "job-l") == [(day, 60)]

            assert _store(conn, db, late) == 1
            assert _store(conn, db, late._replace(value=99.0)) == 0  # redelivered: the key is stored already
            assert one(conn, "SELECT count(*), max(value) FROM telemetry WHERE device_id = 'job-l'") == (61, 9.0)
            assert one(conn, "SELECT value FROM telemetry WHERE device_id = 'job-l' AND ts = %s", (late.ts,)) == (9.0,)
            # The hourly aggregate's own policy reaches back 8 days, so the late reading is counted there...
            _run(conn, db, hourly)
            assert _materialized(conn, "telemetry_1h", "job-l") == [(day, 61)]
            # ...and the next compression run takes the chunk's new row in, failing nothing.
            _run(conn, db, compression)
            assert _compressed(conn, late.ts)
            assert _errors(conn, compression) == []
            assert one(conn, "SELECT count(*) FROM telemetry WHERE device_id = 'job-l'") == (61,)
        finally:
            policies.apply(conn, policies.Policies(policies.DEFAULT_COMPRESS_AFTER, policies.DEFAULT_RETAIN))


def test_a_job_that_fails_is_reported_in_job_errors(db: Db) -> None:
    """The real server's scheduler runs it: the failure is in job_stats and job_errors with its message. PGlite
    has no scheduler (so nothing reaches job_errors there): run by hand, the failure comes back to the caller."""
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE OR REPLACE PROCEDURE {FAILING}(job_id int, config jsonb) LANGUAGE plpgsql AS $$"
                     f" BEGIN RAISE EXCEPTION '{FAILURE} (%)', config->>'why'; END $$")
        job = int(one(conn, "SELECT add_job(%s, interval '1 hour', config => '{\"why\": \"a test\"}',"
                            " initial_start => now() + interval '1 day')", (FAILING,))[0])
        try:
            assert one(conn, "SELECT proc_name, schedule_interval, config->>'why', scheduled"
                             " FROM timescaledb_information.jobs WHERE job_id = %s", (job,)) == (
                FAILING, HOUR, "a test", True)
            if not db.background:  # run by hand, the failure comes back to the caller
                with pytest.raises(psycopg.errors.RaiseException, match=FAILURE):
                    conn.execute("CALL run_job(%s)", (job,))
                return
            assert _background_run(conn, job) == "Failed"
            status, total, failures = _stats(conn, job)
            assert (status, total, failures) == ("Failed", 1, 1)
            assert _errors(conn, job) == [(FAILING, "P0001", f"{FAILURE} (a test)")]
        finally:
            conn.execute("SELECT delete_job(%s)", (job,))
            conn.execute(f"DROP PROCEDURE {FAILING}")
