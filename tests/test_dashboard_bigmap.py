"""The big screen's map and parts as pure functions: trace order, views, patches, fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from dash import Patch

from dashboard import bigmap, bigscreen
from dashboard.bigmap import T

SQUARE = {"type": "Polygon", "coordinates": [[[113, 25], [113.1, 25], [113.1, 25.1], [113, 25]]]}


def _fc(codes: list[str]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": c, "properties": {"code": c}, "geometry": SQUARE} for c in codes]}


LAYERS = {
    "version": 3, "district": _fc(["431002"]), "township": _fc(["431002001", "431002002"]),
    "bounds": (113.0, 25.0, 113.1, 25.1),
    "region_bounds": {"431002": (113.0, 25.0, 113.1, 25.1), "431002001": (113.0, 25.0, 113.05, 25.05)},
    "names": {"431002": "北湖区", "431002001": "甲街道", "431002002": "乙街道", "431002001001": "甲街道第1网格"},
    "parents": {"431002001": "431002", "431002002": "431002", "431002001001": "431002001"},
    "children": {"": ["431002"], "431002": ["431002001", "431002002"], "431002001": ["431002001001"]},
    "labels": [("北湖区", 113.05, 25.05)],
    "label_of": {"431002": ("北湖区", 113.05, 25.05), "431002001": ("甲街道", 113.02, 25.02),
                 "431002002": ("乙街道", 113.07, 25.07)},
}
URLS = {"district": "/geo/3/district.geojson", "township": "/geo/3/township.geojson",
        "grid": "/geo/3/grid/{code}.geojson"}
COUNTS = pd.DataFrame({"level": ["district", "township", "grid"], "code": ["431002", "431002001", "431002001001"],
                       "open": [3, 3, 1], "overdue": [1, 1, 0]})
INCIDENTS = pd.DataFrame({"id": [1, 2, 3], "title": ["积水", "燃气", "无坐标"], "level": [1, 3, 1],
                          "status": ["dispatched"] * 3, "lon": [113.01, 113.02, None], "lat": [25.01, 25.02, None],
                          "township_code": ["431002001"] * 3})
DEVICES = pd.DataFrame({"device_id": ["a", "b"], "device_type": ["rain_gauge"] * 2, "name": ["甲", "乙"],
                        "lon": [113.01, 113.02], "lat": [25.01, 25.02], "online": [True, False]})
EMPTY = pd.DataFrame()


def _figure(view: dict | None = None) -> object:
    view = view or dict(bigmap.CITY)
    area = bigmap.area_values(view, COUNTS, "open", LAYERS, "zh")
    return bigmap.build(LAYERS, URLS, "/assets/map-dark.json", "zh", view, area, INCIDENTS, DEVICES,
                        pd.DataFrame({"device_id": [], "name": [], "ts": [], "lon": [], "lat": [], "speed": []}),
                        pd.DataFrame({"lon": [113.0], "lat": [25.0], "n": [4]}), bigmap.DEFAULT_LAYERS)


def test_one_trace_per_part_in_drawing_order() -> None:
    fig = _figure()
    assert len(fig.data) == len(T)
    assert [fig.data[i].type for i in (T.DISTRICT_FILL, T.TOWNSHIP_FILL, T.GRID_FILL)] == ["choroplethmap"] * 3
    assert fig.data[T.HEAT].type == "densitymap" and list(fig.data[T.HEAT].z) == [4]
    assert fig.layout.map.style == "/assets/map-dark.json"  # a style file: no tiles, works offline
    assert fig.data[T.DISTRICT_FILL].geojson == URLS["district"]  # polygons by URL, cached by the browser
    red = fig.data[bigmap.incident_trace(1)]
    assert red.marker.color == "#d7191c" and list(red.customdata) == [1]  # the point without coordinates is left out
    assert bigmap.incident_trace(1) == T.INCIDENT_1 == len(T) - 1  # red is drawn last, on top
    assert list(fig.data[T.DEVICES].marker.color) == [1, 0]
    assert fig.data[T.DEVICES].visible is False and fig.data[T.HEAT].visible is True  # default layers
    assert fig.layout.uirevision == bigmap.MAP_UIREVISION


def test_each_view_colours_its_own_areas() -> None:
    city = _figure()
    assert (city.data[T.DISTRICT_FILL].visible, city.data[T.TOWNSHIP_FILL].visible) == (True, False)
    assert list(city.data[T.DISTRICT_FILL].z) == [3] and city.data[T.FOCUS].visible is False
    district = {"level": "district", "code": "431002"}
    area = bigmap.area_values(district, COUNTS, "overdue", LAYERS, "zh")
    assert area["locations"] == ["431002001", "431002002"] and area["z"] == [1, 0]  # every township, zeros too
    assert area["title"] == "超时事件"
    changes = bigmap.view_changes(district, area, LAYERS, URLS)
    assert changes[T.TOWNSHIP_FILL]["visible"] is True and changes[T.DISTRICT_FILL]["visible"] is False
    assert changes[T.FOCUS]["locations"] == ["431002"] and changes[T.FOCUS]["geojson"] == URLS["district"]
    assert changes[T.LABELS]["text"] == ["甲街道", "乙街道"]
    township = {"level": "township", "code": "431002001"}
    changes = bigmap.view_changes(township, bigmap.area_values(township, COUNTS, "open", LAYERS, "zh"), LAYERS,
                                  URLS)
    assert changes[T.GRID_FILL]["geojson"] == "/geo/3/grid/431002001.geojson"
    assert changes[T.GRID_FILL]["locations"] == ["431002001001"] and changes[T.GRID_FILL]["z"] == [1]


def test_views_from_the_browser_are_checked_and_navigate() -> None:
    for junk in (None, "x", {"level": "district", "code": "999999"}, {"level": "grid", "code": "431002001001"},
                 {"level": "township", "code": "431002"}):
        assert bigmap.valid_view(junk, LAYERS) == bigmap.CITY
    district = bigmap.child_view(bigmap.CITY, "431002")
    township = bigmap.child_view(district, "431002001")
    assert township == {"level": "township", "code": "431002001"}
    assert bigmap.parent_view(township, LAYERS) == district
    assert bigmap.parent_view(district, LAYERS) == bigmap.CITY
    assert bigmap.fit_hints(township, LAYERS)["bounds"] == (113.0, 25.0, 113.05, 25.05)


def test_patches_reach_nested_properties() -> None:
    patch = bigmap.apply(Patch(), {T.DEVICES: {"marker.color": [1, 1]}, T.FOCUS: {"visible": True}})
    ops = patch.to_plotly_json()["operations"]
    assert {tuple(op["location"]) for op in ops} == {("data", int(T.DEVICES), "marker", "color"),
                                                      ("data", int(T.FOCUS), "visible")}


def test_a_plan_sends_only_what_changed() -> None:
    plan = bigscreen.Plan(fp={})
    assert plan.part("inc1", [1, 2]) is True
    again = bigscreen.Plan(fp=dict(plan.fp))
    assert again.part("inc1", [1, 2]) is False and again.part("inc1", [1, 2, 3]) is True
    assert bigmap.fingerprint({"a": 1, "b": 2}) == bigmap.fingerprint({"b": 2, "a": 1})
    assert again.map_patch() is None


def test_kpis_read_the_chinese_way() -> None:
    values = {"today_new": 1234, "overdue": 3, "on_time": 87.5, "online_rate": 82.0}
    assert bigscreen.kpi_text("today_new", 1234) == "1,234" and bigscreen.kpi_text("on_time", None) == "—"
    assert bigscreen.kpi_text("online_rate", 82.0) == "82.0%"
    assert "kpi-alert" in bigscreen.kpi_class("overdue", values)
    assert "kpi-alert" in bigscreen.kpi_class("online_rate", values)  # under 90 % of devices reporting
    assert "kpi-alert" not in bigscreen.kpi_class("today_new", values)


@pytest.mark.parametrize("count, rolling", [(3, False), (bigscreen.ROLLING_FROM, True)])
def test_the_feed_rolls_only_when_it_overflows(count: int, rolling: bool) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    warnings = pd.DataFrame({"id": range(count), "level": [1] * count, "status": ["open"] * count,
                             "title": ["积水"] * count, "opened_at": [now - timedelta(minutes=i) for i in range(count)],
                             "updated_at": [now] * count, "township_code": ["431002001"] * count,
                             "incident_id": [None] * count})
    items = bigscreen.warning_items(warnings, LAYERS["names"], "zh", now)
    assert (len(items) == 1 and items[0].className == "rolling") is rolling
    first = items[0].children[0] if rolling else items[0]
    assert "warning-new" in first.className  # opened just now: it pulses
