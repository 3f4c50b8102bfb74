"""Pure figure builders: DataFrames and dicts in, plotly figures (or patchable parts) out.

No database, no Flask, no clock: ``now`` is passed in. Tests build figures from
hand-made frames and look at the traces.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import LEVEL_COLOR, Lang, level_label, status_label
from dashboard.timefmt import SHANGHAI

LEVELS = (1, 2, 3, 4)
# Trace order of the base map; the interval callback patches the incident traces by index.
TOWNSHIP_TRACE, DISTRICT_TRACE, LABEL_TRACE = 0, 1, 2
FIRST_INCIDENT_TRACE = 3
MAP_UIREVISION = "keep-user-view"  # plotly keeps the user's pan/zoom across patches while this is unchanged

DARK_TEXT = "#d8e6f3"
TOWNSHIP_FILL = "#12304a"
TOWNSHIP_LINE = "#3f7fae"
DISTRICT_LINE = "#8fd3ff"


def incident_trace_index(level: int) -> int:
    return FIRST_INCIDENT_TRACE + LEVELS.index(level)


def _zoom_for(bounds: tuple[float, float, float, float] | None, width_px: int = 1300,
              height_px: int = 820) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit ``bounds`` into a map of about ``width_px`` × ``height_px``."""
    if bounds is None:
        return {"lon": 113.0, "lat": 25.8}, 7.5  # 郴州 when no layer is loaded yet
    min_lon, min_lat, max_lon, max_lat = bounds
    lon_span = max(max_lon - min_lon, 1e-3)
    lat_mid = math.radians((min_lat + max_lat) / 2)
    lat_span = max(max_lat - min_lat, 1e-3) / math.cos(lat_mid)  # Mercator stretches latitude
    zoom = min(math.log2(width_px / 512 * 360 / lon_span), math.log2(height_px / 512 * 360 / lat_span))
    return {"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2}, round(zoom - 0.15, 2)


def point_size(level: int) -> int:
    return 15 if level == 1 else 12


def fit_hints(bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """For the browser's fitMap: the area to fit and which traces to enlarge on a 4K wall."""
    return {"bounds": bounds, "label_trace": LABEL_TRACE,
            "point_traces": [incident_trace_index(level) for level in LEVELS],
            "point_sizes": [point_size(level) for level in LEVELS]}


def incident_points(incidents: pd.DataFrame, level: int, names: dict[str, str], lang: Lang) -> dict[str, list[Any]]:
    """lat/lon/hover text/ids of one level's open incidents: the part of the map that changes."""
    rows = incidents[(incidents["level"] == level) & incidents["lon"].notna() & incidents["lat"].notna()] \
        if len(incidents) else incidents
    text = [
        f"#{r.id} {r.title}<br>{level_label(int(r.level), lang)} · {status_label(r.status, lang)}"
        f"<br>{names.get(r.township_code or '', r.township_code or '—')}"
        for r in rows.itertuples()
    ]
    return {
        "lat": [round(float(v), 5) for v in rows["lat"]] if len(rows) else [],
        "lon": [round(float(v), 5) for v in rows["lon"]] if len(rows) else [],
        "text": text,
        "customdata": [int(v) for v in rows["id"]] if len(rows) else [],
    }


def base_map(layers: dict[str, Any], incidents: pd.DataFrame, lang: Lang, style_url: str,
             geojson_urls: dict[str, str] | None = None) -> go.Figure:
    """Boundaries as the base map (no tiles) with one point trace per warning level.

    With ``geojson_urls`` the polygons are referenced by URL (fetched and cached by the
    browser) rather than embedded in the figure.
    """
    townships = layers["township"]
    districts = layers["district"]
    names: dict[str, str] = layers["names"]
    t_codes = [f["properties"]["code"] for f in townships["features"]]
    d_codes = [f["properties"]["code"] for f in districts["features"]]
    urls = geojson_urls or {}
    fig = go.Figure()
    fig.add_trace(go.Choroplethmap(
        geojson=urls.get("township", townships), locations=t_codes, featureidkey="properties.code",
        z=[0] * len(t_codes),
        colorscale=[[0, TOWNSHIP_FILL], [1, TOWNSHIP_FILL]], showscale=False, marker_opacity=0.55,
        marker_line_color=TOWNSHIP_LINE, marker_line_width=0.6, text=[names.get(c, c) for c in t_codes],
        hovertemplate="%{text}<extra></extra>", name="township", showlegend=False,
    ))
    fig.add_trace(go.Choroplethmap(
        geojson=urls.get("district", districts), locations=d_codes, featureidkey="properties.code",
        z=[0] * len(d_codes),
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
        marker_line_color=DISTRICT_LINE, marker_line_width=2.2, hoverinfo="skip", name="district",
        showlegend=False,
    ))
    # District names only: CJK ideographs are drawn with the browser's own font, so MapLibre
    # asks no glyph server for them (digits or Latin letters would need glyphs, see FACTS.md).
    labels = layers.get("labels", [])
    fig.add_trace(go.Scattermap(
        mode="text", lon=[lb[1] for lb in labels], lat=[lb[2] for lb in labels], text=[lb[0] for lb in labels],
        textfont={"size": 15, "color": "#cfe9ff"}, hoverinfo="skip", showlegend=False, name="labels",
    ))
    for level in LEVELS:
        pts = incident_points(incidents, level, names, lang)
        fig.add_trace(go.Scattermap(
            mode="markers", name=level_label(level, lang), hovertemplate="%{text}<extra></extra>",
            marker={"size": point_size(level), "color": LEVEL_COLOR[level], "opacity": 0.95},
            **pts,
        ))
    center, zoom = _zoom_for(layers.get("bounds"))
    fig.update_layout(
        map={"style": style_url, "center": center, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        font={"color": DARK_TEXT, "family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(8,22,38,0.8)", "bordercolor": TOWNSHIP_LINE,
                "borderwidth": 1, "font": {"size": 14}},
        uirevision=MAP_UIREVISION,
        hoverlabel={"font": {"size": 14}},
    )
    return fig


def _naive_local(values: pd.Series) -> pd.Series:
    """Shanghai wall-clock times without an offset: plotly.js would otherwise show them in UTC."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(SHANGHAI).dt.tz_localize(None)


def state_spans(log: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per state the incident was in: status, start, end (end = next log row, or now)."""
    if log.empty:
        return pd.DataFrame({"status": [], "start": [], "end": []})
    starts = pd.to_datetime(log["at"], utc=True).reset_index(drop=True)
    ends = starts.shift(-1)
    last_open = log["to_status"].iloc[-1] != "closed"
    ends.iloc[-1] = pd.Timestamp(now).tz_convert("UTC") if last_open else starts.iloc[-1]
    # A state entered and left within one second (or the final 已结案) is drawn one second wide.
    ends = ends.where(ends > starts, starts + pd.Timedelta(seconds=1))
    spans = pd.DataFrame({"status": log["to_status"].reset_index(drop=True), "start": starts, "end": ends})
    return spans


STATUS_COLOR = {"new": "#9e9e9e", "dispatched": "#4f9be0", "signed": "#26a69a", "in_progress": "#ffb74d",
                "resolved": "#ab47bc", "closed": "#66bb6a"}


def timeline(log: pd.DataFrame, now: datetime, lang: Lang) -> go.Figure:
    """Gantt of the incident's states, read from its log and nothing else."""
    spans = state_spans(log, now)
    fig = go.Figure()
    if not spans.empty:
        start = _naive_local(spans["start"])
        end = _naive_local(spans["end"])
        labels = [status_label(s, lang) for s in spans["status"]]
        durations_ms = (end - start).dt.total_seconds() * 1000
        fig.add_trace(go.Bar(
            y=labels, x=durations_ms, base=start.dt.strftime("%Y-%m-%d %H:%M:%S"), orientation="h",
            marker_color=[STATUS_COLOR.get(s, "#888") for s in spans["status"]],
            customdata=list(zip(start.dt.strftime("%m-%d %H:%M:%S"), end.dt.strftime("%m-%d %H:%M:%S"),
                                strict=True)),
            hovertemplate="%{y}<br>%{customdata[0]} → %{customdata[1]}<extra></extra>", showlegend=False,
        ))
        # A diamond where each state began: states left within seconds would otherwise be invisible.
        fig.add_trace(go.Scatter(
            x=start.dt.strftime("%Y-%m-%d %H:%M:%S"), y=labels, mode="markers", hoverinfo="skip",
            marker={"symbol": "diamond", "size": 11, "color": [STATUS_COLOR.get(s, "#888") for s in spans["status"]],
                    "line": {"color": "#333", "width": 1}}, showlegend=False,
        ))
    fig.update_layout(
        xaxis={"type": "date", "title": None, "tickformat": "%m-%d %H:%M"},
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": list(dict.fromkeys(status_label(s, lang) for s in spans["status"]))},
        height=90 + 36 * max(1, spans["status"].nunique() if not spans.empty else 1),
        margin={"l": 110, "r": 20, "t": 10, "b": 40}, bargap=0.3,
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
    )
    return fig
