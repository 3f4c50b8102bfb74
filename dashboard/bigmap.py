"""The big screen's map as pure functions: the figure's traces, the views, and patches.

The figure has a fixed list of traces (``T``); the layers of ``map_layers`` draw theirs
and say what goes into them. Everything after the first render is a ``dash.Patch`` of
some of them: the fill values of the areas in view, the incident points of one level,
the devices' colours, the vehicles' positions, the hotline heat. No tiles: the boundary
polygons are the base map, fetched by URL and cached.

Drill-down has three views: the city (districts coloured), a district (its townships
coloured), a township (its grids coloured). A view is ``{"level": ..., "code": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from i18n.labels import LEVEL_COLOR, Lang, level_label, t

if TYPE_CHECKING:
    from dashboard.map_layers import Layer

Changes = dict[int, dict[str, Any]]  # trace index → {"marker.color": …}: what a Patch or the first render sets

LEVELS = (1, 2, 3, 4)
MAP_UIREVISION = "keep-user-view"  # plotly keeps the user's pan/zoom across patches while this is unchanged
DARK_TEXT = "#d8e6f3"
AREA_LINE = "#3f7fae"
DISTRICT_LINE = "#8fd3ff"
FOCUS_LINE = "#ffd166"
ONLINE, OFFLINE = "#3ddc84", "#ff8a80"  # an offline device is the one to look at
VEHICLE = "#c77dff"
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
FILLS = tuple(FILL_OF_LEVEL.values())


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
            "point_sizes": sizes, "heat_trace": int(T.HEAT), "fill_traces": [int(f) for f in FILLS],
            "view": f"{view['level']}:{view['code']}"}


# -- the parts that change --

def fingerprint(value: Any) -> str:
    """Short stable digest of what a part would send: equal digests, nothing to send."""
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode(),
                           digest_size=6).hexdigest()


def merge(*changes: Changes) -> Changes:
    """Trace changes combined, later ones winning per property (a view's fill and the colours for it)."""
    out: Changes = {}
    for part in changes:
        for index, props in part.items():
            out.setdefault(index, {}).update(props)
    return out


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


def view_changes(view: dict[str, Any], layers: dict[str, Any], urls: dict[str, str]) -> Changes:
    """Trace properties that make ``view`` the one shown: which fill is visible, the focus line, the names.

    The fill's colours come from the chosen area layer (``map_layers``), for the same view.
    """
    level = view["level"]
    fill = FILL_OF_LEVEL[level]
    changes: Changes = {int(tr): {"visible": tr == fill} for tr in FILLS}
    if level == "township":
        changes[int(T.GRID_FILL)]["geojson"] = urls["grid"].format(code=view["code"])
    focus_geo = urls["district"] if level == "district" else urls["township"]
    changes[int(T.FOCUS)] = {"visible": level != "city", "geojson": focus_geo,
                             "locations": [view["code"]] if view["code"] else [], "z": [0] if view["code"] else []}
    changes[int(T.LABELS)] = labels_of(view, layers)
    return changes


def apply(target: Any, changes: Changes) -> Any:
    """``changes`` (trace index → {"marker.color": …}) written into a ``dash.Patch`` or into a figure
    dict (the first render); dotted keys reach nested properties, created in a dict where missing."""
    for index, props in changes.items():
        for key, value in props.items():
            *path, last = key.split(".")
            node = target["data"][index]
            for part in path:
                node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
            node[last] = value
    return target


# -- the figure, built once per page load --

def area_fill(level: str, geojson: Any, lang: Lang) -> go.Choroplethmap:
    """One level's areas (districts, townships or grids), coloured by the chosen area layer."""
    return go.Choroplethmap(
        geojson=geojson, locations=[], z=[], featureidkey="properties.code", zmin=0, zmax=4,
        marker_opacity=0.72, marker_line_color=AREA_LINE, marker_line_width=0.8, name=level,
        hovertemplate="%{text}<extra></extra>", showlegend=False, visible=False,
        colorbar={"title": {"text": "", "side": "top", "font": {"color": DARK_TEXT}},
                  "thickness": 12, "len": 0.35, "x": 0.995, "xanchor": "right", "y": 0.02, "yanchor": "bottom",
                  "tickfont": {"color": DARK_TEXT}, "tickformat": "d", "bgcolor": "rgba(8,22,38,0.6)"},
    )


def outline(name: str, geojson: str | None, color: str, width: float) -> go.Choroplethmap:
    """Borders only (a transparent fill): the district lines and the focused area."""
    return go.Choroplethmap(
        geojson=geojson, locations=[], z=[], featureidkey="properties.code",
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color=color,
        marker_line_width=width, hoverinfo="skip", name=name, showlegend=False)


def heat_trace(lang: Lang) -> list[go.Densitymap]:
    return [go.Densitymap(name=t("layer.hotline", lang), radius=18, colorscale=HEAT_SCALE, showscale=False,
                          hoverinfo="skip", lat=[], lon=[], z=[])]


def district_lines(_lang: Lang) -> list[go.Choroplethmap]:
    return [outline("district-line", None, DISTRICT_LINE, 2.0)]  # the boundary layer sets its polygons


def device_trace(lang: Lang) -> list[go.Scattermap]:
    return [go.Scattermap(
        mode="markers", name=t("layer.devices", lang), lon=[], lat=[], text=[], hovertemplate="%{text}<extra></extra>",
        marker={"size": 6, "color": [], "cmin": 0, "cmax": 1, "opacity": 0.85,
                "colorscale": [[0, OFFLINE], [0.5, OFFLINE], [0.5, ONLINE], [1, ONLINE]]}, showlegend=False)]


def vehicle_trace(lang: Lang) -> list[go.Scattermap]:
    return [go.Scattermap(mode="markers", name=t("layer.hazmat", lang), hovertemplate="%{text}<extra></extra>",
                          marker={"size": 11, "color": VEHICLE, "opacity": 0.95}, showlegend=False,
                          lon=[], lat=[], text=[])]


def incident_traces(lang: Lang) -> list[go.Scattermap]:
    """One trace per level, blue first: red is drawn last, on top (the order of ``T``)."""
    return [go.Scattermap(mode="markers", name=level_label(level, lang), hovertemplate="%{text}<extra></extra>",
                          showlegend=False, lon=[], lat=[], text=[], customdata=[],
                          marker={"size": point_size(level), "color": LEVEL_COLOR[level], "opacity": 0.95})
            for level in sorted(LEVELS, reverse=True)]


def build(registry: Sequence[Layer], layers: dict[str, Any], urls: dict[str, str], style_url: str, lang: Lang,
          view: dict[str, Any], visible: Collection[str]) -> dict[str, Any]:
    """The whole map, every trace in ``T`` order with its look and no data yet, as the figure dict
    ``dcc.Graph`` takes (plotly checks every property here, once).

    The layers draw their own traces (``Layer.draw``); the fills, the focus line and the names
    belong to the views. ``apply`` then fills in what the layers read; later refreshes patch
    the same traces.
    """
    slots: dict[int, Any] = {
        T.DISTRICT_FILL: area_fill("district", urls["district"], lang),
        T.TOWNSHIP_FILL: area_fill("township", urls["township"], lang),
        T.GRID_FILL: area_fill("grid", urls["grid"].format(code=view["code"] or "none"), lang),
        T.FOCUS: outline("focus", urls["district"], FOCUS_LINE, 3.5),
        T.LABELS: go.Scattermap(mode="text", textfont={"size": 15, "color": "#e6f4ff"}, hoverinfo="skip",
                                showlegend=False, name="labels", lon=[], lat=[], text=[]),
    }
    for layer in registry:
        if layer.draw is not None:
            for index, trace in zip(layer.traces, layer.draw(lang), strict=True):
                if index in slots:
                    raise ValueError(f"layer {layer.id} draws trace {index}, which is taken")
                slots[index] = trace
    if sorted(slots) != list(range(len(T))):
        raise ValueError(f"the layers leave traces undrawn: {sorted(set(range(len(T))) - set(slots))}")
    center, zoom = fit(view_bounds(view, layers))
    fig = go.Figure([slots[index] for index in range(len(T))], layout={
        "map": {"style": style_url, "center": center, "zoom": zoom},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "paper_bgcolor": "rgba(0,0,0,0)", "showlegend": False,
        "font": {"color": DARK_TEXT, "family": FONT}, "uirevision": MAP_UIREVISION,
        "hoverlabel": {"font": {"size": 14}},
    }).to_plotly_json()
    apply(fig, view_changes(view, layers, urls))
    apply(fig, {index: {"visible": layer.id in visible} for layer in registry if layer.toggled
                for index in layer.traces})
    return fig


# The map's size on a 1920×1080 screen (the big screen's layout in cityops.css): the first
# picture is fitted for it, so the browser's own fit (cityops.js fitMap) finds nothing to move
# there and MapLibre lays its tiles out once. Other screens are refitted by the browser.
SCREEN_MAP_PX = (1474, 870)


def fit(bounds: Any, size_px: tuple[int, int] = SCREEN_MAP_PX) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit ``bounds`` into ``size_px``: fitMap's formula and rounding, in Python."""
    if not bounds:
        return {"lon": 113.0, "lat": 25.8}, 7.5  # 郴州 when no layer is loaded yet
    min_lon, min_lat, max_lon, max_lat = bounds
    lon_span = max(max_lon - min_lon, 1e-3)
    lat_span = max(max_lat - min_lat, 1e-3) / math.cos(math.radians((min_lat + max_lat) / 2))
    zoom = min(math.log2(size_px[0] / 512 * 360 / lon_span), math.log2(size_px[1] / 512 * 360 / lat_span))
    center = {"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2}
    return center, math.floor((zoom - 0.1) * 100 + 0.5) / 100  # JavaScript's Math.round, not banker's
