"""The map's area layers: the district borders, and the choropleths that colour the view's areas.

One choropleth at a time colours the areas of the view (open or overdue incidents, the highest
open warning, the last hour's rain): it writes into the views' fill of that level, so it draws
no traces of its own. Each gives every child area of the view a value (0 where its read has no
row) and a colour scale that says what the value is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.map.model import CITY, Cadence, Changes, Kind, Layer, Scene, T, View
from dashboard.map.views import FILL_OF_LEVEL, FILLS, outline
from i18n.labels import LEVEL_COLOR, Lang, level_label, t
from i18n.numbers import fmt_int
from i18n.timefmt import fmt_dt

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from dashboard.data import Data

DISTRICT_LINE = "#8fd3ff"


# -- the district borders --

def district_lines(_lang: Lang) -> list[go.Choroplethmap]:
    return [outline("district-line", None, DISTRICT_LINE, 2.0)]  # its style sets the polygons


def _district_codes(data: Data, _now: datetime, _view: View) -> pd.DataFrame:
    return pd.DataFrame({"code": data.base_map().children_of(CITY)})


def boundary_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    codes = list(frame["code"]) if len(frame) else []
    return Changes({T.DISTRICT_LINE: {"geojson": scene.urls.district, "locations": codes, "z": [0] * len(codes)}})


BOUNDARIES = Layer("boundaries", "layer.boundaries", Kind.BOUNDARY, Cadence.ONCE, _district_codes, boundary_style,
                   (T.DISTRICT_LINE,), district_lines, default_on=True)


# -- the choropleths --

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
# People moved (人员转移) during the flood event: dark where nobody was, bright cyan where many were.
EVACUATED_SHADING = Shading([[0.0, NO_AREA_COLOR], [0.2, "#1f6f8f"], [0.6, "#35a9c9"], [1.0, "#8ff0ff"]], 20,
                            grows=True)
RAIN_SHADING = Shading([[0.0, NO_AREA_COLOR], [0.25, "#1f6f9f"], [0.375, "#38b6e8"], [0.625, "#3553d6"],
                        [1.0, "#c03fd0"]], 80, unit="mm")


def shade(frame: pd.DataFrame, scene: Scene, shading: Shading, title: str, value: Callable[[Any], float],
          hover: Callable[[Any], str], ticks: list[str] | None = None) -> Changes:
    """The view's fill: every child area, ``value(row)`` where the frame has a row for it, else 0.

    ``ticks`` name the classes 0, 1, 2, … of a scale of classes; a scale of amounts has none.
    """
    codes = scene.base.children_of(scene.view)
    names = scene.base.names
    rows = {r.code: r for r in frame.itertuples() if isinstance(r.code, str)} if len(frame) else {}
    z = [value(rows[c]) if c in rows else 0 for c in codes]
    text = [f"{names.get(c, c)}<br>{hover(rows.get(c))}" for c in codes]
    unit = f" ({shading.unit})" if shading.unit else ""
    return Changes({FILL_OF_LEVEL[scene.view.level]: {
        "locations": codes, "z": z, "text": text, "zmin": shading.zmin,
        "zmax": max(shading.zmax, *z) if shading.grows and z else shading.zmax, "colorscale": shading.colorscale,
        "colorbar.title.text": t(title, scene.lang) + unit,
        "colorbar.tickmode": "array" if ticks else "auto", "colorbar.tickvals": list(range(len(ticks or []))),
        "colorbar.ticktext": ticks or []}})


def _count_hover(lang: Lang) -> Callable[[Any], str]:
    def hover(row: Any) -> str:
        opened, overdue = (int(row.open), int(row.overdue)) if row is not None else (0, 0)
        return f"{t('map.metric_open', lang)} {opened} · {t('map.metric_overdue', lang)} {overdue}"
    return hover


def open_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return shade(frame, scene, COUNT_SHADING, "map.metric_open", lambda r: int(r.open), _count_hover(scene.lang))


def overdue_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return shade(frame, scene, COUNT_SHADING, "map.metric_overdue", lambda r: int(r.overdue),
                 _count_hover(scene.lang))


def warning_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """Class 5 − level: 4 for a red warning, 1 for a blue one, 0 where nothing is open."""
    lang = scene.lang

    def hover(row: Any) -> str:
        if row is None:
            return t("map.no_warnings", lang)
        return t("map.warning_top", lang, level=level_label(int(row.top), lang), n=int(row.n))
    ticks = [t("map.no_level", lang), *(level_label(level, lang) for level in WARNING_CLASSES)]
    return shade(frame, scene, WARNING_SHADING, "layer.warning", lambda r: 5 - int(r.top), hover, ticks)


def rain_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """The wettest gauge of each area (a flood starts where it rains hardest), the mean in the hover."""
    lang = scene.lang

    def hover(row: Any) -> str:
        if row is None:
            return t("map.no_gauge", lang)
        return t("map.rain_hover", lang, max=f"{float(row.max_mm):.1f}", mean=f"{float(row.mean_mm):.1f}",
                 n=int(row.gauges))
    return shade(frame, scene, RAIN_SHADING, "layer.rain", lambda r: round(float(r.max_mm), 1), hover)


def evacuated_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """People moved per child area of the view during the open flood event, and the view's total in the
    colour bar's title (none open: every area 0, and the title says so). Grids have no figure of their own."""
    lang = scene.lang

    def hover(row: Any) -> str:
        return t("map.evacuated_hover", lang, n=fmt_int(int(row.moved) if row is not None else 0))
    changes = shade(frame, scene, EVACUATED_SHADING, "map.metric_evacuated", lambda r: int(r.moved), hover)
    fill = FILL_OF_LEVEL[scene.view.level]
    shown = set(scene.base.children_of(scene.view))
    total = int(frame.loc[frame["code"].isin(shown), "moved"].sum()) if len(frame) else 0
    note = (t("map.evacuated_total", lang, n=fmt_int(total), since=fmt_dt(frame["since"].iloc[0]))
            if len(frame) else t("map.evacuated_none", lang))
    changes[fill]["colorbar.title.text"] = f"{changes[fill]['colorbar.title.text']}<br>{note}"
    return changes


OPEN = Layer("open", "map.metric_open", Kind.CHOROPLETH, Cadence.CHANGE,
             lambda d, now, _view: d.area_counts(now), open_style, FILLS, default_on=True)
OVERDUE = Layer("overdue", "map.metric_overdue", Kind.CHOROPLETH, Cadence.CHANGE,
                lambda d, now, _view: d.area_counts(now), overdue_style, FILLS)
WARNING = Layer("warning", "layer.warning", Kind.CHOROPLETH, Cadence.CHANGE,
                lambda d, _now, _view: d.area_warning_levels(), warning_style, FILLS)
RAIN = Layer("rain", "layer.rain", Kind.CHOROPLETH, Cadence.LIVE, lambda d, now, _view: d.area_rainfall(now),
             rain_style, FILLS)
EVACUATED = Layer("evacuated", "map.metric_evacuated", Kind.CHOROPLETH, Cadence.CHANGE,
                  lambda d, now, _view: d.area_people_moved(now), evacuated_style, FILLS)

LAYERS = (BOUNDARIES, OPEN, OVERDUE, WARNING, RAIN, EVACUATED)
