"""The broker_accounts registry: issuing, retiring and reading the accounts the broker's files come from.

Issuing gives an account a new random password, returned once: only its hash is stored. Issuing
an existing account again replaces its password and grants (a rotation) and makes it live again;
an account of another kind under the same name is refused, so a device can never be registered
over a township app's or a service's account.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import kwargs_row

from ingest.broker_acl import AccountKind, BrokerAccount, hash_password, new_password


class BrokerAccountError(ValueError):
    """An account cannot be issued or retired as asked; the message names it."""


def issue(conn: psycopg.Connection, accounts: Sequence[BrokerAccount]) -> dict[str, str]:
    """Issue (or reissue) ``accounts`` in one transaction; user name → the new password."""
    names = [a.username for a in accounts]
    if len(set(names)) != len(names):
        raise BrokerAccountError(f"accounts named twice: {sorted({n for n in names if names.count(n) > 1})}")
    passwords = {a.username: new_password() for a in accounts}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE issued_accounts (LIKE broker_accounts INCLUDING DEFAULTS) ON COMMIT DROP")
        with cur.copy("COPY issued_accounts (username, kind, publish, subscribe, password_hash) FROM STDIN") as copy:
            for a in accounts:
                copy.write_row((a.username, a.kind.value, list(a.publish), list(a.subscribe),
                                hash_password(passwords[a.username])))
        clashes = cur.execute(
            "SELECT i.username, b.kind AS held, i.kind AS asked FROM issued_accounts i"
            " JOIN broker_accounts b USING (username) WHERE b.kind <> i.kind ORDER BY 1 LIMIT 5").fetchall()
        if clashes:
            raise BrokerAccountError("user names already held by accounts of another kind: "
                                     + ", ".join(f"{u} ({held}, asked {asked})" for u, held, asked in clashes))
        cur.execute(
            "INSERT INTO broker_accounts (username, kind, publish, subscribe, password_hash)"
            " SELECT username, kind, publish, subscribe, password_hash FROM issued_accounts"
            " ON CONFLICT (username) DO UPDATE SET publish = EXCLUDED.publish, subscribe = EXCLUDED.subscribe,"
            " password_hash = EXCLUDED.password_hash, issued_at = now(), retired_at = NULL")
    return passwords


def retire(conn: psycopg.Connection, usernames: Sequence[str]) -> list[str]:
    """Retire live accounts (kept for the record, left out of the broker's files); the names retired."""
    with conn.transaction():
        rows = conn.execute("UPDATE broker_accounts SET retired_at = now() WHERE username = ANY(%s)"
                            " AND retired_at IS NULL RETURNING username", (list(usernames),)).fetchall()
    return sorted(username for (username,) in rows)


def _live_row(*, username: str, kind: str, publish: list[str], subscribe: list[str],
              password_hash: str) -> tuple[BrokerAccount, str]:
    return BrokerAccount(username, AccountKind(kind), tuple(publish), tuple(subscribe)), password_hash


def live(conn: psycopg.Connection) -> list[tuple[BrokerAccount, str]]:
    """Every account not retired, with its password hash, by user name."""
    with conn.cursor(row_factory=kwargs_row(_live_row)) as cur:
        return cur.execute("SELECT username, kind, publish, subscribe, password_hash FROM broker_accounts"
                           " WHERE retired_at IS NULL ORDER BY username").fetchall()
