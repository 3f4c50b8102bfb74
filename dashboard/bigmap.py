"""The big screen's map as pure functions: the figure built once, and the parts that change.

The figure has a fixed list of traces (``T``); everything after the first render is a
``dash.Patch`` of some of them: the fill values of the areas in view, the incident
points of one level, the devices' colours, the vehicles' positions, the hotline heat.
No tiles: the boundary polygons are the base map, fetched by URL and cached.

Drill-down has three views: the city (districts coloured), a district (its townships
coloured), a township (its grids coloured). A view is ``{"level": ..., "code": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import math
from enum import IntEnum
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import Patch

from dashboard.i18n import LEVEL_COLOR, Lang, level_label, status_label, t
from dashboard.timefmt import fmt_time

LEVELS = (1, 2, 3, 4)
MAP_UIREVISION = "keep-user-view"  # plotly keeps the user's pan/zoom across patches while this is unchanged
DARK_TEXT = "#d8e6f3"
AREA_LINE = "#3f7fae"
DISTRICT_LINE = "#8fd3ff"
FOCUS_LINE = "#ffd166"
ONLINE, OFFLINE = "#3ddc84", "#ff8a80"  # an offline device is the one to look at
VEHICLE = "#c77dff"
# Open (or overdue) incidents per area: dark when none, warm as they pile up.
AREA_SCALE = [[0.0, "#10283d"], [0.15, "#1d5a7a"], [0.5, "#c98a2b"], [1.0, "#e8452c"]]
HEAT_SCALE = [[0, "rgba(255,200,0,0)"], [0.4, "rgba(255,170,0,0.35)"], [1, "rgba(255,60,0,0.8)"]]
FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"


class T(IntEnum):
    """Trace order = drawing order, bottom to top; patches address traces by these numbers."""

    DISTRICT_FILL = 0
    TOWNSHIP_FILL = 1
    GRID_FILL = 2
    HEAT = 3
    DISTRICT_LINE = 4
    FOCUS = 5
    LABELS = 6
    DEVICES = 7
    VEHICLES = 8
    INCIDENT_4 = 9
    INCIDENT_3 = 10
    INCIDENT_2 = 11
    INCIDENT_1 = 12  # red on top of everything


FILL_OF_LEVEL = {"city": T.DISTRICT_FILL, "district": T.TOWNSHIP_FILL, "township": T.GRID_FILL}
# What a layer toggle shows or hides.
LAYER_TRACES: dict[str, tuple[int, ...]] = {
    "incidents": (T.INCIDENT_4, T.INCIDENT_3, T.INCIDENT_2, T.INCIDENT_1),
    "devices": (T.DEVICES,), "hazmat": (T.VEHICLES,), "hotline": (T.HEAT,),
}
LAYERS = tuple(LAYER_TRACES)
DEFAULT_LAYERS = ["incidents", "hazmat", "hotline"]  # 1,000 device dots on request


def incident_trace(level: int) -> int:
    return int(T.INCIDENT_1) - (level - 1)


def point_size(level: int) -> int:
    return 15 if level == 1 else 12


CITY: dict[str, Any] = {"level": "city", "code": None}


def valid_view(view: Any, layers: dict[str, Any]) -> dict[str, Any]:
    """A view from the browser, checked against the layers (an unknown code falls back to the city)."""
    if isinstance(view, dict) and view.get("level") in ("district", "township"):
        code = view.get("code")
        if isinstance(code, str) and code in layers["names"] and len(code) == (6 if view["level"] == "district" else 9):
            return {"level": view["level"], "code": code}
    return dict(CITY)


def child_view(view: dict[str, Any], code: str) -> dict[str, Any]:
    return {"level": "district" if view["level"] == "city" else "township", "code": code}


def parent_view(view: dict[str, Any], layers: dict[str, Any]) -> dict[str, Any]:
    if view["level"] == "township":
        return {"level": "district", "code": layers["parents"].get(view["code"]) or view["code"][:6]}
    return dict(CITY)


def children(view: dict[str, Any], layers: dict[str, Any]) -> list[str]:
    """Codes of the areas coloured in ``view``: districts, a district's townships, a township's grids."""
    return list(layers["children"].get(view["code"] or "", []))


def view_bounds(view: dict[str, Any], layers: dict[str, Any]) -> Any:
    return layers["region_bounds"].get(view["code"]) if view["code"] else layers["bounds"]


def fit_hints(view: dict[str, Any], layers: dict[str, Any]) -> dict[str, Any]:
    """For the browser's fitMap: the area to fit, and which traces to enlarge on a 4K wall."""
    points = [incident_trace(level) for level in LEVELS] + [T.DEVICES, T.VEHICLES]
    sizes = [point_size(level) for level in LEVELS] + [6, 11]
    return {"bounds": view_bounds(view, layers), "label_trace": int(T.LABELS), "point_traces": [int(p) for p in points],
            "point_sizes": sizes, "heat_trace": int(T.HEAT), "fill_traces": [int(f) for f in FILL_OF_LEVEL.values()],
            "view": f"{view['level']}:{view['code']}"}


# -- the parts that change --

def fingerprint(value: Any) -> str:
    """Short stable digest of what a part would send: equal digests, nothing to send."""
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode(),
                           digest_size=8).hexdigest()


def area_values(view: dict[str, Any], counts: pd.DataFrame, metric: str, layers: dict[str, Any],
                lang: Lang) -> dict[str, Any]:
    """locations, z and hover text of the view's areas (every child, zero where nothing is open)."""
    codes = children(view, layers)
    names: dict[str, str] = layers["names"]
    by_code: dict[str, tuple[int, int]] = {}
    if len(counts):
        for r in counts.itertuples():
            if isinstance(r.code, str):
                by_code[r.code] = (int(r.open), int(r.overdue))
    z = [by_code.get(c, (0, 0))[1 if metric == "overdue" else 0] for c in codes]
    text = [f"{names.get(c, c)}<br>{t('map.metric_open', lang)} {by_code.get(c, (0, 0))[0]}"
            f" · {t('map.metric_overdue', lang)} {by_code.get(c, (0, 0))[1]}" for c in codes]
    return {"locations": codes, "z": z, "text": text, "zmax": max(4, *z) if z else 4,
            "title": t("map.metric_overdue" if metric == "overdue" else "map.metric_open", lang)}


def area_changes(area: dict[str, Any]) -> dict[str, Any]:
    """The fill trace's properties for ``area_values`` (the colour bar says what is counted)."""
    return {"locations": area["locations"], "z": area["z"], "text": area["text"], "zmax": area["zmax"],
            "colorbar.title.text": area["title"]}


def incident_points(incidents: pd.DataFrame, level: int, names: dict[str, str], lang: Lang) -> dict[str, list[Any]]:
    """lat/lon/hover text/ids of one level's open incidents: the part of the map that changes most."""
    rows = incidents[(incidents["level"] == level) & incidents["lon"].notna() & incidents["lat"].notna()] \
        if len(incidents) else incidents
    if not len(rows):
        return {"lat": [], "lon": [], "text": [], "customdata": []}
    text = [f"#{r.id} {r.title}<br>{level_label(int(r.level), lang)} · {status_label(r.status, lang)}"
            f"<br>{names.get(r.township_code or '', r.township_code or '—')}" for r in rows.itertuples()]
    return {"lat": [round(float(v), 5) for v in rows["lat"]], "lon": [round(float(v), 5) for v in rows["lon"]],
            "text": text, "customdata": [int(v) for v in rows["id"]]}


def device_colors(devices: pd.DataFrame) -> list[int]:
    """1 online, 0 offline, in the figure's device order (by id): 2 bytes a device on the wire."""
    return [1 if v else 0 for v in devices["online"]] if len(devices) else []


def vehicle_points(vehicles: pd.DataFrame, lang: Lang) -> dict[str, list[Any]]:
    if not len(vehicles):
        return {"lat": [], "lon": [], "text": []}
    unit = "km/h"
    text = [f"{r.name}<br>{'' if r.speed is None else f'{float(r.speed):.0f} {unit} · '}{fmt_time(r.ts)}"
            for r in vehicles.itertuples()]
    return {"lat": [round(float(v), 5) for v in vehicles["lat"]], "lon": [round(float(v), 5) for v in vehicles["lon"]],
            "text": text}


def heat_points(heat: pd.DataFrame) -> dict[str, list[Any]]:
    if not len(heat):
        return {"lat": [], "lon": [], "z": []}
    return {"lat": [round(float(v), 3) for v in heat["lat"]], "lon": [round(float(v), 3) for v in heat["lon"]],
            "z": [int(v) for v in heat["n"]]}


def labels_of(view: dict[str, Any], layers: dict[str, Any]) -> dict[str, list[Any]]:
    """Names to print on the map: districts (city), townships (district), the township itself (township).

    Only Chinese names: MapLibre draws CJK ideographs with the browser's own font, while
    digits or Latin letters would need glyphs from a server (FACTS.md).
    """
    if view["level"] == "city":
        items = layers["labels"]
    elif view["level"] == "district":
        items = [layers["label_of"][c] for c in children(view, layers) if c in layers["label_of"]]
    else:
        items = [layers["label_of"][view["code"]]] if view["code"] in layers["label_of"] else []
    return {"text": [i[0] for i in items], "lon": [i[1] for i in items], "lat": [i[2] for i in items]}


def view_changes(view: dict[str, Any], area: dict[str, Any], layers: dict[str, Any],
                 urls: dict[str, str]) -> dict[int, dict[str, Any]]:
    """Trace properties that make ``view`` the one shown: which fill is visible, its areas, the focus line."""
    level = view["level"]
    fill = FILL_OF_LEVEL[level]
    changes: dict[int, dict[str, Any]] = {
        int(tr): {"visible": tr == fill} for tr in (T.DISTRICT_FILL, T.TOWNSHIP_FILL, T.GRID_FILL)}
    changes[int(fill)] |= area_changes(area)
    if level == "township":
        changes[int(T.GRID_FILL)]["geojson"] = urls["grid"].format(code=view["code"])
    focus_geo = urls["district"] if level == "district" else urls["township"]
    changes[int(T.FOCUS)] = {"visible": level != "city", "geojson": focus_geo,
                             "locations": [view["code"]] if view["code"] else [], "z": [0] if view["code"] else []}
    changes[int(T.LABELS)] = labels_of(view, layers)
    return changes


def apply(patch: Patch, changes: dict[int, dict[str, Any]]) -> Patch:
    """``changes`` (trace index → {"marker.color": …}) written into a Patch; dotted keys reach nested props."""
    for index, props in changes.items():
        for key, value in props.items():
            *path, last = key.split(".")
            target = patch["data"][index]
            for part in path:
                target = target[part]
            target[last] = value
    return patch


# -- the figure, built once per page load --

def _fill(name: str, geojson: Any, colorbar: bool, lang: Lang) -> go.Choroplethmap:
    return go.Choroplethmap(
        geojson=geojson, locations=[], z=[], featureidkey="properties.code", colorscale=AREA_SCALE, zmin=0, zmax=4,
        marker_opacity=0.72, marker_line_color=AREA_LINE, marker_line_width=0.8, name=name,
        hovertemplate="%{text}<extra></extra>", showlegend=False, showscale=colorbar,
        colorbar={"title": {"text": t("map.metric_open", lang), "side": "top", "font": {"color": DARK_TEXT}},
                  "thickness": 12, "len": 0.35, "x": 0.995, "xanchor": "right", "y": 0.02, "yanchor": "bottom",
                  "tickfont": {"color": DARK_TEXT}, "tickformat": "d", "bgcolor": "rgba(8,22,38,0.6)"},
    )


def build(layers: dict[str, Any], urls: dict[str, str], style_url: str, lang: Lang, view: dict[str, Any],
          area: dict[str, Any], incidents: pd.DataFrame, devices: pd.DataFrame, vehicles: pd.DataFrame,
          heat: pd.DataFrame, visible_layers: list[str]) -> go.Figure:
    """The whole map for one page load; later refreshes patch it (see ``T``)."""
    names: dict[str, str] = layers["names"]
    fig = go.Figure()
    fig.add_trace(_fill("district", urls["district"], True, lang))
    fig.add_trace(_fill("township", urls["township"], True, lang))
    fig.add_trace(_fill("grid", urls["grid"].format(code=view["code"] or "none"), True, lang))
    fig.add_trace(go.Densitymap(name=t("layer.hotline", lang), radius=18, colorscale=HEAT_SCALE, showscale=False,
                                hoverinfo="skip", **heat_points(heat)))
    d_codes = children(CITY, layers)
    fig.add_trace(go.Choroplethmap(
        geojson=urls["district"], locations=d_codes, z=[0] * len(d_codes), featureidkey="properties.code",
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color=DISTRICT_LINE,
        marker_line_width=2.0, hoverinfo="skip", name="district-line", showlegend=False))
    fig.add_trace(go.Choroplethmap(
        geojson=urls["district"], locations=[], z=[], featureidkey="properties.code",
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color=FOCUS_LINE,
        marker_line_width=3.5, hoverinfo="skip", name="focus", showlegend=False))
    fig.add_trace(go.Scattermap(mode="text", textfont={"size": 15, "color": "#e6f4ff"}, hoverinfo="skip",
                                showlegend=False, name="labels", lon=[], lat=[], text=[]))
    dev_text = [f"{r.name}" for r in devices.itertuples()] if len(devices) else []
    fig.add_trace(go.Scattermap(
        mode="markers", name=t("layer.devices", lang), lon=[round(float(v), 5) for v in devices.get("lon", [])],
        lat=[round(float(v), 5) for v in devices.get("lat", [])], text=dev_text, hovertemplate="%{text}<extra></extra>",
        marker={"size": 6, "color": device_colors(devices), "cmin": 0, "cmax": 1, "opacity": 0.85,
                "colorscale": [[0, OFFLINE], [0.5, OFFLINE], [0.5, ONLINE], [1, ONLINE]]}, showlegend=False))
    fig.add_trace(go.Scattermap(mode="markers", name=t("layer.hazmat", lang), hovertemplate="%{text}<extra></extra>",
                                marker={"size": 11, "color": VEHICLE, "opacity": 0.95}, showlegend=False,
                                **vehicle_points(vehicles, lang)))
    for level in sorted(LEVELS, reverse=True):  # blue first: red is drawn last, on top
        fig.add_trace(go.Scattermap(
            mode="markers", name=level_label(level, lang), hovertemplate="%{text}<extra></extra>", showlegend=False,
            marker={"size": point_size(level), "color": LEVEL_COLOR[level], "opacity": 0.95},
            **incident_points(incidents, level, names, lang)))
    apply_figure(fig, view_changes(view, area, layers, urls))
    for name, traces in LAYER_TRACES.items():
        for index in traces:
            fig.data[index].visible = name in visible_layers
    center, zoom = _zoom_for(view_bounds(view, layers))
    fig.update_layout(
        map={"style": style_url, "center": center, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, paper_bgcolor="rgba(0,0,0,0)", showlegend=False,
        font={"color": DARK_TEXT, "family": FONT}, uirevision=MAP_UIREVISION, hoverlabel={"font": {"size": 14}},
    )
    return fig


def apply_figure(fig: go.Figure, changes: dict[int, dict[str, Any]]) -> None:
    """``changes`` applied to a figure in Python (the first render), as ``apply`` does to a Patch."""
    for index, props in changes.items():
        fig.data[index].update({key.replace(".", "_"): value for key, value in props.items()})


def _zoom_for(bounds: Any, width_px: int = 1400, height_px: int = 820) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit ``bounds``; the browser refits to its real size (cityops.js fitMap)."""
    if not bounds:
        return {"lon": 113.0, "lat": 25.8}, 7.5  # 郴州 when no layer is loaded yet
    min_lon, min_lat, max_lon, max_lat = bounds
    lon_span = max(max_lon - min_lon, 1e-3)
    lat_span = max(max_lat - min_lat, 1e-3) / math.cos(math.radians((min_lat + max_lat) / 2))
    zoom = min(math.log2(width_px / 512 * 360 / lon_span), math.log2(height_px / 512 * 360 / lat_span))
    return {"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2}, round(zoom - 0.15, 2)
