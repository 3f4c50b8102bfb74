"""The append-only record of logins, failures, lock-outs, logouts, expiries and refusals (``auth_events``)."""

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


def recent(conn: psycopg.Connection, limit: int = 200, offset: int = 0) -> list[AuthEventRow]:
    """The newest events first, for the admin page."""
    with conn.cursor(row_factory=class_row(AuthEventRow)) as cur:
        return cur.execute("SELECT id, at, username, address, event, actor, detail FROM auth_events"
                           " ORDER BY id DESC LIMIT %s OFFSET %s", (limit, offset)).fetchall()
