"""A real PostgreSQL for tests: one project-local server per session, migrated, stopped at the end.

Use it with ``from tests.fix_db import pg_dsn``. A missing or broken server makes the
tests that need it fail (an error in the fixture), never skip: a database test that
silently does not run proves nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.localserver import LocalPostgres, free_port
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
