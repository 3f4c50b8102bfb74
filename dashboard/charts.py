"""Pure chart builders besides the map: trends and rates. Frames in, figures out; no clock, no database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import plotly.graph_objects as go

from i18n.labels import LEVEL_COLOR, Lang, category_label, level_label
from i18n.timefmt import SHANGHAI, local
from ingest.health import online_percent

FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"
CATEGORY_COLOR = {"flood": "#2b83ba", "production_safety": "#fd8d3c", "public_safety": "#d7191c",
                  "hotline": "#66bb6a"}
_FALLBACK = ("#7e57c2", "#8d6e63", "#26a69a", "#ec407a", "#9e9d24", "#5c6bc0")


def _color(category: str, i: int) -> str:
    return CATEGORY_COLOR.get(category, _FALLBACK[i % len(_FALLBACK)])


def _count_axis(peak: int, **more: object) -> dict[str, object]:
    """A y axis of counts: whole numbers only. Under 6, plotly would tick halves, and "d" prints 2, 2, 1, 1, 0."""
    return {"rangemode": "tozero", "tickformat": "d", **({"dtick": 1} if peak < 6 else {}), **more}


def daily_trend(daily: pd.DataFrame, start: date, end: date, lang: Lang, moved: pd.DataFrame | None = None,
                moved_name: str = "") -> go.Figure:
    """Stacked bars: incidents per local day and category, every day of the range present (zeros too); with
    ``moved`` (day, moved) of any day, a line of the people moved (人员转移) per day on an axis of its own."""
    days = pd.date_range(start, end, freq="D")
    fig = go.Figure()
    peak = 0
    if not daily.empty:
        table = daily.assign(day=pd.to_datetime(daily["day"]), n=daily["n"].astype(int)) \
            .pivot_table(index="day", columns="category", values="n", aggfunc="sum", fill_value=0) \
            .reindex(days, fill_value=0)
        peak = int(table.sum(axis=1).max())
        for i, category in enumerate(table.columns):
            fig.add_trace(go.Bar(x=table.index.strftime("%Y-%m-%d"), y=table[category].tolist(),
                                 name=category_label(str(category), lang), marker_color=_color(str(category), i),
                                 hovertemplate="%{x} %{fullData.name}: %{y}<extra></extra>"))
    people = moved if moved is not None and not moved.empty else None
    if people is not None:
        per_day = people.assign(day=pd.to_datetime(people["day"])).set_index("day")["moved"].reindex(days, fill_value=0)
        fig.add_trace(go.Scatter(x=per_day.index.strftime("%Y-%m-%d"), y=per_day.astype(int).tolist(), name=moved_name,
                                 yaxis="y2", mode="lines+markers", line={"color": "#00838f", "width": 2},
                                 hovertemplate="%{x} " + moved_name + ": %{y}<extra></extra>"))
    fig.update_layout(
        barmode="stack", height=300, margin={"l": 40, "r": 10, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.2}, font={"family": FONT},
        xaxis={"type": "category", "tickangle": 0, "nticks": 10, "ticklabelstandoff": 6},
        yaxis=_count_axis(peak, ticklabelstandoff=8),
        plot_bgcolor="#fff", paper_bgcolor="#fff",
    )
    if people is not None:
        fig.update_layout(yaxis2=_count_axis(int(people["moved"].max()), overlaying="y", side="right",
                                             showgrid=False, title={"text": moved_name}))
    return fig


def hourly_trend(hourly: pd.DataFrame, now: datetime, lang: Lang, hours: int = 24, scale: int = 1) -> go.Figure:
    """The big screen's small chart: new incidents per hour (local) over the last day, stacked by level."""
    end = local(now).replace(minute=0, second=0, microsecond=0)
    slots = [end - timedelta(hours=h) for h in range(hours - 1, -1, -1)]
    labels = [s.strftime("%H时" if lang == "zh" else "%H:00") for s in slots]
    counts: dict[int, dict[datetime, int]] = {level: {} for level in LEVEL_COLOR}
    for r in hourly.itertuples():
        hour = pd.Timestamp(r.hour).tz_convert(SHANGHAI).to_pydatetime()
        counts.setdefault(int(r.level), {})[hour] = int(r.n)
    fig = go.Figure()
    peak = max((sum(counts[level].get(s, 0) for level in counts) for s in slots), default=0)
    for level in sorted(LEVEL_COLOR, reverse=True):  # red on top of the stack
        fig.add_trace(go.Bar(x=labels, y=[counts[level].get(s, 0) for s in slots], name=level_label(level, lang),
                             marker_color=LEVEL_COLOR[level],
                             hovertemplate="%{x} %{fullData.name}: %{y}<extra></extra>"))
    fig.update_layout(
        barmode="stack", margin={"l": 34 * scale, "r": 8, "t": 6, "b": 28 * scale}, showlegend=False,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT, "color": "#bcd3e8", "size": 12 * scale},
        xaxis={"type": "category", "tickangle": 0, "nticks": 8, "gridcolor": "#1f4a6e"},
        yaxis=_count_axis(peak, gridcolor="#1f4a6e"),
    )
    return fig


def quality_days(daily: pd.DataFrame, names: tuple[str, str, str]) -> go.Figure:
    """Per day: rejected messages (bars, left) and the reject and late rates in % (lines, right), so a bad
    day stands out whatever the day's volume. ``names``: the rejected, reject-rate and late-rate series."""
    days = [str(d) for d in daily["day"]]
    received, stored = daily["received"].astype(float), daily["stored"].astype(float)
    reject_rate = (100 * daily["rejected"].astype(float) / received.where(received > 0)).round(3)
    late_rate = (100 * daily["late"].astype(float) / stored.where(stored > 0)).round(3)
    fig = go.Figure([
        go.Bar(x=days, y=daily["rejected"], name=names[0], marker_color="#c62828", opacity=0.75,
               hovertemplate="%{x}: %{y:,}<extra>" + names[0] + "</extra>"),
        go.Scatter(x=days, y=reject_rate, name=names[1], yaxis="y2", mode="lines+markers", line={"color": "#6a1b9a"},
                   hovertemplate="%{x}: %{y:.3f}%<extra>" + names[1] + "</extra>"),
        go.Scatter(x=days, y=late_rate, name=names[2], yaxis="y2", mode="lines+markers", line={"color": "#ef6c00"},
                   hovertemplate="%{x}: %{y:.3f}%<extra>" + names[2] + "</extra>"),
    ])
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 10, "b": 30}, font={"family": FONT},
                      plot_bgcolor="#fff", paper_bgcolor="#fff", legend={"orientation": "h", "y": -0.2},
                      xaxis={"type": "category"}, yaxis={"rangemode": "tozero", "automargin": True},
                      yaxis2={"overlaying": "y", "side": "right", "ticksuffix": "%", "tickformat": ".2f",
                              "rangemode": "tozero",
                              "showgrid": False, "automargin": True})
    return fig


def online_bars(online: pd.DataFrame, labels: list[str]) -> go.Figure:
    """Horizontal bars of the online rate (%) per department/type; ``labels`` name the rows."""
    rate = [online_percent(int(r.online), int(r.devices)) or 0.0 for r in online.itertuples()]  # no devices: 0
    colors = ["#1e8e3e" if v >= 95 else "#f9a825" if v >= 80 else "#c62828" for v in rate]
    fig = go.Figure(go.Bar(x=rate, y=labels, orientation="h", marker_color=colors,
                           text=[f"{v:.1f}%" for v in rate], textposition="auto",
                           hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    fig.update_layout(height=60 + 30 * len(labels), margin={"l": 10, "r": 20, "t": 10, "b": 30},
                      xaxis={"range": [0, 100], "ticksuffix": "%"}, yaxis={"autorange": "reversed", "automargin": True},
                      font={"family": FONT}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig
