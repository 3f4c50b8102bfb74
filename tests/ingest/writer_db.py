"""A database of its own for ingest's writer tests, with a few devices, and a connection to it as the writer
prepares one, the tables a test writes emptied first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ingest.writer import prepare_connection
from tests.fix_system import new_database


def database_with(pg_dsn: str, devices: list[tuple[str, str, str, str]]) -> str:
    """A new migrated database holding ``devices`` (device_id, device_type, dept, name) at 25.8° N, 0.1° apart."""
    dsn = new_database(pg_dsn)
    with psycopg.connect(dsn) as conn:
        for k, (device_id, device_type, dept, name) in enumerate(devices):
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat)"
                         " VALUES (%s, %s, %s, %s, %s, 25.8)", (device_id, device_type, dept, name, 113.0 + 0.1 * k))
    return dsn


@contextmanager
def emptied(dsn: str, tables: str) -> Iterator[psycopg.Connection]:
    """A writer's connection to ``dsn`` with ``tables`` (comma-separated) truncated."""
    with psycopg.connect(dsn) as conn:
        prepare_connection(conn)
        conn.execute(f"TRUNCATE {tables}")
        conn.commit()
        yield conn
