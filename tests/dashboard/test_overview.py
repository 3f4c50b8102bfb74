"""The big screen against real databases: its new area reads on both schema flavours (plain
PostgreSQL and TimescaleDB in PGlite), the first picture, refreshes that send only what changed,
the area layer chosen on the map, drill-down, and nobody but the command center, leaders and
admins gets anything."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from plotly.io.json import to_json_plotly

from alerts.incidents import Location, open_incident
from dashboard.data import Data
from dashboard.map.model import CITY, T
from store.db import make_pool
from store.users import township_username
from tests.fix_db import migrated_timescale, one
from tests.fix_system import new_database

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

NOW = datetime.now(UTC).replace(microsecond=0)
# Two districts, three townships, one grid each; codes need no regions for these reads.
D1, D2 = "431002", "431003"
A, B, C = f"{D1}001", f"{D1}002", f"{D2}001"


@pytest.fixture(scope="module")
def overview(dash_app: dash.Dash) -> SimpleNamespace:
    """The page as these tests use it: its layout, ids and callbacks (imported once the app exists)."""
    page = importlib.import_module("dashboard.pages.overview")
    return SimpleNamespace(layout=page.layout, Ids=page.ids.Ids, refresh=page.callbacks.refresh,
                           show_view=page.callbacks.show_view, navigate=page.callbacks.navigate,
                           on_click=page.callbacks.on_click)


@pytest.fixture(scope="module", autouse=True)
def leave_no_trace(dashboard_dsn: str) -> Iterator[None]:
    """The warnings and devices these tests add leave with them (the database is the session's)."""
    yield
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM warnings WHERE subject LIKE 'roll-%' OR subject LIKE 'ov-%'")
        for table in ("telemetry", "device_status", "devices"):
            conn.execute(f"DELETE FROM {table} WHERE device_id LIKE 'ov-%'")


@pytest.fixture(scope="module")
def town(dashboard_dsn: str) -> tuple[str, str]:
    with psycopg.connect(dashboard_dsn) as conn:
        row = conn.execute("SELECT code, parent_code FROM regions r JOIN boundary_versions v USING (version)"
                           " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1").fetchone()
    assert row is not None
    return row[0], row[1]


# -- the area reads, on both flavours --

def _seed_areas(dsn: str) -> None:
    """Rain gauges and warnings whose per-area answers are known (INSERT only: PGlite cannot COPY)."""
    gauges = (("r-a1", A), ("r-a2", A), ("r-b1", B), ("r-c1", C))
    readings = (("r-a1", 5, 80.0), ("r-a1", 1, 62.5),  # the latest counts: rain_1h is already the hour's total
                ("r-a2", 2, 10.0), ("r-b1", 30, 45.0),  # r-b1 silent for half an hour: not raining "now"
                ("r-c1", -3, 99.0))  # a reading from the future (a device clock ahead) is not now either
    warnings = ((A, 1, "open"), (A, 4, "open"), (B, 1, "cleared"), (B, 3, "open"), (C, 2, "open"))
    with psycopg.connect(dsn) as conn:
        for device_id, township in gauges:
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code,"
                         " township_code, grid_code) VALUES (%s, 'rain_gauge', 'qx', %s, 113, 25, %s, %s, %s)",
                         (device_id, device_id, township[:6], township, f"{township}001"))
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code)"
                     " VALUES ('g-a1', 'gas_detector', 'yj', 'gas', 113, 25, %s, %s)", (D1, A))
        for device_id, minutes_ago, mm in readings:
            conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, %s, 'rain_1h', %s)",
                         (NOW - timedelta(minutes=minutes_ago), device_id, mm))
        conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'g-a1', 'rain_1h', 300)",
                     (NOW,))  # not a rain gauge: not counted whatever it sends
        for i, (township, level, status) in enumerate(warnings):
            conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at,"
                         " district_code, township_code, grid_code) VALUES ('t', %s, %s, %s, '测试', %s, %s, %s, %s,"
                         " %s)", (f"s{i}", level, status, NOW, NOW, township[:6], township, f"{township}001"))
        conn.commit()


@pytest.fixture(scope="module")
def timescale_dsn() -> Iterator[str]:
    with migrated_timescale() as dsn:
        yield dsn


@pytest.fixture(scope="module", params=["plain", "timescale"])
def area_data(request: pytest.FixtureRequest, pg_dsn: str) -> Iterator[Data]:
    dsn = new_database(pg_dsn) if request.param == "plain" else request.getfixturevalue("timescale_dsn")
    _seed_areas(dsn)
    data = Data(make_pool(dsn, "overview-test", min_size=1, max_size=1))  # PGlite: one connection at a time
    yield data
    data.close()


def _by_code(rows: Any, *cols: str) -> dict[str, tuple[Any, ...]]:
    return {r["code"]: tuple(float(r[c]) if c.endswith("_mm") else int(r[c]) for c in cols)
            for r in rows.to_dict("records") if r["code"] is not None}


def test_rain_per_area_is_each_gauges_latest_hour_total(area_data: Data) -> None:
    rain = _by_code(area_data.area_rainfall(NOW), "max_mm", "mean_mm", "gauges")
    assert rain == {D1: (62.5, 36.25, 2), A: (62.5, 36.25, 2), f"{A}001": (62.5, 36.25, 2)}  # B stale, C future


def test_warning_level_per_area_is_the_highest_open_one(area_data: Data) -> None:
    levels = _by_code(area_data.area_warning_levels(), "top", "n")
    assert levels == {D1: (1, 3), D2: (2, 1), A: (1, 2), B: (3, 1), C: (2, 1),
                      f"{A}001": (1, 2), f"{B}001": (3, 1), f"{C}001": (2, 1)}  # B's red one was cleared


def test_devices_are_counted_per_grid_and_listed_one_by_one_in_a_township(area_data: Data) -> None:
    """The big screen's device reads: counts per grid (a device outside every grid in its township's row), a
    district's screen its own only; drilled into a township its devices, in the same columns."""
    grids = _by_code(area_data.device_grids(NOW), "devices", "online")
    assert grids == {f"{A}001": (2, 0), A: (1, 0), f"{B}001": (1, 0), f"{C}001": (1, 0)}  # none seen: offline
    assert list(area_data.for_district(D2).device_grids(NOW)["code"]) == [f"{C}001"]
    town = area_data.device_states(NOW, A)
    assert list(town["code"]) == ["g-a1", "r-a1", "r-a2"] and set(town["devices"]) == {1}
    assert area_data.for_district(D2).device_states(NOW, A).empty  # another district's township: nothing


# -- the page and its callbacks --

def _incident(dsn: str, township: str, title: str, level: int) -> int:
    with psycopg.connect(dsn) as conn:
        lon, lat, district = one(conn, "SELECT label_lon, label_lat, parent_code FROM regions r JOIN"
                                          " boundary_versions v USING (version) WHERE v.active AND code = %s",
                                          (township,))
        iid = open_incident(conn, title=title, category="flood", level=level, source_kind="manual",
                            location=Location(lon, lat, district, township, None, None),
                            now=datetime.now(UTC) - timedelta(minutes=1))
        conn.commit()
    assert iid is not None
    return iid


def _state(page: Any, dash_calls: DashCalls, ids: Any) -> dict[str, Any]:
    return dash_calls.find(page, ids.MARKER).data


CITY_VIEW = CITY.to_store()  # as the browser's view store holds it
BESIDE_STATE = ("map", "kpis", "warnings", "trend")  # a refresh's outputs but the state and the clock


def _unsent(outputs: dict[str, Any]) -> list[Any]:
    return [outputs[name] for name in BESIDE_STATE]


def _payload(outputs: dict[str, Any]) -> int:
    """Bytes of the refresh response as Dash would send it (outputs left unchanged are not sent)."""
    sent = [o for o in outputs.values() if o is not dash.no_update]
    return len(to_json_plotly(sent).encode())


def _ops(patch: Any) -> dict[tuple[Any, ...], Any]:
    return {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]}


def test_the_first_picture_and_an_idle_refresh(overview: SimpleNamespace, logged_in: LoggedIn,
                                               dash_calls: DashCalls) -> None:
    with logged_in("zhihui"):
        page = overview.layout()
        state = _state(page, dash_calls, overview.Ids)
        idle = overview.refresh(1, state, CITY_VIEW, "open", 1)
    fig = dash_calls.find(page, overview.Ids.MAP).figure
    assert len(fig["data"]) == len(T) and fig["layout"]["map"]["style"] == "/assets/map-dark.json"
    assert fig["data"][T.DISTRICT_FILL]["geojson"].endswith("/district.geojson")
    assert len(fig["data"][T.DISTRICT_FILL]["locations"]) == 11  # 郴州's districts coloured at city level
    assert len(fig["data"][T.DISTRICT_LINE]["locations"]) == 11  # and outlined by the boundary layer
    assert dash_calls.find(page, overview.Ids.TREND).figure is not None
    text = dash_calls.text_of(page)
    for word in ("今日新增", "超时", "今日按时签收率", "设备在线率", "最新预警", "近 24 小时新增事件", "危货车辆",
                 "热线热力", "区县界线", "最高预警等级", "近1小时雨量"):
        assert word in text, word
    assert _unsent(idle) == [dash.no_update] * 4  # nothing changed: only the clock and the small state move
    assert _payload(idle) < 2_000


def test_a_new_red_incident_patches_its_own_points_only(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple,
                                                        dashboard_dsn: str, dash_calls: DashCalls) -> None:
    with logged_in("zhihui"):
        state = _state(overview.layout(), dash_calls, overview.Ids)
        incident_id = _incident(dashboard_dsn, town[0], "新的红色事件", level=1)
        changed = overview.refresh(2, state, CITY_VIEW, "open", 1)
    patch, kpis, new_state = changed["map"], changed["kpis"], changed["marker"]
    ops = _ops(patch)
    assert {place[1] for place in ops} == {int(T.INCIDENT_1), int(T.DISTRICT_FILL)}  # red points, area counts
    assert incident_id in ops[("data", int(T.INCIDENT_1), "customdata")]
    assert ("data", int(T.DISTRICT_FILL), "geojson") not in ops  # never the boundaries
    assert "今日新增" in dash_calls.text_of(kpis)
    assert _payload(changed) < 30_000
    with logged_in("zhihui"):
        assert overview.refresh(3, new_state, CITY_VIEW, "open", 1)["map"] is dash.no_update  # sent once only


def test_live_layers_follow_the_devices(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple, dashboard_dsn: str,
                                        dash_calls: DashCalls) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions WHERE code = %s", (town[0],))
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, township_code)"
                     " VALUES ('ov-truck', 'hazmat_vehicle', 'jt', '测试危货车', %s, %s, %s)"
                     " ON CONFLICT DO NOTHING", (lon, lat, town[0]))
        conn.execute("INSERT INTO device_status (device_id, last_seen, online) VALUES ('ov-truck', %s, true)"
                     " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen", (now,))
        conn.commit()
    with logged_in("zhihui"):
        state = _state(overview.layout(), dash_calls, overview.Ids)
        with psycopg.connect(dashboard_dsn) as conn:
            for metric, value in (("lon", lon + 0.01), ("lat", lat), ("speed_kmh", 62.0)):
                conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'ov-truck', %s, %s)",
                             (now, metric, value))
            conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = 'ov-truck'",
                         (now - timedelta(hours=1),))
            conn.commit()
        moved = overview.refresh(4, {**state, "live_at": 0}, CITY_VIEW, "open", 1)
    ops = _ops(moved["map"])
    assert ops[("data", int(T.VEHICLES), "lon")] == [round(lon + 0.01, 5)]
    assert "62 km/h" in ops[("data", int(T.VEHICLES), "text")][0]
    # silent for an hour: offline; the city sees its counts per grid (the truck has none: its township's row)
    assert [0, 1] in ops[("data", int(T.DEVICES), "customdata")]
    assert ("data", int(T.DEVICES), "lon") not in ops  # it went offline where it was: no positions resent
    assert "设备在线率" in dash_calls.text_of(moved["kpis"])


def test_drilled_into_a_township_the_screen_shows_its_devices_one_by_one(
        overview: SimpleNamespace, logged_in: LoggedIn, town: tuple, dashboard_dsn: str,
        dash_calls: DashCalls) -> None:
    code = town[0]
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code)"
                     " SELECT 'ov-level', 'water_level', 'sl', '测试水位站', label_lon, label_lat, parent_code, code"
                     " FROM regions WHERE code = %s LIMIT 1 ON CONFLICT DO NOTHING", (code,))
        conn.commit()
    township, city = {"level": "township", "code": code}, CITY_VIEW
    with logged_in("zhihui"):
        drilled = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.VIEW}.data", township, township, "open")
        back = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.VIEW}.data", city, city, "open")
        recoloured = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.METRIC}.value", "rain", city, "rain")
    points = _ops(drilled["map"])[("data", int(T.DEVICES), "text")]
    assert "测试水位站" in points  # its devices by name, as many markers as it has devices
    grids = _ops(back["map"])[("data", int(T.DEVICES), "text")]
    with psycopg.connect(dashboard_dsn) as conn:
        areas, devices = one(conn, "SELECT count(DISTINCT r.code), count(*) FROM devices d JOIN regions r"
                                   " ON r.code = coalesce(d.grid_code, d.township_code)"
                                   " JOIN boundary_versions v ON v.version = r.version AND v.active")
    assert "测试水位站" not in grids and len(grids) == areas < devices  # back up: a marker per grid, by name
    assert ("data", int(T.DEVICES), "text") not in _ops(recoloured["map"])  # another colouring: devices as they are


def test_the_areas_coloured_by_warnings_then_by_rain(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple,
                                                     dashboard_dsn: str, dash_calls: DashCalls) -> None:
    code, district = town
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at,"
                     " district_code, township_code) VALUES ('heavy_rain', 'ov-gauge', 2, 'open', '短时强降雨',"
                     " %s, %s, %s, %s)", (now, now, district, code))
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code)"
                     " SELECT 'ov-gauge', 'rain_gauge', 'qx', '测试雨量站', label_lon, label_lat, parent_code, code"
                     " FROM regions WHERE code = %s LIMIT 1", (code,))
        conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'ov-gauge', 'rain_1h', 57.5)",
                     (now - timedelta(minutes=1),))
        conn.commit()
    view = {"level": "district", "code": district}
    with logged_in("zhihui"):
        state = _state(overview.layout(), dash_calls, overview.Ids)
        warned = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.METRIC}.value", "warning", view,
                                         "warning")
        rained = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.METRIC}.value", "rain", view, "rain")
        live = overview.refresh(5, {**state, "change": state["change"], "live_at": 0}, view, "rain", 1)
    fill = int(T.TOWNSHIP_FILL)
    ops = _ops(warned["map"])
    at = ops[("data", fill, "locations")].index(code)
    assert ops[("data", fill, "z")][at] == 3  # an orange (II) warning: class 5 − 2
    assert "橙色 II级" in ops[("data", fill, "text")][at] and ops[("data", fill, "visible")] is True
    assert ops[("data", fill, "colorbar", "title", "text")] == "最高预警等级"
    assert warned["fit"] is dash.no_update  # the same view: the map keeps where the user put it
    ops = _ops(rained["map"])
    assert ops[("data", fill, "z")][at] == 57.5 and "57.5 mm" in ops[("data", fill, "text")][at]
    live_ops = _ops(live["map"])  # rain is a live layer: the next live tick brings it, for the view on screen
    assert live_ops[("data", fill, "z")][at] == 57.5


def test_the_first_tick_finishes_the_picture(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple,
                                            dashboard_dsn: str, dash_calls: DashCalls) -> None:
    """A long feed stands still while the map is drawn and rolls from the first tick; a 4K wall gets its
    larger trend then too. Nothing else is sent: the first picture already had it."""
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        for i in range(9):  # enough to overflow the feed
            conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at,"
                         " township_code) VALUES ('roll', %s, 3, 'open', %s, %s, %s, %s)",
                         (f"roll-{i}", f"滚动预警{i}", now - timedelta(hours=1), now - timedelta(hours=1), town[0]))
        conn.commit()
    with logged_in("zhihui"):
        page = overview.layout()
        state = _state(page, dash_calls, overview.Ids)
        first = overview.refresh(1, state, CITY_VIEW, "open", 2)
        second = overview.refresh(2, first["marker"], CITY_VIEW, "open", 2)
    assert "rolling" not in dash_calls.text_of(dash_calls.find(page, overview.Ids.WARNINGS))
    patch, kpis, feed, trend = _unsent(first)
    assert patch is dash.no_update and kpis is dash.no_update  # the map and the KPIs are as first drawn
    assert "rolling" in dash_calls.text_of(feed) and "滚动预警8" in dash_calls.text_of(feed)
    assert trend["layout"]["font"]["size"] == 24  # 2 × 12 px: read from across the room on a 4K wall
    assert _unsent(second) == [dash.no_update] * 4


def test_drill_down_and_back(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple,
                             dash_calls: DashCalls) -> None:
    code, district = town
    click = {"points": [{"curveNumber": int(T.DISTRICT_FILL), "location": district}]}
    with logged_in("lingdao"):
        view = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.MAP}.clickData", click, click, 0, None,
                                       CITY_VIEW)
        assert view == {"level": "district", "code": district}
        shown = dash_calls.triggered_by(overview.show_view, f"{overview.Ids.VIEW}.data", view, view, "open")
        down = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.PICK}.value", code, None, 0, code, view)
        up = dash_calls.triggered_by(overview.navigate, f"{overview.Ids.BACK}.n_clicks", 1, None, 1, None, down)
        with pytest.raises(PreventUpdate):  # a township that is not in this district
            dash_calls.triggered_by(overview.navigate, f"{overview.Ids.PICK}.value", "999999999", None, 0,
                                    "999999999", view)
    ops = _ops(shown["map"])
    assert ops[("data", int(T.TOWNSHIP_FILL), "visible")] is True
    assert ops[("data", int(T.DISTRICT_FILL), "visible")] is False
    assert code in ops[("data", int(T.TOWNSHIP_FILL), "locations")]
    assert shown["fit"]["bounds"] is not None and shown["back_hidden"] is False
    assert shown["pick_placeholder"] == "选择镇街"
    assert "›" in shown["crumb"] and code in [o["value"] for o in shown["pick_options"]]
    assert down == {"level": "township", "code": code} and up == view


def test_township_staff_get_nothing(overview: SimpleNamespace, logged_in: LoggedIn, town: tuple,
                                    dash_calls: DashCalls) -> None:
    calls: tuple[Callable[[], Any], ...] = (
        lambda: overview.refresh(1, None, None, "open", 1), lambda: overview.show_view(CITY_VIEW, "rain"),
        lambda: overview.on_click({"points": [{"curveNumber": int(T.INCIDENT_1), "customdata": 1}]}))
    with logged_in(township_username(town[0])):
        assert "您的角色无权查看此页面" in dash_calls.text_of(overview.layout())
        for call in calls:
            with pytest.raises(PreventUpdate):
                call()


def test_refresh_survives_a_forged_state(overview: SimpleNamespace, logged_in: LoggedIn) -> None:
    with logged_in("zhihui"):
        out = overview.refresh(1, {"fp": "junk", "live_at": "x"}, {"level": "district", "code": "'; DROP"}, "x", 9)
    assert out["map"] is not dash.no_update  # everything resent, nothing trusted
    json.dumps(out["marker"])
