"""``python -m cityops backup`` / ``restore``: the whole database as one pg_dump archive, and back.

Backup runs ``pg_dump --format=custom`` as the owner (who owns every table) while the system runs: the
dump is one consistent snapshot, so a transition either is in it with its log row or is not at all.
Restore goes into an empty database owned by the restoring owner: the grant roles are checked first (an
administrator creates them with ``python -m store roles``; a superuser restore creates them), TimescaleDB's
``timescaledb_pre_restore()`` / ``timescaledb_post_restore()`` bracket ``pg_restore`` when the archive
holds the extension, and every object comes back owned by the owner with its grants, so the runtime
roles connect as before, sequences go on from where they were and the log stays append-only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from cityops.settings import DB_ROLES, runtime_role

PG_BIN_ENV = "CITYOPS_PG_BIN"  # the folder of pg_dump / pg_restore when they are not on PATH


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Contents:
    """What a database holds, to compare a restore with its source."""

    migrations: tuple[str, ...]
    rows: dict[str, int]  # table → rows


COUNTED = ("incidents", "incident_log", "users", "boundary_versions", "regions", "devices", "warnings",
           "directives", "directive_log", "auth_events", "events", "dead_letters")


def pg_tool(name: str, bindir: Path | None = None) -> str:
    """pg_dump or pg_restore: from ``bindir``, CITYOPS_PG_BIN, PATH, then the newest Debian server's."""
    folders = [bindir] if bindir else []
    if os.environ.get(PG_BIN_ENV):
        folders.append(Path(os.environ[PG_BIN_ENV]))
    for folder in folders:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if debian:
        return str(debian[-1])
    raise BackupError(f"{name} not found: install postgresql-client or set {PG_BIN_ENV}")


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def contents(dsn: str) -> Contents:
    with psycopg.connect(dsn) as conn:
        migrations = tuple(r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version"))
        rows = {}
        for table in COUNTED:
            found = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            rows[table] = int(found[0]) if found else 0
    return Contents(migrations, rows)


def backup(dsn: str, out: Path, *, bindir: Path | None = None) -> Contents:
    """Dump the database of ``dsn`` (the owner's URL) into ``out``; returns what it held."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # a dump cut short never looks like a backup
    _run([pg_tool("pg_dump", bindir), "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={dsn}"],
         "pg_dump")
    partial.replace(out)
    return contents(dsn)


def _has_timescale(archive: Path, bindir: Path | None) -> bool:
    listing = subprocess.run([pg_tool("pg_restore", bindir), "--list", str(archive)], capture_output=True,
                             text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"{archive} is not a pg_dump archive: {listing.stderr.strip()}")
    return any(" EXTENSION " in line and "timescaledb" in line for line in listing.stdout.splitlines())


def _prepare_target(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1").fetchone():
        raise BackupError("the target database is not empty: restore into a new database")
    for role in (runtime_role(r) for r in DB_ROLES):
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            continue
        try:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            raise BackupError(f"role {role} is missing and this login may not create it: run the SQL of "
                              "`python -m store roles` as a superuser first") from None


def restore(archive: Path, dsn: str, *, bindir: Path | None = None,
            progress: Callable[[str], None] = lambda _: None) -> Contents:
    """Restore ``archive`` into the empty database of ``dsn`` (its owner's URL); returns what it holds."""
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    timescale = _has_timescale(archive, bindir)
    with psycopg.connect(dsn, autocommit=True) as conn:
        _prepare_target(conn)
        if timescale:
            progress("TimescaleDB: pre-restore")
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute("SELECT timescaledb_pre_restore()")
    try:
        progress(f"pg_restore {archive}")
        # All or nothing on PostgreSQL; TimescaleDB's catalog restores as its documentation does it, in order.
        strict = [] if timescale else ["--exit-on-error", "--single-transaction"]
        _run([pg_tool("pg_restore", bindir), "--no-owner", *strict, f"--dbname={dsn}", str(archive)], "pg_restore")
    finally:
        if timescale:
            with psycopg.connect(dsn, autocommit=True) as conn:
                progress("TimescaleDB: post-restore")
                conn.execute("SELECT timescaledb_post_restore()")
    return contents(dsn)
