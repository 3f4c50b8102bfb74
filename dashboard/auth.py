"""Log in, log out, who is asking, and the gate in front of every page and callback.

The Flask session (signed cookie) carries the user's name, role and township.
Three layers check it, because hiding a button is not security:

1. ``before_request`` refuses every page, layout and callback request without a
   session, and every callback POST whose CSRF header does not match the session;
2. each page's layout and each callback calls ``require(...)`` for its roles;
3. ``alerts.lifecycle.transition`` refuses a move the role or township may not make.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

import flask
import psycopg
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response as BaseResponse  # what flask.redirect returns

from alerts.lifecycle import UNIT_ROLES, Actor, Role
from cityops.probe import HEALTH_PATHS
from dashboard.context import get_data
from dashboard.lockout import LockoutPolicy, locked_until
from i18n.labels import Lang, as_lang, t
from i18n.refusal import Refused
from i18n.timefmt import utcnow
from store import audit, departments, users
from store.audit import AuthEvent
from store.users import township_username

CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads and echoes as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
ACCOUNT_PAGE = "/account"  # where a user changes their own password
# Paths anyone may fetch: the login form and the static JavaScript/CSS it needs.
_PUBLIC_PREFIXES = ("/login", "/logout", "/lang/", "/assets/", "/_dash-component-suites/", "/_favicon")
_PUBLIC_PATHS = frozenset(HEALTH_PATHS)  # probes and scrapers have no session (/metrics checks its own)


class Denied(Refused):
    """The session may not do this; ``key`` names the i18n message to show."""


@dataclass(frozen=True, slots=True)
class SessionUser:
    username: str
    display_name: str
    role: Role
    township_code: str | None
    password_stamp: float = 0.0  # when its password last changed, as the login saw it (not in the cookie's user)
    district_code: str | None = None  # a district desk's district (role district)
    grid_codes: tuple[str, ...] = ()  # a grid member's grids (role grid)

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.township_code if self.role in UNIT_ROLES else None,
                     self.district_code if self.role is Role.DISTRICT else None,
                     self.grid_codes if self.role is Role.GRID else ())


def current_user() -> SessionUser | None:
    raw = flask.session.get("user")
    if not isinstance(raw, dict):
        return None
    try:
        return SessionUser(raw["username"], raw["display_name"], Role(raw["role"]), raw.get("township_code"),
                           district_code=raw.get("district_code"), grid_codes=tuple(raw.get("grid_codes") or ()))
    except (KeyError, ValueError):
        return None  # a session from an older release: treat as logged out


def require(*roles: Role, changing_password: bool = False) -> SessionUser:
    """The session's user if their role is one of ``roles``; raises ``Denied`` otherwise (recorded).

    A user whose password an admin set may do nothing but change it (``changing_password``: the account page).
    """
    user = current_user()
    if user is None:
        raise Denied("auth.required")  # nobody to record: over HTTP the gate has answered 401 already
    if flask.g.get("must_change_password") and not changing_password:
        raise Denied("auth.must_change_password")
    if user.role not in roles:
        record_refusal(user)
        raise Denied("auth.forbidden")
    if user.role in UNIT_ROLES and not user.township_code:
        record_refusal(user)
        raise Denied("auth.forbidden")  # a township or department account without its unit sees nothing
    if user.role is Role.DISTRICT and not user.district_code:
        record_refusal(user)
        raise Denied("auth.forbidden")  # a district desk without its district sees nothing
    if user.role is Role.GRID and not user.grid_codes:
        record_refusal(user)
        raise Denied("auth.forbidden")  # a grid member without its grids sees nothing
    return user


_PAGE_ASKED = ("_pages_location", "pathname")  # the input of Dash's page router: the path of the page asked for


def _asked() -> str:
    """What the request asked for: the page's path for a page's layout, a callback's output id, else the URL's path."""
    request = flask.request
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return request.path
    for dep in body.get("inputs") or ():
        if isinstance(dep, dict) and (dep.get("id"), dep.get("property")) == _PAGE_ASKED:
            return str(dep.get("value"))
    return str(body["output"])


def record_refusal(user: SessionUser) -> None:
    """A row ``refused`` of ``auth_events``: who, from which address, what was asked. Every refusal of a role
    or a township comes here; one request writes one row at most (one INSERT), however many checks refuse it."""
    if flask.g.get("cityops_refused"):
        return
    flask.g.cityops_refused = True
    with get_data().pool.connection() as conn:
        audit.record(conn, utcnow(), AuthEvent.REFUSED, username=user.username, address=client_address(),
                     detail=_asked())


def current_lang() -> Lang:
    return as_lang(flask.session.get("lang"))


HOME: dict[Role, str] = {Role.TOWNSHIP: "/township", Role.DEPARTMENT: "/township", Role.LEADER: "/leader",
                         Role.ADMIN: "/admin", Role.DISTRICT: "/command", Role.GRID: "/grid"}


def home_for(role: Role) -> str:
    """Where a role lands after logging in: the command center's big screen unless said otherwise."""
    return HOME.get(role, "/")


def safe_next(target: str | None) -> str:
    """Only local paths: an attacker's link must not turn the login page into a redirector."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class LoginRefusal(StrEnum):
    WRONG = "login.failed"  # also for an unknown account: no user-name probing
    LOCKED = "login.locked"
    DISABLED = "login.disabled"


def authenticate(conn: psycopg.Connection, username: str, password: str, *, address: str, now: datetime,
                 policy: LockoutPolicy) -> SessionUser | tuple[LoginRefusal, datetime | None]:
    """The user, or why not (with when a lock lifts); every outcome is a row of ``auth_events``."""
    since = now - policy.window
    until = max((u for u in (
        locked_until(audit.account_failures(conn, username, since), policy.per_account, policy.window, now),
        locked_until(audit.address_failures(conn, address, since), policy.per_address, policy.window, now),
    ) if u is not None), default=None)
    if until is not None:
        audit.record(conn, now, AuthEvent.LOCKED_OUT, username=username, address=address,
                     detail=f"until {until.isoformat()}")
        return LoginRefusal.LOCKED, until
    record = users.get_user(conn, username)
    if record is None or not check_password_hash(record.password_hash, password):
        if record is None:
            check_password_hash(_DUMMY_HASH, password)  # same work either way: no user-name probing by timing
        audit.record(conn, now, AuthEvent.LOGIN_FAILED, username=username, address=address)
        return LoginRefusal.WRONG, None
    if record.disabled:
        audit.record(conn, now, AuthEvent.DISABLED, username=username, address=address)
        return LoginRefusal.DISABLED, None
    audit.record(conn, now, AuthEvent.LOGIN, username=username, address=address)
    return session_user_of(record)


def session_user_of(record: users.UserRecord) -> SessionUser:
    """The account as a session carries it (what ``login_session`` takes)."""
    return SessionUser(record.username, record.display_name, Role(record.role), record.township_code,
                       _stamp(record.password_changed_at), record.district_code, tuple(record.grid_codes or ()))


_DUMMY_HASH = generate_password_hash("not-a-password")


def login_session(user: SessionUser, now: datetime) -> None:
    """Start a fresh session for ``user`` (a new CSRF token too: no session fixation)."""
    lang = current_lang()
    flask.session.clear()
    flask.session.permanent = True
    flask.session["user"] = {"username": user.username, "display_name": user.display_name,
                             "role": user.role.value, "township_code": user.township_code,
                             "district_code": user.district_code, "grid_codes": list(user.grid_codes)}
    flask.session["lang"] = lang
    flask.session["csrf"] = secrets.token_urlsafe(32)
    flask.session["since"] = flask.session["seen"] = now.timestamp()
    flask.session["pw"] = user.password_stamp


def _stamp(changed_at: datetime | None) -> float:
    return changed_at.timestamp() if changed_at else 0.0


def password_changed_here(at: datetime) -> None:
    """This session changed its user's password at ``at``: it goes on, every other one of theirs ends."""
    flask.session["pw"] = _stamp(at)


def end_session() -> None:
    """Log out: only the language stays."""
    lang = current_lang()
    flask.session.clear()
    flask.session["lang"] = lang


def client_address() -> str:
    return flask.request.remote_addr or ""


def _csrf_ok(sent: str | None) -> bool:
    expected = flask.session.get("csrf")
    return bool(sent and isinstance(expected, str) and hmac.compare_digest(sent, expected))


def _is_public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)  # no request at all for this long (an open page polls, so stays)
    absolute: timedelta = timedelta(hours=12)  # one duty shift, then log in again
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.absolute <= timedelta(0):
            raise ValueError(f"session timeouts must be positive: {self}")


SEEN_EVERY = 30.0  # seconds: how stale "last seen" may get before the cookie is rewritten


def _session_ended(user: SessionUser, policy: SessionPolicy, now: datetime) -> str | None:
    """Why this session may not go on (idle, too old, account disabled or changed), or None."""
    since, seen = flask.session.get("since"), flask.session.get("seen")
    if not isinstance(since, float) or not isinstance(seen, float):
        return "no session times"  # a session from an older release
    stamp = now.timestamp()
    if stamp - seen > policy.idle.total_seconds():
        return "idle"
    if stamp - since > policy.absolute.total_seconds():
        return "too old"
    with get_data().pool.connection() as conn:
        record = users.get_user(conn, user.username)
    if record is None or record.disabled:
        return "account disabled"
    if (record.role != user.role.value or record.township_code != user.township_code
            or record.district_code != user.district_code or tuple(record.grid_codes or ()) != user.grid_codes):
        return "role or township changed"
    if flask.session.get("pw") != _stamp(record.password_changed_at):
        return "password changed"
    flask.g.must_change_password = record.must_change_password  # ``require`` refuses everything else then
    if stamp - seen > SEEN_EVERY:
        flask.session["seen"] = stamp
        with get_data().pool.connection() as conn:  # the active-sessions figure (dashboard/observe.py)
            users.mark_seen(conn, user.username, now)
    return None


def gate() -> BaseResponse | None:
    """``before_request``: no data, layout or page without a live session; no callback without CSRF."""
    path = flask.request.path
    if _is_public(path):
        return None
    user = current_user()
    if user is not None:
        now = utcnow()
        why = _session_ended(user, flask.current_app.config["CITYOPS_SESSIONS"], now)
        if why is not None:
            with get_data().pool.connection() as conn:
                audit.record(conn, now, AuthEvent.EXPIRED, username=user.username, address=client_address(),
                             detail=why)
            end_session()
            user = None
    if path.startswith("/_dash-"):
        if user is None:
            return flask.Response(t("auth.required", current_lang()), status=401, mimetype="text/plain")
        if flask.request.method == "POST" and not _csrf_ok(flask.request.headers.get(CSRF_HEADER)):
            return flask.Response(t("login.expired", current_lang()), status=403, mimetype="text/plain")
        return None
    if user is None:
        full = flask.request.full_path.rstrip("?")
        return flask.redirect(f"/login?next={quote(full)}")
    if flask.g.get("must_change_password") and path != ACCOUNT_PAGE:
        return flask.redirect(ACCOUNT_PAGE)  # an admin set the password: change it before anything else
    if path == "/" and user.role in UNIT_ROLES:
        return flask.redirect("/township")  # township and department staff have no business on the city screen
    if path == "/" and user.role is Role.GRID:
        return flask.redirect("/grid")  # nor a grid member: its phone page
    return None


def set_csrf_cookie(response: flask.Response) -> flask.Response:
    """``after_request``: mirror the session's CSRF token into the cookie dash-renderer reads."""
    token = flask.session.get("csrf")
    if isinstance(token, str) and flask.request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Strict", path="/")
    return response


# -- seeding --

DEMO_USERS: tuple[tuple[str, str, str, Role], ...] = (
    ("zhihui", "zhihui123", "指挥中心值班员", Role.COMMAND),
    ("lingdao", "lingdao123", "领导", Role.LEADER),
    ("admin", "admin123", "管理员", Role.ADMIN),
)
TOWNSHIP_PASSWORD = "zj123456"  # demo only; documented on the login page of the demo
DISTRICT_PASSWORD = "qx123456"  # demo only: every district desk's account (qx<6-digit code>)
GRID_PASSWORD = "wg123456"  # demo only: every grid member's account (wg<12-digit grid code>)
GRID_DEMO_TOWNSHIPS = 1  # the demo seeds a member for each grid of this many townships (by code) per district


def seed_demo_users(conn: psycopg.Connection) -> int:
    """Create the demo accounts, the demo departments with one account each (bm<code>), one account per
    district (qx<code>, its 区县指挥中心) and per township of the active boundary version, and one grid member per
    grid (wg<code>) of the first township of each district (``GRID_DEMO_TOWNSHIPS``); returns how many are new.

    Idempotent: existing accounts keep their password. Hashing is slow on purpose
    (scrypt), so only new accounts are hashed, and the shared demo township password
    once per call rather than 160 times.
    """
    created = 0
    with conn.transaction():
        for username, password, display, role in DEMO_USERS:
            if users.get_user(conn, username) is None:
                created += users.upsert_user(conn, users.UserRecord(username, display, generate_password_hash(password),
                                                              role.value, None))
        departments.save(conn, departments.DEMO_DEPARTMENTS)
        department_hash: str | None = None
        for d in departments.DEMO_DEPARTMENTS:
            username = departments.department_username(d.code)
            if users.get_user(conn, username) is None:
                department_hash = department_hash or generate_password_hash(departments.DEMO_PASSWORD)
                created += users.upsert_user(conn, users.UserRecord(username, f"{d.name}工作人员", department_hash,
                                                                    Role.DEPARTMENT.value, d.unit))
        district_hash: str | None = None
        for code, name in users.active_districts(conn):
            username = users.district_username(code)
            record = users.UserRecord(username, f"{name}指挥中心值班员", "", Role.DISTRICT.value, None,
                                      district_code=code)
            if users.get_user(conn, username) is not None:
                users.upsert_user(conn, record)
                continue
            district_hash = district_hash or generate_password_hash(DISTRICT_PASSWORD)
            created += users.upsert_user(conn, replace(record, password_hash=district_hash))
        township_hash: str | None = None
        for code, name in users.active_townships(conn):
            username = township_username(code)
            if users.get_user(conn, username) is not None:
                users.upsert_user(conn, users.UserRecord(username, f"{name}工作人员", "", Role.TOWNSHIP.value, code))
                continue
            township_hash = township_hash or generate_password_hash(TOWNSHIP_PASSWORD)
            created += users.upsert_user(conn, users.UserRecord(username, f"{name}工作人员", township_hash,
                                                          Role.TOWNSHIP.value, code))
        created += _seed_grid_members(conn)
    return created


def _seed_grid_members(conn: psycopg.Connection) -> int:
    """One member (wg<grid code>, of that grid alone) per grid of the first townships of each district."""
    townships: dict[str, list[str]] = {}
    for code, _ in users.active_townships(conn):
        townships.setdefault(code[:6], []).append(code)
    chosen = {t for codes in townships.values() for t in codes[:GRID_DEMO_TOWNSHIPS]}
    created, grid_hash = 0, None
    for code, name in users.active_grids(conn):
        if code[:9] not in chosen:
            continue
        record = users.UserRecord(users.grid_username(code), f"{name}网格员", "", Role.GRID.value, None,
                                  grid_codes=[code])
        if users.get_user(conn, record.username) is not None:
            users.upsert_user(conn, record)
            continue
        grid_hash = grid_hash or generate_password_hash(GRID_PASSWORD)
        created += users.upsert_user(conn, replace(record, password_hash=grid_hash))
    return created


def configure(server: flask.Flask, secret_key: str, sessions: SessionPolicy) -> None:
    if not secret_key:
        raise ValueError("secret_key must not be empty: it signs every session")
    server.secret_key = secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=sessions.absolute,  # the cookie's own life; the server checks it too
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,  # a 5 MB photo as base64 in a callback, and not much more
        CITYOPS_SESSIONS=sessions,
    )
    server.before_request(gate)
    server.after_request(set_csrf_cookie)

