"""Accounts: what an admin does to them on the admin page, what users do to their own password on /account,
and that each change is a row of the login log, against the real database through the real HTTP path.

The rules themselves (passwords, who may change whom) are pure and tested as tables first. Every test
works on accounts of its own (removed at the end: other modules count the shared database's users),
and logs in from client addresses of its own, so the lock-outs it provokes touch nobody else.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.test import TestResponse

from alerts.lifecycle import Role
from dashboard.actions import InvalidInput
from dashboard.users import assignment
from i18n.timefmt import fmt_dt
from store.audit import AuthEvent
from store.users import UserRecord, township_username, upsert_user
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

PASSWORD = "correct-horse-7"
TOWNS = {"431002001", "431002002"}


@pytest.fixture(scope="module")
def admin(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.admin")


@pytest.fixture(scope="module")
def account_page(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.account")


@pytest.fixture(scope="module")
def policy(admin: ModuleType) -> ModuleType:
    """The pure rules (a page package's module: importable once the app has registered its pages)."""
    return importlib.import_module("dashboard.pages.admin.policy")


def test_every_event_of_the_log_has_words_in_both_languages() -> None:
    from i18n.labels import AUTH_EVENT

    for event in AuthEvent:
        assert set(AUTH_EVENT[event.value]) == {"zh", "en"} and all(AUTH_EVENT[event.value].values()), event


# -- the rules, as tables --

@pytest.mark.parametrize("password, again, key", [
    ("long-enough", "long-enough", None),
    ("短密码1234567", "短密码1234567", None),  # any characters; length is what counts
    ("x" * 7, "x" * 7, "err.password_short"),
    (None, None, "err.password_short"),
    ("x" * 129, "x" * 129, "err.password_long"),
    ("my-Wang_01-pass", "my-Wang_01-pass", "err.password_username"),  # contains the user name, any case
    ("zj123456", "zj123456", "err.password_demo"),
    ("admin123", "admin123", "err.password_demo"),
    ("long-enough", "long-enougH", "err.password_mismatch"),
])
def test_password_rules(policy: ModuleType, password: object, again: object, key: str | None) -> None:
    if key is None:
        assert policy.check_password("wang_01", password, again) == password
        return
    with pytest.raises(InvalidInput) as refused:
        policy.check_password("wang_01", password, again)
    assert refused.value.key == key


def test_a_new_own_password_must_differ_and_an_admin_resets_only_others(policy: ModuleType) -> None:
    assert policy.check_own_password("wang_01", "old-secret", "new-secret", "new-secret") == "new-secret"
    for call, key in ((lambda: policy.check_own_password("wang_01", "old-secret", "old-secret", "old-secret"),
                       "err.password_same"),
                      (lambda: policy.check_reset("root", "root"), "err.self_reset")):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.key == key
    policy.check_reset("root", "wang_01")


@pytest.mark.parametrize("role, township, expected", [
    ("township", " 431002001 ", (Role.TOWNSHIP, "431002001")),
    ("leader", "431002001", (Role.LEADER, None)),  # only township staff carry a township
    ("admin", None, (Role.ADMIN, None)),
    ("township", None, "err.township_required"),
    ("township", "999999999", "err.township_unknown"),
    ("system", None, "err.role"),  # the engine's role is nobody's to assign
    (None, None, "err.role"),
    (["admin"], None, "err.role"),
    ("department", "dept-slj", (Role.DEPARTMENT, "dept-slj")),
    ("department", None, "err.department_required"),
    ("department", "431002001", "err.department_unknown"),  # a township is no department
    ("township", "dept-slj", "err.township_unknown"),  # nor a department a township
    ("department", "dept-nope", "err.department_unknown"),
])
def test_role_and_unit(role: object, township: object, expected: object) -> None:
    units = {*TOWNS, "dept-slj"}
    if isinstance(expected, tuple):
        assert assignment(role, township, units) == expected
        return
    with pytest.raises(InvalidInput) as refused:
        assignment(role, township, units)
    assert refused.value.key == expected


ADMIN, COMMAND, TOWN = (Role.ADMIN, None, False), (Role.COMMAND, None, False), (Role.TOWNSHIP, "431002001", False)


@pytest.mark.parametrize("actor, target, now, wanted, admins, expected", [
    ("root", "wang", COMMAND, TOWN, 1, ("account_changed", "command → township 431002001")),
    ("root", "wang", COMMAND, COMMAND, 1, None),  # nothing to change: no row either
    ("root", "wang", COMMAND, (Role.COMMAND, None, True), 1, ("account_disabled", "command → command disabled")),
    ("root", "wang", (Role.COMMAND, None, True), COMMAND, 1, ("account_enabled", "command disabled → command")),
    ("root", "root", ADMIN, COMMAND, 3, "err.self_demote"),
    ("root", "root", ADMIN, (Role.ADMIN, None, True), 3, "err.self_disable"),
    ("root", "ops", ADMIN, COMMAND, 2, ("account_changed", "admin → command")),  # another admin stays
    ("root", "ops", ADMIN, (Role.ADMIN, None, True), 1, "err.last_admin"),  # the only enabled admin
    ("root", "ops", (Role.ADMIN, None, True), (Role.ADMIN, None, False), 1, ("account_enabled",
                                                                               "admin disabled → admin")),
    ("root", "ops", (Role.ADMIN, None, True), (Role.COMMAND, None, True), 1,
     ("account_changed", "admin disabled → command disabled")),  # a disabled admin counts for nothing
])
def test_who_may_change_whom(policy: ModuleType, actor: str, target: str, now: tuple[Any, ...],
                             wanted: tuple[Any, ...], admins: int, expected: object) -> None:
    before, after = policy.State(*now), policy.State(*wanted)
    if isinstance(expected, str):
        with pytest.raises(InvalidInput) as refused:
            policy.decide(actor, target, before, after, admins)
        assert refused.value.key == expected
        return
    change = policy.decide(actor, target, before, after, admins)
    assert (change and (change.event.value, change.detail)) == expected


def test_the_log_filters_and_the_unlock_form_as_typed(policy: ModuleType) -> None:
    assert policy.audit_filter("  wang_01 ", "login") == ("wang_01", AuthEvent.LOGIN)
    assert policy.audit_filter("", None) == policy.audit_filter(None, "") == (None, None)
    assert policy.lock_target("account:wang_01") == (policy.LockKind.ACCOUNT, "wang_01")
    assert policy.lock_target("address:::1") == (policy.LockKind.ADDRESS, "::1")  # IPv6 keeps its colons
    for call, key in ((lambda: policy.audit_filter("", "nope"), "err.event"),
                      *((lambda v=v: policy.lock_target(v), "err.choose_lock") for v in ("bogus", "account:", None))):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.key == key


# -- over HTTP, against the database --

class Made:
    """Accounts of a test, deleted at its end (their rows of the login log stay: it is append-only)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.names: list[str] = []

    def new(self, role: str = "command", township: str | None = None) -> str:
        name = self.adopt(f"acc_{uuid.uuid4().hex[:8]}")
        with psycopg.connect(self.dsn) as conn:
            upsert_user(conn, UserRecord(name, "测试账号", generate_password_hash(PASSWORD), role, township))
        return name

    def adopt(self, name: str) -> str:
        """One the test creates otherwise (through the admin's form)."""
        self.names.append(name)
        return name

    def row(self, name: str) -> UserRecord:
        from store.users import get_user

        with psycopg.connect(self.dsn) as conn:
            found = get_user(conn, name)
        assert found is not None
        return found

    def events(self, name: str) -> list[tuple[str, str, str, str]]:
        """(event, actor, address, detail) of the account's rows of the login log, oldest first."""
        with psycopg.connect(self.dsn) as conn:
            return [(r[0], r[1], r[2], r[3]) for r in conn.execute(
                "SELECT event, actor, address, detail FROM auth_events WHERE username = %s ORDER BY id", (name,))]


@pytest.fixture
def made(dashboard_dsn: str) -> Iterator[Made]:
    accounts = Made(dashboard_dsn)
    yield accounts
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM users WHERE username = ANY(%s)", (accounts.names,))


def _address() -> str:
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"  # a range no other module uses


def _client(app: dash.Dash, address: str | None = None) -> FlaskClient:
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address or _address()
    return client


def _login(client: FlaskClient, username: str, password: str) -> TestResponse:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    return client.post("/login", data={"username": username, "password": password, "csrf": token[1]})


Told = Callable[..., dict[str, Any]]


@pytest.fixture
def manage(admin: ModuleType, dash_calls: DashCalls) -> Told:
    """``manage(button, account, role=…, township=…, password=…)``: a button of the account form pressed."""
    buttons = ("adm-save", "adm-reset", "adm-disable", "adm-enable")

    def press(button: str, username: str | None, role: Any = None, township: Any = None, password: Any = None,
              again: Any = None) -> dict[str, Any]:
        clicks = [int(b == button) for b in buttons]
        return dash_calls.triggered_by(admin.callbacks.manage, f"{button}.n_clicks", 1, *clicks, username, role,
                                       township, password, password if again is None else again, 0, None, None)
    return press


@pytest.fixture
def change_own(account_page: ModuleType, dash_calls: DashCalls) -> Told:
    def submit(current: Any, new: Any, again: Any = None) -> dict[str, Any]:
        return dash_calls.triggered_by(account_page.callbacks.change_password, "acc-submit.n_clicks", 1, 1, current,
                                       new, new if again is None else again)
    return submit


def test_a_new_account_changes_the_password_the_admin_chose_at_its_first_login(
        admin: ModuleType, account_page: ModuleType, made: Made, logged_in: LoggedIn, dash_calls: DashCalls,
        dash_app: dash.Dash, change_own: Told) -> None:
    name = made.adopt(f"new_{uuid.uuid4().hex[:8]}")
    with logged_in("admin"):
        created = dash_calls.triggered_by(admin.callbacks.create_user, "adm-submit.n_clicks", 1, 1, name, "新同事",
                                          "Chosen-by-admin", "Chosen-by-admin", "leader", None, 3, None, None)
    assert f"已创建用户 {name}" in dash_calls.text_of(created["msg"]) and created["version"] == 4
    assert made.row(name).must_change_password
    assert made.events(name) == [("account_created", "admin", "127.0.0.1", "leader")]
    client = _client(dash_app)
    landed = _login(client, name, "Chosen-by-admin")
    assert landed.status_code == 302 and landed.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    with logged_in(name):
        asked = dash_calls.text_of(account_page.layout())
        changed = change_own("Chosen-by-admin", "Only-I-know-it", "Only-I-know-it")
    assert "管理员为您设置了密码" in asked and "至少 8 位，不能包含用户名" in asked
    assert "密码已修改" in dash_calls.text_of(changed["msg"]) and '"href":"/leader"' in dash_calls.text_of(
        changed["msg"])  # the way on to the user's own page
    assert [changed[k] for k in ("current", "new", "new2")] == ["", "", ""]
    record = made.row(name)
    assert not record.must_change_password and check_password_hash(record.password_hash, "Only-I-know-it")
    assert made.events(name)[-1][:2] == ("password_changed", "")  # by the user themself
    again = _login(_client(dash_app), name, "Only-I-know-it")
    assert again.status_code == 302 and again.headers["Location"] == "/leader"


@pytest.mark.parametrize("current, new, again, said", [
    ("wrong-password", "Only-I-know-it", None, "当前密码不正确"),
    (PASSWORD, "short", None, "密码至少 8 位"),
    (PASSWORD, "Only-I-know-it", "Only-I-know-IT", "两次输入的密码不一致"),
    (PASSWORD, "zhihui123", None, "演示密码人人皆知"),
    (PASSWORD, PASSWORD, None, "新密码不能与当前密码相同"),
])
def test_the_own_password_change_refuses_bad_input(made: Made, logged_in: LoggedIn, dash_calls: DashCalls,
                                                   change_own: Told, current: str, new: str, again: str | None,
                                                   said: str) -> None:
    name = made.new()
    with logged_in(name):
        refused = change_own(current, new, again)
    assert said in dash_calls.text_of(refused["msg"])
    assert [refused[k] for k in ("current", "new", "new2")] == [dash.no_update] * 3  # what was typed stays
    assert check_password_hash(made.row(name).password_hash, PASSWORD)
    wrong = current != PASSWORD
    assert made.events(name) == ([("login_failed", "", "127.0.0.1", "password change")] if wrong else [])


def test_the_own_password_change_shares_the_logins_lock_out(made: Made, logged_in: LoggedIn, dash_calls: DashCalls,
                                                          dash_app: dash.Dash, change_own: Told) -> None:
    """Five wrong passwords at the login form lock the change too: no guessing from an unattended session."""
    name = made.new()
    client = _client(dash_app)
    for _ in range(5):
        assert _login(client, name, "wrong").status_code == 401
    with logged_in(name):
        refused = change_own(PASSWORD, "Only-I-know-it")
    assert "登录失败次数过多" in dash_calls.text_of(refused["msg"])
    assert check_password_hash(made.row(name).password_hash, PASSWORD)


def test_refusals_are_said_in_the_users_language(made: Made, logged_in: LoggedIn, dash_calls: DashCalls,
                                                 change_own: Told, manage: Told) -> None:
    name = made.new()
    with logged_in(name, lang="en"):
        assert "The password must not contain the user name" in dash_calls.text_of(
            change_own(PASSWORD, f"x{name}x", None)["msg"])
    with logged_in("admin", lang="en"):
        assert "Township staff need a township" in dash_calls.text_of(manage("adm-save", name, "township")["msg"])


def test_an_admin_sets_role_and_township_resets_the_password_disables_and_enables(
        admin: ModuleType, made: Made, logged_in: LoggedIn, dash_calls: DashCalls, manage: Told,
        dashboard_dsn: str) -> None:
    name = made.new()
    with psycopg.connect(dashboard_dsn) as conn:
        town = one(conn, "SELECT township_code FROM users WHERE role = 'township' ORDER BY 1 LIMIT 1")[0]

    def said(reply: dict[str, Any]) -> str:
        return dash_calls.text_of(reply["msg"])

    with logged_in("admin"):
        shown = dash_calls.triggered_by(admin.callbacks.show_account, "adm-account.value", name, name, 0)
        assert shown["hidden"] is False and shown["role"] == "command" and shown["enable"] is True
        assert "镇街工作人员须选择所属镇街" in said(manage("adm-save", name, "township", None))
        saved = manage("adm-save", name, "township", town)
        assert f"已保存 {name} 的角色与镇街" in said(saved) and name in dash_calls.text_of(saved["users"])
        assert f"{name} 没有变化" in said(manage("adm-save", name, "township", town))  # no second row
        assert "已保存" in said(manage("adm-save", name, "leader", town))  # the township is dropped
        assert "密码至少 8 位" in said(manage("adm-reset", name, password="short"))
        reset = manage("adm-reset", name, password="Temporary-pass-1")
        assert "下次登录须修改密码" in said(reset) and (reset["password"], reset["password2"]) == ("", "")
        assert "已停用" in said(manage("adm-disable", name))
        shown = dash_calls.triggered_by(admin.callbacks.show_account, "adm-edited.data", 1, name, 1)
        assert "已停用" in dash_calls.text_of(shown["state"]) and shown["disable"] is True and shown["enable"] is False
        assert "已启用" in said(manage("adm-enable", name))
        assert "请选择账号" in said(manage("adm-disable", None))
        assert "该账号不存在" in said(manage("adm-disable", "no_such_account"))
    record = made.row(name)
    assert (record.role, record.township_code, record.disabled, record.must_change_password) == (
        "leader", None, False, True)
    assert check_password_hash(record.password_hash, "Temporary-pass-1")
    assert made.events(name) == [
        ("account_changed", "admin", "127.0.0.1", f"command → township {town}"),
        ("account_changed", "admin", "127.0.0.1", f"township {town} → leader"),
        ("password_reset", "admin", "127.0.0.1", ""),
        ("account_disabled", "admin", "127.0.0.1", "leader → leader disabled"),
        ("account_enabled", "admin", "127.0.0.1", "leader disabled → leader"),
    ]


def test_an_admin_cannot_take_administration_from_their_own_account(
        made: Made, logged_in: LoggedIn, dash_calls: DashCalls, manage: Told) -> None:
    me = made.new("admin")
    with logged_in(me):
        for button, role, said in (("adm-save", "command", "不能更改自己账号的管理员角色"),
                                   ("adm-disable", None, "不能停用自己的账号"),
                                   ("adm-reset", None, "请在“修改密码”页修改自己的密码")):
            reply = manage(button, me, role, password="Another-pass-9")
            assert said in dash_calls.text_of(reply["msg"]) and reply["edited"] is dash.no_update
    record = made.row(me)
    assert (record.role, record.disabled) == ("admin", False) and check_password_hash(record.password_hash, PASSWORD)
    assert made.events(me) == []


@pytest.mark.parametrize("who", ["zhihui", "lingdao", "township", None])
def test_non_admins_are_refused_and_nothing_changes(admin: ModuleType, made: Made, logged_in: LoggedIn,
                                                    dash_calls: DashCalls, manage: Told, dashboard_dsn: str,
                                                    who: str | None) -> None:
    if who == "township":
        with psycopg.connect(dashboard_dsn) as conn:
            who = township_username(one(conn, "SELECT township_code FROM users WHERE role = 'township'"
                                                 " LIMIT 1")[0])
    target = made.new()
    client = _client(dash_calls.app)
    for _ in range(5):
        _login(client, target, "wrong")  # locked: there is something to unlock
    before = made.row(target)
    with logged_in(who):
        posts: list[Callable[[], Any]] = [
            lambda: manage("adm-save", target, "admin")["msg"],
            lambda: manage("adm-reset", target, password="Taken-over-99")["msg"],
            lambda: manage("adm-disable", target)["msg"],
            lambda: dash_calls.triggered_by(admin.callbacks.unlock, "adm-unlock.n_clicks", 1, 1,
                                            f"account:{target}", 0)["msg"],
            lambda: dash_calls.triggered_by(admin.callbacks.audit_log, "adm-audit-user.value", target, 0, 0, [],
                                            target, None),
        ]
        for post in posts:
            try:
                told = dash_calls.text_of(post())
            except PermissionError as refused:  # nobody: the gate answers before any callback
                told = str(refused)
            assert "无权" in told or "请先登录" in told, told
        try:  # the account form stays hidden and empty
            shown = dash_calls.triggered_by(admin.callbacks.show_account, "adm-account.value", target, target, 0)
            assert shown["hidden"] is True and target not in dash_calls.text_of(shown)
        except PermissionError:
            assert who is None
    assert made.row(target) == before
    assert [e for e, *_ in made.events(target)] == ["login_failed"] * 5  # no change, no unlock


def test_a_disabled_account_cannot_log_in_and_its_open_session_ends(
        made: Made, logged_in: LoggedIn, dash_app: dash.Dash, manage: Told) -> None:
    name = made.new()
    client = _client(dash_app)
    assert _login(client, name, PASSWORD).status_code == 302
    assert client.get("/command").status_code == 200
    with logged_in("admin"):
        manage("adm-disable", name)
    assert client.get("/command").headers["Location"].startswith("/login")  # at its next request
    assert client.post("/_dash-update-component", json={}).status_code == 401
    refused = _login(client, name, PASSWORD)
    assert refused.status_code == 401 and "该账号已停用" in refused.text
    with logged_in("admin"):
        manage("adm-enable", name)
    assert _login(client, name, PASSWORD).status_code == 302
    assert [e for e, *_ in made.events(name)] == ["login", "account_disabled", "expired", "disabled",
                                                  "account_enabled", "login"]


def test_an_admin_unlocks_a_locked_account_and_a_locked_address(
        admin: ModuleType, made: Made, logged_in: LoggedIn, dash_calls: DashCalls, dash_app: dash.Dash,
        dashboard_dsn: str) -> None:
    name, address = made.new(), _address()
    client = _client(dash_app, address)
    for _ in range(5):
        assert _login(client, name, "wrong").status_code == 401
    assert _login(client, name, PASSWORD).status_code == 429

    def unlock(value: object) -> str:
        return dash_calls.text_of(dash_calls.triggered_by(admin.callbacks.unlock, "adm-unlock.n_clicks", 1, 1, value,
                                                          0)["msg"])

    with logged_in("admin"):
        locks = dash_calls.part(admin.layout(), "adm-locks-table")
        assert name in locks and "账号" in locks
        assert f"已解锁 账号 {name}" in unlock(f"account:{name}")
        assert f"账号 {name} 当前未被锁定" in unlock(f"account:{name}")  # once is enough: no second row
        assert "请选择要解锁的账号或地址" in unlock("bogus")
    assert _login(client, name, PASSWORD).status_code == 302
    assert [(e, a, ad) for e, a, ad, _ in made.events(name)][-3:] == [
        ("locked_out", "", address), ("unlocked", "admin", ""), ("login", "", address)]

    guesser = _address()
    client = _client(dash_app, guesser)
    for n in range(20):
        assert _login(client, f"nobody{n}_{uuid.uuid4().hex[:4]}", "guess").status_code == 401
    assert _login(client, name, PASSWORD).status_code == 429  # the address is locked, whoever logs in
    with logged_in("admin"):
        found = dash_calls.triggered_by(admin.callbacks.refresh, "adm-version.data", 1, 1, 0)
        assert guesser in dash_calls.text_of(found["locks"])
        assert f"address:{guesser}" in [option["value"] for option in found["lock_options"]]
        assert f"已解锁 客户端地址 {guesser}" in unlock(f"address:{guesser}")
    assert _login(client, name, PASSWORD).status_code == 302
    with psycopg.connect(dashboard_dsn) as conn:
        row = conn.execute("SELECT username, actor, detail FROM auth_events WHERE event = 'unlocked' AND address = %s",
                           (guesser,)).fetchone()
    assert row == ("", "admin", "address; from 127.0.0.1")


def test_the_login_log_newest_first_paged_filtered_in_the_users_language(
        admin: ModuleType, made: Made, logged_in: LoggedIn, dash_calls: DashCalls, dash_app: dash.Dash,
        manage: Told, dashboard_dsn: str) -> None:
    name = made.new()
    client = _client(dash_app)
    _login(client, name, "wrong")
    _login(client, name, PASSWORD)

    def log(username: Any, event: Any, lang: str = "zh") -> str:
        with logged_in("admin", lang=lang):
            return dash_calls.text_of(dash_calls.triggered_by(admin.callbacks.audit_log, "adm-audit-user.value",
                                                              username, 0, 0, [], username, event))

    with logged_in("admin"):
        manage("adm-disable", name)
    with psycopg.connect(dashboard_dsn) as conn:
        stamps = [r[0] for r in conn.execute("SELECT at FROM auth_events WHERE username = %s ORDER BY id DESC",
                                             (name,))]
    mine = log(name, None)
    # newest first, each time as Shanghai's clock shows it, each event in words
    shown = [mine.index(fmt_dt(at, seconds=True)) for at in stamps]
    assert shown == sorted(shown) and len(stamps) == 3
    assert mine.index("停用账号") < mine.index("登录") < mine.index("登录失败") and "第 1/" not in mine
    assert "登录失败" not in log(name, "account_disabled") and "停用账号" in log(name, "account_disabled")
    assert "Account disabled" in log(name, None, "en") and "Failed login" in log(name, None, "en")
    assert "所选事件无效" in log(name, "no_such_event")
    assert "没有符合条件的记录" in log("nobody_at_all", None)
    with logged_in("admin"):
        everyone = dash_calls.text_of(dash_calls.find(admin.layout(), "adm-audit"))
        second = dash_calls.text_of(dash_calls.clicked(admin.callbacks.audit_log,
                                                       {"type": "pager", "table": "adm-audit", "to": 2}, 0, 0, [1],
                                                       None, None))
    assert "第 1/" in everyone and "第 2/" in second and everyone.count('"type":"Tr"') == 21  # 20 rows and the head
