"""One named connection pool per process, checked before use."""

from __future__ import annotations

from psycopg_pool import ConnectionPool


def make_pool(dsn: str, name: str, *, min_size: int = 1, max_size: int = 4) -> ConnectionPool:
    pool = ConnectionPool(
        dsn,
        name=name,
        min_size=min_size,
        max_size=max_size,
        check=ConnectionPool.check_connection,
        kwargs={"application_name": f"cityops-{name}"},
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool
