"""The SQL of ``python -m store roles`` run as a database administrator would (psql, as a superuser), then the
migrations as the owner it creates, then each login it creates connecting with only its role's grants."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cityops.localserver import LocalPostgres
from cityops.settings import DB_ROLES, PROJECT_ROOT
from store.migrate import migrate
from store.roles import production_sql


def psql(server: LocalPostgres) -> str:
    found = shutil.which("psql") or str(server.bindir / "psql")
    assert Path(found).exists(), "psql missing: apt-get install postgresql-client"
    return found


def as_superuser(server: LocalPostgres, sql: str, passwords: dict[str, str]) -> None:
    """``sql`` through psql, stopping at the first error, with the passwords as psql variables."""
    admin = conninfo_to_dict(server.dsn)
    variables = [a for k, v in passwords.items() for a in ("-v", f"{k}_password={v}")]
    proc = subprocess.run(
        [psql(server), "-X", "-v", "ON_ERROR_STOP=1", *variables, "-h", str(admin["host"]), "-p", str(admin["port"]),
         "-U", str(admin["user"]), "-d", "postgres"],
        input=sql, capture_output=True, text=True, env=dict(os.environ, PGPASSWORD=str(admin["password"])), timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_the_printed_sql_makes_a_database_the_runtime_roles_use_with_least_privilege(pg_server: LocalPostgres) -> None:
    tag = uuid.uuid4().hex[:6]
    database, owner, suffix = f"prod_{tag}", f"owner_{tag}", f"_{tag}"
    passwords = {"owner": f"pw-owner-{tag}", **{r: f"pw-{r}-{tag}" for r in DB_ROLES}}
    printed = subprocess.run([sys.executable, "-m", "store", "roles"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert printed == production_sql()  # what an administrator reads is what is tested here, renamed
    sql = production_sql(database=database, owner=owner, login_suffix=suffix)
    as_superuser(pg_server, sql, passwords)

    def url(user: str, password: str) -> str:
        return make_conninfo(pg_server.dsn, user=user, password=password, dbname=database)

    migrate(url(owner, passwords["owner"]))  # the owner, not a superuser, applies every migration
    with psycopg.connect(url(owner, passwords["owner"])) as conn:
        row = conn.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
        assert row == (False, False)
    logins = {r: url(f"cityops_{r}{suffix}", passwords[r]) for r in DB_ROLES}
    with psycopg.connect(logins["ingest"], autocommit=True) as conn:
        conn.execute("INSERT INTO dead_letters (topic, payload, reason) VALUES ('t', 'x', 'not_json')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM incidents")
    with psycopg.connect(logins["dashboard"], autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM dead_letters").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (now(), 'd', 'm', 1)")
    with psycopg.connect(logins["alerts"], autocommit=True) as conn:
        for attack in ("UPDATE incident_log SET note = ''", "DELETE FROM incident_log", "TRUNCATE incident_log",
                       "ALTER TABLE incident_log DISABLE TRIGGER ALL", "DROP TABLE incident_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(attack)
    # Run again (a second database on the same server): the grant roles exist already, nothing fails.
    again = production_sql(database=f"{database}b", owner=f"{owner}b", login_suffix=f"{suffix}b")
    as_superuser(pg_server, again, passwords)
