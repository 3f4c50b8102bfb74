"""A real PostgreSQL for tests: one project-local server per session, migrated, stopped at the end.

Use it with ``from tests.fix_db import pg_dsn``. A missing or broken server makes the
tests that need it fail (an error in the fixture), never skip: a database test that
silently does not run proves nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.localserver import LocalPostgres, LocalServerError, free_port
from cityops.timescale_pglite import PgliteTimescale
from store.migrate import migrate


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="cityops-pg-"))
    tmp.chmod(0o755)  # as root the server runs as OS user postgres, which must reach its folder
    server: LocalPostgres | None = None
    try:
        server = LocalPostgres(tmp / "pg", free_port())
        server.start()
        migrate(server.dsn)
        yield server.dsn
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


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
