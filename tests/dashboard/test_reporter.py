"""A 12345 reporter on the incident page and in its Excel export, against the real PostgreSQL: whole for the
command center and the township handling the incident, masked for a leader, an admin and a township it was
transferred from; each unmasked view one row of ``auth_events``, a page that polls no more within the minute.
"""

from __future__ import annotations

import base64
import importlib
import io
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from openpyxl import load_workbook

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from store import audit
from store.audit import AuthEvent
from store.privacy import Reporter
from store.users import township_username
from tests.fix_db import AsRole, one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

REPORTER = Reporter("张三丰", "13900001234")
WHOLE, MASKED = ("张三丰", "13900001234"), ("张**", "139****1234")


@pytest.fixture(scope="module")
def incident_page(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.incident")


@pytest.fixture(scope="module")
def towns(dashboard_dsn: str) -> tuple[str, str, str]:
    """A handles the incident, B had it first, C never did."""
    with psycopg.connect(dashboard_dsn) as conn:
        (codes,), = conn.execute("SELECT (array_agg(code ORDER BY code))[11:13] FROM regions WHERE level = 'township'"
                                 " AND version = (SELECT version FROM boundary_versions WHERE active)").fetchall()
    a, b, c = codes
    return a, b, c


@pytest.fixture
def reported(dashboard_dsn: str, towns: tuple[str, str, str]) -> int:
    """A 12345 ticket's incident, dispatched to township B, then transferred to A (which handles it now)."""
    a, b, _ = towns
    now = datetime.now(UTC) - timedelta(minutes=5)
    with psycopg.connect(dashboard_dsn) as conn:
        lon, lat, district = one(conn, "SELECT label_lon, label_lat, parent_code FROM regions r JOIN"
                                          " boundary_versions v USING (version) WHERE v.active AND code = %s",
                                          (b,))
        incident_id = open_incident(conn, title="路灯不亮", category="hotline", level=3, source_kind="manual",
                                    location=Location(lon, lat, district, b, None, None), now=now, reporter=REPORTER)
        assert incident_id is not None
        act(conn, incident_id, Action.TRANSFER, Actor("zhihui", Role.COMMAND), now, township_code=a,
            note="属地在相邻镇街")
        conn.commit()
    return incident_id


def viewers(towns: tuple[str, str, str]) -> list[tuple[str, tuple[str, str]]]:
    a, b, _ = towns
    return [("zhihui", WHOLE), (township_username(a), WHOLE), ("lingdao", MASKED), ("admin", MASKED),
            (township_username(b), MASKED)]


def views_of(dsn: str, incident_id: int) -> list[tuple[str, str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT username, address, detail FROM auth_events WHERE event = 'pii_viewed'"
                            " AND detail = %s ORDER BY id", (f"incident:{incident_id}",)).fetchall()


def _shows(text: str, shown: tuple[str, str]) -> bool:
    hidden = MASKED if shown == WHOLE else WHOLE
    return all(s in text for s in shown) and not any(h in text for h in hidden)


def test_the_page_shows_the_reporter_whole_only_to_whoever_calls_back(
        incident_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls, towns: tuple[str, str, str],
        reported: int, dashboard_dsn: str) -> None:
    for user, shown in viewers(towns):
        with logged_in(user):
            text = dash_calls.text_of(incident_page.layout(incident_id=str(reported)))
        assert _shows(text, shown), user
        assert ("本次查看已记录" if shown == WHOLE else "已脱敏") in text, user
    with logged_in(township_username(towns[2])):  # never routed there: not even the page
        assert "事件不存在" in dash_calls.text_of(incident_page.layout(incident_id=str(reported)))
    assert [u for u, _, _ in views_of(dashboard_dsn, reported)] == ["zhihui", township_username(towns[0])]


def _export(incident_page: ModuleType, dash_calls: DashCalls, incident_id: int) -> list[tuple[Any, ...]]:
    sent = dash_calls.triggered_by(incident_page.callbacks.export, "incident-export.n_clicks", 1, 1, str(incident_id))
    assert sent["filename"].startswith(f"事件详情{incident_id}_") and sent["filename"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    assert book.sheetnames == ["事件信息", "处置记录"]
    log = list(book["处置记录"].iter_rows(values_only=True))
    assert [r[3] for r in log[4:]] == ["立案", "派遣", "转派"]
    return list(book["事件信息"].iter_rows(values_only=True))


def test_the_excel_export_masks_as_the_page_does(
        incident_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls, towns: tuple[str, str, str],
        reported: int, dashboard_dsn: str) -> None:
    for user, shown in viewers(towns):
        with logged_in(user):
            facts = _export(incident_page, dash_calls, reported)
        about = dict(facts[4:])
        assert facts[0] == (f"#{reported} 路灯不亮", None) and facts[3] == ("项目", "内容")
        assert (about["类别"], about["诉求人"], about["联系电话"]) == ("民生诉求", *shown), user
        assert _shows(repr(facts), shown), user
    with logged_in(township_username(towns[2])), pytest.raises(PreventUpdate):
        _export(incident_page, dash_calls, reported)
    assert views_of(dashboard_dsn, reported) == [  # posted by a browser: its address too
        ("zhihui", "127.0.0.1", f"incident:{reported}"), (township_username(towns[0]), "127.0.0.1",
                                                          f"incident:{reported}")]


def test_one_audit_row_per_user_incident_and_minute(
        incident_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls, towns: tuple[str, str, str],
        reported: int, dashboard_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    now = [minute]
    monkeypatch.setattr(incident_page, "utcnow", lambda: now[0])
    monkeypatch.setattr(incident_page.callbacks, "utcnow", lambda: now[0])

    def poll(user: str, seconds: int) -> None:
        now[0] = minute + timedelta(seconds=seconds)
        with logged_in(user):
            dash_calls.text_of(incident_page.layout(incident_id=str(reported)))

    for seconds in (0, 10, 30, 59):  # a page left open and reloaded, within one minute
        poll("zhihui", seconds)
        poll("lingdao", seconds)  # masked: never a row
    with logged_in("zhihui"):
        _export(incident_page, dash_calls, reported)  # the same minute: the same view
    assert len(views_of(dashboard_dsn, reported)) == 1
    poll("zhihui", 60)
    poll(township_username(towns[0]), 61)
    with psycopg.connect(dashboard_dsn) as conn:
        rows = conn.execute("SELECT username, at FROM auth_events WHERE event = 'pii_viewed' AND detail = %s"
                            " ORDER BY id", (f"incident:{reported}",)).fetchall()
    assert rows == [("zhihui", minute), ("zhihui", minute + timedelta(seconds=60)),
                    (township_username(towns[0]), minute + timedelta(seconds=61))]


def test_the_login_log_still_takes_every_event(dashboard_dsn: str, as_role: AsRole) -> None:
    """Migration 0011 widened the log's event constraint for 'pii_viewed': every other event stays allowed."""
    with psycopg.connect(as_role(dashboard_dsn, "dashboard")) as conn:
        for event in AuthEvent:
            audit.record(conn, datetime.now(UTC), event, username="constraint-check")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO auth_events (at, event) VALUES (now(), 'no_such_event')")
