"""网格员 on the dashboard, as a browser posts it (``dash_calls``: /_dash-update-component in a logged-in session)
against the real database: 巡查上报 from the grid page (the form checked in the user's language, the point
tagged to its grid, refused outside the member's grids), 待受理 on the command desk with a likely duplicate
marked, 受理立案 routing it, 不予立案 with a reason its reporter reads on its page, 核查 on site by the member of
the incident's grid only; and a grid member's crafted posts on another grid's incident or on the desk's
callbacks refused and recorded."""

from __future__ import annotations

import base64
import importlib
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate

from alerts.incidents import Location, act, open_incident, report
from alerts.lifecycle import Action, Actor, Role
from dashboard.auth import GRID_PASSWORD
from store.users import grid_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

PNG = b"\x89PNG\r\n\x1a\n" + bytes(48)
TOWN = "431028101"  # 安平镇 (安仁县): the first township of its district, so its grids have members
G1, G2 = f"{TOWN}001", f"{TOWN}002"
COMMAND = Actor("zhihui", Role.COMMAND)


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"dashboard.pages.{name}") for name in ("grid", "command")}


def _point(dsn: str, code: str) -> tuple[float, float]:
    with psycopg.connect(dsn) as conn:
        lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions JOIN boundary_versions USING (version)"
                             " WHERE active AND code = %s", (code,))
    return float(lon), float(lat)


def _report(dash_calls: DashCalls, grid: ModuleType, *, category: object = "city_management", lon: object,
            lat: object, note: object = "井盖缺失", photos: list[str] | None = None) -> dict[str, object]:
    names = [f"p{n}.png" for n in range(len(photos))] if photos else None
    reply: dict[str, object] = dash_calls.triggered_by(grid.callbacks.submit, "wg-submit.n_clicks", 1, 1, category,
                                                       lon, lat, note, photos, names, 0)
    return reply


def _latest(dsn: str, username: str) -> tuple[int, str, str | None, str | None]:
    with psycopg.connect(dsn) as conn:
        rid, status, grid, township = one(conn, "SELECT id, status, grid_code, township_code FROM incidents"
                                                " WHERE reported_by = %s ORDER BY id DESC LIMIT 1", (username,))
    return int(rid), str(status), grid, township


def test_a_report_waits_on_the_desk_is_accepted_and_routed(dash_calls: DashCalls, logged_in: LoggedIn,
                                                           pages: dict[str, ModuleType], dashboard_dsn: str) -> None:
    grid, command = pages["grid"], pages["command"]
    lon, lat = _point(dashboard_dsn, G1)
    member = grid_username(G1)
    with psycopg.connect(dashboard_dsn) as conn:  # an open incident of the category right there, an hour ago
        earlier = open_incident(conn, title="人行道破损", category="city_management", level=3, source_kind="manual",
                                location=Location(lon + 0.001, lat, TOWN[:6], TOWN, G1, None),
                                now=datetime.now(UTC) - timedelta(hours=1))
        conn.commit()
    photo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    with logged_in(member):
        for bad, said in ((dict(category=None), "请选择类别"), (dict(lon="abc"), "请填写有效的经纬度"),
                          (dict(lat="95"), "请填写有效的经纬度"), (dict(note="  "), "请描述现场情况"),
                          (dict(photos=["data:image/png;base64,bm90IGFuIGltYWdl"]), "照片")):
            args = {"lon": str(lon), "lat": str(lat)} | bad
            reply = _report(dash_calls, grid, **args)
            assert said in dash_calls.text_of(reply["form_msg"]), bad
        other = _point(dashboard_dsn, G2)  # the next grid: not this member's
        reply = _report(dash_calls, grid, lon=str(other[0]), lat=str(other[1]))
        assert "不在您负责的网格内" in dash_calls.text_of(reply["form_msg"])
        with psycopg.connect(dashboard_dsn) as conn:
            assert one(conn, "SELECT count(*) FROM incidents WHERE reported_by = %s", (member,))[0] == 0
        reply = _report(dash_calls, grid, lon=f"{lon:.6f}", lat=f"{lat:.6f}", note="人行道井盖缺失，有行人绊倒风险",
                        photos=[photo])
        assert "巡查上报：操作成功" in dash_calls.text_of(reply["msg"])
    rid, status, grid_code, township = _latest(dashboard_dsn, member)
    assert (status, grid_code, township) == ("reported", G1, TOWN)
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT count(*) FROM incident_attachments WHERE incident_id = %s", (rid,))[0] == 1

    with logged_in("zhihui"):
        queues = dash_calls.triggered_by(command.callbacks.refresh, "cmd-version.data", 1, None, 1, [], None, None)[0]
        card = dash_calls.part(queues, f"cmd-reported-{rid}")
        assert "人行道井盖缺失" in card and member in card and f"疑似重复：#{earlier}" in card
        told = dash_calls.told(command.callbacks.accept, {"type": "cmd-accept", "index": rid}, [1], 0)
        assert "受理立案：操作成功" in told
    with psycopg.connect(dashboard_dsn) as conn:
        status, unit = one(conn, "SELECT status, township_code FROM incidents WHERE id = %s", (rid,))
        actions = [r[0] for r in conn.execute("SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id",
                                              (rid,))]
    assert (status, unit) == ("dispatched", TOWN) and actions[:3] == ["patrol_report", "accept", "dispatch"]


def test_a_declined_report_shows_its_reason_to_its_reporter(dash_calls: DashCalls, logged_in: LoggedIn,
                                                            pages: dict[str, ModuleType], dashboard_dsn: str) -> None:
    grid, command = pages["grid"], pages["command"]
    lon, lat = _point(dashboard_dsn, G2)
    member = grid_username(G2)
    with logged_in(member):
        _report(dash_calls, grid, category="public_safety", lon=str(lon), lat=str(lat), note="路边有人聚集")
    rid = _latest(dashboard_dsn, member)[0]
    with logged_in("zhihui"):
        submit = command.act.submit_act
        refused = dash_calls.triggered_by(submit, "cmd-act-submit.n_clicks", 1, 1, {"id": rid, "action": "decline"},
                                          None, "", None, "", 0)
        assert "请填写" in dash_calls.text_of(refused["form_msg"])  # the reporter is told why: a reason it must be
        done = dash_calls.triggered_by(submit, "cmd-act-submit.n_clicks", 1, 1, {"id": rid, "action": "decline"},
                                       None, "", None, "经核实为正常集市，不予立案", 0)
        assert "不予立案：操作成功" in dash_calls.text_of(done["msg"])
    with logged_in(member):
        lists = dash_calls.triggered_by(grid.callbacks.refresh, "wg-version.data", 1, None, 1, None, None)[0]
        mine = dash_calls.part(lists, f"wg-card-{rid}")
        assert "不予立案" in mine and "经核实为正常集市，不予立案" in mine


def test_the_member_of_its_grid_checks_the_work_on_site(dash_calls: DashCalls, logged_in: LoggedIn,
                                                        pages: dict[str, ModuleType], dashboard_dsn: str) -> None:
    grid = pages["grid"]
    lon, lat = _point(dashboard_dsn, G1)
    staff = Actor("zj" + TOWN, Role.TOWNSHIP, TOWN)
    now = datetime.now(UTC) - timedelta(minutes=30)
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        incident = open_incident(conn, title="垃圾堆放", category="city_management", level=3, source_kind="manual",
                                 location=Location(lon, lat, TOWN[:6], TOWN, G1, None), now=now)
        assert incident is not None
        act(conn, incident, Action.SIGN, staff, now)
        report(conn, incident, Action.FEEDBACK, staff, now, note="已清运", details={"result": "resolved"})
    check = grid.callbacks.submit_check

    def post(button: str, note: str, selected: object = incident) -> dict[str, object]:
        reply: dict[str, object] = dash_calls.triggered_by(check, f"{button}.n_clicks", 1, *(
            (1, None) if button == "wg-check-pass" else (None, 1)), selected, note, None, None, 0)
        return reply

    with logged_in(grid_username(G2)):  # the next grid's member: not its check, whatever it posts
        assert "不在您负责的网格内" in dash_calls.text_of(post("wg-check-pass", "")["form_msg"])
        assert dash_calls.triggered_by(grid.callbacks.show_check, "wg-selected.data", incident, incident)[0] is True
    with logged_in(grid_username(G1)):
        lists = dash_calls.triggered_by(grid.callbacks.refresh, "wg-version.data", 1, None, 1, None, None)[0]
        assert "现场核查" in dash_calls.part(lists, f"wg-card-{incident}")
        assert "请填写" in dash_calls.text_of(post("wg-check-fail", "")["form_msg"])  # 返工 says why
        assert "操作成功" in dash_calls.text_of(post("wg-check-fail", "垃圾未清理干净")["msg"])
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        assert one(conn, "SELECT status, rework_count FROM incidents WHERE id = %s", (incident,)) == ("in_progress", 1)
        report(conn, incident, Action.FEEDBACK, staff, now, note="已再次清运", details={"result": "resolved"})
    with logged_in(grid_username(G1)):
        assert "现场核查通过：操作成功" in dash_calls.text_of(post("wg-check-pass", "已清理干净")["msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,))[0] == "resolved"


def test_a_grid_member_may_not_use_the_desk_and_others_may_not_report(
        dash_calls: DashCalls, logged_in: LoggedIn, pages: dict[str, ModuleType], dashboard_dsn: str) -> None:
    grid, command = pages["grid"], pages["command"]
    lon, lat = _point(dashboard_dsn, G1)
    with logged_in(grid_username(G1)):
        reply = _report(dash_calls, grid, lon=str(lon), lat=str(lat), note="自己受理")
    rid = _latest(dashboard_dsn, grid_username(G1))[0]
    with psycopg.connect(dashboard_dsn) as conn:
        before = one(conn, "SELECT count(*) FROM auth_events WHERE event = 'refused' AND username = %s",
                     (grid_username(G1),))[0]
    with logged_in(grid_username(G1)):
        assert "无权" in dash_calls.told(command.callbacks.accept, {"type": "cmd-accept", "index": rid}, [1], 0)
        with pytest.raises(PreventUpdate):  # the desk's panel does not even open
            dash_calls.clicked(command.act.select_act, {"type": "cmd-open-act", "index": rid, "action": "decline"},
                               [1], None)
    for other in ("zj" + TOWN, "lingdao"):
        with logged_in(other):
            reply = _report(dash_calls, grid, lon=str(lon), lat=str(lat), note="冒充上报")
            assert "无权" in dash_calls.text_of(reply["form_msg"]) or "权限" in dash_calls.text_of(reply["form_msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (rid,))[0] == "reported"
        assert one(conn, "SELECT count(*) FROM incidents WHERE title = '冒充上报'")[0] == 0
        after = one(conn, "SELECT count(*) FROM auth_events WHERE event = 'refused' AND username = %s",
                    (grid_username(G1),))[0]
    assert after > before


def test_a_duplicate_report_is_merged_and_only_its_districts_desk_sees_it(
        dash_calls: DashCalls, logged_in: LoggedIn, pages: dict[str, ModuleType], dashboard_dsn: str) -> None:
    grid, command = pages["grid"], pages["command"]
    lon, lat = _point(dashboard_dsn, G2)
    with psycopg.connect(dashboard_dsn) as conn:
        earlier = open_incident(conn, title="路灯不亮", category="city_management", level=4, source_kind="manual",
                                location=Location(lon, lat + 0.001, TOWN[:6], TOWN, G2, None),
                                now=datetime.now(UTC) - timedelta(minutes=40))
        conn.commit()
    with logged_in(grid_username(G2)):
        _report(dash_calls, grid, lon=str(lon), lat=str(lat), note="这段路灯全部不亮")
    rid = _latest(dashboard_dsn, grid_username(G2))[0]
    for desk, sees in (("qx431002", False), ("qx431028", True)):  # 北湖区's desk; 安仁县's, where it lies
        with logged_in(desk):
            queues = dash_calls.triggered_by(command.callbacks.refresh, "cmd-version.data", 1, None, 1, [], None,
                                             None)[0]
            assert (dash_calls.find(queues, f"cmd-reported-{rid}") is not None) is sees, desk
    with logged_in("qx431002"):
        told = dash_calls.told(command.callbacks.accept, {"type": "cmd-accept", "index": rid}, [1], 0)
        assert "不属于本区县" in told
    with logged_in("qx431028"):
        panel = dash_calls.triggered_by(command.act.show_act_panel, "cmd-act-selected.data",
                                        {"id": rid, "action": "merge"}, {"id": rid, "action": "merge"})
        assert panel["into"] == f"#{earlier}" and panel["into_hidden"] is False  # the likely duplicate, offered
        done = dash_calls.triggered_by(command.act.submit_act, "cmd-act-submit.n_clicks", 1, 1,
                                       {"id": rid, "action": "merge"}, None, panel["into"], None, "同一处路灯故障", 0)
        assert "合并：操作成功" in dash_calls.text_of(done["msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status, merged_into FROM incidents WHERE id = %s", (rid,)) == ("merged", earlier)


def test_a_grid_member_is_served_the_photos_of_its_grids_only(dash_app: dash.Dash, dashboard_dsn: str) -> None:
    lon, lat = _point(dashboard_dsn, G1)
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        incident = open_incident(conn, title="广告牌倾斜", category="city_management", level=3, source_kind="manual",
                                 location=Location(lon, lat, TOWN[:6], TOWN, G1, None), now=datetime.now(UTC))
        assert incident is not None
        photo = one(conn, "INSERT INTO incident_attachments (incident_id, filename, content_type, data, uploaded_at)"
                          " VALUES (%s, 'sign.png', 'image/png', %s, now()) RETURNING id", (incident, PNG))[0]

    def fetch(username: str) -> tuple[int, bytes]:
        client = dash_app.server.test_client()
        form = client.get("/login").get_data(as_text=True)
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        landed = client.post("/login", data={"username": username, "password": GRID_PASSWORD, "csrf": csrf})
        assert landed.status_code == 302
        reply = client.get(f"/attachment/{photo}")
        return reply.status_code, reply.get_data()

    assert fetch(grid_username(G1)) == (200, PNG)  # its grid's
    status, body = fetch(grid_username(G2))  # the next grid's member
    assert status == 404 and PNG not in body


def test_the_grid_page_in_english(dash_calls: DashCalls, logged_in: LoggedIn, pages: dict[str, ModuleType],
                                  dashboard_dsn: str) -> None:
    grid = pages["grid"]
    with logged_in(grid_username(G1), "en"):
        page = dash_calls.text_of(grid.layout())
        assert all(words in page for words in ("Grid patrol", "Report what you see", "City management",
                                               "Use my position", "My reports", "Open incidents in my grids"))
        reply = _report(dash_calls, grid, lon="", lat="", note="x")
        assert "Enter a valid longitude and latitude" in dash_calls.text_of(reply["form_msg"])
