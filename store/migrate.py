"""Versioned migrations: ``NNNN_name.sql`` for everyone, ``NNNN_name.<flavour>.sql`` per flavour.

A version may have both: the shared part runs first, then the flavour's part, in one
transaction. The flavour is ``timescale`` when the server offers the timescaledb
extension (and ``CITYOPS_TIMESCALE`` is not ``off``), else ``plain``. Both flavours create
the same relation names, so no query elsewhere needs to know which one it runs on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

log = logging.getLogger("cityops.store.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<flavour>timescale|plain))?\.sql")
_LOCK_KEY = 7_244_001  # advisory lock: two processes starting at once migrate one after the other


class MigrationError(RuntimeError):
    """The schema cannot be brought up to date; the message names the migration."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    paths: tuple[Path, ...]  # the shared part first, then the flavour's part


def plan(flavour: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The ordered migrations for a flavour; refuses a folder with clashing files."""
    parts: dict[str, dict[str | None, Path]] = {}
    names: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.fullmatch(path.name)
        if not m:
            raise MigrationError(f"migration file name not understood: {path.name}")
        if names.setdefault(m["version"], m["name"]) != m["name"]:
            raise MigrationError(f"two migrations numbered {m['version']}: {names[m['version']]} and {m['name']}")
        parts.setdefault(m["version"], {})[m["flavour"]] = path
    chosen = []
    for version in sorted(parts):
        paths = tuple(p for key in (None, flavour) if (p := parts[version].get(key)) is not None)
        if paths:
            chosen.append(Migration(version, names[version], paths))
    return chosen


def detect_flavour(conn: psycopg.Connection, timescale: str) -> str:
    if timescale == "off":
        return "plain"
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone() is not None
    if timescale == "require" and not available:
        raise MigrationError("CITYOPS_TIMESCALE=require but the server has no timescaledb extension")
    return "timescale" if available else "plain"


def current_flavour(conn: psycopg.Connection) -> str | None:
    if not _has_table(conn):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT flavour FROM schema_migrations ORDER BY version LIMIT 1").fetchone()
    return str(row["flavour"]) if row else None


def _has_table(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL").fetchone() is not None


def migrate(dsn: str, timescale: str = "auto") -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, flavour text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            flavour = current_flavour(conn) or detect_flavour(conn, timescale)
            with conn.cursor(row_factory=dict_row) as cur:
                done = {r["version"] for r in cur.execute("SELECT version FROM schema_migrations")}
            for mig in plan(flavour):
                if mig.version in done:
                    continue
                log.info("applying migration %s_%s (%s)", mig.version, mig.name, flavour)
                try:
                    with conn.transaction():
                        for path in mig.paths:
                            conn.execute(path.read_text())
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, flavour) VALUES (%s, %s, %s)",
                            (mig.version, mig.name, flavour),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {mig.version}_{mig.name} ({flavour}) failed: {exc}") from exc
                applied.append(mig.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied
