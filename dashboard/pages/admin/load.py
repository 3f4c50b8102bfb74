"""What the 系统管理 page reads, as typed models: the accounts, the lock-outs in force, a page of the login
log, the alert rules (config as code, ``alerts/rules.toml``, validated whole), the boundary layer versions
and the devices by type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import psycopg
from psycopg.rows import class_row

from alerts.rules import Rule, RuleError, load_rules
from dashboard.components import page_in
from dashboard.data import Data
from dashboard.lockout import LockoutPolicy, locked_until
from store import audit, users
from store.audit import AuthEvent, AuthEventRow

from .policy import LockKind
from .processes import SHOWN_FOR, ProcessRow

AUDIT_PAGE = 20  # rows of the login log per page


@dataclass(frozen=True, slots=True)
class Accounts:
    rows: list[users.Account]  # by role, then name
    names: dict[str, str]  # region code → name


@dataclass(frozen=True, slots=True)
class Lock:
    """An account or a client address that failed logins lock out (``dashboard.lockout``)."""

    kind: LockKind
    key: str  # the user name or the address
    failures: int  # counted since the window began and after the last unlock
    until: datetime

    @property
    def value(self) -> str:
        """How the unlock form names it."""
        return f"{self.kind.value}:{self.key}"


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: list[AuthEventRow]  # newest first
    total: int  # rows that match the filters
    page: int  # 1 … the last page


@dataclass(frozen=True, slots=True)
class Rules:
    rules: tuple[Rule, ...]  # every rule, validated
    error: str | None  # why the file was refused whole (then no rules)


@dataclass(frozen=True, slots=True)
class Page:
    townships: list[tuple[str, str]]  # (code, name): the units a township or department account may belong to
    districts: list[tuple[str, str]]  # (code, name): the districts of the active layer, for a district desk's account
    accounts: Accounts
    locks: list[Lock]
    audit: AuditPage
    rules: Rules
    layers: pd.DataFrame  # boundary versions with their counts of districts, townships and grids
    devices: pd.DataFrame  # devices and those online, per type and department
    processes: list[ProcessRow]  # every process's last heartbeat
    now: datetime  # when it was read: how old each heartbeat is


def accounts(data: Data) -> Accounts:
    with data.pool.connection() as conn:
        rows = users.accounts(conn)
    return Accounts(rows, data.unit_names())


def grid_codes(data: Data) -> set[str]:
    """The grids of the active layer: the only ones a grid member's account may name."""
    with data.pool.connection() as conn:
        return {code for code, _ in users.active_grids(conn)}


def account(data: Data, username: str) -> users.Account | None:
    with data.pool.connection() as conn:
        return users.account(conn, username)


def lock_of(conn: psycopg.Connection, kind: LockKind, key: str, limits: LockoutPolicy, now: datetime) -> Lock | None:
    """The lock-out of one account or address in force at ``now``, as the login form applies it, or None."""
    since = now - limits.window
    if kind is LockKind.ACCOUNT:
        failures, limit = audit.account_failures(conn, key, since), limits.per_account
    else:
        failures, limit = audit.address_failures(conn, key, since), limits.per_address
    until = locked_until(failures, limit, limits.window, now)
    return None if until is None else Lock(kind, key, len(failures), until)


def locks(data: Data, limits: LockoutPolicy, now: datetime) -> list[Lock]:
    """Every lock-out in force: accounts first, then addresses, each by name."""
    with data.pool.connection() as conn:
        named, addresses = audit.lock_candidates(conn, now - limits.window, per_account=limits.per_account,
                                                 per_address=limits.per_address)
        found = [lock_of(conn, kind, key, limits, now) for kind, keys in ((LockKind.ACCOUNT, named),
                                                                         (LockKind.ADDRESS, addresses))
                 for key in keys]
    return [lock for lock in found if lock is not None]


def audit_page(data: Data, page: int, username: str | None, event: AuthEvent | None) -> AuditPage:
    with data.pool.connection() as conn:
        total = audit.count(conn, username=username, event=event)
        page = page_in(page, total, AUDIT_PAGE)
        rows = audit.recent(conn, AUDIT_PAGE, (page - 1) * AUDIT_PAGE, username=username, event=event)
    return AuditPage(rows, total, page)


def rules() -> Rules:
    try:
        return Rules(load_rules(), None)
    except RuleError as exc:
        return Rules((), str(exc))


def page(data: Data, limits: LockoutPolicy, now: datetime) -> Page:
    return Page(data.units(), data.districts(), accounts(data), locks(data, limits, now),
                audit_page(data, 1, None, None), rules(), data.boundary_versions(), data.devices_by_type(now),
                processes(data, now), now)


def processes(data: Data, now: datetime) -> list[ProcessRow]:
    with data.pool.connection() as conn, conn.cursor(row_factory=class_row(ProcessRow)) as cur:
        return cur.execute("SELECT component, process, host, pid, started_at, beat_at, ready, detail"
                           " FROM process_heartbeats WHERE beat_at > %s", (now - SHOWN_FOR,)).fetchall()
