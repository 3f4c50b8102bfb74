"""The traces the views own and what showing a view changes in them.

Drill-down has three views: the city (districts coloured), a district (its townships coloured),
a township (its grids coloured). Each level has its own fill trace, so the browser keeps the
polygons of every level it has fetched; a view makes its fill visible, lights its border (the
focus line) and prints the names of its areas. The colours come from the chosen area layer
(``areas``), for the same view.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

from dashboard.map.model import BaseMap, Changes, GeoUrls, Props, T, View, ViewLevel

DARK_TEXT = "#d8e6f3"
AREA_LINE = "#3f7fae"
FOCUS_LINE = "#ffd166"

FILL_OF_LEVEL: dict[ViewLevel, T] = {"city": T.DISTRICT_FILL, "district": T.TOWNSHIP_FILL, "township": T.GRID_FILL}
FILLS: tuple[int, ...] = tuple(FILL_OF_LEVEL.values())


def fill_trace(name: str, geojson: str) -> go.Choroplethmap:
    """One level's areas (districts, townships or grids), coloured by the chosen area layer."""
    return go.Choroplethmap(
        geojson=geojson, locations=[], z=[], featureidkey="properties.code", zmin=0, zmax=4,
        marker_opacity=0.72, marker_line_color=AREA_LINE, marker_line_width=0.8, name=name,
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


def draw(urls: GeoUrls, view: View) -> dict[int, BaseTraceType]:
    """The views' traces by index, with their look and no data (``view_changes`` gives them that)."""
    return {
        T.DISTRICT_FILL: fill_trace("district", urls.district),
        T.TOWNSHIP_FILL: fill_trace("township", urls.township),
        T.GRID_FILL: fill_trace("grid", urls.grid_of(view.code or "none")),
        T.FOCUS: outline("focus", urls.district, FOCUS_LINE, 3.5),
        T.LABELS: go.Scattermap(mode="text", textfont={"size": 15, "color": "#e6f4ff"}, hoverinfo="skip",
                                showlegend=False, name="labels", lon=[], lat=[], text=[]),
    }


def labels_of(view: View, base: BaseMap) -> Props:
    """Names to print on the map: districts (city), townships (district), the township itself (township).

    Only Chinese names: MapLibre draws CJK ideographs with the browser's own font, while
    digits or Latin letters would need glyphs from a glyph server, and the big screen runs offline.
    """
    codes = [view.code] if view.level == "township" and view.code else base.children_of(view)
    items = [base.label_of[c] for c in codes if c in base.label_of]
    return {"text": [i[0] for i in items], "lon": [i[1] for i in items], "lat": [i[2] for i in items]}


def view_changes(view: View, base: BaseMap, urls: GeoUrls) -> Changes:
    """Trace properties that make ``view`` the one shown: which fill is visible, the focus line, the names."""
    fill = FILL_OF_LEVEL[view.level]
    traces: dict[int, Props] = {index: {"visible": index == fill} for index in FILLS}
    if view.level == "township" and view.code:
        traces[T.GRID_FILL]["geojson"] = urls.grid_of(view.code)
    traces[T.FOCUS] = {"visible": view.level != "city",
                       "geojson": urls.district if view.level == "district" else urls.township,
                       "locations": [view.code] if view.code else [], "z": [0] if view.code else []}
    traces[T.LABELS] = labels_of(view, base)
    return Changes(traces)
