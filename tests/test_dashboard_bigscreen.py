"""The big screen's callbacks against the real PostgreSQL: a refresh sends only what changed,
drill-down moves between views, and nobody but the command center, leaders and admins gets anything."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from plotly.io.json import to_json_plotly

from alerts.incidents import Location, open_incident
from dashboard import bigmap
from dashboard.auth import township_username
from dashboard.bigmap import T

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


@pytest.fixture(scope="module")
def overview(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.overview")


@pytest.fixture(scope="module")
def town(dashboard_dsn: str) -> tuple[str, str]:
    with psycopg.connect(dashboard_dsn) as conn:
        row = conn.execute("SELECT code, parent_code FROM regions r JOIN boundary_versions v USING (version)"
                           " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1").fetchone()
    assert row is not None
    return row[0], row[1]


def _incident(dsn: str, township: str, title: str, level: int) -> int:
    with psycopg.connect(dsn) as conn:
        lon, lat, district = conn.execute("SELECT label_lon, label_lat, parent_code FROM regions r JOIN"
                                          " boundary_versions v USING (version) WHERE v.active AND code = %s",
                                          (township,)).fetchone()  # type: ignore[misc]
        iid = open_incident(conn, title=title, category="flood", level=level, source_kind="manual",
                            location=Location(lon, lat, district, township, None, None),
                            now=datetime.now(UTC) - timedelta(minutes=1))
        conn.commit()
    assert iid is not None
    return iid


def _state(page: Any, dash_calls: DashCalls, ids: Any) -> dict[str, Any]:
    return dash_calls.find(page, ids.MARKER).data


def _payload(outputs: tuple[Any, ...]) -> int:
    """Bytes of the refresh response as Dash would send it (outputs left unchanged are not sent)."""
    sent = [o for o in outputs if o is not dash.no_update]
    return len(to_json_plotly(sent).encode())


def test_the_first_picture_and_an_idle_refresh(overview: ModuleType, logged_in: LoggedIn,
                                               dash_calls: DashCalls) -> None:
    with logged_in("zhihui"):
        page = overview.layout()
        state = _state(page, dash_calls, overview.Ids)
        idle = overview.refresh(1, state, bigmap.CITY, "open", 1)
    fig = dash_calls.find(page, overview.Ids.MAP).figure
    assert len(fig.data) == len(T) and fig.layout.map.style == "/assets/map-dark.json"
    assert fig.data[T.DISTRICT_FILL].geojson.endswith("/district.geojson")
    assert len(fig.data[T.DISTRICT_FILL].locations) == 11  # 郴州's districts coloured at city level
    assert {"inc1", "inc4", "area", "warnings", "trend", "kpis", "devices", "vehicles", "heat"} <= set(state["fp"])
    text = dash_calls.text_of(page)
    for word in ("今日新增", "超时", "今日按时签收率", "设备在线率", "最新预警", "近 24 小时新增事件", "危货车辆",
                 "热线热力"):
        assert word in text, word
    assert idle[:4] == (dash.no_update,) * 4  # nothing changed: only the clock and the small state move
    assert _payload(idle) < 2_000


def test_a_new_red_incident_patches_its_own_points_only(overview: ModuleType, logged_in: LoggedIn, town: tuple,
                                                        dashboard_dsn: str, dash_calls: DashCalls) -> None:
    with logged_in("zhihui"):
        state = _state(overview.layout(), dash_calls, overview.Ids)
        incident_id = _incident(dashboard_dsn, town[0], "新的红色事件", level=1)
        changed = overview.refresh(2, state, bigmap.CITY, "open", 1)
    patch, kpis, _, _, new_state, _ = changed
    ops = patch.to_plotly_json()["operations"]
    touched = {op["location"][1] for op in ops}
    assert touched == {int(T.INCIDENT_1), int(T.DISTRICT_FILL)}  # the red points and the area counts; no boundary
    red = next(op for op in ops if op["location"] == ["data", int(T.INCIDENT_1), "customdata"])
    assert incident_id in red["params"]["value"]
    assert "今日新增" in dash_calls.text_of(kpis) and new_state["fp"]["inc1"] != state["fp"]["inc1"]
    assert new_state["fp"]["inc3"] == state["fp"]["inc3"]
    assert _payload(changed) < 30_000
    with logged_in("zhihui"):
        assert overview.refresh(3, new_state, bigmap.CITY, "open", 1)[0] is dash.no_update  # sent once only


def test_live_layers_follow_the_devices(overview: ModuleType, logged_in: LoggedIn, town: tuple, dashboard_dsn: str,
                                        dash_calls: DashCalls) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        lon, lat = conn.execute("SELECT label_lon, label_lat FROM regions WHERE code = %s", (town[0],)).fetchone()  # type: ignore[misc]
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, township_code)"
                     " VALUES ('bs-truck', 'hazmat_vehicle', 'jt', '测试危货车', %s, %s, %s)"
                     " ON CONFLICT DO NOTHING", (lon, lat, town[0]))
        conn.execute("INSERT INTO device_status (device_id, last_seen, online) VALUES ('bs-truck', %s, true)"
                     " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen", (now,))
        conn.commit()
    with logged_in("zhihui"):
        state = _state(overview.layout(), dash_calls, overview.Ids)
        with psycopg.connect(dashboard_dsn) as conn:
            for metric, value in (("lon", lon + 0.01), ("lat", lat), ("speed_kmh", 62.0)):
                conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'bs-truck', %s, %s)",
                             (now, metric, value))
            conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = 'bs-truck'",
                         (now - timedelta(hours=1),))
            conn.commit()
        moved = overview.refresh(4, {**state, "live_at": 0}, bigmap.CITY, "open", 1)
    ops = moved[0].to_plotly_json()["operations"]
    by_place = {tuple(op["location"]): op["params"]["value"] for op in ops}
    assert by_place[("data", int(T.VEHICLES), "lon")] == [round(lon + 0.01, 5)]
    assert "62 km/h" in by_place[("data", int(T.VEHICLES), "text")][0]
    assert 0 in by_place[("data", int(T.DEVICES), "marker", "color")]  # silent for an hour: offline
    assert "设备在线率" in dash_calls.text_of(moved[1])


def test_drill_down_and_back(overview: ModuleType, logged_in: LoggedIn, town: tuple,
                             dash_calls: DashCalls) -> None:
    code, district = town
    click = {"points": [{"curveNumber": int(T.DISTRICT_FILL), "location": district}]}
    with logged_in("lingdao"):
        view = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.MAP}.clickData", click, click, 0, None,
                                       bigmap.CITY)
        assert view == {"level": "district", "code": district}
        patch, fit, crumb, back_hidden, options, _, placeholder, _ = dash_calls.triggered_by(
            overview.show_view, f"{overview.Ids.VIEW}.data", view, view, "open")
        down = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.PICK}.value", code, None, 0, code, view)
        up = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.BACK}.n_clicks", 1, None, 1, None, down)
        with pytest.raises(PreventUpdate):  # a township that is not in this district
            dash_calls.triggered_by(overview.navigate, f"{overview.Ids.PICK}.value", "999999999", None, 0,
                                    "999999999", view)
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]}
    assert ops[("data", int(T.TOWNSHIP_FILL), "visible")] is True
    assert ops[("data", int(T.DISTRICT_FILL), "visible")] is False
    assert code in ops[("data", int(T.TOWNSHIP_FILL), "locations")]
    assert fit["bounds"] is not None and back_hidden is False and placeholder == "选择镇街"
    assert "›" in crumb and code in [o["value"] for o in options]
    assert down == {"level": "township", "code": code} and up == view


def test_township_staff_get_nothing(overview: ModuleType, logged_in: LoggedIn, town: tuple,
                                    dash_calls: DashCalls) -> None:
    with logged_in(township_username(town[0])):
        assert "您的角色无权查看此页面" in dash_calls.text_of(overview.layout())
        for call in (lambda: overview.refresh(1, None, None, "open", 1),
                     lambda: overview.show_view(bigmap.CITY, "open"), lambda: overview.rescale(2),
                     lambda: overview.on_click({"points": [{"curveNumber": int(T.INCIDENT_1), "customdata": 1}]})):
            with pytest.raises(PreventUpdate):
                call()


def test_refresh_survives_a_forged_state(overview: ModuleType, logged_in: LoggedIn) -> None:
    with logged_in("zhihui"):
        out = overview.refresh(1, {"fp": "junk", "live_at": "x"}, {"level": "district", "code": "'; DROP"}, "x", 9)
    assert out[0] is not dash.no_update  # everything resent, nothing trusted
    json.dumps(out[4])
