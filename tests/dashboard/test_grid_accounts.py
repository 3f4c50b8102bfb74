"""网格员 accounts made on the admin page (issue 18): the grids typed are checked on the server (each a grid of
the active layer, at least one, at most 50), refused in the user's language; the account is stored with them,
signs in to its grids, and its grids are changed or dropped (another role) from the account form."""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest

from alerts.lifecycle import Role
from dashboard.actions import InvalidInput
from dashboard.users import assignment, grid_codes
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

GRIDS = {"431002001001", "431002001002", "431002002001"}
PASSWORD = "Grid-member-pass-1"


@pytest.mark.parametrize(("typed", "expected"), [
    ("431002001002, 431002001001", ("431002001001", "431002001002")),  # sorted
    ("431002001001，431002001001、431002002001", ("431002001001", "431002002001")),  # each once, 中文 separators
    (" 431002002001\n", ("431002002001",)),
])
def test_grids_as_typed(typed: str, expected: tuple[str, ...]) -> None:
    assert grid_codes(typed, GRIDS) == expected


@pytest.mark.parametrize(("typed", "key"), [
    (None, "err.grids_required"), ("  ", "err.grids_required"), (["431002001001"], "err.grids_required"),
    ("431002001001 431002009999", "err.grid_unknown"), ("431002001", "err.grid_unknown"),  # a township's code
    (" ".join(f"{n:012d}" for n in range(51)), "err.grids_many"),
])
def test_grids_refused(typed: object, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        grid_codes(typed, {f"{n:012d}" for n in range(60)} | GRIDS)
    assert refused.value.key == key


def test_a_grid_members_scope_is_its_grids() -> None:
    assert assignment("grid", "431002001", {"431002001"}, None, (), "431002001002 431002001001", GRIDS) == (
        Role.GRID, "431002001001,431002001002")  # a township left chosen is dropped
    assert assignment("leader", None, (), None, (), "431002001001", GRIDS) == (Role.LEADER, None)
    with pytest.raises(InvalidInput):
        assignment("grid", None, (), None, (), "", GRIDS)


@pytest.fixture(scope="module")
def admin(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.admin")


@pytest.fixture
def name(dashboard_dsn: str) -> Iterator[str]:
    made = f"wgnew_{uuid.uuid4().hex[:8]}"
    yield made
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM users WHERE username = %s", (made,))


def _grids(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM regions r JOIN boundary_versions b USING (version)"
                                           " WHERE b.active AND r.level = 'grid' ORDER BY code DESC LIMIT 3")]


def test_made_on_the_admin_page_signs_in_to_its_grids_and_they_change(
        admin: ModuleType, name: str, logged_in: LoggedIn, dash_calls: DashCalls, dash_app: dash.Dash,
        dashboard_dsn: str) -> None:
    first, second, third = _grids(dashboard_dsn)
    cb = admin.callbacks

    def create(grids: Any, lang: str = "zh") -> str:
        with logged_in("admin", lang):
            out = dash_calls.triggered_by(cb.create_user, "adm-submit.n_clicks", 1, 1, name, "新网格员", PASSWORD,
                                          PASSWORD, "grid", None, 0, None, grids)
        return dash_calls.text_of(out["msg"])

    def save(role: str, grids: Any) -> str:
        with logged_in("admin"):
            out = dash_calls.triggered_by(cb.manage, "adm-save.n_clicks", 1, 1, 0, 0, 0, name, role, None, None, None,
                                          0, None, grids)
        return dash_calls.text_of(out["msg"])

    assert "grid" in dash_calls.text_of(admin.views.user_form([], [], "zh"))  # offered in the role list
    assert "网格员须填写负责的网格编码" in create(None)
    assert "网格编码不在当前图层中" in create(f"{first} 999999999999")
    assert "A grid code is not in the active layer" in create("431002001", "en")
    assert f"已创建用户 {name}" in create(f"{second}，{first}")
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT role, grid_codes, township_code FROM users WHERE username = %s", (name,)) == (
            "grid", sorted([first, second]), None)
        assert one(conn, "SELECT detail FROM auth_events WHERE username = %s AND event = 'account_created'",
                   (name,))[0] == f"grid {min(first, second)},{max(first, second)}"
    client = dash_app.server.test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    landed = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token[1]})
    assert landed.status_code == 302, landed.text

    with logged_in("admin"):
        shown = dash_calls.triggered_by(cb.show_account, "adm-account.value", name, name, 0)
    assert shown["grids"] == ", ".join(sorted([first, second]))
    assert "网格员须填写负责的网格编码" in save("grid", "")
    assert "已保存" in save("grid", third)
    assert f"{name} 没有变化" in save("grid", third)
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT grid_codes FROM users WHERE username = %s", (name,))[0] == [third]
    assert "已保存" in save("leader", third)  # another role: the grids are dropped
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT role, grid_codes FROM users WHERE username = %s", (name,)) == ("leader", None)
