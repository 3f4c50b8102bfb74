"""The account changes of the admin page and of the account page, each written in one transaction with
its ``auth_events`` row: no change goes unrecorded, and no row claims a change that was rolled back.

``policy`` decides; here the accounts are read (their rows locked while the decision stands) and written.
Every function raises ``InvalidInput`` for a refusal, having changed nothing. Passwords are hashed before
a transaction begins (scrypt is slow on purpose, and no row should stay locked meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import flask
import psycopg
from werkzeug.security import check_password_hash, generate_password_hash

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.actions import InvalidInput
from dashboard.lockout import LockoutPolicy
from dashboard.users import GRID_JOIN, NewUser
from i18n.timefmt import utcnow
from store import audit, users
from store.audit import AuthEvent

from . import load, policy


@dataclass(frozen=True, slots=True)
class By:
    """Who asks for a change, from which client address, and when."""

    actor: str
    address: str
    at: datetime


class Locked(Exception):
    """Too many wrong passwords: refused until ``until`` (the login's lock-out, which this shares)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


ADMIN_ROLES = (Role.ADMIN,)


def admin() -> By:
    """Who acts, when the session's user is an admin; ``InvalidInput`` (the denial) for anyone else."""
    try:
        user = auth.require(*ADMIN_ROLES)
    except auth.Denied as exc:
        raise InvalidInput(exc.key) from None
    return By(user.username, auth.client_address(), utcnow())


def lockout() -> LockoutPolicy:
    """The running app's lock-out limits (``dashboard.auth.SessionPolicy``)."""
    found: LockoutPolicy = flask.current_app.config["CITYOPS_SESSIONS"].lockout
    return found


def create(conn: psycopg.Connection, new: NewUser, by: By) -> None:
    """A new account; its user changes the password the admin chose at the first login."""
    # ``dashboard.users.validate`` checked the form (length, the repeat); these are the rules it does not know
    password = policy.check_password(new.username, new.password, new.password)
    record = users.UserRecord(new.username, new.display_name, generate_password_hash(password), new.role.value,
                              new.township_code, must_change_password=True, district_code=new.district_code,
                              grid_codes=list(new.grid_codes) or None)
    with conn.transaction():
        users.create_user(conn, record)
        audit.record(conn, by.at, AuthEvent.ACCOUNT_CREATED, username=new.username, address=by.address,
                     actor=by.actor,
                     detail=" ".join(filter(None, (new.role.value, new.township_code, new.district_code,
                                                   GRID_JOIN.join(new.grid_codes)))))


def _scope(role: Role, township_code: str | None, district_code: str | None,
           grid_codes: list[str] | None = None) -> str | None:
    """What an account is scoped to, as ``policy.State`` holds it: a district desk's district, a grid member's
    grids (joined, as ``users.assignment`` gives them), else its unit."""
    if role is Role.GRID:
        return GRID_JOIN.join(sorted(grid_codes or ())) or None
    return district_code if role is Role.DISTRICT else township_code


def _change_state(conn: psycopg.Connection, by: By, username: str,
                  wanted: Callable[[policy.State], policy.State]) -> bool:
    """Turn the account's state into ``wanted(now)`` if ``policy.decide`` allows; False when nothing changed."""
    with conn.transaction():
        admins = users.enabled_admins(conn)  # the admins' rows first, always: two admins' changes never deadlock
        record = users.get_user(conn, username, lock=True)
        if record is None:
            raise InvalidInput("err.account_gone")
        now = policy.State(Role(record.role), _scope(Role(record.role), record.township_code, record.district_code,
                                                     record.grid_codes), record.disabled)
        new = wanted(now)
        change = policy.decide(by.actor, username, now, new, admins)
        if change is None:
            return False
        district, grid = new.role is Role.DISTRICT, new.role is Role.GRID
        users.set_state(conn, username, new.role.value, None if district or grid else new.township_code,
                        new.disabled, new.township_code if district else None,
                        new.township_code.split(GRID_JOIN) if grid and new.township_code else None)
        audit.record(conn, by.at, change.event, username=username, address=by.address, actor=by.actor,
                     detail=change.detail)
    return True


def assign(conn: psycopg.Connection, by: By, username: str, role: Role, scope: str | None) -> bool:
    """Give the account ``role`` and what it is scoped to (``users.assignment``: a unit, a district desk's district,
    a grid member's grids)."""
    return _change_state(conn, by, username, lambda now: replace(now, role=role, township_code=scope))


def set_disabled(conn: psycopg.Connection, by: By, username: str, disabled: bool) -> bool:
    return _change_state(conn, by, username, lambda now: replace(now, disabled=disabled))


def reset_password(conn: psycopg.Connection, by: By, username: str, password: object, again: object) -> None:
    """A password the admin chose, to be changed by its user at the next login."""
    policy.check_reset(by.actor, username)
    password_hash = generate_password_hash(policy.check_password(username, password, again))
    with conn.transaction():
        if users.get_user(conn, username, lock=True) is None:
            raise InvalidInput("err.account_gone")
        users.set_password(conn, username, password_hash, must_change=True, at=by.at)
        audit.record(conn, by.at, AuthEvent.PASSWORD_RESET, username=username, address=by.address, actor=by.actor)


def unlock(conn: psycopg.Connection, by: By, lock: load.Lock) -> None:
    """Lift a lock-out: the counts of failures start again after this row (``store.audit``).

    An account's row names no address, and an address's no account: otherwise it would also lift
    the lock of the admin's own address, or of the account of that name.
    """
    account = lock.kind is policy.LockKind.ACCOUNT
    audit.record(conn, by.at, AuthEvent.UNLOCKED, username=lock.key if account else "",
                 address="" if account else lock.key, actor=by.actor, detail=f"{lock.kind.value}; from {by.address}")


def change_own_password(conn: psycopg.Connection, username: str, current: object, new: object, again: object,
                        *, address: str, at: datetime) -> None:
    """A user changes their own password, proving they know it: a wrong one counts as a failed login, so the
    lock-out stops guessing from an unattended session as it stops guessing at the login form."""
    known = current if isinstance(current, str) else ""
    with conn.transaction():  # committed before any refusal is raised: the failure stays recorded
        lock = load.lock_of(conn, policy.LockKind.ACCOUNT, username, lockout(), at)
        record = users.get_user(conn, username)
        wrong = lock is None and (record is None or not check_password_hash(record.password_hash, known))
        if wrong:
            audit.record(conn, at, AuthEvent.LOGIN_FAILED, username=username, address=address,
                         detail="password change")
    if lock is not None:
        raise Locked(lock.until)
    if wrong:
        raise InvalidInput("err.current_wrong")
    password_hash = generate_password_hash(policy.check_own_password(username, known, new, again))
    with conn.transaction():
        users.set_password(conn, username, password_hash, must_change=False, at=at)
        audit.record(conn, at, AuthEvent.PASSWORD_CHANGED, username=username, address=address)
