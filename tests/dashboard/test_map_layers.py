"""The big screen's map as pure functions: the layer registry, each layer's style, the figure the
layers draw, views and patches. Hand-made frames in, trace properties out; no database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from dash import Patch

from dashboard import bigscreen
from dashboard.map import areas, registry
from dashboard.map import figure as map_figure
from dashboard.map import points as point_layers
from dashboard.map import views as map_views
from dashboard.map.model import CITY, BaseMap, Cadence, Changes, GeoUrls, Kind, Scene, T, View, incident_trace

LAYERS = BaseMap(
    version=3, geojson={}, grid_geojson={}, bounds=(113.0, 25.0, 113.1, 25.1),
    region_bounds={"431002": (113.0, 25.0, 113.1, 25.1), "431002001": (113.0, 25.0, 113.05, 25.05)},
    names={"431002": "北湖区", "431002001": "甲街道", "431002002": "乙街道", "431002001001": "甲街道第1网格"},
    parents={"431002001": "431002", "431002002": "431002", "431002001001": "431002001"},
    children={"": ["431002"], "431002": ["431002001", "431002002"], "431002001": ["431002001001"]},
    label_of={"431002": ("北湖区", 113.05, 25.05), "431002001": ("甲街道", 113.02, 25.02),
              "431002002": ("乙街道", 113.07, 25.07)},
    illustrative=False,
)
URLS = GeoUrls("/geo/3/district.geojson", "/geo/3/township.geojson", "/geo/3/grid/{code}.geojson")
DISTRICT = View("district", "431002")
TOWNSHIP = View("township", "431002001")
COUNTS = pd.DataFrame({"level": ["district", "township", "grid"], "code": ["431002", "431002001", "431002001001"],
                       "open": [3, 3, 1], "overdue": [1, 1, 0]})
WARNINGS = pd.DataFrame({"level": ["district", "township", "township"], "code": ["431002", "431002001", "431002002"],
                         "top": [1, 1, 4], "n": [3, 2, 1]})
RAIN = pd.DataFrame({"level": ["district", "township", None], "code": ["431002", "431002001", None],
                     "max_mm": [62.5, 62.5, 1.0], "mean_mm": [31.25, 62.5, 1.0], "gauges": [2, 1, 1]})
INCIDENTS = pd.DataFrame({"id": [1, 2, 3], "title": ["积水", "燃气", "无坐标"], "level": [1, 3, 1],
                          "status": ["dispatched"] * 3, "lon": [113.01, 113.02, None], "lat": [25.01, 25.02, None],
                          "township_code": ["431002001"] * 3})
# The devices layer's read drilled into 甲街道: its one grid (8 of 10 online) and, one by one, two of its devices.
DEVICES = pd.DataFrame({"code": ["431002001001", "a", "b"], "kind": ["grid", "device", "device"],
                        "name": [None, "甲", "乙"], "lon": [113.02, 113.01, 113.02], "lat": [25.02, 25.01, 25.02],
                        "devices": [10, 1, 1], "online": [8, 1, 0]})
VEHICLES = pd.DataFrame({"device_id": ["v"], "name": ["危货车辆1号"], "plate": ["湘L危1"], "company": ["危运"],
                         "cargo_class": [3], "cargo": ["汽油"], "ts": [datetime(2026, 1, 1, 2, tzinfo=UTC)],
                         "lon": [113.011111], "lat": [25.0], "speed": [62.4], "heading": [90.0]})
HEAT = pd.DataFrame({"lon": [113.0], "lat": [25.0], "n": [4]})
SINCE = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
EVACUATED = pd.DataFrame({"level": ["district", "township", "township"], "code": ["431002", "431002001", "431002002"],
                          "moved": [45, 40, 5], "since": [SINCE] * 3})
HOTSPOTS = pd.DataFrame({"id": [7], "lon": [113.01], "lat": [25.77], "status": ["dispatched"],
                         "township_code": ["431002001"], "complaint": ["噪音扰民"], "tickets": [6]})
FRAMES = {"incidents": INCIDENTS, "devices": DEVICES, "hazmat": VEHICLES, "hotline": HEAT, "hotspots": HOTSPOTS,
          "boundaries": pd.DataFrame({"code": ["431002"]}), "open": COUNTS, "overdue": COUNTS, "warning": WARNINGS,
          "rain": RAIN, "evacuated": EVACUATED}


def scene(view: View = CITY, lang: str = "zh") -> Scene:
    return Scene(LAYERS, view, lang, URLS)  # type: ignore[arg-type]


def picture(view: View = CITY, chosen: str = "open") -> dict:
    """The first picture as the page makes it: the layers' traces, then every due layer's style."""
    fig = map_figure.build(registry.REGISTRY, LAYERS, URLS, "/assets/map-dark.json", "zh", view, registry.DEFAULT_ON)
    layers = registry.due(tuple(Cadence), registry.choropleth(chosen))
    Changes().merge(*(layer.style(FRAMES[layer.id], scene(view)) for layer in layers)).apply_to(fig)
    return fig


# -- the registry --

def test_every_trace_belongs_to_the_views_or_to_exactly_one_layer() -> None:
    owned = [i for layer in registry.REGISTRY if layer.draw is not None for i in layer.traces]
    views = {T.DISTRICT_FILL, T.TOWNSHIP_FILL, T.GRID_FILL, T.FOCUS, T.LABELS}
    assert sorted(owned + list(views)) == list(range(len(T)))
    assert len({layer.id for layer in registry.REGISTRY}) == len(registry.REGISTRY)
    kinds = {layer.id: layer.kind for layer in registry.REGISTRY}
    assert kinds == {"incidents": Kind.POINTS, "devices": Kind.POINTS, "hazmat": Kind.POINTS, "hotline": Kind.HEAT,
                     "hotspots": Kind.POINTS,
                     "boundaries": Kind.BOUNDARY, "open": Kind.CHOROPLETH, "overdue": Kind.CHOROPLETH,
                     "warning": Kind.CHOROPLETH, "rain": Kind.CHOROPLETH, "evacuated": Kind.CHOROPLETH}
    for layer in registry.CHOROPLETHS:  # they colour the areas the views draw
        assert layer.draw is None and layer.traces == map_views.FILLS


def test_toggles_choices_and_what_is_read_when() -> None:
    assert [layer.id for layer in registry.TOGGLES] == ["incidents", "devices", "hazmat", "hotline", "hotspots",
                                                        "boundaries"]
    assert registry.DEFAULT_ON == ["incidents", "hazmat", "hotline", "hotspots", "boundaries"]  # devices on request
    assert [layer.id for layer in registry.CHOROPLETHS] == ["open", "overdue", "warning", "rain", "evacuated"]
    assert registry.choropleth("rain").id == "rain"
    for junk in (None, "incidents", "'; DROP", 3):  # a toggle is not an area layer; junk is the default
        assert registry.choropleth(junk).id == "open"
    rain, overdue = registry.choropleth("rain"), registry.choropleth("overdue")
    assert [layer.id for layer in registry.due((Cadence.CHANGE,), overdue)] == ["incidents", "hotspots", "overdue"]
    assert [layer.id for layer in registry.due((Cadence.CHANGE,), rain)] == ["incidents", "hotspots"]
    assert [layer.id for layer in registry.due((Cadence.LIVE,), rain)] == ["devices", "hazmat", "hotline", "rain"]
    assert registry.toggle_traces()["incidents"] == [int(T.INCIDENT_4), int(T.INCIDENT_3), int(T.INCIDENT_2),
                                                        int(T.INCIDENT_1)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_layer_is_named_in_both_languages(lang: str) -> None:
    from i18n.labels import t

    names = [t(layer.label, lang) for layer in registry.REGISTRY]  # type: ignore[arg-type]
    assert all(names) and len(set(names)) == len(names)


# -- the figure the layers draw --

def test_one_trace_per_part_in_drawing_order() -> None:
    fig = picture()
    data = fig["data"]
    assert len(data) == len(T)
    assert [data[i]["type"] for i in map_views.FILLS] == ["choroplethmap"] * 3
    assert data[T.HEAT]["type"] == "densitymap" and data[T.HEAT]["z"] == [4]
    assert fig["layout"]["map"]["style"] == "/assets/map-dark.json"  # a style file: no tiles, works offline
    assert data[T.DISTRICT_FILL]["geojson"] == URLS.district  # polygons by URL, cached by the browser
    assert data[T.DISTRICT_LINE]["geojson"] == URLS.district and data[T.DISTRICT_LINE]["locations"] == ["431002"]
    red = data[incident_trace(1)]
    assert red["marker"]["color"] == "#d7191c" and red["customdata"] == [1]  # the one without coordinates: left out
    assert incident_trace(1) == T.INCIDENT_1 == len(T) - 1  # red is drawn last, on top
    assert data[T.DEVICES]["marker"]["color"] == [0.5] and data[T.DEVICES]["customdata"] == [[8, 10]]  # a grid
    assert data[T.DEVICES]["visible"] is False and data[T.HEAT]["visible"] is True  # default layers
    assert fig["layout"]["uirevision"] == map_figure.MAP_UIREVISION


def test_marker_sizes_are_the_layers_own_in_the_figure_and_the_4k_hints() -> None:
    data = picture()["data"]
    hints = map_figure.fit_hints(CITY, LAYERS, registry.REGISTRY)
    assert {i: data[i]["marker"]["size"] for i in hints["point_traces"]} == dict(
        zip(hints["point_traces"], hints["point_sizes"], strict=True))
    assert data[T.INCIDENT_1]["marker"]["size"] == 15 and data[T.INCIDENT_4]["marker"]["size"] == 12
    assert (data[T.DEVICES]["marker"]["size"], data[T.VEHICLES]["marker"]["size"]) == (7, 11)


def test_the_first_picture_is_fitted_for_the_big_screen() -> None:
    """A 2.2° × 2.3° city on the 1474 × 870 px map of a 1920×1080 screen (the browser test checks that
    fitMap then finds nothing to move); the rounding is JavaScript's, not Python's banker's."""
    assert map_figure.fit((112.0, 24.5, 114.2, 26.8)) == ({"lon": 113.1, "lat": 25.65}, 7.81)
    assert map_figure.fit((112.0, 24.5, 114.2, 26.8), (2948, 1740)) == ({"lon": 113.1, "lat": 25.65}, 8.81)  # 4K: +1
    assert map_figure.fit(None) == ({"lon": 113.0, "lat": 25.8}, 7.5)


def test_a_layer_that_draws_a_taken_trace_is_refused() -> None:
    twice = (*registry.REGISTRY, registry.BY_ID["hazmat"])
    with pytest.raises(ValueError, match="taken"):
        map_figure.build(twice, LAYERS, URLS, "/s.json", "zh", CITY, [])
    with pytest.raises(ValueError, match="undrawn"):
        map_figure.build(registry.REGISTRY[1:], LAYERS, URLS, "/s.json", "zh", CITY, [])


def test_each_view_colours_its_own_areas() -> None:
    city = picture()["data"]
    assert (city[T.DISTRICT_FILL]["visible"], city[T.TOWNSHIP_FILL]["visible"]) == (True, False)
    assert city[T.DISTRICT_FILL]["z"] == [3] and city[T.FOCUS]["visible"] is False
    overdue = areas.overdue_style(COUNTS, scene(DISTRICT))[T.TOWNSHIP_FILL]
    assert overdue["locations"] == ["431002001", "431002002"] and overdue["z"] == [1, 0]  # every township, zeros too
    assert overdue["colorbar.title.text"] == "超时事件" and overdue["text"][1] == "乙街道<br>未结案事件 0 · 超时事件 0"
    changes = map_views.view_changes(DISTRICT, LAYERS, URLS)
    assert changes[T.TOWNSHIP_FILL]["visible"] is True and changes[T.DISTRICT_FILL]["visible"] is False
    assert changes[T.FOCUS]["locations"] == ["431002"] and changes[T.FOCUS]["geojson"] == URLS.district
    assert changes[T.LABELS]["text"] == ["甲街道", "乙街道"]
    changes = map_views.view_changes(TOWNSHIP, LAYERS, URLS).merge(areas.open_style(COUNTS, scene(TOWNSHIP)))
    assert changes[T.GRID_FILL]["geojson"] == "/geo/3/grid/431002001.geojson"
    assert changes[T.GRID_FILL]["locations"] == ["431002001001"] and changes[T.GRID_FILL]["z"] == [1]
    assert changes[T.GRID_FILL]["visible"] is True  # merged, not replaced


# -- the choropleths --

def test_counts_scale_grows_with_the_largest_count() -> None:
    fill = areas.open_style(COUNTS, scene(DISTRICT))[T.TOWNSHIP_FILL]
    assert fill["zmax"] == 4 and fill["colorbar.tickmode"] == "auto"  # at least 4: one incident is not "all red"
    many = COUNTS.assign(open=[30, 30, 1])
    assert areas.open_style(many, scene(DISTRICT))[T.TOWNSHIP_FILL]["zmax"] == 30


def test_warning_level_colours_each_area_by_its_highest_open_warning() -> None:
    fill = areas.warning_style(WARNINGS, scene(DISTRICT))[T.TOWNSHIP_FILL]
    assert fill["z"] == [4, 1]  # 甲: a red (I) warning is open; 乙: only a blue (IV) one
    assert fill["text"] == ["甲街道<br>最高预警 红色 I级（2 条未解除）", "乙街道<br>最高预警 蓝色 IV级（1 条未解除）"]
    assert fill["colorbar.tickmode"] == "array" and fill["colorbar.tickvals"] == [0, 1, 2, 3, 4]
    assert fill["colorbar.ticktext"] == ["无", "蓝色 IV级", "黄色 III级", "橙色 II级", "红色 I级"]
    low, high, scale = fill["zmin"], fill["zmax"], fill["colorscale"]

    def color_of(value: float) -> str:  # as plotly maps a value onto the stepped scale
        at = (value - low) / (high - low)
        return next(color for stop, color in reversed(scale) if stop <= at)
    assert [color_of(k) for k in range(5)] == [areas.NO_AREA_COLOR, "#2b83ba", "#fee08b", "#fd8d3c", "#d7191c"]
    bands = sorted({stop for stop, _ in scale})
    assert len({round(b - a, 9) for a, b in itertools.pairwise(bands)}) == 1  # classes equally tall
    quiet = areas.warning_style(WARNINGS.iloc[0:0], scene(TOWNSHIP))[T.GRID_FILL]
    assert quiet["z"] == [0] and quiet["text"] == ["甲街道第1网格<br>暂无预警"]


def test_rain_colours_each_area_by_its_wettest_gauge() -> None:
    fill = areas.rain_style(RAIN, scene(DISTRICT))[T.TOWNSHIP_FILL]
    assert fill["z"] == [62.5, 0] and fill["zmax"] == 80  # a fixed scale: colours mean the same mm every day
    assert fill["text"][0] == "甲街道<br>近1小时雨量 最大 62.5 mm · 平均 62.5 mm（1 个雨量站）"
    assert fill["text"][1] == "乙街道<br>无雨量站数据"
    assert fill["colorbar.title.text"] == "近1小时雨量 (mm)"
    english = areas.rain_style(RAIN, scene(CITY, "en"))[T.DISTRICT_FILL]
    assert english["text"] == ["北湖区<br>Rain, last hour: max 62.5 mm · mean 31.2 mm (2 gauges)"]


def test_people_evacuated_colour_the_areas_and_total_the_view() -> None:
    city = areas.evacuated_style(EVACUATED, scene(CITY))[T.DISTRICT_FILL]
    assert city["z"] == [45] and city["text"] == ["北湖区<br>本次汛情转移 45 人"]
    district = areas.evacuated_style(EVACUATED, scene(DISTRICT))[T.TOWNSHIP_FILL]
    assert district["z"] == [40, 5] and district["zmax"] == 40  # the scale grows with the figures
    assert district["colorbar.title.text"] == "人员转移<br>累计 45 人（2026-07-01 08:30 起）"
    grids = areas.evacuated_style(EVACUATED, scene(TOWNSHIP))[T.GRID_FILL]
    assert grids["z"] == [0]  # reports name townships, not grids
    none = areas.evacuated_style(EVACUATED.iloc[0:0], scene(CITY, "en"))[T.DISTRICT_FILL]
    assert none["z"] == [0] and none["colorbar.title.text"] == "People evacuated<br>No flood event open"


# -- the points and the heat --

def test_points_and_heat_carry_what_the_hover_says() -> None:
    points = point_layers.incident_style(INCIDENTS, scene())
    assert points[T.INCIDENT_1]["customdata"] == [1] and points[T.INCIDENT_3]["customdata"] == [2]
    assert points[T.INCIDENT_2] == {"lat": [], "lon": [], "text": [], "customdata": []}
    assert "#1 积水<br>红色 I级" in points[T.INCIDENT_1]["text"][0] and "甲街道" in points[T.INCIDENT_1]["text"][0]
    vehicle = point_layers.vehicle_style(VEHICLES, scene())[T.VEHICLES]
    assert vehicle["lon"] == [113.01111] and "62 km/h" in vehicle["text"][0]
    devices = point_layers.device_style(DEVICES, scene(TOWNSHIP))[T.DEVICES]  # in a township: one by one
    assert devices["marker.color"] == [1, 0] and devices["text"] == ["甲", "乙"] and devices["customdata"] == []
    assert devices["hovertemplate"] == "%{text}<extra></extra>"
    empty = {lid: registry.BY_ID[lid].style(FRAMES[lid].iloc[0:0], scene()) for lid in ("devices", "hotline")}
    assert empty == {"devices": Changes({T.DEVICES: {"lon": [], "lat": [], "text": [], "marker.color": [],
                                                     "customdata": [], "hovertemplate": "%{text}<extra></extra>"}}),
                     "hotline": Changes({T.HEAT: {"lat": [], "lon": [], "z": []}})}


@pytest.mark.parametrize(("view", "lang", "words"), [(CITY, "zh", "在线 %{customdata[0]} / 共 %{customdata[1]} 台"),
                                                     (DISTRICT, "en", "%{customdata[0]} of %{customdata[1]} online")])
def test_above_a_township_devices_are_one_marker_per_grid(view: View, lang: str, words: str) -> None:
    """A city's 100,000 devices are never 100,000 markers: the city and a district see a marker per grid at its
    label point, coloured by the share online, its counts in the hover; never a device of the frame."""
    grids = point_layers.device_style(DEVICES, scene(view, lang))[T.DEVICES]
    assert grids["lon"] == [113.02] and grids["text"] == ["甲街道第1网格"] and grids["customdata"] == [[8, 10]]
    assert grids["marker.color"] == [0.5] and words in grids["hovertemplate"]
    assert [point_layers.grid_class(o, 10) for o in (10, 9, 8, 7, 6, 0)] == [1.0, 1.0, 0.5, 0.5, 0.0, 0.0]
    assert point_layers.grid_class(0, 0) == 1.0  # nothing to be offline
    assert bigscreen.online_rate(DEVICES) == 80.0  # the KPI: the grids' sums, whatever the view draws
    assert bigscreen.online_rate(DEVICES.iloc[0:0]) is None


# -- views, patches, plans --

def test_views_from_the_browser_are_checked_and_navigate() -> None:
    for junk in (None, "x", {"level": "district", "code": "999999"}, {"level": "grid", "code": "431002001001"},
                 {"level": "township", "code": "431002"}):
        assert View.from_store(junk, LAYERS) == CITY
    district = CITY.child("431002")
    township = district.child("431002001")
    assert township == TOWNSHIP
    assert View.from_store(township.to_store(), LAYERS) == township  # the browser's store and back
    assert LAYERS.parent_of(township) == district
    assert LAYERS.parent_of(district) == CITY
    assert map_figure.fit_hints(township, LAYERS, registry.REGISTRY)["bounds"] == (113.0, 25.0, 113.05, 25.05)


def test_patches_and_figures_take_nested_properties_alike() -> None:
    changes = Changes({T.DEVICES: {"marker.color": [1, 1]}, T.FOCUS: {"visible": True, "colorbar.title.text": "x"}})
    ops = changes.apply_to(Patch()).to_plotly_json()["operations"]
    assert {tuple(op["location"]) for op in ops} == {("data", int(T.DEVICES), "marker", "color"),
                                                      ("data", int(T.FOCUS), "visible"),
                                                      ("data", int(T.FOCUS), "colorbar", "title", "text")}
    fig = changes.apply_to({"data": [{"marker": {"size": 6}} for _ in T]})
    assert fig["data"][T.DEVICES]["marker"] == {"size": 6, "color": [1, 1]}  # the rest of the marker kept
    assert fig["data"][T.FOCUS] == {"marker": {"size": 6}, "visible": True, "colorbar": {"title": {"text": "x"}}}


def test_a_plan_sends_only_the_properties_that_changed() -> None:
    plan = bigscreen.RefreshPlan(fp={})
    plan.map(point_layers.device_style(DEVICES, scene(TOWNSHIP)))
    assert set(plan.map_changes[T.DEVICES]) == {"lon", "lat", "text", "marker.color", "customdata",
                                                "hovertemplate"}  # the first time: all
    again = bigscreen.RefreshPlan(fp=dict(plan.fp))
    again.map(point_layers.device_style(DEVICES.assign(online=[8, 0, 0]), scene(TOWNSHIP)))
    assert again.map_changes == Changes({T.DEVICES: {"marker.color": [0, 0]}})  # gone offline: 2 bytes, no positions
    still = bigscreen.RefreshPlan(fp=dict(again.fp))
    still.map(point_layers.device_style(DEVICES.assign(online=[8, 0, 0]), scene(TOWNSHIP)))
    assert still.map_patch() is None
    grids = bigscreen.RefreshPlan(fp={})
    grids.map(point_layers.device_style(DEVICES, scene()))
    fewer = bigscreen.RefreshPlan(fp=dict(grids.fp))
    fewer.map(point_layers.device_style(DEVICES.assign(online=[6, 1, 0]), scene()))
    assert fewer.map_changes == Changes({T.DEVICES: {"marker.color": [0.0], "customdata": [[6, 10]]}})  # a grid's
    # counts changed: its counts and colour, not the positions and names
    assert bigscreen.fingerprint({"a": 1, "b": 2}) == bigscreen.fingerprint({"b": 2, "a": 1})


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
    items = bigscreen.warning_items(warnings, LAYERS.names, "zh", now)
    assert (len(items) == 1 and items[0].className == "rolling") is rolling
    first = items[0].children[0] if rolling else items[0]
    assert "warning-new" in first.className  # opened just now: it pulses
