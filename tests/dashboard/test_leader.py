"""The leader cockpit against the real PostgreSQL: rankings and totals from known histories, the
callbacks as a leader, refusals for everyone else, and both Excel exports.

The incidents of this module carry a category of their own, so filtering on it makes
every number exact whatever other modules add to the shared database.
"""

from __future__ import annotations

import base64
import importlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import pandas as pd
import psycopg
import pytest
from openpyxl import load_workbook

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.filters import parse
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

CATEGORY = "rank_test"  # no deadline factor: level 2 gives 30 min to sign, 8 h to finish


@pytest.fixture(scope="module")
def leader(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.leader")


@pytest.fixture(scope="module")
def scene(dashboard_dsn: str) -> dict[str, Any]:
    """Township A: one incident signed on time and closed, one signed late and reworked.
    Township B: one never signed (overdue), one just dispatched (not yet due)."""
    now = datetime.now(UTC)
    t0 = now - timedelta(hours=3)
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(dashboard_dsn) as conn:
        a, b = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 2")]

        def incident(town: str, title: str, at: datetime) -> int:
            lon, lat, district = one(conn, "SELECT label_lon, label_lat, parent_code FROM regions r"
                                              " JOIN boundary_versions v USING (version) WHERE v.active"
                                              " AND code = %s", (town,))
            iid = open_incident(conn, title=f"{title}{tag}", category=CATEGORY, level=2, source_kind="manual",
                                location=Location(lon, lat, district, town, None, None), now=at)
            assert iid is not None
            return iid

        staff_a = Actor(township_username(a), Role.TOWNSHIP, a)
        duty = Actor("zhihui", Role.COMMAND)
        closed = incident(a, "按时签收", t0)
        act(conn, closed, Action.SIGN, staff_a, t0 + timedelta(minutes=10))
        act(conn, closed, Action.FEEDBACK, staff_a, t0 + timedelta(hours=1), note="已处置")
        act(conn, closed, Action.VERIFY, duty, t0 + timedelta(hours=1, minutes=30))
        reworked = incident(a, "超时签收", t0)
        act(conn, reworked, Action.SIGN, staff_a, t0 + timedelta(minutes=45))
        act(conn, reworked, Action.FEEDBACK, staff_a, t0 + timedelta(hours=1), note="已处置")
        act(conn, reworked, Action.REWORK, duty, t0 + timedelta(hours=1, minutes=10), note="照片不清")
        overdue = incident(b, "无人签收", t0)
        fresh = incident(b, "刚刚派遣", now - timedelta(minutes=5))
        conn.commit()
    return {"a": a, "b": b, "closed": closed, "reworked": reworked, "overdue": overdue, "fresh": fresh,
            "tag": tag, "now": now}


def _filters(**kw: Any) -> dict[str, Any]:
    return {"start": None, "end": None, "district": None, "township": None, "category": CATEGORY, "level": None} | kw


def test_ranking_and_totals_follow_the_log(dash_app: dash.Dash, scene: dict[str, Any]) -> None:
    from dashboard.context import EXTENSION

    data = dash_app.server.extensions[EXTENSION]
    now = datetime.now(UTC)
    f = parse(now, category=CATEGORY)
    ranking = data.township_ranking(f, now).set_index("code")
    a, b = ranking.loc[scene["a"]], ranking.loc[scene["b"]]
    # 考核's figures (alerts.assessment): both finish deadlines (t0 + 8 h) are still ahead, so nothing is due
    assert (a["dispatched"], a["signed_on_time"], a["sign_rate"], a["due"], a["closed"], a["close_rate"],
            a["rework_rate"], a["open"], a["overdue"]) == (2, 1, 50.0, 0, 1, 50.0, 50.0, 1, 0)
    assert (b["dispatched"], b["signed_on_time"], b["sign_rate"], b["due"], b["closed"], b["open"],
            b["overdue"]) == (2, 0, 0.0, 0, 0, 2, 1)
    assert pd.isna(a["on_time_rate"]) and pd.isna(b["rework_rate"])
    # score: rates with a denominator, weighted 25/20/10/10 (按期签收, 结案, 未返工, 未退单), out of 100
    assert a["score"] == round(100 * (0.25 * 0.5 + 0.2 * 0.5 + 0.1 * 0.5 + 0.1) / 0.65, 1) and a["band"] == "poor"
    assert b["score"] == round(100 * 0.1 / 0.55, 1)
    assert (a["rank"], b["rank"]) == (1, 2)
    assert len(ranking) >= 100 and ranking.drop([scene["a"], scene["b"]])["sign_rate"].isna().all()
    summary = data.leader_summary(f, now, data.township_ranking(f, now))
    # 按期签收率 as the ranking counts it: 1 of the 4 dispatches signed by its deadline
    assert summary == {"total": 4, "closed": 1, "rework": 1, "overdue": 1, "close_rate": 25.0, "on_time_rate": 25.0}
    assert int(data.daily_counts(f)["n"].sum()) == 4
    overdue, overdue_total = data.overdue_list(f, now)
    assert list(overdue["id"]) == [scene["overdue"]] and overdue_total == 1
    rows, total = data.incident_list(f, now, limit=2)
    assert total == 4 and list(rows["id"]) == [scene["fresh"], scene["overdue"]]  # newest first
    rows, total = data.incident_list(f, now, limit=2, offset=2)  # the second page
    assert total == 4 and list(rows["id"]) == [scene["reworked"], scene["closed"]]
    rows, total = data.incident_list(f, now, limit=2, offset=10)  # past the end: no row, still the count
    assert total == 4 and rows.empty
    only_b = data.township_ranking(parse(now, category=CATEGORY, township=scene["b"]), now)
    assert list(only_b["code"]) == [scene["b"]]


def test_the_cockpit_as_a_leader(leader: ModuleType, logged_in: LoggedIn, scene: dict[str, Any],
                                 dash_calls: DashCalls) -> None:
    with logged_in("lingdao"):
        page = dash_calls.text_of(leader.layout())
        panels = leader.callbacks.update(*_filters().values())
        msg, kpis, trend, overdue, ranking = (panels[k] for k in ("msg", "kpis", "trend", "overdue", "ranking"))
        by_id, count = leader.callbacks.update_list(*_filters().values(), f"#{scene['overdue']}")
        by_title, _ = leader.callbacks.update_list(*_filters().values(), f"按时签收{scene['tag']}")
        days = leader.callbacks.quick_range(7)
    assert "领导驾驶舱" in page and "镇街考核排名" in page and "导出事件清单" in page
    assert msg is None
    assert '"ld-kpi-total"' in dash_calls.text_of(kpis) and "25.0%" in dash_calls.text_of(kpis)
    assert {tr.name for tr in trend.data} == {CATEGORY}
    assert f"无人签收{scene['tag']}" in dash_calls.text_of(overdue)
    assert "50.0%" in dash_calls.text_of(ranking) and "ld-ranking-table" in dash_calls.text_of(ranking)
    assert f"无人签收{scene['tag']}" in dash_calls.text_of(by_id) and "刚刚派遣" not in dash_calls.text_of(by_id)
    assert f"按时签收{scene['tag']}" in dash_calls.text_of(by_title) and "超时签收" not in dash_calls.text_of(by_title)
    assert count == "共 1 条"
    start, end = (datetime.fromisoformat(d) for d in days)
    assert (end - start).days == 6


def test_a_timeline_opens_from_the_list(leader: ModuleType, logged_in: LoggedIn, scene: dict[str, Any],
                                        dash_calls: DashCalls) -> None:
    button = {"type": "ld-open", "index": scene["reworked"], "panel": "list"}
    with logged_in("lingdao"):
        hidden, body = dash_calls.clicked(leader.callbacks.open_timeline, button, [1], 0)
        closed = dash_calls.triggered_by(leader.callbacks.open_timeline, "ld-panel-close.n_clicks", 1, [1], 1,
                                         matched=[{"id": button, "property": "n_clicks", "value": 1}])
    shown = dash_calls.text_of(body)
    assert hidden is False
    for word in ("立案", "派遣", "签收", "处置反馈", "返工", "照片不清", "已反馈 → 处置中", "zhihui"):
        assert word in shown, word
    timeline = dash_calls.find(body, "ld-timeline")["props"]["figure"]  # as sent: JSON
    assert list(timeline["data"][0]["y"]) == ["待分拨", "已分拨", "已签收", "已反馈", "处置中"]
    assert closed == (True, None)


def test_long_panels_turn_pages_instead_of_scrolling(leader: ModuleType, logged_in: LoggedIn,
                                                      scene: dict[str, Any], dash_calls: DashCalls) -> None:
    second = {"type": "pager", "table": "ld-ranking", "to": 2}
    with logged_in("lingdao"):
        page = leader.layout()
        ranking = dash_calls.text_of(dash_calls.find(page, "ld-ranking"))
        turn = leader.callbacks.turn_page
        turned = dash_calls.clicked(turn, second, [], [1], [], *_filters().values(), "")
        past_end = dash_calls.clicked(turn, {**second, "to": 99}, [], [1], [], *_filters().values(), "")
    start = dash_calls.find(page, "ld-start")
    assert start.display_format == "YYYY-MM-DD" and start.month_format == "YYYY年M月"  # not the browser's 10/25/2026
    # 20 rows and the pager, no inner scroll
    assert "第 1/" in ranking and ranking.count('"rank"') == leader.load.PAGE_ROWS
    assert turned[0] is dash.no_update and turned[2] is dash.no_update
    shown = dash_calls.text_of(turned[1])
    assert "第 2/" in shown and shown.count('"rank"') == leader.load.PAGE_ROWS
    last = dash_calls.text_of(past_end[1])  # fewer townships than the page asked for: the last page
    assert '"to":99' not in last and '"disabled":true' in last
    with logged_in(township_username(scene["a"])):
        refused = dash_calls.clicked(leader.callbacks.turn_page, second, [], [1], [], *_filters().values(), "")
    assert "您的角色无权查看此页面" in dash_calls.text_of(refused[1])


@pytest.mark.parametrize("change, text", [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "开始日期不能晚于结束日期"),
    ({"level": "7"}, "等级须为 I–IV 级"),
    ({"township": "x' OR 1=1"}, "所选区域无效"),
])
def test_bad_filters_are_refused_in_the_users_language(leader: ModuleType, logged_in: LoggedIn,
                                                       change: dict[str, Any], text: str,
                                                       dash_calls: DashCalls) -> None:
    with logged_in("lingdao"):
        out = leader.callbacks.update(*_filters(**change).values())
        listed = leader.callbacks.update_list(*_filters(**change).values(), "")
    assert text in dash_calls.text_of(out["msg"])
    kept = [out[k] for k in ("kpis", "trend", "overdue", "ranking")]
    assert all(o is dash.no_update for o in kept) and listed == (dash.no_update, dash.no_update)


def test_exports_are_excel_files_of_the_filtered_rows(leader: ModuleType, logged_in: LoggedIn,
                                                      scene: dict[str, Any], dash_calls: DashCalls) -> None:
    with logged_in("lingdao"):
        listed, _ = dash_calls.triggered_by(leader.callbacks.export, "ld-export-list.n_clicks", 1, 1, 0,
                                            *_filters().values(), "")
        ranked, _ = dash_calls.triggered_by(leader.callbacks.export, "ld-export-ranking.n_clicks", 1, 0, 1,
                                            *_filters().values(), "")
    assert listed["filename"].startswith("事件清单_") and listed["filename"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(base64.b64decode(listed["content"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "事件清单" and "类别：rank_test" in rows[1][0]
    assert rows[4][:3] == ("编号", "事件", "类别")
    assert sorted(r[0] for r in rows[5:]) == sorted([scene["closed"], scene["reworked"], scene["overdue"],
                                                     scene["fresh"]])
    assert isinstance(rows[5][7], datetime)  # a real date cell, in Shanghai wall-clock time
    ranking = list(load_workbook(io.BytesIO(base64.b64decode(ranked["content"]))).active.iter_rows(values_only=True))
    header = ranking.index(next(r for r in ranking if r and r[0] == "排名"))
    assert ranking[header + 1][:9] == (1, *ranking[header + 1][1:3], 57.7, "差", 2, 1, 50.0, 0)


def test_only_leaders_command_and_admin_get_in(leader: ModuleType, logged_in: LoggedIn, scene: dict[str, Any],
                                               dash_calls: DashCalls) -> None:
    for user in ("zhihui", "admin"):
        with logged_in(user):
            assert "镇街考核排名" in dash_calls.text_of(leader.layout())
    with logged_in(township_username(scene["a"])):
        assert "您的角色无权查看此页面" in dash_calls.text_of(leader.layout())
        assert "您的角色无权查看此页面" in dash_calls.text_of(leader.callbacks.update(*_filters().values())["msg"])
        assert "您的角色无权查看此页面" in dash_calls.text_of(leader.callbacks.update_list(*_filters().values(), "")[0])
        _, body = dash_calls.clicked(leader.callbacks.open_timeline,
                                     {"type": "ld-open", "index": scene["closed"], "panel": "list"}, [1], 0)
        assert "按时签收" not in dash_calls.text_of(body)
        download, msg = dash_calls.triggered_by(leader.callbacks.export, "ld-export-list.n_clicks", 1, 1, 0,
                                                *_filters().values(), "")
        assert download is dash.no_update and "您的角色无权" in dash_calls.text_of(msg)
    with logged_in(None):
        assert "请先登录" in dash_calls.text_of(leader.layout())
