"""一张图: the big screen. Boundaries as the base map, open incidents by level, KPIs, warnings.

The map is built once per page load. Every 3 s the interval callback asks the
database whether anything changed; only then does it send a ``Patch`` with the
incident points, never the boundaries (those are ~200 KB; the points a few KB).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, figures
from dashboard.components import denied, level_badge
from dashboard.context import get_data
from dashboard.data import Data
from dashboard.i18n import Lang, t
from dashboard.shell import page_title
from dashboard.timefmt import fmt_recent, fmt_time, local, start_of_local_day, utcnow

ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN)
KPIS = ("today_new", "dispatched", "signed", "closed", "open", "overdue")
REFRESH_MS = 3000


class Ids(StrEnum):
    MAP = "overview-map"
    TICK = "overview-tick"
    MARKER = "overview-marker"
    FIT = "overview-fit"  # what the browser needs to fit the map to its screen
    WARNINGS = "overview-warnings"
    CLICKED = "overview-clicked"
    UPDATED = "overview-updated"
    KPI = "overview-kpi-"  # + KPIS item


def overdue_class(values: dict[str, int]) -> str:
    return "kpi kpi-overdue" + (" kpi-alert" if values.get("overdue") else "")


def kpi_cards(values: dict[str, int], lang: Lang) -> list[html.Div]:
    return [
        html.Div([
            html.Div(t(f"kpi.{k}", lang), className="kpi-label"),
            html.Div(str(values.get(k, 0)), id=f"{Ids.KPI}{k}", className="kpi-value"),
        ], className=overdue_class(values) if k == "overdue" else f"kpi kpi-{k}", id=f"{Ids.KPI}card-{k}")
        for k in KPIS
    ]


def warning_items(warnings: pd.DataFrame, names: dict[str, str], lang: Lang,
                  now: datetime) -> list[html.Li] | html.Div:
    if warnings.empty:
        return html.Div(t("map.no_warnings", lang), className="muted")
    items = []
    for w in warnings.itertuples():
        title: Any = html.A(w.title, href=f"/incident/{w.incident_id}") if pd.notna(w.incident_id) else w.title
        items.append(html.Li([
            level_badge(int(w.level), lang),
            html.Span(title, className="warning-title"),
            html.Span(" · ".join(filter(None, [
                names.get(w.township_code or "", "") if isinstance(w.township_code, str) else "",
                fmt_recent(w.updated_at, now),
                t("warning.cleared", lang) if w.status == "cleared" else "",
            ])), className="warning-meta"),
        ], className=f"warning-item warning-{w.status}"))
    return items


def _marker(data: Data, now_day: str) -> str:
    return f"{now_day}|{data.change_marker()}"


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    try:
        auth.require(*ROLES)
    except auth.Denied as exc:
        return denied(exc, lang)
    data = get_data()
    now = utcnow()
    marker = _marker(data, local(now).date().isoformat())  # read before the data: a change in between repaints
    layers = data.base_layers()
    incidents = data.open_incidents()
    urls = {level: f"/geo/{layers['version']}/{level}.geojson" for level in ("district", "township")} \
        if layers["version"] is not None else None
    fig = figures.base_map(layers, incidents, lang, dash.get_asset_url("map-dark.json"), urls)
    return html.Div([
        html.Div([
            html.H1(t("nav.map", lang)),
            html.Span(t("map.illustrative", lang), className="muted") if layers["illustrative"] else None,
            html.Span([t("map.updated", lang), " ", html.Span(fmt_time(now), id=Ids.UPDATED)],
                      className="updated"),
        ], className="bigscreen-head"),
        html.Div(kpi_cards(data.kpis(start_of_local_day(now), now), lang), className="kpi-row"),
        html.Div([
            dcc.Graph(id=Ids.MAP, figure=fig, className="bigscreen-map",
                      config={"displayModeBar": False, "scrollZoom": True, "displaylogo": False}),
            html.Aside([
                html.H2(t("map.warnings", lang)),
                html.Ul(warning_items(data.latest_warnings(), layers["names"], lang, now), id=Ids.WARNINGS,
                        className="warning-list"),
                html.Div(id=Ids.CLICKED, className="clicked"),
            ], className="bigscreen-side"),
        ], className="bigscreen-main"),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
        dcc.Store(id=Ids.MARKER, data=marker),
        dcc.Store(id=Ids.FIT, data=figures.fit_hints(layers.get("bounds"))),
    ], className="page page-dark bigscreen")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/", title=page_title("nav.map"), order=0, layout=layout)


clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="fitMap"),
    Output(Ids.MAP, "figure", allow_duplicate=True),
    Input(Ids.FIT, "data"),
    State(Ids.MAP, "id"),
    prevent_initial_call="initial_duplicate",
)


def incidents_patch(incidents: pd.DataFrame, names: dict[str, str], lang: Lang) -> Patch:
    """Only the point traces change; the boundary traces and the user's zoom stay as they are."""
    patch = Patch()
    for level in figures.LEVELS:
        pts = figures.incident_points(incidents, level, names, lang)
        trace = patch["data"][figures.incident_trace_index(level)]
        for key, values in pts.items():
            trace[key] = values
    return patch


@callback(
    Output(Ids.MAP, "figure"),
    *[Output(f"{Ids.KPI}{k}", "children") for k in KPIS],
    Output(Ids.WARNINGS, "children"),
    Output(Ids.MARKER, "data"),
    Output(Ids.UPDATED, "children"),
    Output(f"{Ids.KPI}card-overdue", "className"),
    Input(Ids.TICK, "n_intervals"),
    State(Ids.MARKER, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, marker: str | None) -> tuple[Any, ...]:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None  # a logged-out screen keeps its last picture and learns nothing new
    lang = auth.current_lang()
    data = get_data()
    now = utcnow()
    new_marker = _marker(data, local(now).date().isoformat())
    if new_marker == marker:
        return (no_update,) * (len(KPIS) + 3) + (fmt_time(now), no_update)
    names = data.region_names()
    kpis = data.kpis(start_of_local_day(now), now)
    return (
        incidents_patch(data.open_incidents(), names, lang),
        *[str(kpis[k]) for k in KPIS],
        warning_items(data.latest_warnings(), names, lang, now),
        new_marker,
        fmt_time(now),
        overdue_class(kpis),
    )


@callback(Output(Ids.CLICKED, "children"), Input(Ids.MAP, "clickData"), prevent_initial_call=True)
def on_click(click: dict[str, Any] | None) -> Any:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    points = (click or {}).get("points") or []
    ids = [p.get("customdata") for p in points if isinstance(p.get("customdata"), int)]
    if not ids:
        return no_update  # a click on a boundary, not on an incident
    lang = auth.current_lang()
    incident = get_data().incident(ids[0])
    if incident is None:
        return html.Div(t("common.not_found", lang), className="muted")
    return html.Div([
        level_badge(incident["level"], lang),
        html.A(f"#{incident['id']} {incident['title']}", href=f"/incident/{incident['id']}"),
    ], className="clicked-card")
