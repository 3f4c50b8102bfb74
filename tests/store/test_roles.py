"""Least privilege, tried from outside: connect as each runtime role (ingest, alerts, dashboard) with its
own password, as the processes do, and try to rewrite the logs, take over the schema or touch what
another process owns. Every attempt must be refused by PostgreSQL itself."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from cityops.settings import DB_ROLES, runtime_role
from tests.fix_db import AsRole

LOGS = ("incident_log", "directive_log", "auth_events")
REWRITES = ("UPDATE {t} SET at = at", "DELETE FROM {t}", "TRUNCATE {t}", "ALTER TABLE {t} DISABLE TRIGGER ALL",
            "DROP TABLE {t}", "ALTER TABLE {t} OWNER TO {role}", "CREATE TABLE {t}_copy AS SELECT * FROM {t}")
# What each role must not do at all, beyond the logs.
FORBIDDEN = {
    "ingest": ("UPDATE incidents SET level = 1", "SELECT password_hash FROM users", "INSERT INTO users (username,"
               " display_name, password_hash, role) VALUES ('x', 'x', 'x', 'admin')", "DELETE FROM telemetry"),
    "alerts": ("SELECT password_hash FROM users", "DELETE FROM telemetry", "INSERT INTO telemetry (device_id, metric,"
               " ts, value) VALUES ('d', 'm', now(), 1)", "DELETE FROM incidents"),
    "dashboard": ("INSERT INTO telemetry (device_id, metric, ts, value) VALUES ('d', 'm', now(), 1)",
                  "DELETE FROM incidents", "DELETE FROM users", "UPDATE devices SET name = 'x'",
                  "DELETE FROM alert_inbox"),
}


def _refused(dsn: str, statement: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    return str(refused.value)


@pytest.mark.parametrize("role", DB_ROLES)
@pytest.mark.parametrize("table", LOGS)
def test_no_runtime_role_can_rewrite_a_log(pg_dsn: str, as_role: AsRole, role: str, table: str) -> None:
    dsn = as_role(pg_dsn, role)
    for statement in REWRITES:
        _refused(dsn, statement.format(t=table, role=runtime_role(role)))


@pytest.mark.parametrize("role", DB_ROLES)
def test_each_role_is_refused_what_is_not_its_job(pg_dsn: str, as_role: AsRole, role: str) -> None:
    for statement in FORBIDDEN[role]:
        _refused(as_role(pg_dsn, role), statement)


def test_runtime_roles_own_nothing_and_hold_no_power(pg_dsn: str) -> None:
    roles = [runtime_role(r) for r in DB_ROLES]
    with psycopg.connect(pg_dsn) as conn:
        owned = conn.execute(
            "SELECT relname, pg_get_userbyid(relowner) FROM pg_class WHERE pg_get_userbyid(relowner) = ANY(%s)",
            (roles,)).fetchall()
        powers = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) AND (rolsuper OR rolcreaterole"
                              " OR rolcreatedb OR rolbypassrls OR rolreplication)", (roles,)).fetchall()
        may_create = conn.execute("SELECT r FROM unnest(%s::text[]) r"
                                  " WHERE has_schema_privilege(r, 'public', 'CREATE')", (roles,)).fetchall()
    assert (owned, powers, may_create) == ([], [], [])


def test_the_owner_keeps_the_trigger(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO auth_events (at, event, username) VALUES (now(), 'login', 'owner-check')")
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE auth_events SET username = 'x' WHERE username = 'owner-check'")


# Tables the dashboard must not read: the broker's password hashes (ingest syncs them to the broker).
WITHHELD_FROM_DASHBOARD = {"broker_accounts"}


def test_every_table_is_granted_to_the_dashboard(pg_dsn: str) -> None:
    """A migration that adds a table must grant it (the dashboard reads everything it shows), unless it is
    one of the few the dashboard must not read, which another runtime role then reads."""
    with psycopg.connect(pg_dsn) as conn:
        ungranted = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')"
            " AND NOT has_table_privilege('cityops_dashboard', c.oid, 'SELECT') ORDER BY 1").fetchall()
        withheld_read_by = {t: [r for r in DB_ROLES if conn.execute(
            "SELECT has_table_privilege(%s, %s, 'SELECT')", (runtime_role(r), t)).fetchone() == (True,)]
            for t in WITHHELD_FROM_DASHBOARD}
    assert {r[0] for r in ungranted} == WITHHELD_FROM_DASHBOARD
    assert withheld_read_by == {"broker_accounts": ["ingest"]}


def test_a_role_with_a_wrong_password_is_refused(pg_dsn: str, as_role: AsRole) -> None:
    dsn = make_conninfo(as_role(pg_dsn, "dashboard"), password="not-its-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn).close()
