"""The rules of accounts, pure: what a password must be, who may change which account into what, and the
admin page's filter of the login log as typed. Each refusal is ``InvalidInput`` naming its i18n message.

The account page (``dashboard.pages.account``) applies the same password rules to a user's own change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alerts.lifecycle import Role
from dashboard.actions import InvalidInput
from dashboard.auth import DEMO_USERS, DISTRICT_PASSWORD, TOWNSHIP_PASSWORD
from dashboard.users import MAX_PASSWORD, MIN_PASSWORD
from store.audit import AuthEvent
from store.departments import DEMO_PASSWORD as DEPARTMENT_PASSWORD

# Printed in the README and on the demo's login page: an account on one of them is anyone's.
DEMO_PASSWORDS = frozenset({password for _, password, _, _ in DEMO_USERS} | {TOWNSHIP_PASSWORD, DEPARTMENT_PASSWORD,
                                                                              DISTRICT_PASSWORD})
MAX_FILTER = 200  # characters of a user name filter: failed logins may name any string, but not megabytes


def check_password(username: str, password: object, again: object) -> str:
    """``password`` when it may be ``username``'s; otherwise the first rule it breaks, top to bottom."""
    secret = password if isinstance(password, str) else ""
    if len(secret) < MIN_PASSWORD:
        raise InvalidInput("err.password_short")
    if len(secret) > MAX_PASSWORD:
        raise InvalidInput("err.password_long")
    if username.casefold() in secret.casefold():
        raise InvalidInput("err.password_username")
    if secret in DEMO_PASSWORDS:
        raise InvalidInput("err.password_demo")
    if secret != again:
        raise InvalidInput("err.password_mismatch")
    return secret


def check_own_password(username: str, current: str, new: object, again: object) -> str:
    """A user's new password, given the current one (already checked against the stored hash)."""
    secret = check_password(username, new, again)
    if secret == current:
        raise InvalidInput("err.password_same")  # a forced change must really change it
    return secret


def check_reset(actor: str, username: str) -> None:
    """An admin resets others' passwords; their own they change knowing it, on the account page."""
    if actor == username:
        raise InvalidInput("err.self_reset")


@dataclass(frozen=True, slots=True)
class State:
    """What an admin changes of an account."""

    role: Role
    township_code: str | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class Change:
    """An allowed change, as the login log records it."""

    event: AuthEvent
    detail: str  # what it was and what it becomes


def _described(state: State) -> str:
    parts = [state.role.value, *([state.township_code] if state.township_code else []),
             *(["disabled"] if state.disabled else [])]
    return " ".join(parts)


def decide(actor: str, username: str, now: State, wanted: State, admins: int) -> Change | None:
    """Whether ``actor`` may turn ``username``'s account from ``now`` into ``wanted``: the change, None when
    there is nothing to change, or ``InvalidInput``. ``admins`` counts the enabled admin accounts.

    Nobody takes administration from their own account (another admin must), and the last enabled
    admin stays one: without it nobody could manage accounts at all.
    """
    if wanted == now:
        return None
    loses_admin = now.role is Role.ADMIN and not now.disabled and (wanted.role is not Role.ADMIN or wanted.disabled)
    if loses_admin and username == actor:
        raise InvalidInput("err.self_disable" if wanted.disabled else "err.self_demote")
    if loses_admin and admins <= 1:
        raise InvalidInput("err.last_admin")
    if wanted.disabled != now.disabled:
        event = AuthEvent.ACCOUNT_DISABLED if wanted.disabled else AuthEvent.ACCOUNT_ENABLED
    else:
        event = AuthEvent.ACCOUNT_CHANGED
    return Change(event, f"{_described(now)} → {_described(wanted)}")


def audit_filter(username: object, event: object) -> tuple[str | None, AuthEvent | None]:
    """The login log's filters as typed: a user name (exact; blank for all) and an event (None for all)."""
    name = username.strip()[:MAX_FILTER] if isinstance(username, str) else ""
    chosen = next((e for e in AuthEvent if e.value == event), None)
    if chosen is None and event not in (None, ""):
        raise InvalidInput("err.event")
    return name or None, chosen


class LockKind(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


def lock_target(value: object) -> tuple[LockKind, str]:
    """What the unlock form chose, ``account:<user name>`` or ``address:<client address>``."""
    kind, _, key = value.partition(":") if isinstance(value, str) else ("", "", "")
    chosen = next((k for k in LockKind if k.value == kind), None)
    if chosen is None or not key:
        raise InvalidInput("err.choose_lock")
    return chosen, key
