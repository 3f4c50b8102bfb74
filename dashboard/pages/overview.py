"""一张图: the big screen. Boundaries as the base map, drill-down district → township → grid, live
layers (incidents by level, devices by status, hazmat vehicles, hotline heat), KPIs of the day,
a rolling feed of warnings and the last day's trend.

The map is built once per page load. Every 3 s the refresh callback asks the database
what changed (a cheap fingerprint of the incident and warning tables; the live layers
every ~10 s) and sends a ``Patch`` of only the parts whose content differs from what
the screen shows, never the boundaries. Fingerprints of what the screen shows travel
in a small store, so any dashboard worker can answer the next tick.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, bigmap, bigscreen, charts
from dashboard.bigmap import T
from dashboard.components import level_badge, session_user
from dashboard.context import get_data
from dashboard.data import Data
from dashboard.i18n import Lang, level_label, t
from dashboard.shell import page_title
from dashboard.timefmt import fmt_time, local, start_of_local_day, utcnow

ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN)
REFRESH_MS = 3000
LIVE_EVERY_S = 9.0  # devices, vehicles and heat: every third tick is plenty


class Ids(StrEnum):
    MAP = "overview-map"
    TICK = "overview-tick"
    MARKER = "overview-marker"  # what the screen shows: change marker, part fingerprints, KPI values
    FIT = "overview-fit"  # what the browser needs to fit the map to its screen
    VIEW = "overview-view"  # {"level": "city" | "district" | "township", "code": ...}
    LAYERS = "overview-layers"
    LAYER_MAP = "overview-layer-map"
    METRIC = "overview-metric"
    BACK = "overview-back"
    CRUMB = "overview-crumb"
    PICK = "overview-districts"  # the children of the view, for touch screens and tests
    PICK_WRAP = "overview-pick-wrap"
    WARNINGS = "overview-warnings"
    TREND = "overview-trend"
    CLICKED = "overview-clicked"
    UPDATED = "overview-updated"
    KPIS = "overview-kpis"
    SCALE = "overview-scale"  # 2 on a 4K wall: charts are drawn with larger text


def urls_for(layers: dict[str, Any]) -> dict[str, str]:
    v = layers["version"] or 0
    return {"district": f"/geo/{v}/district.geojson", "township": f"/geo/{v}/township.geojson",
            "grid": f"/geo/{v}/grid/{{code}}.geojson"}


def kpi_cards(values: dict[str, Any], lang: Lang) -> list[html.Div]:
    return [html.Div([html.Div(t(f"kpi.{k}", lang), className="kpi-label"),
                      html.Div(bigscreen.kpi_text(k, values.get(k)), id=f"overview-kpi-{k}", className="kpi-value")],
                     className=bigscreen.kpi_class(k, values), id=f"overview-kpi-card-{k}")
            for k in bigscreen.KPIS]


# -- what a refresh reads and sends, part by part --

def incident_parts(plan: bigscreen.Plan, data: Data, layers: dict[str, Any], now: datetime, lang: Lang,
                   view: dict[str, Any], metric: str, scale: int = 1) -> dict[str, Any]:
    names = layers["names"]
    incidents = data.open_incidents()
    for level in bigmap.LEVELS:
        pts = bigmap.incident_points(incidents, level, names, lang)
        if plan.part(f"inc{level}", pts):
            plan.map_changes[bigmap.incident_trace(level)] = pts
    counts = data.area_counts(now)
    area = bigmap.area_values(view, counts, metric, layers, lang)
    if plan.part("area", [view, area]):
        plan.map_changes[bigmap.FILL_OF_LEVEL[view["level"]]] = bigmap.area_changes(area)
    warnings = data.latest_warnings()
    if plan.part("warnings", bigscreen.warnings_key(warnings, now)):
        plan.warnings = bigscreen.warning_items(warnings, names, lang, now)
    hourly = data.hourly_new(now)
    if plan.part("trend", [local(now).strftime("%d%H"), hourly.to_dict("list")]):
        plan.trend = charts.hourly_trend(hourly, now, lang, scale=scale)
    kpis = data.kpis(start_of_local_day(now), now)
    if plan.part("kpis", kpis):
        plan.kpis = kpis
    return {"incidents": incidents, "counts": counts, "area": area, "warnings": warnings, "hourly": hourly,
            "kpis": kpis}


def live_parts(plan: bigscreen.Plan, data: Data, now: datetime, lang: Lang) -> dict[str, Any]:
    devices = data.device_states(now)
    if plan.part("devset", list(devices["device_id"])):  # a device registered or removed: resend positions
        plan.map_changes[T.DEVICES] = {"lon": [round(float(v), 5) for v in devices["lon"]],
                                       "lat": [round(float(v), 5) for v in devices["lat"]],
                                       "text": list(devices["name"])}
    colors = bigmap.device_colors(devices)
    if plan.part("devices", colors) or T.DEVICES in plan.map_changes:
        plan.map_changes.setdefault(T.DEVICES, {})["marker.color"] = colors
    vehicle_rows = data.vehicle_positions(now)
    vehicles = bigmap.vehicle_points(vehicle_rows, lang)
    if plan.part("vehicles", vehicles):
        plan.map_changes[T.VEHICLES] = vehicles
    heat_rows = data.hotline_heat(now)
    heat = bigmap.heat_points(heat_rows)
    if plan.part("heat", heat):
        plan.map_changes[T.HEAT] = heat
    rate = bigscreen.online_rate(devices)
    if plan.part("online", rate):
        plan.kpis = {**(plan.kpis or {}), "online_rate": rate}
    return {"devices": devices, "vehicles": vehicle_rows, "heat": heat_rows, "online_rate": rate}


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    now = utcnow()
    change = _change(data, now)  # read before the data: a change in between repaints on the next tick
    layers = data.base_layers()
    view, metric = dict(bigmap.CITY), "open"
    plan = bigscreen.Plan(fp={})
    got = incident_parts(plan, data, layers, now, lang, view, metric)
    live = live_parts(plan, data, now, lang)
    kpis = {**got["kpis"], "online_rate": live["online_rate"]}
    fig = bigmap.build(layers, urls_for(layers), dash.get_asset_url("map-dark.json"), lang, view, got["area"],
                       got["incidents"], live["devices"], live["vehicles"], live["heat"], bigmap.DEFAULT_LAYERS)
    state = {"change": change, "fp": plan.fp, "live_at": time.time(), "kpis": kpis}
    return html.Div([
        html.Div([
            html.H1(t("nav.map", lang)),
            html.Span(t("map.illustrative", lang), className="muted") if layers["illustrative"] else None,
            html.Span([t("map.updated", lang), " ", html.Span(fmt_time(now), id=Ids.UPDATED)], className="updated"),
        ], className="bigscreen-head"),
        html.Div(kpi_cards(kpis, lang), className="kpi-row", id=Ids.KPIS),
        html.Div([
            html.Div([
                dcc.Graph(id=Ids.MAP, figure=fig, className="bigscreen-map", responsive=True,
                          config={"displayModeBar": False, "scrollZoom": True, "displaylogo": False}),
                html.Div([
                    html.Button(f"‹ {t('map.back', lang)}", id=Ids.BACK, n_clicks=0, className="map-btn", hidden=True),
                    html.Span(crumbs(view, layers, lang), id=Ids.CRUMB, className="crumb"),
                    html.Div(dcc.Dropdown(pick_options(view, layers), id=Ids.PICK, className="map-pick",
                                          placeholder=t("map.pick_district", lang), clearable=False),
                             id=Ids.PICK_WRAP, title=t("map.hint", lang)),
                ], className="map-overlay map-nav"),
                html.Div([
                    html.Div(t("map.layers", lang), className="overlay-title"),
                    dcc.Checklist(layer_options(lang), value=bigmap.DEFAULT_LAYERS, id=Ids.LAYERS,
                                  className="layer-list", inputClassName="layer-check"),
                    html.Div(t("map.metric", lang), className="overlay-title"),
                    dcc.RadioItems([{"label": t("map.metric_open", lang), "value": "open"},
                                    {"label": t("map.metric_overdue", lang), "value": "overdue"}],
                                   value=metric, id=Ids.METRIC, className="layer-list", inputClassName="layer-check"),
                ], className="map-overlay map-layers"),
            ], className="map-wrap"),
            html.Aside([
                html.H2(t("map.warnings", lang)),
                html.Div(html.Ul(bigscreen.warning_items(got["warnings"], layers["names"], lang, now),
                                 id=Ids.WARNINGS, className="warning-list"), className="feed"),
                html.Div(id=Ids.CLICKED, className="clicked"),
                html.H2(t("map.trend", lang)),
                dcc.Graph(id=Ids.TREND, figure=charts.hourly_trend(got["hourly"], now, lang), className="trend",
                          responsive=True, config={"displayModeBar": False, "displaylogo": False}),
            ], className="bigscreen-side"),
        ], className="bigscreen-main"),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
        dcc.Store(id=Ids.MARKER, data=state),
        dcc.Store(id=Ids.VIEW, data=view),
        dcc.Store(id=Ids.FIT, data=bigmap.fit_hints(view, layers)),
        dcc.Store(id=Ids.LAYER_MAP, data={k: list(v) for k, v in bigmap.LAYER_TRACES.items()}),
        dcc.Store(id=Ids.SCALE, data=1),
    ], className="page page-dark bigscreen")


def layer_options(lang: Lang) -> list[dict[str, Any]]:
    swatch = {"incidents": "swatch-incidents", "devices": "swatch-devices", "hazmat": "swatch-hazmat",
              "hotline": "swatch-hotline"}
    return [{"label": html.Span([html.Span(className=f"swatch {swatch[k]}"), t(f"layer.{k}", lang)]), "value": k}
            for k in bigmap.LAYERS]


def crumbs(view: dict[str, Any], layers: dict[str, Any], lang: Lang) -> str:
    names = layers["names"]
    parts = [t("map.city", lang)]
    if view["level"] == "township":
        parts.append(names.get(layers["parents"].get(view["code"], ""), ""))
    if view["code"]:
        parts.append(names.get(view["code"], view["code"]))
    return " › ".join(p for p in parts if p)


def pick_options(view: dict[str, Any], layers: dict[str, Any]) -> list[dict[str, str]]:
    if view["level"] == "township":
        return []
    return [{"label": layers["names"].get(c, c), "value": c} for c in bigmap.children(view, layers)]


def clean_state(state: Any) -> dict[str, Any]:
    """The screen's state store as sent by the browser, narrowed to what it may hold (anything else: resend)."""
    state = state if isinstance(state, dict) else {}
    fp, kpis = state.get("fp"), state.get("kpis")
    try:
        live_at = float(state.get("live_at") or 0)
    except (TypeError, ValueError):
        live_at = 0.0
    return {
        "change": state.get("change") if isinstance(state.get("change"), str) else "",
        "fp": {k: v for k, v in fp.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(fp, dict)
        else {},
        "live_at": live_at,
        "kpis": {k: v for k, v in kpis.items() if k in bigscreen.KPIS and (v is None or isinstance(v, int | float))}
        if isinstance(kpis, dict) else {},
    }


def _change(data: Data, now: datetime) -> str:
    # The minute is part of it: "overdue" changes with the clock even when no row does.
    return f"{local(now).strftime('%Y%m%d%H%M')}|{data.change_marker()}"


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/", title=page_title("nav.map"), order=0, layout=layout)

clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="fitMap"),
    Output(Ids.MAP, "figure", allow_duplicate=True),
    Input(Ids.FIT, "data"),
    State(Ids.MAP, "id"),
    prevent_initial_call="initial_duplicate",
)
clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="screenScale"),
    Output(Ids.SCALE, "data"),
    Input(Ids.FIT, "data"),
    prevent_initial_call="initial_duplicate",
)
# Layers on and off in the browser: a Patch of ``visible``, no round trip, nothing to check.
clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="toggleLayers"),
    Output(Ids.MAP, "figure", allow_duplicate=True),
    Input(Ids.LAYERS, "value"),
    State(Ids.LAYER_MAP, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(Ids.MAP, "figure"), Output(Ids.KPIS, "children"), Output(Ids.WARNINGS, "children"),
    Output(Ids.TREND, "figure"), Output(Ids.MARKER, "data"), Output(Ids.UPDATED, "children"),
    Input(Ids.TICK, "n_intervals"),
    State(Ids.MARKER, "data"), State(Ids.VIEW, "data"), State(Ids.METRIC, "value"), State(Ids.SCALE, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, state: Any, view: Any, metric: Any, scale: Any = 1) -> tuple[Any, ...]:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None  # a logged-out screen keeps its last picture and learns nothing new
    lang = auth.current_lang()
    data = get_data()
    now = utcnow()
    state = clean_state(state)
    plan = bigscreen.Plan(fp=state["fp"])
    layers = data.base_layers()
    change = _change(data, now)
    if change != state["change"]:
        incident_parts(plan, data, layers, now, lang, bigmap.valid_view(view, layers),
                       "overdue" if metric == "overdue" else "open", scale=2 if scale == 2 else 1)
    live_at = state["live_at"]
    if time.time() - live_at >= LIVE_EVERY_S:
        live_parts(plan, data, now, lang)
        live_at = time.time()
    kpis = {**state["kpis"], **(plan.kpis or {})}
    patch = plan.map_patch()
    return (
        patch if patch is not None else no_update,
        kpi_cards(kpis, lang) if plan.kpis is not None else no_update,
        plan.warnings if plan.warnings is not None else no_update,
        plan.trend if plan.trend is not None else no_update,
        {"change": change, "fp": plan.fp, "live_at": live_at, "kpis": kpis},
        fmt_time(now),
    )


@callback(Output(Ids.TREND, "figure", allow_duplicate=True), Input(Ids.SCALE, "data"), prevent_initial_call=True)
def rescale(scale: Any) -> Any:
    """A 4K wall learnt its size in the browser: redraw the small chart with text it can read."""
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    if scale != 2:
        raise PreventUpdate
    now = utcnow()
    return charts.hourly_trend(get_data().hourly_new(now), now, auth.current_lang(), scale=2)


@callback(
    Output(Ids.VIEW, "data"),
    Input(Ids.MAP, "clickData"), Input(Ids.BACK, "n_clicks"), Input(Ids.PICK, "value"),
    State(Ids.VIEW, "data"),
    prevent_initial_call=True,
)
def navigate(click: Any, _back: int | None, pick: Any, view: Any) -> dict[str, Any]:
    """Drill down on a click on a district or township (or a pick from the list); up with the back button."""
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    layers = get_data().base_layers()
    current = bigmap.valid_view(view, layers)
    if ctx.triggered_id == Ids.BACK:
        return bigmap.parent_view(current, layers)
    if ctx.triggered_id == Ids.PICK:
        code = pick
    else:
        points = (click or {}).get("points") or []
        fills = {T.DISTRICT_FILL: "city", T.TOWNSHIP_FILL: "district"}
        hit = next((p for p in points if fills.get(p.get("curveNumber")) == current["level"]), None)
        code = hit.get("location") if hit else None
    if not isinstance(code, str) or code not in bigmap.children(current, layers) or current["level"] == "township":
        raise PreventUpdate  # a click on a point, a grid, or outside the current area
    return bigmap.child_view(current, code)


@callback(
    Output(Ids.MAP, "figure", allow_duplicate=True), Output(Ids.FIT, "data"), Output(Ids.CRUMB, "children"),
    Output(Ids.BACK, "hidden"), Output(Ids.PICK, "options"), Output(Ids.PICK, "value"),
    Output(Ids.PICK, "placeholder"), Output(Ids.PICK_WRAP, "hidden"),
    Input(Ids.VIEW, "data"), Input(Ids.METRIC, "value"),
    prevent_initial_call=True,
)
def show_view(view: Any, metric: Any) -> tuple[Any, ...]:
    """Make ``view`` the one shown: its areas coloured, its border bright, the map fitted to it."""
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    lang = auth.current_lang()
    data = get_data()
    layers = data.base_layers()
    current = bigmap.valid_view(view, layers)
    area = bigmap.area_values(current, data.area_counts(utcnow()), "overdue" if metric == "overdue" else "open",
                              layers, lang)
    patch = bigmap.apply(dash.Patch(), bigmap.view_changes(current, area, layers, urls_for(layers)))
    fit = bigmap.fit_hints(current, layers) if ctx.triggered_id == Ids.VIEW else no_update
    return (patch, fit, crumbs(current, layers, lang), current["level"] == "city", pick_options(current, layers),
            None, t("map.pick_township" if current["level"] == "district" else "map.pick_district", lang),
            current["level"] == "township")


@callback(Output(Ids.CLICKED, "children"), Input(Ids.MAP, "clickData"), prevent_initial_call=True)
def on_click(click: dict[str, Any] | None) -> Any:
    """A click on an incident shows it under the feed, with a link to its timeline."""
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    points = (click or {}).get("points") or []
    ids = [p.get("customdata") for p in points if isinstance(p.get("customdata"), int)
           and p.get("curveNumber") in [bigmap.incident_trace(level) for level in bigmap.LEVELS]]
    if not ids:
        return no_update  # a click on an area drills down instead
    lang = auth.current_lang()
    incident = get_data().incident(ids[0])
    if incident is None:
        return html.Div(t("common.not_found", lang), className="muted")
    return html.Div([
        level_badge(incident["level"], lang),
        html.A(f"#{incident['id']} {incident['title']}", href=f"/incident/{incident['id']}"),
    ], className="clicked-card", title=level_label(incident["level"], lang))
