"""应急响应 on the pages (issue 12): who sees which level where (pure), the command desk's form validated in the
user's language and refused to other roles on the server, and the banner of the big screen, the township desk
and the command desk re-read by its own timer, as the session's users call them against PostgreSQL."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate

from alerts.directives import Response
from alerts.lifecycle import Role
from dashboard import response_level
from dashboard.actions import InvalidInput
from dashboard.response_level import CITY, RIds, in_force, parse_level, scope_of
from store.users import township_username

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def _r(district: str | None, level: int) -> Response:
    return Response(district, level, "", "zhihui", NOW, 1)


def test_where_a_user_works() -> None:
    assert scope_of(Role.COMMAND, None, None) is None and scope_of(Role.LEADER, None, None) is None
    assert scope_of(Role.DISTRICT, None, "430302") == "430302"
    assert scope_of(Role.TOWNSHIP, "430302001", None) == "430302"
    assert scope_of(Role.DEPARTMENT, "dept-gaj", None) is None  # a city department: the city's
    assert scope_of(Role.GRID, None, None, ("430302001004",)) == "430302"


def test_what_each_screen_shows() -> None:
    found = {"430304": _r("430304", 3), None: _r(None, 4), "430302": _r("430302", 2)}
    assert in_force(found, None) == [_r(None, 4), _r("430302", 2), _r("430304", 3)]  # the city first
    assert in_force(found, "430302") == [_r("430302", 2)]
    assert in_force(found, "430321") == [_r(None, 4)]
    assert in_force({}, "430302") == [] and in_force({}, None) == []


@pytest.mark.parametrize("raw", [1, "4", " 2 "])
def test_a_level_as_the_form_sends_it(raw: object) -> None:
    assert parse_level(raw) in (1, 2, 4)


@pytest.mark.parametrize("raw", [None, 0, 5, "Ⅳ", "1.0", True, [1]])
def test_a_level_that_is_none(raw: object) -> None:
    with pytest.raises(InvalidInput):
        parse_level(raw)


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    return SimpleNamespace(command=importlib.import_module("dashboard.pages.command"),
                           township=importlib.import_module("dashboard.pages.township"),
                           overview=importlib.import_module("dashboard.pages.overview"),
                           grid=importlib.import_module("dashboard.pages.grid"))


def _districts(dsn: str) -> list[tuple[str, str, str]]:
    """(district, its name, its first township) of the active layer, the last districts first: the session's
    other modules use the first ones."""
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT d.code, d.name, min(t.code) FROM regions d JOIN boundary_versions b USING (version)"
            " JOIN regions t ON t.version = d.version AND t.level = 'township' AND t.parent_code = d.code"
            " WHERE b.active AND d.level = 'district' GROUP BY d.code, d.name ORDER BY d.code DESC")]


def test_declared_from_the_desk_shown_where_it_is_in_force_and_lifted(
        pages: SimpleNamespace, logged_in: LoggedIn, dash_calls: DashCalls, dashboard_dsn: str) -> None:
    (district, name, township), (_, _, elsewhere) = _districts(dashboard_dsn)[:2]
    declare = pages.command.directives.declare_response

    def press(button: RIds, scope: object, level: object, note: object = "") -> str:
        sent = dash_calls.triggered_by(declare, f"{button}.n_clicks", 1, *((1, 0) if button is RIds.DECLARE
                                                                            else (0, 1)), scope, level, note, 0)
        return dash_calls.text_of(sent["msg"])

    with logged_in("zhihui"):
        assert "response-declare" in dash_calls.text_of(pages.command.layout())
        assert "请选择响应级别" in press(RIds.DECLARE, district, None)
        assert "所选区县不在当前图层中" in press(RIds.DECLARE, "999999", 3)
        assert "所选区县不在当前图层中" in press(RIds.DECLARE, [district], 3)  # whatever the browser sends
        assert "说明不能超过 500 字" in press(RIds.DECLARE, district, 3, "长" * 501)
        assert "当前没有可解除的应急响应" in press(RIds.LIFT, district, None)
        told = press(RIds.DECLARE, district, 3, "强降雨")
        assert f"{name}：Ⅲ级" in told and "已发送至" in told
        assert "已在执行此级别" in press(RIds.DECLARE, district, "3")
    with logged_in("zhihui", "en"):
        assert "That level is in force there already" in press(RIds.DECLARE, district, 3)
    for other in ("lingdao", "admin", township_username(township)):  # refused on the server, nothing sent
        with logged_in(other):
            assert "无权" in press(RIds.DECLARE, CITY, 1)
    with psycopg.connect(dashboard_dsn) as conn:
        assert conn.execute("SELECT district_code, level FROM response_levels").fetchall() == [(district, 3)]

    with logged_in(township_username(township)):  # its district's level, on the township desk: in its queue's tick
        page = dash_calls.text_of(pages.township.layout())
        assert "response-banner" in page and "response-tick" not in page  # no second timer on a phone
        tick = pages.township.callbacks.refresh
        *_, children, hidden, shown = dash_calls.triggered_by(tick, "tw-tick.n_intervals", 1, 1, 0, 0, None, None,
                                                              None)
        assert not hidden and f"{name} Ⅲ级应急响应" in dash_calls.text_of(children)
        _, marker, _, pending, *_ = dash_calls.triggered_by(tick, "tw-tick.n_intervals", 1, 1, 0, 0, None, None,
                                                            shown)
        with pytest.raises(PreventUpdate):  # unchanged: nothing sent
            dash_calls.triggered_by(tick, "tw-tick.n_intervals", 2, 2, 0, 0, marker, pending, shown)
    with psycopg.connect(dashboard_dsn) as conn:  # a grid member of the district, on its phone page too
        member = conn.execute("SELECT username FROM users WHERE role = 'grid' AND left(grid_codes[1], 6) = %s"
                              " ORDER BY username LIMIT 1", (district,)).fetchone()
    assert member is not None
    with logged_in(member[0]):
        page = dash_calls.text_of(pages.grid.layout())
        assert "response-banner" in page and "response-tick" not in page
        *_, children, hidden, _ = dash_calls.triggered_by(pages.grid.callbacks.refresh, "wg-tick.n_intervals", 1, 1,
                                                          0, None, None)
        assert not hidden and f"{name} Ⅲ级应急响应" in dash_calls.text_of(children)
    with logged_in(township_username(elsewhere)):  # another district: none
        children, hidden, _ = response_level.refresh(1, None)
        assert hidden and children == []
    with logged_in("zhihui", "en"):  # the city's screen lists each district's own
        assert "response-banner" in dash_calls.text_of(pages.overview.layout())
        children, hidden, _ = response_level.refresh(1, None)
        assert not hidden and f"{name}: Level III emergency response" in dash_calls.text_of(children)

    with logged_in("zhihui"):
        assert "解除应急响应" in press(RIds.LIFT, district, None)
    with logged_in(township_username(township)):
        _, hidden, _ = response_level.refresh(1, None)
        assert hidden
