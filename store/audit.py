"""The append-only record of logins, failures, lock-outs, logouts, expiries, refusals and account changes
(``auth_events``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.rows import class_row


class AuthEvent(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"  # refused without checking the password: the account or address is locked
    LOGOUT = "logout"
    EXPIRED = "expired"  # the session ended: idle too long, too old, or the account changed
    REFUSED = "refused"  # a page or action the role may not use
    UNLOCKED = "unlocked"  # an admin lifted a lock-out
    DISABLED = "disabled"  # a disabled account tried to log in
    PII_VIEWED = "pii_viewed"  # a reporter's name and phone shown unmasked (a page or an export); detail: the incident
    # Account changes: ``actor`` is the admin who made them (empty for users changing their own password).
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"  # role or township
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    ROOT_CAUSE_CHANGED = "root_cause_changed"  # the admin's list of root causes (七张问题清单): added, renamed, retired


@dataclass(frozen=True, slots=True)
class AuthEventRow:
    id: int
    at: datetime
    username: str
    address: str
    event: str
    actor: str
    detail: str


def record(conn: psycopg.Connection, at: datetime, event: AuthEvent, *, username: str = "", address: str = "",
           actor: str = "", detail: str = "") -> None:
    conn.execute("INSERT INTO auth_events (at, username, address, event, actor, detail)"
                 " VALUES (%s, %s, %s, %s, %s, %s)", (at, username, address, event.value, actor, detail[:500]))


def record_pii_view(conn: psycopg.Connection, at: datetime, *, username: str, address: str, incident_id: int) -> bool:
    """Record that ``username`` saw the reporter of ``incident_id`` unmasked; at most one row per user, incident and
    minute (a unique index), so a page that polls writes one a minute. True when this call wrote the row."""
    cur = conn.execute("INSERT INTO auth_events (at, username, address, event, detail) VALUES (%s, %s, %s, %s, %s)"
                       " ON CONFLICT DO NOTHING", (at, username, address, AuthEvent.PII_VIEWED.value,
                                                   f"incident:{incident_id}"))
    return cur.rowcount == 1


def account_failures(conn: psycopg.Connection, username: str, since: datetime) -> list[datetime]:
    """Failed logins of an account after ``since`` and after its last successful login or unlock."""
    rows = conn.execute(
        "SELECT at FROM auth_events WHERE username = %(u)s AND event = 'login_failed' AND at > %(since)s"
        " AND at > coalesce((SELECT max(at) FROM auth_events WHERE username = %(u)s"
        "                    AND event IN ('login', 'unlocked')), '-infinity') ORDER BY at",
        {"u": username, "since": since}).fetchall()
    return [r[0] for r in rows]


def address_failures(conn: psycopg.Connection, address: str, since: datetime) -> list[datetime]:
    """Failed logins from a client address after ``since`` and after an admin last unlocked it.

    A success does not reset it: one valid account must not let an address go on guessing others.
    """
    rows = conn.execute(
        "SELECT at FROM auth_events WHERE address = %(a)s AND event = 'login_failed' AND at > %(since)s"
        " AND at > coalesce((SELECT max(at) FROM auth_events WHERE address = %(a)s AND event = 'unlocked'),"
        " '-infinity') ORDER BY at", {"a": address, "since": since}).fetchall()
    return [r[0] for r in rows]


def _filter(username: str | None, event: AuthEvent | None) -> tuple[str, dict[str, str]]:
    """The WHERE clause (and its parameters) of the admin page's filters: one account's rows, one event's."""
    terms, params = [], {}
    if username is not None:
        terms.append("username = %(u)s")
        params["u"] = username
    if event is not None:
        terms.append("event = %(e)s")
        params["e"] = event.value
    return (" WHERE " + " AND ".join(terms)) if terms else "", params


def recent(conn: psycopg.Connection, limit: int = 200, offset: int = 0, *, username: str | None = None,
           event: AuthEvent | None = None) -> list[AuthEventRow]:
    """The newest events first (of one account, of one event when given), for the admin page."""
    where, params = _filter(username, event)
    with conn.cursor(row_factory=class_row(AuthEventRow)) as cur:
        return cur.execute("SELECT id, at, username, address, event, actor, detail FROM auth_events" + where
                           + " ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s",
                           params | {"limit": limit, "offset": offset}).fetchall()


def count(conn: psycopg.Connection, *, username: str | None = None, event: AuthEvent | None = None) -> int:
    """How many rows ``recent`` pages through with the same filters."""
    where, params = _filter(username, event)
    row = conn.execute("SELECT count(*) FROM auth_events" + where, params).fetchone()
    return int(row[0]) if row else 0


def lock_candidates(conn: psycopg.Connection, since: datetime, *, per_account: int,
                    per_address: int) -> tuple[list[str], list[str]]:
    """Accounts and addresses with at least that many failed logins after ``since``, unlocks not minded:
    the few that ``account_failures`` and ``address_failures`` may find locked."""
    def over(column: str, limit: int) -> list[str]:
        return [r[0] for r in conn.execute(
            f"SELECT {column} FROM auth_events WHERE event = 'login_failed' AND at > %s AND {column} <> ''"
            f" GROUP BY 1 HAVING count(*) >= %s ORDER BY 1", (since, limit))]

    return over("username", per_account), over("address", per_address)
