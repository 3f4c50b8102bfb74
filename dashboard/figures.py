"""Pure figure builders: DataFrames and dicts in, plotly figures out (the big screen's map: ``dashboard/map/``).

No database, no Flask, no clock: ``now`` is passed in. Tests build figures from
hand-made frames and look at the traces.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from alerts.status import OPEN, Status
from i18n.labels import Lang, status_label
from i18n.timefmt import SHANGHAI

LEVELS = (1, 2, 3, 4)


def _naive_local(values: pd.Series) -> pd.Series:
    """Shanghai wall-clock times without an offset: plotly.js would otherwise show them in UTC."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(SHANGHAI).dt.tz_localize(None)


def state_spans(log: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per state the incident was in: status, start, end (end = next log row, or now)."""
    if log.empty:
        return pd.DataFrame({"status": [], "start": [], "end": []})
    starts = pd.to_datetime(log["at"], utc=True).reset_index(drop=True)
    ends = starts.shift(-1)
    last_open = Status(log["to_status"].iloc[-1]) in OPEN
    ends.iloc[-1] = pd.Timestamp(now).tz_convert("UTC") if last_open else starts.iloc[-1]
    # A state entered and left within one second (or the final 已结案) is drawn one second wide.
    ends = ends.where(ends > starts, starts + pd.Timedelta(seconds=1))
    spans = pd.DataFrame({"status": log["to_status"].reset_index(drop=True), "start": starts, "end": ends})
    return spans


STATUS_COLOR = {"new": "#9e9e9e", "dispatched": "#4f9be0", "signed": "#26a69a", "in_progress": "#ffb74d",
                "postponed": "#8d6e63", "resolved": "#ab47bc", "closed": "#66bb6a", "merged": "#78909c"}


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
        # The tick labels follow the zoom: seconds for a minutes-long history, days for a month-long one.
        xaxis={"type": "date", "title": None, "tickformatstops": [
            {"dtickrange": [None, 60_000], "value": "%H:%M:%S"},
            {"dtickrange": [60_000, 86_400_000], "value": "%m-%d %H:%M"},
            {"dtickrange": [86_400_000, None], "value": "%m-%d"}]},
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": list(dict.fromkeys(status_label(s, lang) for s in spans["status"]))},
        height=90 + 36 * max(1, spans["status"].nunique() if not spans.empty else 1),
        margin={"l": 110, "r": 20, "t": 10, "b": 40}, bargap=0.3,
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
    )
    return fig


BAND_COLOURS = {"excellent": "#2e7d32", "good": "#1565c0", "fair": "#f9a825", "poor": "#c62828"}


def score_bars(names: list[str], scores: list[float], bands: list[str], lang: Lang) -> go.Figure:
    """考核 scores as horizontal bars, best on top, each in its band's colour."""
    fig = go.Figure(go.Bar(x=scores, y=names, orientation="h", text=[f"{s:.1f}" for s in scores],
                           textposition="outside", marker={"color": [BAND_COLOURS.get(b, "#9e9e9e") for b in bands]},
                           hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    fig.update_layout(height=max(160, 26 * len(names) + 60), margin={"l": 10, "r": 30, "t": 10, "b": 30},
                      xaxis={"range": [0, 105], "title": "综合得分" if lang == "zh" else "Score"},
                      yaxis={"autorange": "reversed"}, plot_bgcolor="white", paper_bgcolor="white",
                      font={"family": "sans-serif"})
    return fig
