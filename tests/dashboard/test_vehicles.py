"""The big screen's hazmat vehicles against the session's database: each vehicle's last 30 minutes, one fix a
minute, sent simplified (a straight stretch as its ends) in its cargo class's colour with where it is now
opaque; a click on a vehicle or its track shows plate, company, cargo and its open warnings, in Chinese and
English; a district's screen learns nothing of a vehicle last seen in another district, and township staff
get nothing over a crafted request."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

import dash
import pandas as pd
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from psycopg.types.json import Jsonb

from dashboard.map.model import T
from dashboard.map.points import CARGO_COLOR, HEAD_OPACITY, TRAIL_OPACITY, vehicle_points
from store.users import district_username, township_username

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

# A minute's :15 less a minute: each fix below falls on :15 or :45, so the one a minute kept (the later) is known
# and the corner is a fix of its own whatever second the run starts at.
NOW = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=45)
TRUCK, OTHER = "vt-truck-1", "vt-truck-2"
D1, D2 = "431002", "431003"
SPEEDING = "育英小学周边（示意） 限速 40 km/h，车速 65.0 km/h，超速 62%"


@pytest.fixture(scope="module")
def overview(dash_app: dash.Dash) -> SimpleNamespace:
    page = importlib.import_module("dashboard.pages.overview")
    return SimpleNamespace(on_click=page.callbacks.on_click, refresh=page.callbacks.refresh, layout=page.layout)


def _fixes(conn: psycopg.Connection, device_id: str, points: list[tuple[datetime, float, float, float]],
           district: str) -> None:
    for ts, lon, lat, speed in points:
        for metric, value in (("lon", lon), ("lat", lat), ("speed_kmh", speed), ("heading", 90.0)):
            conn.execute("INSERT INTO telemetry (ts, device_id, metric, value, district_code)"
                         " VALUES (%s, %s, %s, %s, %s)", (ts, device_id, metric, value, district))


@pytest.fixture(scope="module", autouse=True)
def trucks(dashboard_dsn: str) -> Iterator[None]:
    """Two trucks: one 40 minutes east then north in 北湖区 (a fix every 30 s), with an open warning; one in
    苏仙区. They leave with the module (the database is the session's)."""
    facts = {"plate": "湘L·D00001", "company": "测试危运公司", "cargo_class": 3, "cargo": "汽油"}
    with psycopg.connect(dashboard_dsn) as conn:
        for device_id, district, attrs in ((TRUCK, D1, facts), (OTHER, D2, facts | {"plate": "湘L·D00002",
                                                                                      "cargo_class": 8})):
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code,"
                         " attributes) VALUES (%s, 'hazmat_vehicle', 'jt', %s, 113.0, 25.7, %s, %s)",
                         (device_id, f"测试危货车{device_id[-1]}", district, Jsonb(attrs)))
        east = [(NOW - timedelta(minutes=40) + timedelta(seconds=30 * k), 112.90 + 0.001 * k, 25.70, 50.0)
                for k in range(60)]  # 30 minutes east, the first ten of them too old to draw
        north = [(east[-1][0] + timedelta(seconds=30 * k), east[-1][1], 25.70 + 0.001 * k, 55.0) for k in range(1, 21)]
        _fixes(conn, TRUCK, east + north, D1)
        _fixes(conn, OTHER, [(NOW - timedelta(minutes=1), 113.05, 25.95, 40.0)], D2)
        conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at,"
                     " district_code) VALUES ('hazmat_speeding', %s, 2, 'open', %s, %s, %s, %s)",
                     (TRUCK, f"危货车辆超速（精准限速） · 湘L·D00001（{SPEEDING}）", NOW, NOW, D1))
        conn.commit()
    yield
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("DELETE FROM warnings WHERE subject LIKE 'vt-%'")
        for table in ("telemetry", "devices"):
            conn.execute(f"DELETE FROM {table} WHERE device_id LIKE 'vt-%'")


def _track_of(frame: pd.DataFrame, device_id: str) -> pd.DataFrame:
    return frame[frame["device_id"] == device_id]


def test_a_vehicle_is_its_last_half_hour_a_fix_a_minute(dash_app: dash.Dash) -> None:
    from dashboard.context import get_read_data

    with dash_app.server.app_context():
        frame = get_read_data().vehicle_positions(NOW)
    track = _track_of(frame, TRUCK)
    assert 28 <= len(track) <= 31  # one fix a minute over 30 minutes, the older ten minutes left out
    assert track["ts"].min() > NOW - timedelta(minutes=30) and track["ts"].is_monotonic_increasing
    assert track["speed"].notna().sum() == 1 and track.iloc[-1]["speed"] == 55.0  # speed and heading: now only
    assert track.iloc[-1]["plate"] == "湘L·D00001" and track.iloc[-1]["cargo_class"] == 3
    with dash_app.server.app_context():  # the same read on a district's screen keeps its district's vehicles
        scoped = get_read_data().for_district(D2).vehicle_positions(NOW)
    assert set(scoped["device_id"]) >= {OTHER} and TRUCK not in set(scoped["device_id"])


def test_the_track_is_sent_simplified_in_the_cargo_class_colour(dash_app: dash.Dash) -> None:
    from dashboard.context import get_read_data

    with dash_app.server.app_context():
        frame = get_read_data().vehicle_positions(NOW)
    props = vehicle_points(_track_of(frame, TRUCK), "zh")
    assert len(props["lon"]) == 3  # the corner and where it set off from, then where it is now
    assert props["lat"][-1] == pytest.approx(25.72) and props["lon"][1] == props["lon"][2]
    assert props["marker.color"] == [CARGO_COLOR[3]] * 3
    assert props["marker.opacity"] == [TRAIL_OPACITY, TRAIL_OPACITY, HEAD_OPACITY]
    assert props["customdata"] == [TRUCK] * 3
    head = props["text"][-1]
    assert "湘L·D00001" in head and "第3类 易燃液体 · 汽油" in head and "测试危运公司" in head and "55 km/h" in head
    english = vehicle_points(_track_of(frame, TRUCK), "en")["text"][-1]
    assert "Class 3 flammable liquids" in english
    whole = vehicle_points(frame, "zh")
    assert len(json.dumps(whole)) < 400 * max(1, frame["device_id"].nunique())  # a few points a vehicle


def _click(device_id: str) -> dict:
    return {"points": [{"curveNumber": int(T.VEHICLES), "customdata": device_id}]}


@pytest.mark.parametrize(("lang", "words"), [("zh", ["湘L·D00001", "运输企业：测试危运公司", "第3类 易燃液体 · 汽油",
                                                     "未解除预警", "育英小学周边（示意） 限速 40 km/h", "橙色 II级"]),
                                            ("en", ["湘L·D00001", "Company", "Class 3 flammable liquids",
                                                    "Open warnings", "Orange (II)"])])
def test_a_click_on_a_vehicle_shows_plate_company_cargo_and_open_warnings(
        overview: SimpleNamespace, logged_in: LoggedIn, dash_calls: DashCalls, lang: str, words: list[str]) -> None:
    with logged_in("zhihui", lang):
        card = dash_calls.text_of(overview.on_click(_click(TRUCK)))
    assert all(w in card for w in words), card
    with logged_in("zhihui", lang):
        calm = dash_calls.text_of(overview.on_click(_click(OTHER)))
    assert "湘L·D00002" in calm and ("无未解除预警" if lang == "zh" else "No open warnings") in calm


def test_another_districts_screen_learns_nothing_of_the_vehicle(overview: SimpleNamespace, logged_in: LoggedIn,
                                                               dash_calls: DashCalls) -> None:
    with logged_in(district_username(D2)):
        card = dash_calls.text_of(overview.on_click(_click(TRUCK)))
        own = dash_calls.text_of(overview.on_click(_click(OTHER)))
    assert "湘L·D00001" not in card and "该车辆近30分钟无位置上报" in card
    assert "湘L·D00002" in own
    with logged_in(township_username(f"{D1}001")), pytest.raises(PreventUpdate):
        overview.on_click(_click(TRUCK))


@pytest.mark.parametrize(("lang", "title", "class_3"), [("zh", "危货车辆 · 货物类别", "第3类 易燃液体"),
                                                      ("en", "Hazmat trucks · cargo class", "Class 3 flammable")])
def test_the_map_says_which_colour_is_which_cargo_class(overview: SimpleNamespace, logged_in: LoggedIn,
                                                        dash_calls: DashCalls, lang: str, title: str,
                                                        class_3: str) -> None:
    with logged_in("zhihui", lang):
        legend = dash_calls.part(overview.layout(), "overview-cargo-legend")
    assert title in legend and class_3 in legend and CARGO_COLOR[3] in legend
