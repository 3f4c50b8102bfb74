"""The admin's new-user form, checked on the server: each problem named in the user's language."""

from __future__ import annotations

import re
from dataclasses import dataclass

from alerts.lifecycle import Role
from dashboard.actions import InvalidInput

USERNAME = re.compile(r"^[a-z][a-z0-9_]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
ASSIGNABLE = (Role.COMMAND, Role.TOWNSHIP, Role.LEADER, Role.ADMIN)  # never SYSTEM: that is the engine


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    display_name: str
    password: str
    role: Role
    township_code: str | None


def _text(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def validate(*, username: object, display_name: object, password: object, password2: object, role: object,
             township: object, townships: set[str]) -> NewUser:
    """The form's values as a ``NewUser``; raises ``InvalidInput`` with the first problem, top to bottom."""
    name = _text(username)
    if not USERNAME.match(name):
        raise InvalidInput("err.username")
    display = _text(display_name)
    if not display or len(display) > 50:
        raise InvalidInput("err.display_name")
    secret = password if isinstance(password, str) else ""
    if len(secret) < MIN_PASSWORD:
        raise InvalidInput("err.password_short")
    if len(secret) > MAX_PASSWORD:
        raise InvalidInput("err.password_long")
    if secret != password2:
        raise InvalidInput("err.password_mismatch")
    try:
        chosen = Role(role)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidInput("err.role") from None
    if chosen not in ASSIGNABLE:
        raise InvalidInput("err.role")
    code: str | None = None
    if chosen is Role.TOWNSHIP:
        code = _text(township)
        if not code:
            raise InvalidInput("err.township_required")
        if code not in townships:
            raise InvalidInput("err.township_unknown")
    return NewUser(name, display, secret, chosen, code)
