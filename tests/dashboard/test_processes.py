"""The admin page's process list: from the heartbeat rows, with their states and measures, for admins only."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate

from cityops.heartbeat import beat
from cityops.probe import Readiness
from tests.fix_db import AsRole

if TYPE_CHECKING:
    from dashboard.pages.admin.processes import ProcessRow
    from tests.fix_browser import DashCalls, LoggedIn

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def proc(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.admin.processes")  # a page package: after the app exists


def row(component: str, *, age_s: float, ready: bool = True, **detail: object) -> ProcessRow:
    from dashboard.pages.admin.processes import ProcessRow

    return ProcessRow(component, f"{component}-x", "vm", 42, NOW - timedelta(hours=1), NOW - timedelta(seconds=age_s),
                      ready, {"ready": ready, **detail})


def test_states_by_readiness_and_the_age_of_the_last_beat(proc: ModuleType) -> None:
    state, ProcessState = proc.state, proc.ProcessState
    assert state(row("ingest", age_s=4), NOW) is ProcessState.RUNNING
    assert state(row("ingest", age_s=4, ready=False), NOW) is ProcessState.NOT_READY
    assert state(row("ingest", age_s=16), NOW) is ProcessState.SILENT  # three beats missed
    assert state(row("ingest", age_s=16, ready=False), NOW) is ProcessState.SILENT
    assert (proc.ago(59, "zh"), proc.ago(1329, "zh"), proc.ago(7300, "en")) == ("59 秒前", "22分前", "2 h 1 min ago")


def test_measures_say_what_fails_first_in_the_users_language(proc: ModuleType) -> None:
    measures = proc.measures
    down = row("ingest", age_s=1, ready=False, checks={"database": False, "broker": True}, lag_s=12.34, buffered=5200)
    assert measures(down, "zh") == "无法连接：数据库；入库延迟 12.3 秒，待入库 5,200 条"
    assert measures(down, "en") == "Cannot reach: database; Ingest lag 12.3 s, 5,200 waiting"
    standby = row("alerts", age_s=1, checks={"database": True, "broker": True}, leader=False, evaluation_lag_s=0.2)
    assert measures(standby, "zh") == "备用，评估延迟 0.2 秒"
    assert measures(row("alerts", age_s=1, leader=True, evaluation_lag_s=None), "en") == "Active, evaluation lag —"


@pytest.fixture
def beats(dashboard_dsn: str, as_role: AsRole) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM process_heartbeats")
    for role, name, ready, detail, age in (
            ("ingest", "cityops-ingest-1", True, {"lag_s": 0.3, "buffered": 12}, 2),
            ("alerts", "alerts-1", True, {"leader": True, "evaluation_lag_s": 0.1}, 1),
            ("alerts", "alerts-2", True, {"leader": False, "evaluation_lag_s": 0.1}, 60),  # died a minute ago
            ("ingest", "cityops-ingest-old", True, {}, 2 * 86400)):  # gone for two days: not listed
        with psycopg.connect(as_role(dashboard_dsn, role), autocommit=True) as conn:
            beat(conn, role, name, now - timedelta(hours=2),
                 Readiness({"database": ready, "broker": ready}, detail), now - timedelta(seconds=age))


def test_the_admin_sees_every_process_and_others_are_refused(beats: None, dash_app: dash.Dash, logged_in: LoggedIn,
                                                             dash_calls: DashCalls) -> None:
    callbacks = importlib.import_module("dashboard.pages.admin.callbacks")
    with logged_in("admin"):
        shown = dash_calls.text_of(dash_calls.triggered_by(callbacks.refresh_processes,
                                                           "adm-process-tick.n_intervals", 1, 1))
    assert "cityops-ingest-1" in shown and "入库延迟 0.3 秒，待入库 12 条" in shown
    assert "主用，评估延迟 0.1 秒" in shown and "alerts-2" in shown and "无心跳" in shown
    assert "cityops-ingest-old" not in shown
    assert json.loads(shown)  # a component tree, not an error text
    for user in ("zhihui", "lingdao"):
        with logged_in(user), pytest.raises(PreventUpdate):
            dash_calls.triggered_by(callbacks.refresh_processes, "adm-process-tick.n_intervals", 1, 1)
