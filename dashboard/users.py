"""The admin's account forms, checked on the server: each problem named in the user's language. ``assignment``
(a role and what it is scoped to: a township's or a department's unit, a district desk's district, a grid
member's grids) is the one rule of both the new-user form and the form managing an account."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from alerts.lifecycle import UNIT_ROLES, Role
from dashboard.actions import InvalidInput
from store.departments import is_department_unit

USERNAME = re.compile(r"[a-z][a-z0-9_]{2,31}")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
ASSIGNABLE = (Role.COMMAND, Role.DISTRICT, Role.TOWNSHIP, Role.DEPARTMENT, Role.GRID, Role.LEADER,
              Role.ADMIN)  # never SYSTEM: the engine's
MAX_GRIDS = 50  # a member patrols a few grids; more is a typo or a township's whole list pasted
_GRID_SEP = re.compile(r"[,，、;；\s]+")
GRID_JOIN = ","  # a grid member's grids as one scope (``assignment``): the codes, sorted, joined


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    display_name: str
    password: str
    role: Role
    township_code: str | None
    district_code: str | None = None  # a district desk's (role district only)
    grid_codes: tuple[str, ...] = ()  # a grid member's (role grid only)


def _text(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def validate(*, username: object, display_name: object, password: object, password2: object, role: object,
             township: object, townships: Collection[str], district: object = None,
             districts: Collection[str] = (), grids: object = None, known_grids: Collection[str] = ()) -> NewUser:
    """The form's values as a ``NewUser``; raises ``InvalidInput`` with the first problem, top to bottom."""
    name = _text(username)
    if not USERNAME.fullmatch(name):
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
    chosen, code = assignment(role, township, townships, district, districts, grids, known_grids)
    if chosen is Role.DISTRICT:
        return NewUser(name, display, secret, chosen, None, code)
    if chosen is Role.GRID:
        return NewUser(name, display, secret, chosen, None, grid_codes=tuple((code or "").split(GRID_JOIN)))
    return NewUser(name, display, secret, chosen, code)


def grid_codes(raw: object, known: Collection[str]) -> tuple[str, ...]:
    """A grid member's grids as typed: 12-digit codes separated by commas, 、 or spaces, each a grid of the
    active layer; sorted, each once."""
    codes = sorted({c for c in _GRID_SEP.split(raw if isinstance(raw, str) else "") if c})
    if not codes:
        raise InvalidInput("err.grids_required")
    if len(codes) > MAX_GRIDS:
        raise InvalidInput("err.grids_many")
    if any(c not in known for c in codes):
        raise InvalidInput("err.grid_unknown")
    return tuple(codes)


def assignment(role: object, unit: object, units: Collection[str], district: object = None,
               districts: Collection[str] = (), grids: object = None,
               known_grids: Collection[str] = ()) -> tuple[Role, str | None]:
    """A role and what it is scoped to, as a form gave them: township and department staff need a unit of
    theirs (a township of the active layer, a department), a district desk its district (one of
    ``districts``, the active layer's), a grid member its grids (``grid_codes``; the scope is them joined by
    ``GRID_JOIN``), every other role none (a unit, district or grids left filled in are dropped)."""
    chosen = next((r for r in ASSIGNABLE if r.value == role), None)
    if chosen is None:
        raise InvalidInput("err.role")
    if chosen is Role.GRID:
        return chosen, GRID_JOIN.join(grid_codes(grids, known_grids))
    if chosen is Role.DISTRICT:
        code = _text(district)
        if not code:
            raise InvalidInput("err.district_required")
        if code not in districts:
            raise InvalidInput("err.district_unknown")
        return chosen, code
    if chosen not in UNIT_ROLES:
        return chosen, None
    code = _text(unit)
    if not code:
        raise InvalidInput("err.township_required" if chosen is Role.TOWNSHIP else "err.department_required")
    if code not in units or is_department_unit(code) != (chosen is Role.DEPARTMENT):
        raise InvalidInput("err.township_unknown" if chosen is Role.TOWNSHIP else "err.department_unknown")
    return chosen, code
