"""The users table, as functions over a caller's connection (so seeding can run inside its transaction),
and the demo's naming of township accounts, which the simulator's staff use as well."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row, dict_row


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    display_name: str
    password_hash: str
    role: str
    township_code: str | None
    disabled: bool = False  # set by an admin: no login, and an open session ends at its next request


def township_username(code: str) -> str:
    return f"zj{code}"


def get_user(conn: psycopg.Connection, username: str) -> UserRecord | None:
    with conn.cursor(row_factory=class_row(UserRecord)) as cur:
        return cur.execute("SELECT username, display_name, password_hash, role, township_code, disabled FROM users"
                           " WHERE username = %s", (username,)).fetchone()


def upsert_user(conn: psycopg.Connection, user: UserRecord, *, keep_password: bool = True) -> bool:
    """Insert a user; an existing one keeps its password (an admin may have changed it). True if new."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "INSERT INTO users (username, display_name, password_hash, role, township_code)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name,"
            " role = EXCLUDED.role, township_code = EXCLUDED.township_code"
            + ("" if keep_password else ", password_hash = EXCLUDED.password_hash")
            + " RETURNING (xmax = 0) AS inserted",
            (user.username, user.display_name, user.password_hash, user.role, user.township_code),
        ).fetchone()
    return bool(row and row["inserted"])


def active_townships(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(code, name) of every township in the active boundary version, by code."""
    return [(code, name) for code, name in conn.execute(
        "SELECT r.code, r.name FROM regions r JOIN boundary_versions b ON b.version = r.version"
        " WHERE b.active AND r.level = 'township' ORDER BY r.code")]
