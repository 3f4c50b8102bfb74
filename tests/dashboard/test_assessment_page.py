"""The 考核 page against the real PostgreSQL: figures from a history written through the lifecycle, read back
from the page's callback, from the list behind a figure and from the Excel file; refused for township staff.

The incidents carry a category of their own, so filtering on it makes every number exact whatever other
modules add to the shared database. Level 2 without a category factor: 30 min to sign, 8 h to finish.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from openpyxl import load_workbook

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

CATEGORY = "assess_test"


@pytest.fixture(scope="module")
def assessment(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.assessment")


@pytest.fixture(scope="module")
def scene(dashboard_dsn: str) -> dict[str, Any]:
    """A: one signed in 10 min and closed on time, one signed late (45 min) and 返工 then closed late (9 h).
    B: one 退单 at once. All two days ago."""
    t0 = datetime.now(UTC) - timedelta(days=2)
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(dashboard_dsn) as conn:
        a, b = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code OFFSET 30 LIMIT 2")]

        def incident(town: str, title: str) -> int:
            lon, lat, district = one(conn, "SELECT label_lon, label_lat, parent_code FROM regions r"
                                           " JOIN boundary_versions v USING (version) WHERE v.active"
                                           " AND code = %s", (town,))
            iid = open_incident(conn, title=f"{title}{tag}", category=CATEGORY, level=2, source_kind="manual",
                                location=Location(lon, lat, district, town, None, None), now=t0)
            assert iid is not None
            return iid

        staff_a, staff_b = (Actor(township_username(t), Role.TOWNSHIP, t) for t in (a, b))
        duty = Actor("zhihui", Role.COMMAND)
        good = incident(a, "按期办结")
        act(conn, good, Action.SIGN, staff_a, t0 + timedelta(minutes=10))
        act(conn, good, Action.FEEDBACK, staff_a, t0 + timedelta(hours=2), note="已处置")
        act(conn, good, Action.VERIFY, duty, t0 + timedelta(hours=3))
        late = incident(a, "超期办结")
        act(conn, late, Action.SIGN, staff_a, t0 + timedelta(minutes=45))
        act(conn, late, Action.FEEDBACK, staff_a, t0 + timedelta(hours=1), note="已处置")
        act(conn, late, Action.REWORK, duty, t0 + timedelta(hours=2), note="照片不清")
        act(conn, late, Action.FEEDBACK, staff_a, t0 + timedelta(hours=9), note="已重新处置")
        act(conn, late, Action.VERIFY, duty, t0 + timedelta(hours=10))
        returned = incident(b, "退单")
        act(conn, returned, Action.RETURN, staff_b, t0 + timedelta(minutes=5), note="不属本镇")
        conn.commit()
    return {"a": a, "b": b, "good": good, "late": late, "returned": returned, "tag": tag}


def test_the_figures_read_back_from_the_callback(assessment: ModuleType, scene: dict[str, Any],
                                                  logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    a, b = scene["a"], scene["b"]
    with logged_in("lingdao"):
        out = dash_calls.triggered_by(assessment.callbacks.update, "as-period.value", "30d", "30d", "township",
                                      CATEGORY, None)
    table = dash_calls.text_of(out["table"])
    assert out["msg"] is None and out["drill_hidden"] is True
    with logged_in("lingdao"):
        from dashboard.context import get_data

        q = assessment.load.Query("30d", "township", CATEGORY, None)
        rows = {r.figures.unit: r for r in assessment.load.assess(get_data(), q, datetime.now(UTC)).rows}
    fa, fb = rows[a].figures, rows[b].figures
    assert (fa.dispatched, fa.signed_on_time, fa.due, fa.handled_on_time, fa.closed) == (2, 1, 2, 1, 2)
    assert (fa.decided, fa.reworked) == (2, 1) and fa.handle_minutes == (120.0, 540.0)
    assert (fb.dispatched, fb.returned, fb.due, fb.closed) == (1, 1, 0, 0)
    assert rows[a].rank == 1 and rows[b].rank == 2
    for shown in ("50.0%", "100.0%", "0.0%"):  # A signed and closed on time 1 of 2, closed 2 of 2; B closed 0
        assert shown in table
    assert "按期结案率" in table and "应结案数为办结时限落在本期的件数" in table  # the definition as the tooltip


def test_a_figure_opens_the_incidents_behind_it_and_exports_them(assessment: ModuleType, scene: dict[str, Any],
                                                                 logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    cell = {"type": "as-cell", "unit": scene["a"], "figure": "due", "column": "on_time_rate"}
    filters = ("30d", "township", CATEGORY, None)
    with logged_in("lingdao"):
        out = dash_calls.clicked(assessment.callbacks.open_drill, cell, [1], *filters)
        body = dash_calls.text_of(out["body"])
        assert out["hidden"] is False and out["chosen"] == {"unit": scene["a"], "figure": "due"}
        assert f"按期办结{scene['tag']}" in body and f"超期办结{scene['tag']}" in body
        assert f"退单{scene['tag']}" not in body
        sent, msg = dash_calls.triggered_by(assessment.callbacks.export, "as-export-drill.n_clicks", 1, 0, 1,
                                            out["chosen"], *filters)
        full, _ = dash_calls.triggered_by(assessment.callbacks.export, "as-export.n_clicks", 1, 1, 0, None, *filters)
    assert msg is None
    drill = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    assert drill.sheetnames == ["事件明细"]
    rows = list(drill.active.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "单位")
    listed = rows[header + 1:]
    assert sorted(r[1] for r in listed) == sorted([scene["good"], scene["late"]])
    assert all(isinstance(r[4], datetime) for r in listed)  # 派遣时间 is a date cell, not text
    book = load_workbook(io.BytesIO(base64.b64decode(full["content"])))
    assert book.sheetnames == ["考核排名", "事件明细"]
    ranking = list(book["考核排名"].iter_rows(values_only=True))
    top = ranking[next(i for i, r in enumerate(ranking) if r and r[0] == "排名") + 1]
    assert top[0] == 1 and top[5] == 0.5 and top[6] == 0.5  # rank; 按期签收率, 按期结案率 as numbers
    assert book["考核排名"].freeze_panes is not None


@pytest.mark.parametrize("user", [None, "township"])
def test_township_staff_and_strangers_are_refused(assessment: ModuleType, scene: dict[str, Any],
                                                  logged_in: LoggedIn, dash_calls: DashCalls,
                                                  user: str | None) -> None:
    who = township_username(scene["a"]) if user == "township" else None
    with logged_in(who):
        try:
            out = dash_calls.triggered_by(assessment.callbacks.update, "as-period.value", "30d", "30d", "township",
                                          CATEGORY, None)
        except PermissionError:
            assert who is None  # nobody logged in: the gate refuses before any callback
            return
    assert out["table"] is dash.no_update and "无权" in dash_calls.text_of(out["msg"])


def test_a_period_not_offered_is_refused_in_chinese(assessment: ModuleType, logged_in: LoggedIn,
                                                    dash_calls: DashCalls) -> None:
    with logged_in("lingdao"):
        out = dash_calls.triggered_by(assessment.callbacks.update, "as-period.value", "1999-01", "1999-01", "township",
                                      None, None)
    assert "请选择列出的考核期" in dash_calls.text_of(out["msg"])


def _ids(tree: Any) -> list[str]:
    """Every component id in a component tree (as JSON), pattern-matching ones as their JSON text."""
    found: list[str] = []
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if "id" in props:
            found.append(json.dumps(props["id"], sort_keys=True))
        for value in props.values():
            found += _ids(value)
    elif isinstance(tree, list):
        for item in tree:
            found += _ids(item)
    return found


@pytest.mark.parametrize(("path", "user"), [
    *((path, user) for path in ("/assessment", "/leader", "/command", "/quality", "/")
      for user in ("lingdao", "zhihui")),
    ("/admin", "admin"), ("/township", "zj431002001")])
def test_no_two_components_of_a_page_share_an_id(path: str, user: str, dash_app: dash.Dash, scene: dict[str, Any],
                                                 logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    """Dash routes a click by id: two buttons with one id (the 考核 table had them) make clicks go nowhere."""
    page = dash.page_registry[next(k for k, v in dash.page_registry.items() if v["path"] == path)]
    with logged_in(user):
        tree = json.loads(dash_calls.text_of(page["layout"]()))
    ids = _ids(tree)
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
