"""The users table, as functions over a caller's connection (so seeding can run inside its transaction),
and the demo's naming of township accounts (which the simulator's staff use as well), of district desks and of
grid members (网格员)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

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
    must_change_password: bool = False  # an admin set the password: its user changes it at the next login
    password_changed_at: datetime | None = None  # sessions opened before it end (store/migrations/0012)
    district_code: str | None = None  # a district desk's district (role district only; store/migrations/0015)
    grid_codes: list[str] | None = None  # a grid member's grids (role grid only; store/migrations/0021)


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the admin page lists it (never its password hash)."""

    username: str
    display_name: str
    role: str
    township_code: str | None
    disabled: bool
    must_change_password: bool
    district_code: str | None = None
    grid_codes: list[str] | None = None  # a grid member's grids


class UsernameTaken(ValueError):
    pass


def township_username(code: str) -> str:
    return f"zj{code}"


def district_username(code: str) -> str:
    """The demo account of a district's command center (区县指挥中心): ``qx`` + its 6-digit code."""
    return f"qx{code}"


def grid_username(code: str) -> str:
    """The demo account of a grid's member (网格员): ``wg`` + its 12-digit code."""
    return f"wg{code}"


_USER_COLUMNS = ", ".join(f.name for f in fields(UserRecord))


def get_user(conn: psycopg.Connection, username: str, *, lock: bool = False) -> UserRecord | None:
    """The account, or None; ``lock`` holds its row until the transaction ends (a change decided on it)."""
    with conn.cursor(row_factory=class_row(UserRecord)) as cur:
        return cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = %s"
                           + (" FOR UPDATE" if lock else ""), (username,)).fetchone()


def must_change_password(conn: psycopg.Connection, username: str) -> bool:
    row = conn.execute("SELECT must_change_password FROM users WHERE username = %s", (username,)).fetchone()
    return bool(row and row[0])


def mark_seen(conn: psycopg.Connection, username: str, at: datetime) -> None:
    conn.execute("UPDATE users SET last_seen_at = %s WHERE username = %s", (at, username))


_ACCOUNT_COLUMNS = ", ".join(f.name for f in fields(Account))


def accounts(conn: psycopg.Connection) -> list[Account]:
    """Every account, by role, then name."""
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM users ORDER BY role, username").fetchall()


def account(conn: psycopg.Connection, username: str) -> Account | None:
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE username = %s", (username,)).fetchone()


def enabled_admins(conn: psycopg.Connection) -> int:
    """How many enabled admin accounts there are, their rows held until the transaction ends: two admins
    demoting each other at once cannot both see the other one as the admin who stays."""
    return len(conn.execute("SELECT username FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE")
               .fetchall())


def create_user(conn: psycopg.Connection, user: UserRecord) -> None:
    """Insert a new account; ``UsernameTaken`` if the name exists (an existing user is never overwritten)."""
    row = conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, township_code, must_change_password,"
        " district_code, grid_codes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO NOTHING"
        " RETURNING username",
        (user.username, user.display_name, user.password_hash, user.role, user.township_code,
         user.must_change_password, user.district_code, user.grid_codes)).fetchone()
    if row is None:
        raise UsernameTaken(user.username)


def set_state(conn: psycopg.Connection, username: str, role: str, township_code: str | None, disabled: bool,
              district_code: str | None = None, grid_codes: list[str] | None = None) -> None:
    """What an admin changes of an account; an open session of it ends at its next request (dashboard.auth).
    An account that stops being a district desk's loses its district; a district desk's gets ``district_code``
    (when given; else it keeps its own). An account that stops being a grid member's loses its grids; a grid
    member's gets ``grid_codes`` (when given; else it keeps its own)."""
    conn.execute("UPDATE users SET role = %(role)s, township_code = %(t)s, disabled = %(d)s,"
                 " district_code = CASE WHEN %(role)s = 'district' THEN coalesce(%(dc)s, district_code) END,"
                 " grid_codes = CASE WHEN %(role)s = 'grid' THEN coalesce(%(g)s, grid_codes) END"
                 " WHERE username = %(u)s",
                 {"role": role, "t": township_code, "d": disabled, "dc": district_code, "g": grid_codes,
                  "u": username})


def set_password(conn: psycopg.Connection, username: str, password_hash: str, *, must_change: bool,
                 at: datetime) -> None:
    """A new password; ``must_change`` when someone other than its user chose it (an admin's reset). Every
    session opened before ``at`` ends at its next request (``dashboard.auth``)."""
    conn.execute("UPDATE users SET password_hash = %s, must_change_password = %s, password_changed_at = %s"
                 " WHERE username = %s", (password_hash, must_change, at, username))


def upsert_user(conn: psycopg.Connection, user: UserRecord, *, keep_password: bool = True) -> bool:
    """Insert a user; an existing one keeps its password (an admin may have changed it). True if new."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "INSERT INTO users (username, display_name, password_hash, role, township_code, district_code, grid_codes)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE SET"
            " display_name = EXCLUDED.display_name, role = EXCLUDED.role, township_code = EXCLUDED.township_code,"
            " district_code = EXCLUDED.district_code, grid_codes = EXCLUDED.grid_codes"
            + ("" if keep_password else ", password_hash = EXCLUDED.password_hash")
            + " RETURNING (xmax = 0) AS inserted",
            (user.username, user.display_name, user.password_hash, user.role, user.township_code, user.district_code,
             user.grid_codes),
        ).fetchone()
    return bool(row and row["inserted"])


def active_townships(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(code, name) of every township in the active boundary version, by code."""
    return _active(conn, "township")


def active_districts(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(code, name) of every district in the active boundary version, by code."""
    return _active(conn, "district")


def active_grids(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(code, name) of every grid in the active boundary version, by code."""
    return _active(conn, "grid")


def _active(conn: psycopg.Connection, level: str) -> list[tuple[str, str]]:
    return [(code, name) for code, name in conn.execute(
        "SELECT r.code, r.name FROM regions r JOIN boundary_versions b ON b.version = r.version"
        " WHERE b.active AND r.level = %s ORDER BY r.code", (level,))]
