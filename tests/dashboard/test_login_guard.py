"""Lock-outs, session expiry and disabled accounts over HTTP (Flask test client), each outcome a row
of the append-only ``auth_events`` table. Every test uses accounts and client addresses of its own, so
the lock-outs it provokes touch nobody else's logins."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import dash
import flask
import psycopg
import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.lockout import LockoutPolicy, locked_until
from store.users import UserRecord, set_password, upsert_user

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct-horse-7"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr("dashboard.auth.utcnow", c)
    monkeypatch.setattr("dashboard.routes.utcnow", c)
    yield c


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _client(app: dash.Dash, address: str) -> FlaskClient:
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


Accounts = Callable[[], str]


@pytest.fixture
def accounts(dashboard_dsn: str) -> Iterator[Accounts]:
    """Fresh command accounts, removed afterwards (other modules count the shared database's users)."""
    made: list[str] = []

    def make() -> str:
        name = f"guard_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dashboard_dsn) as conn:
            upsert_user(conn, UserRecord(name, "测试值班员", generate_password_hash(PASSWORD), "command", None))
        made.append(name)
        return name

    yield make
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM users WHERE username = ANY(%s)", (made,))


def _login(client: FlaskClient, username: str, password: str) -> tuple[int, str]:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    resp = client.post("/login", data={"username": username, "password": password, "csrf": token[1]})
    return resp.status_code, resp.text


def _events(dsn: str, username: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT event, address FROM auth_events WHERE username = %s ORDER BY id", (username,))]


@pytest.mark.parametrize("failures, expected", [
    ([], None),
    ([T0 - timedelta(minutes=m) for m in (4, 3, 2, 1)], None),  # four: not yet
    ([T0 - timedelta(minutes=m) for m in (5, 4, 3, 2, 1)], T0 + timedelta(minutes=10)),  # the oldest + window
    ([T0 - timedelta(minutes=m) for m in (20, 4, 3, 2, 1)], None),  # one left the window already
    ([T0 - timedelta(minutes=m) for m in (6, 5, 4, 3, 2, 1)], T0 + timedelta(minutes=10)),  # the 5th newest counts
    ([T0 + timedelta(minutes=1)] * 5, None),  # from the future (a skewed clock): not counted
])
def test_locked_until(failures: list[datetime], expected: datetime | None) -> None:
    assert locked_until(failures, 5, timedelta(minutes=15), T0) == expected


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        LockoutPolicy(per_account=0)


def test_wrong_passwords_lock_the_account_and_the_lock_lifts(dash_app: dash.Dash, dashboard_dsn: str,
                                                            clock: Clock, accounts: Accounts) -> None:
    user, address = accounts(), _address()
    client = _client(dash_app, address)
    for _ in range(5):
        assert _login(client, user, "wrong")[0] == 401
        clock.now += timedelta(seconds=10)
    status, body = _login(client, user, PASSWORD)  # the right password, too late
    assert status == 429 and "登录失败次数过多" in body and "16:15" in body  # lifts 15 min after the first, local time
    for _ in range(15):  # hammering a locked account does not extend the lock
        assert _login(client, user, "wrong")[0] == 429
    elsewhere = _client(dash_app, _address())
    assert _login(elsewhere, user, PASSWORD)[0] == 429  # the account is locked, from every address
    clock.now = T0 + timedelta(minutes=15, seconds=1)
    assert _login(client, user, PASSWORD)[0] == 302
    events = [e for e, _ in _events(dashboard_dsn, user)]
    assert events == ["login_failed"] * 5 + ["locked_out"] * 17 + ["login"]
    assert {a for _, a in _events(dashboard_dsn, user)} >= {address}


def test_one_address_guessing_many_accounts_is_locked_out(dash_app: dash.Dash, dashboard_dsn: str,
                                                         clock: Clock, accounts: Accounts) -> None:
    address = _address()
    guesser = _client(dash_app, address)
    for n in range(20):
        assert _login(guesser, f"nobody{n}_{uuid.uuid4().hex[:4]}", "guess")[0] == 401
    real = accounts()
    assert _login(guesser, real, PASSWORD)[0] == 429  # even a right password, from that address
    assert _login(_client(dash_app, _address()), real, PASSWORD)[0] == 302  # the account itself is fine


def test_idle_and_old_sessions_end(dash_app: dash.Dash, dashboard_dsn: str, clock: Clock, accounts: Accounts) -> None:
    user = accounts()
    client = _client(dash_app, _address())
    assert _login(client, user, PASSWORD)[0] == 302
    clock.now += timedelta(minutes=29)
    assert client.get("/command").status_code == 200
    clock.now += timedelta(minutes=31)  # idle for longer than 30 minutes
    assert client.get("/command").headers["Location"].startswith("/login")
    assert client.post("/_dash-update-component", json={}).status_code == 401  # and its callbacks too
    assert _login(client, user, PASSWORD)[0] == 302
    for _ in range(12 * 4 - 1):  # busy all shift long: a request every 15 minutes
        clock.now += timedelta(minutes=15)
        assert client.get("/command").status_code == 200
    clock.now += timedelta(minutes=16)  # past 12 hours since the login
    assert client.get("/command").headers["Location"].startswith("/login")
    with psycopg.connect(dashboard_dsn) as conn:
        expired = [r[0] for r in conn.execute("SELECT detail FROM auth_events WHERE username = %s"
                                              " AND event = 'expired' ORDER BY id", (user,))]
    assert expired == ["idle", "too old"]


def test_a_disabled_or_changed_account_loses_its_open_session(dash_app: dash.Dash, dashboard_dsn: str,
                                                              clock: Clock, accounts: Accounts) -> None:
    disabled, changed = accounts(), accounts()
    a, b = _client(dash_app, _address()), _client(dash_app, _address())
    assert _login(a, disabled, PASSWORD)[0] == 302 and _login(b, changed, PASSWORD)[0] == 302
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("UPDATE users SET disabled = true WHERE username = %s", (disabled,))
        conn.execute("UPDATE users SET role = 'leader' WHERE username = %s", (changed,))
    assert a.get("/command").headers["Location"].startswith("/login")
    assert b.get("/command").headers["Location"].startswith("/login")
    status, body = _login(a, disabled, PASSWORD)
    assert status == 401 and "该账号已停用" in body
    assert _login(b, changed, PASSWORD)[0] == 302  # logs in afresh, as what it is now
    assert [e for e, _ in _events(dashboard_dsn, disabled)] == ["login", "expired", "disabled"]


def test_the_audit_table_cannot_be_rewritten(dashboard_dsn: str) -> None:
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO auth_events (at, event, username) VALUES (now(), 'login', 'someone')")
        for statement in ("UPDATE auth_events SET username = 'x'", "DELETE FROM auth_events",
                          "TRUNCATE auth_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)


def test_a_new_password_ends_the_other_sessions_and_forces_the_change(dash_app: dash.Dash, dashboard_dsn: str,
                                                                       clock: Clock, accounts: Accounts) -> None:
    user = accounts()
    desk, phone = _client(dash_app, _address()), _client(dash_app, _address())
    assert _login(desk, user, PASSWORD)[0] == 302 and _login(phone, user, PASSWORD)[0] == 302
    with psycopg.connect(dashboard_dsn) as conn:  # what an admin's reset writes
        set_password(conn, user, generate_password_hash("temporary-pw-1"), must_change=True, at=clock.now)
    for client in (desk, phone):  # whoever knew the old password is out
        assert client.get("/command").headers["Location"].startswith("/login")
    assert _login(desk, user, "temporary-pw-1")[0] == 302
    assert desk.get("/command").headers["Location"] == "/account"  # nothing but the change, first
    assert desk.get("/account").status_code == 200
    clock.now += timedelta(minutes=1)
    with psycopg.connect(dashboard_dsn) as conn:  # the user's own change, made elsewhere
        set_password(conn, user, generate_password_hash("my-own-pw-22"), must_change=False, at=clock.now)
    assert desk.get("/account").headers["Location"].startswith("/login")
    assert _login(desk, user, "my-own-pw-22")[0] == 302
    assert desk.get("/command").status_code == 200
    expired = [e for e, _ in _events(dashboard_dsn, user) if e == "expired"]
    assert len(expired) == 3  # desk and phone at the reset, desk at its own (made outside this session) change


def test_while_the_password_must_change_only_the_account_page_answers(dash_app: dash.Dash) -> None:
    with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
        flask.session["user"] = {"username": "zhihui", "display_name": "值班员", "role": "command"}
        flask.g.must_change_password = True  # as the gate finds it
        with pytest.raises(auth.Denied, match=r"auth\.must_change_password"):
            auth.require(Role.COMMAND)
        assert auth.require(Role.COMMAND, changing_password=True).username == "zhihui"
