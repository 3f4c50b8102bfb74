"""受理时限 on the command desk (issue 18): a grid report nobody accepted in time and escalated to the city shows
its escalation mark on its 待受理 card, as an escalated incident's card does; declined, it leaves the desk."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest

from alerts.incidents import act, patrol_report
from alerts.lifecycle import SYSTEM, Action, Actor, Role
from alerts.locate import locate
from layers.loader import load_active_layers
from store.users import grid_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    return SimpleNamespace(command=importlib.import_module("dashboard.pages.command"))


def test_an_escalated_report_is_marked_on_its_card(pages: SimpleNamespace, logged_in: LoggedIn,
                                                   dash_calls: DashCalls, dashboard_dsn: str) -> None:
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        # a grid of the last district (the session's other modules use the first ones) that has a member
        grid, lon, lat = one(conn, "SELECT g.code, g.label_lon, g.label_lat FROM regions g JOIN boundary_versions b"
                                   " USING (version) JOIN users u ON u.username = 'wg' || g.code WHERE b.active"
                                   " AND g.level = 'grid' ORDER BY g.code DESC LIMIT 1")
        member = Actor(grid_username(grid), Role.GRID, grids=(grid,))
        rid = patrol_report(conn, actor=member, category="city_management", note="路灯杆倾斜", now=NOW,
                            location=locate(float(lon), float(lat), load_active_layers(conn)))
        act(conn, rid, Action.REMIND, SYSTEM, NOW + timedelta(hours=1), note="待受理超时，催办受理",
            details={"tier": 1, "to": "desk"}, source="system")
        act(conn, rid, Action.ESCALATE, SYSTEM, NOW + timedelta(hours=1), note="待受理超时，升级至市指挥中心",
            details={"tier": 2, "to": "city"}, source="system")
    try:
        with logged_in("zhihui"):
            card = dash_calls.part(pages.command.layout(), f"cmd-reported-{rid}")
        assert "已升级至市指挥中心" in card and "路灯杆倾斜" in card
    finally:
        with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
            act(conn, rid, Action.DECLINE, Actor("zhihui", Role.COMMAND), NOW + timedelta(hours=1), note="测试结束")
    with logged_in("zhihui"):
        assert f"cmd-reported-{rid}" not in dash_calls.text_of(pages.command.layout())
