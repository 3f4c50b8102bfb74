"""One named connection pool per process, checked before use."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg_pool import ConnectionPool


def make_pool(
    dsn: str,
    name: str,
    *,
    min_size: int = 1,
    max_size: int = 4,
    configure: Callable[[psycopg.Connection], None] | None = None,
    timeout: float = 30.0,
) -> ConnectionPool:
    pool = ConnectionPool(
        dsn,
        name=name,
        min_size=min_size,
        max_size=max_size,
        check=ConnectionPool.check_connection,
        configure=configure,
        kwargs={"application_name": f"cityops-{name}"},
        open=False,
    )
    pool.open(wait=True, timeout=timeout)
    return pool
