"""Fixtures of the alert tests that work on a whole demo city: each module its own database."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from ingest.writer import prepare_connection
from tests.fix_system import demo_city_database


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    """A demo city (layers, devices, accounts) in a database of this test module's own."""
    return demo_city_database(pg_dsn)


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    """A connection to it prepared as ingest prepares its own (the binary COPY's types)."""
    with psycopg.connect(dsn) as c:
        prepare_connection(c)
        yield c
