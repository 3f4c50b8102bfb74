"""The big screen's map layers, declared once: what each shows, where it reads, how it looks.

A layer is an id, its label (zh/en, ``texts.py``), its kind, the read that feeds it (a
query on ``Data``), the style that turns the read's frame into the properties of its
traces (pure), when it is read again, and the traces it owns in ``bigmap.T``. The page
makes its toggles and its area choice from ``REGISTRY``; the first render and every
refresh read and style the layers that are due, and the refresh patches only what changed.

Kinds: the boundaries; choropleths (one at a time colours the areas of the view: open or
overdue incidents, the highest open warning, the last hour's rain); points (incidents,
devices, vehicles); the hotline heat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pandas as pd

from dashboard import bigmap
from dashboard.bigmap import LEVELS, Changes, T
from dashboard.data import Data
from i18n.labels import LEVEL_COLOR, Lang, level_label, status_label, t
from i18n.timefmt import fmt_time


class Kind(StrEnum):
    BOUNDARY = "boundary"
    CHOROPLETH = "choropleth"
    POINTS = "points"
    HEAT = "heat"


class Cadence(StrEnum):
    """When a layer is read again."""

    ONCE = "once"  # with the page: the boundaries do not change while it is open
    CHANGE = "change"  # when the incident or warning tables changed (their cheap marker)
    LIVE = "live"  # every few seconds: sensors, vehicles, tickets


@dataclass(frozen=True, slots=True)
class Scene:
    """What a style needs besides its frame: the boundary layers, the view, the language, the polygons' URLs."""

    layers: dict[str, Any]
    view: dict[str, Any]
    lang: Lang
    urls: dict[str, str]


Read = Callable[[Data, datetime], pd.DataFrame]
Style = Callable[[pd.DataFrame, Scene], Changes]


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    label: str  # text key
    kind: Kind
    cadence: Cadence
    read: Read
    style: Style
    traces: tuple[int, ...]  # what it draws into; the choropleths share the three area fills
    draw: Callable[[Lang], list[Any]] | None = None  # its traces' fixed look (None: the views draw the fills)
    default_on: bool = False

    @property
    def toggled(self) -> bool:
        """Switched on and off by the user (a choropleth is chosen instead: one colours the areas at a time)."""
        return self.kind is not Kind.CHOROPLETH


# -- styles: a frame in, trace properties out --

def boundary_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    codes = list(frame["code"]) if len(frame) else []
    return {T.DISTRICT_LINE: {"geojson": scene.urls["district"], "locations": codes, "z": [0] * len(codes)}}


def incident_points(incidents: pd.DataFrame, level: int, names: dict[str, str], lang: Lang) -> dict[str, list[Any]]:
    """lat/lon/hover text/ids of one level's open incidents: the part of the map that changes most."""
    rows = incidents[(incidents["level"] == level) & incidents["lon"].notna() & incidents["lat"].notna()] \
        if len(incidents) else incidents
    if not len(rows):
        return {"lat": [], "lon": [], "text": [], "customdata": []}
    text = [f"#{r.id} {r.title}<br>{level_label(int(r.level), lang)} · {status_label(r.status, lang)}"
            f"<br>{names.get(r.township_code or '', r.township_code or '—')}" for r in rows.itertuples()]
    return {"lat": _coords(rows["lat"]), "lon": _coords(rows["lon"]), "text": text,
            "customdata": [int(v) for v in rows["id"]]}


def incident_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return {bigmap.incident_trace(level): incident_points(frame, level, scene.layers["names"], scene.lang)
            for level in LEVELS}


def device_colors(devices: pd.DataFrame) -> list[int]:
    """1 online, 0 offline, in the device order (by id): 2 bytes a device on the wire."""
    return [1 if v else 0 for v in devices["online"]] if len(devices) else []


def device_style(frame: pd.DataFrame, _scene: Scene) -> Changes:
    """Positions and colours apart: a device going offline sends 2 bytes, not its position again."""
    if not len(frame):
        return {T.DEVICES: {"lon": [], "lat": [], "text": [], "marker.color": []}}
    return {T.DEVICES: {"lon": _coords(frame["lon"]), "lat": _coords(frame["lat"]), "text": list(frame["name"]),
                        "marker.color": device_colors(frame)}}


def vehicle_points(vehicles: pd.DataFrame, lang: Lang) -> dict[str, list[Any]]:
    if not len(vehicles):
        return {"lat": [], "lon": [], "text": []}
    text = [f"{r.name}<br>{'' if r.speed is None else f'{float(r.speed):.0f} km/h · '}{fmt_time(r.ts)}"
            for r in vehicles.itertuples()]
    return {"lat": _coords(vehicles["lat"]), "lon": _coords(vehicles["lon"]), "text": text}


def vehicle_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return {T.VEHICLES: vehicle_points(frame, scene.lang)}


def heat_style(frame: pd.DataFrame, _scene: Scene) -> Changes:
    if not len(frame):
        return {T.HEAT: {"lat": [], "lon": [], "z": []}}
    return {T.HEAT: {"lat": [round(float(v), 3) for v in frame["lat"]],
                     "lon": [round(float(v), 3) for v in frame["lon"]], "z": [int(v) for v in frame["n"]]}}


def _coords(values: pd.Series) -> list[float]:
    return [round(float(v), 5) for v in values]


# -- the choropleths: one value per area of the view, and a colour scale that says what it is --

@dataclass(frozen=True, slots=True)
class Shading:
    colorscale: list[list[Any]]
    zmax: float  # top of the scale; counts raise it to their largest value
    grows: bool = False
    unit: str = ""
    zmin: float = 0


NO_AREA_COLOR = "#10283d"  # nothing open, no warning, no rain: the base map's own dark blue
# Open (or overdue) incidents per area: dark when none, warm as they pile up.
COUNT_SHADING = Shading([[0.0, NO_AREA_COLOR], [0.15, "#1d5a7a"], [0.5, "#c98a2b"], [1.0, "#e8452c"]], 4, grows=True)


def _classes(colors: list[str]) -> Shading:
    """A stepped scale of classes 0 … n−1, one flat band each, every band as tall as the others
    (the range runs from −½ to n−½, so each class sits in the middle of its band)."""
    n = len(colors)
    scale = [stop for k, color in enumerate(colors) for stop in ([k / n, color], [(k + 1) / n, color])]
    return Shading(scale, n - 0.5, zmin=-0.5)


# The highest open warning: class 0 none, then 蓝 IV … 红 I in the national colours.
WARNING_CLASSES = (4, 3, 2, 1)
WARNING_SHADING = _classes([NO_AREA_COLOR, *(LEVEL_COLOR[level] for level in WARNING_CLASSES)])
# Rain in the last hour (mm), on a fixed 0–80 scale whose stops are the heavy-rain rule's steps:
# 20 / 30 / 50 / 80 mm (alerts/rules.toml). 80 mm and more is the top colour.
RAIN_SHADING = Shading([[0.0, NO_AREA_COLOR], [0.25, "#1f6f9f"], [0.375, "#38b6e8"], [0.625, "#3553d6"],
                        [1.0, "#c03fd0"]], 80, unit="mm")


def area_fill(frame: pd.DataFrame, scene: Scene, shading: Shading, title: str, value: Callable[[Any], float],
              hover: Callable[[Any], str], ticks: list[str] | None = None) -> Changes:
    """The view's fill: every child area, ``value(row)`` where the frame has a row for it, else 0.

    ``ticks`` name the classes 0, 1, 2, … of a scale of classes; a scale of amounts has none.
    """
    codes = bigmap.children(scene.view, scene.layers)
    names: dict[str, str] = scene.layers["names"]
    rows = {r.code: r for r in frame.itertuples() if isinstance(r.code, str)} if len(frame) else {}
    z = [value(rows[c]) if c in rows else 0 for c in codes]
    text = [f"{names.get(c, c)}<br>{hover(rows.get(c))}" for c in codes]
    unit = f" ({shading.unit})" if shading.unit else ""
    return {bigmap.FILL_OF_LEVEL[scene.view["level"]]: {
        "locations": codes, "z": z, "text": text, "zmin": shading.zmin,
        "zmax": max(shading.zmax, *z) if shading.grows and z else shading.zmax, "colorscale": shading.colorscale,
        "colorbar.title.text": t(title, scene.lang) + unit,
        "colorbar.tickmode": "array" if ticks else "auto", "colorbar.tickvals": list(range(len(ticks or []))),
        "colorbar.ticktext": ticks or []}}


def _count_hover(lang: Lang) -> Callable[[Any], str]:
    def hover(row: Any) -> str:
        opened, overdue = (int(row.open), int(row.overdue)) if row is not None else (0, 0)
        return f"{t('map.metric_open', lang)} {opened} · {t('map.metric_overdue', lang)} {overdue}"
    return hover


def open_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return area_fill(frame, scene, COUNT_SHADING, "map.metric_open", lambda r: int(r.open), _count_hover(scene.lang))


def overdue_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return area_fill(frame, scene, COUNT_SHADING, "map.metric_overdue", lambda r: int(r.overdue),
                     _count_hover(scene.lang))


def warning_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """Class 5 − level: 4 for a red warning, 1 for a blue one, 0 where nothing is open."""
    lang = scene.lang

    def hover(row: Any) -> str:
        if row is None:
            return t("map.no_warnings", lang)
        return t("map.warning_top", lang, level=level_label(int(row.top), lang), n=int(row.n))
    ticks = [t("map.no_level", lang), *(level_label(level, lang) for level in WARNING_CLASSES)]
    return area_fill(frame, scene, WARNING_SHADING, "layer.warning", lambda r: 5 - int(r.top), hover, ticks)


def rain_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """The wettest gauge of each area (a flood starts where it rains hardest), the mean in the hover."""
    lang = scene.lang

    def hover(row: Any) -> str:
        if row is None:
            return t("map.no_gauge", lang)
        return t("map.rain_hover", lang, max=f"{float(row.max_mm):.1f}", mean=f"{float(row.mean_mm):.1f}",
                 n=int(row.gauges))
    return area_fill(frame, scene, RAIN_SHADING, "layer.rain", lambda r: round(float(r.max_mm), 1), hover)


def _district_codes(data: Data, _now: datetime) -> pd.DataFrame:
    return pd.DataFrame({"code": bigmap.children(bigmap.CITY, data.base_layers())})


INCIDENT_TRACES = tuple(bigmap.incident_trace(level) for level in sorted(LEVELS, reverse=True))

# Order = the order of the toggles and of the area choice on the map.
REGISTRY: tuple[Layer, ...] = (
    Layer("incidents", "layer.incidents", Kind.POINTS, Cadence.CHANGE, lambda d, _now: d.open_incidents(),
          incident_style, INCIDENT_TRACES, bigmap.incident_traces, default_on=True),
    Layer("devices", "layer.devices", Kind.POINTS, Cadence.LIVE, lambda d, now: d.device_states(now), device_style,
          (T.DEVICES,), bigmap.device_trace),  # 1,000 dots: on request
    Layer("hazmat", "layer.hazmat", Kind.POINTS, Cadence.LIVE, lambda d, now: d.vehicle_positions(now),
          vehicle_style, (T.VEHICLES,), bigmap.vehicle_trace, default_on=True),
    Layer("hotline", "layer.hotline", Kind.HEAT, Cadence.LIVE, lambda d, now: d.hotline_heat(now), heat_style,
          (T.HEAT,), bigmap.heat_trace, default_on=True),
    Layer("boundaries", "layer.boundaries", Kind.BOUNDARY, Cadence.ONCE, _district_codes, boundary_style,
          (T.DISTRICT_LINE,), bigmap.district_lines, default_on=True),
    Layer("open", "map.metric_open", Kind.CHOROPLETH, Cadence.CHANGE, lambda d, now: d.area_counts(now),
          open_style, bigmap.FILLS, default_on=True),
    Layer("overdue", "map.metric_overdue", Kind.CHOROPLETH, Cadence.CHANGE, lambda d, now: d.area_counts(now),
          overdue_style, bigmap.FILLS),
    Layer("warning", "layer.warning", Kind.CHOROPLETH, Cadence.CHANGE, lambda d, _now: d.area_warning_levels(),
          warning_style, bigmap.FILLS),
    Layer("rain", "layer.rain", Kind.CHOROPLETH, Cadence.LIVE, lambda d, now: d.area_rainfall(now), rain_style,
          bigmap.FILLS),
)
BY_ID = {layer.id: layer for layer in REGISTRY}
TOGGLES = tuple(layer for layer in REGISTRY if layer.toggled)
CHOROPLETHS = tuple(layer for layer in REGISTRY if not layer.toggled)
DEFAULT_ON = [layer.id for layer in TOGGLES if layer.default_on]
DEFAULT_CHOROPLETH = next(layer.id for layer in CHOROPLETHS if layer.default_on)


def choropleth(layer_id: Any) -> Layer:
    """The area layer the browser asked for; anything unknown colours by the default."""
    layer = BY_ID.get(layer_id) if isinstance(layer_id, str) else None
    return layer if layer is not None and not layer.toggled else BY_ID[DEFAULT_CHOROPLETH]


def due(cadences: tuple[Cadence, ...], chosen: Layer) -> list[Layer]:
    """The layers to read now: every toggled layer of these cadences, and the chosen choropleth if it is due."""
    return [layer for layer in REGISTRY if layer.cadence in cadences and (layer.toggled or layer is chosen)]


def toggle_traces() -> dict[str, list[int]]:
    """For the browser's layer switch: which traces each toggle shows or hides."""
    return {layer.id: [int(i) for i in layer.traces] for layer in TOGGLES}
