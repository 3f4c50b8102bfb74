"""A real PostgreSQL for tests: one project-local server per session, migrated, stopped at the end.

Use it with ``from tests.fix_db import pg_dsn``. A missing or broken server makes the
tests that need it fail (an error in the fixture), never skip: a database test that
silently does not run proves nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.abc import Params, QueryNoTemplate
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from cityops.localserver import LocalPostgres, LocalServerError, free_port
from cityops.settings import runtime_role
from cityops.timescale_pglite import PgliteTimescale
from store.migrate import migrate


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    tmp = Path(tempfile.mkdtemp(prefix="cityops-pg-"))
    tmp.chmod(0o755)  # as root the server runs as OS user postgres, which must reach its folder
    server: LocalPostgres | None = None
    try:
        server = LocalPostgres(tmp / "pg", free_port())
        server.start()
        migrate(server.dsn)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


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


@contextlib.contextmanager
def migrated_timescale() -> Iterator[str]:
    """A real TimescaleDB 2.23 (PGlite/WASM via ``tools/timescale``), migrated with the timescale flavour.

    It takes one client connection at a time, runs no background jobs and cannot COPY. A
    server that does not start fails the test that needs it; it never skips.
    """
    server = PgliteTimescale(free_port())
    try:
        server.start()
    except LocalServerError as exc:
        pytest.fail(f"PGlite/TimescaleDB did not start: {exc}", pytrace=False)
    try:
        migrate(server.dsn, timescale="require")
        yield server.dsn
    finally:
        server.stop()


def one(conn: psycopg.Connection[TupleRow], query: QueryNoTemplate, params: Params | None = None) -> tuple[Any, ...]:
    """The row a query must return (a test's arrangement or check): fails, naming the query, when none came back."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, f"no row from {query!r}"
    return row
