"""A district desk's (区县指挥中心) big screen, 考核 and 数据质量 over crafted callback requests, and the admin
page creating a district desk's account: district A's user gets 0 rows of district B whatever the browser
sends (B's views, codes, ids), and the city's desk keeps the whole city.

Every request is posted as a browser posts it (``dash_calls``: the Flask test client of a logged-in user,
its CSRF header, ``/_dash-update-component``) against the session's demo database, where each test's
incidents, warnings, devices and dead letters carry a tag of their own.
"""

from __future__ import annotations

import base64
import importlib
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from openpyxl import load_workbook

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.map.model import LEVELS, T, incident_trace
from store.users import district_username, township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

CATEGORY = "district_screen_test"  # 考核 filtered on it: only this module's incidents are counted
PASSWORD = "Desk-of-the-district-9"


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    """The pages' modules, imported once the app exists (their callbacks register with it)."""
    return SimpleNamespace(**{name: importlib.import_module(f"dashboard.pages.{name}")
                              for name in ("overview", "assessment", "quality", "admin")})


def _townships(conn: psycopg.Connection, district: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT code FROM regions r JOIN boundary_versions v USING (version) WHERE v.active AND r.level = 'township'"
        " AND parent_code = %s ORDER BY code", (district,))]


@pytest.fixture(scope="module")
def scene(dashboard_dsn: str) -> Iterator[dict[str, Any]]:
    """Districts A and B (the last two by code: the other modules use the first townships), each with a red
    incident escalated to its district desk and a signed one of ``CATEGORY`` in its first township, open
    warnings of three levels in A and a red one in B (newest of all), a device and a dead letter of it each."""
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        b, a = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version) WHERE v.active"
            " AND r.level = 'district' ORDER BY code DESC LIMIT 2")][::-1]
        towns = {d: _townships(conn, d) for d in (a, b)}
        names = dict(conn.execute("SELECT code, name FROM regions r JOIN boundary_versions v USING (version)"
                                  " WHERE v.active AND code = ANY(%s)", ([a, b],)).fetchall())

        def incident(district: str, title: str, level: int, category: str) -> int:
            town = towns[district][0]
            lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions r JOIN boundary_versions v"
                                 " USING (version) WHERE v.active AND code = %s", (town,))
            iid = open_incident(conn, title=f"{title}{tag}", category=category, level=level, source_kind="manual",
                                location=Location(lon, lat, district, town, None, None),
                                now=now - timedelta(hours=2))
            assert iid is not None
            return iid

        red = {d: incident(d, f"{label}红色事件", 1, "production_safety") for d, label in ((a, "甲区"), (b, "乙区"))}
        conn.execute("UPDATE incidents SET escalated_to = 'district' WHERE id = ANY(%s)", (list(red.values()),))
        signed = {d: incident(d, f"{label}考核事件", 2, CATEGORY) for d, label in ((a, "甲区"), (b, "乙区"))}
        for d, iid in signed.items():
            act(conn, iid, Action.SIGN, Actor(township_username(towns[d][0]), Role.TOWNSHIP, towns[d][0]),
                now - timedelta(hours=1))
        warnings: dict[str, list[int]] = {a: [], b: []}
        for district, level, minutes_ago in ((a, 3, 1), (a, 1, 30), (a, 2, 10), (b, 1, 0)):
            warnings[district].append(one(conn,
                "INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at, district_code,"
                " township_code) VALUES ('dz', %s, %s, 'open', %s, %s, %s, %s, %s) RETURNING id",
                (f"dz-{tag}-{len(warnings[district])}-{district}", level, f"区县预警{tag}",
                 now - timedelta(minutes=minutes_ago), now - timedelta(minutes=minutes_ago), district,
                 towns[district][0]))[0])
        for district in (a, b):
            device = f"dz-{tag}-{district}"
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code,"
                         " township_code) VALUES (%s, 'gas_detector', 'yj', %s, 113, 25, %s, %s)",
                         (device, device, district, towns[district][0]))
            conn.execute("INSERT INTO dead_letters (topic, payload, reason, received_at) VALUES (%s, '{', 'bad_json',"
                         " %s)", (f"city/chenzhou/telemetry/yj/gas_detector/{device}", now))
        conn.commit()
    yield {"a": a, "b": b, "towns": towns, "names": names, "red": red, "signed": signed, "warnings": warnings,
           "tag": tag, "devices": {d: f"dz-{tag}-{d}" for d in (a, b)}}
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM warnings WHERE rule_id = 'dz'")
        conn.execute("DELETE FROM dead_letters WHERE topic LIKE %s", (f"%/dz-{tag}-%",))
        conn.execute("DELETE FROM devices WHERE device_id LIKE %s", (f"dz-{tag}-%",))
        conn.execute("UPDATE incidents SET escalated_to = NULL WHERE id = ANY(%s)", (list(red.values()),))


def _desks(dsn: str, ids: list[int]) -> set[str]:
    """The districts whose desks these incidents are on."""
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT desk_district FROM incidents WHERE id = ANY(%s)", (ids,))}


def _open_on_desk(dsn: str, district: str | None, escalated: str | None = None) -> int:
    with psycopg.connect(dsn) as conn:
        return int(one(conn, "SELECT count(*) FROM incidents WHERE status NOT IN ('closed', 'merged')"
                             " AND (%(d)s::text IS NULL OR desk_district = %(d)s)"
                             " AND (%(e)s::text IS NULL OR escalated_to = %(e)s)", {"d": district, "e": escalated})[0])


def _marker(dash_calls: DashCalls, page: Any, ids: Any) -> dict[str, Any]:
    found: dict[str, Any] = dash_calls.find(page, ids.MARKER).data
    return found


def _ops(patch: Any) -> dict[tuple[Any, ...], Any]:
    return {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]}


def _incidents_in_figure(fig: dict[str, Any]) -> list[int]:
    return [i for level in LEVELS for i in fig["data"][incident_trace(level)].get("customdata") or []]


def _incidents_in_patch(ops: dict[tuple[Any, ...], Any]) -> list[int]:
    return [i for level in LEVELS for i in ops.get(("data", incident_trace(level), "customdata"), [])]


def _feed(dash_calls: DashCalls, feed: Any) -> list[int]:
    """The warning ids of the feed, top to bottom (a rolling feed's second lap has none)."""
    return [int(i) for i in re.findall(r'"id":"warning-(\d+)"', dash_calls.text_of(feed))]


# -- the big screen --

def test_the_district_screen_opens_on_its_district_with_its_rows_only(
        pages: SimpleNamespace, scene: dict[str, Any], logged_in: LoggedIn, dash_calls: DashCalls,
        dashboard_dsn: str) -> None:
    a, b = scene["a"], scene["b"]
    ids = pages.overview.ids.Ids
    with logged_in(district_username(a)):
        page = pages.overview.layout()
    fig = dash_calls.find(page, ids.MAP).figure
    assert dash_calls.find(page, ids.VIEW).data == {"level": "district", "code": a}  # it opens on its district
    assert fig["data"][T.TOWNSHIP_FILL]["visible"] is True and fig["data"][T.DISTRICT_FILL]["visible"] is False
    assert sorted(fig["data"][T.TOWNSHIP_FILL]["locations"]) == scene["towns"][a]  # A's townships coloured
    assert fig["data"][T.DISTRICT_LINE]["locations"] == [a]
    shown = _incidents_in_figure(fig)
    assert scene["red"][a] in shown and scene["red"][b] not in shown and _desks(dashboard_dsn, shown) == {a}
    kpis = _marker(dash_calls, page, ids)["kpis"]
    assert kpis["open"] == _open_on_desk(dashboard_dsn, a)
    assert kpis["escalated"] == _open_on_desk(dashboard_dsn, a, "district") >= 1  # B's escalation not counted
    assert "升级至本级" in dash_calls.text_of(dash_calls.find(page, ids.KPIS))
    feed = _feed(dash_calls, dash_calls.find(page, ids.WARNINGS))
    assert not set(feed) & set(scene["warnings"][b])  # B's red warning, the newest of all, is not A's
    mine = [w for w in feed if w in scene["warnings"][a]]
    yellow, red, orange = scene["warnings"][a]  # as inserted: the newest first
    assert mine == [red, orange, yellow]  # the highest level first, whatever is newest
    crumb = dash_calls.text_of(dash_calls.find(page, ids.CRUMB))
    assert scene["names"][a] in crumb and scene["names"][b] not in crumb
    with logged_in("zhihui"):  # the city's desk: the whole city, B's red incident and warning included
        city = pages.overview.layout()
    assert dash_calls.find(city, ids.VIEW).data == {"level": "city", "code": None}
    assert scene["red"][b] in _incidents_in_figure(dash_calls.find(city, ids.MAP).figure)
    assert _marker(dash_calls, city, ids)["kpis"]["open"] == _open_on_desk(dashboard_dsn, None)
    assert scene["warnings"][b][0] == _feed(dash_calls, dash_calls.find(city, ids.WARNINGS))[0]


def test_crafted_requests_of_district_a_get_nothing_of_district_b(
        pages: SimpleNamespace, scene: dict[str, Any], logged_in: LoggedIn, dash_calls: DashCalls,
        dashboard_dsn: str) -> None:
    """B's township as the view, a blank marker (everything resent), B's district picked, B's incident clicked."""
    a, b = scene["a"], scene["b"]
    cb, ids = pages.overview.callbacks, pages.overview.ids.Ids
    b_town = {"level": "township", "code": scene["towns"][b][0]}
    b_district = {"level": "district", "code": b}
    click = {"points": [{"curveNumber": incident_trace(1), "customdata": scene["red"][b]}]}
    with logged_in(district_username(a)):
        tick = dash_calls.triggered_by(cb.refresh, f"{ids.TICK}.n_intervals", 1, 1, None, b_town, "open", 1)
        view = dash_calls.triggered_by(cb.show_view, f"{ids.VIEW}.data", b_district, b_district, "warning")
        with pytest.raises(PreventUpdate):  # a drill-down into B, from the city or from A
            dash_calls.triggered_by(cb.navigate, f"{ids.PICK}.value", b, None, 0, b, {"level": "city"})
        with pytest.raises(PreventUpdate):  # no way up from its district
            dash_calls.triggered_by(cb.navigate, f"{ids.BACK}.n_clicks", 1, None, 1, None, {"level": "city"})
        down = dash_calls.triggered_by(cb.navigate, f"{ids.PICK}.value", scene["towns"][a][0], None, 0,
                                       scene["towns"][a][0], b_district)
        clicked = dash_calls.triggered_by(cb.on_click, f"{ids.MAP}.clickData", click, click)
        own = dash_calls.triggered_by(cb.on_click, f"{ids.MAP}.clickData", click, {
            "points": [{"curveNumber": incident_trace(1), "customdata": scene["red"][a]}]})
    ops = _ops(tick["map"])
    sent = _incidents_in_patch(ops)
    assert scene["red"][a] in sent and _desks(dashboard_dsn, sent) == {a}
    assert sorted(ops[("data", int(T.TOWNSHIP_FILL), "locations")]) == scene["towns"][a]  # B's view: A's district
    assert ("data", int(T.GRID_FILL), "locations") not in ops
    feed = _feed(dash_calls, tick["warnings"])
    assert feed and not set(feed) & set(scene["warnings"][b])
    assert tick["marker"]["kpis"]["open"] == _open_on_desk(dashboard_dsn, a)
    view_ops = _ops(view["map"])
    assert sorted(view_ops[("data", int(T.TOWNSHIP_FILL), "locations")]) == scene["towns"][a]
    assert scene["names"][a] in view["crumb"] and scene["names"][b] not in view["crumb"]
    assert [o["value"] for o in view["pick_options"]] == scene["towns"][a] and view["back_hidden"] is True
    assert down == {"level": "township", "code": scene["towns"][a][0]}  # its own townships drill down
    text = dash_calls.text_of(clicked)
    assert "事件不存在" in text and f"乙区红色事件{scene['tag']}" not in text
    assert f"甲区红色事件{scene['tag']}" in dash_calls.text_of(own)


# -- 考核 --

def _ranked_units(dash_calls: DashCalls, table: Any) -> set[str]:
    return set(re.findall(r'"unit":"([0-9]+)"', dash_calls.text_of(table)))


def test_assessment_of_district_a_ranks_its_own_townships_only(
        pages: SimpleNamespace, scene: dict[str, Any], logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    a, b = scene["a"], scene["b"]
    cb = pages.assessment.callbacks
    filters = ("30d", "township", CATEGORY, None)
    b_cell = {"type": "as-cell", "unit": scene["towns"][b][0], "figure": "dispatched", "column": "sign_rate"}
    with logged_in(district_username(a)):
        page = pages.assessment.layout()
        towns = dash_calls.triggered_by(cb.update, "as-period.value", "30d", *filters)
        districts = dash_calls.triggered_by(cb.update, "as-kind.value", "district", "30d", "district", CATEGORY, None)
        departments = dash_calls.triggered_by(cb.update, "as-kind.value", "department", "30d", "department",
                                              CATEGORY, None)
        drill_b = dash_calls.clicked(cb.open_drill, b_cell, [1], *filters)
        book, _ = dash_calls.triggered_by(cb.export, "as-export.n_clicks", 1, 1, 0, None, *filters)
    kinds = dash_calls.find(page, "as-kind").options
    assert [k["value"] for k in kinds] == ["township", "district"]  # the departments are the city's
    assert _ranked_units(dash_calls, towns["table"]) == {scene["towns"][a][0]}  # B's township: not a row
    ranked = dash_calls.text_of(districts["table"])
    assert scene["names"][a] in ranked and scene["names"][b] not in ranked
    assert departments["table"] is dash.no_update and "请选择考核对象" in dash_calls.text_of(departments["msg"])
    assert drill_b["body"] is dash.no_update and "该单位不在当前排名中" in dash_calls.text_of(drill_b["msg"])
    workbook = load_workbook(io.BytesIO(base64.b64decode(book["content"])))
    cells = {str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row if v is not None}
    assert scene["signed"][a] in {int(c) for c in cells if c.isdigit()}
    assert scene["signed"][b] not in {int(c) for c in cells if c.isdigit()}
    with logged_in("lingdao"):  # a leader ranks the whole city: both townships
        city = dash_calls.triggered_by(cb.update, "as-period.value", "30d", *filters)
    assert _ranked_units(dash_calls, city["table"]) == {scene["towns"][a][0], scene["towns"][b][0]}


# -- 数据质量 --

def test_quality_of_district_a_shows_its_devices_and_dead_letters_only(
        pages: SimpleNamespace, scene: dict[str, Any], logged_in: LoggedIn, dash_calls: DashCalls,
        dashboard_dsn: str) -> None:
    a, b = scene["a"], scene["b"]
    cb, ids = pages.quality.callbacks, pages.quality.ids.Ids
    with psycopg.connect(dashboard_dsn) as conn:
        own = int(one(conn, "SELECT count(*) FROM devices WHERE district_code = %s", (a,))[0])
    with logged_in(district_username(a)):
        page = pages.quality.layout()
        body, _ = dash_calls.triggered_by(cb.refresh, f"{ids.TICK}.n_intervals", 1, 1)
        report = dash_calls.triggered_by(cb.download_report, f"{ids.REPORT}.n_clicks", 1, 1, "2026-11")
    for shown in (page, body):
        text = dash_calls.text_of(shown)
        assert scene["devices"][a] in text and scene["devices"][b] not in text  # dead letters: its device's
        online = dash_calls.find(shown, ids.ONLINE_TABLE)
        assert re.search(rf'"children":"{own}","className":"num"', dash_calls.text_of(online)), online
        assert "每日接入统计和数据质量月报按数据源汇总全市" in text
    assert dash_calls.find(page, ids.REPORT) is None  # no monthly report offered
    assert report[0] is dash.no_update and "无权" in dash_calls.text_of(report[1])
    with logged_in("zhihui"):
        city = dash_calls.text_of(pages.quality.layout())
    assert scene["devices"][a] in city and scene["devices"][b] in city


# -- the admin page --

def test_the_admin_creates_a_district_desk_account_that_logs_in_to_its_district(
        pages: SimpleNamespace, scene: dict[str, Any], logged_in: LoggedIn, dash_calls: DashCalls,
        dash_app: dash.Dash, dashboard_dsn: str) -> None:
    a, b = scene["a"], scene["b"]
    cb = pages.admin.callbacks
    name = f"qxdesk_{scene['tag']}"

    def create(district: Any, lang: str = "zh") -> dict[str, Any]:
        with logged_in("admin", lang):
            out: dict[str, Any] = dash_calls.triggered_by(cb.create_user, "adm-submit.n_clicks", 1, 1, name, "区县值班",
                                                          PASSWORD, PASSWORD, "district", None, 0, district, None)
        return out

    try:
        assert "区县指挥中心账号须选择所属区县" in dash_calls.text_of(create(None)["msg"])
        assert "所选区县不在当前图层中" in dash_calls.text_of(create("999999")["msg"])
        assert "That district is not in the active layer" in dash_calls.text_of(create("999999", "en")["msg"])
        assert "所选区县不在当前图层中" in dash_calls.text_of(create(scene["towns"][a][0])["msg"])  # a township
        created = create(a)
        assert f"已创建用户 {name}" in dash_calls.text_of(created["msg"])
        with psycopg.connect(dashboard_dsn) as conn:
            assert one(conn, "SELECT role, district_code, township_code FROM users WHERE username = %s",
                       (name,)) == ("district", a, None)
            assert one(conn, "SELECT detail FROM auth_events WHERE username = %s AND event = 'account_created'",
                       (name,))[0] == f"district {a}"
        client = dash_app.server.test_client()
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        landed = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token[1]})
        assert landed.status_code == 302, landed.text  # logged in (to change the password the admin chose)
        with logged_in(name):
            page = pages.overview.layout()
        assert dash_calls.find(page, pages.overview.ids.Ids.VIEW).data == {"level": "district", "code": a}
        with logged_in("admin"):
            moved = dash_calls.triggered_by(cb.manage, "adm-save.n_clicks", 1, 1, 0, 0, 0, name, "district", None,
                                            None, None, 0, b, None)
            shown = dash_calls.triggered_by(cb.show_account, "adm-account.value", name, name, 0)
        assert "已保存" in dash_calls.text_of(moved["msg"]) and shown["district"] == b
        with psycopg.connect(dashboard_dsn) as conn:
            assert one(conn, "SELECT district_code FROM users WHERE username = %s", (name,))[0] == b
            assert one(conn, "SELECT detail FROM auth_events WHERE username = %s AND event = 'account_changed'",
                       (name,))[0] == f"district {a} → district {b}"
    finally:
        with psycopg.connect(dashboard_dsn) as conn:
            conn.execute("DELETE FROM users WHERE username = %s", (name,))
