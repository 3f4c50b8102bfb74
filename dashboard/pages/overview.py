"""一张图: the big screen. Boundaries as the base map, drill-down district → township → grid, the
map layers of ``map_layers`` (toggled points and heat, one choropleth colouring the areas), KPIs
of the day, a rolling feed of warnings and the last day's trend.

The map is built once per page load, with its data, in the page's layout (no callback after the
page to fill it). Every 3 s the refresh callback asks the database what changed (a cheap
fingerprint of the incident and warning tables; the live layers every ~10 s), reads and
styles the layers that are due and sends a ``Patch`` of only the trace properties whose
content differs from what the screen shows, never the boundaries. Fingerprints of what the
screen shows travel in a small store, so any dashboard worker can answer the next tick.
"""

from __future__ import annotations

import copy
import time
from datetime import datetime
from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, bigmap, bigscreen, charts, map_layers
from dashboard.bigmap import T
from dashboard.components import level_badge, session_user
from dashboard.context import get_data
from dashboard.data import Data
from dashboard.shell import page_title
from i18n.labels import Lang, level_label, t
from i18n.timefmt import fmt_time, local, start_of_local_day, utcnow

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
    SCALE = "overview-scale"  # 2 on a 4K wall: the first tick redraws the trend with larger text


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

def map_parts(plan: bigscreen.Plan, data: Data, scene: map_layers.Scene, now: datetime,
              cadences: tuple[map_layers.Cadence, ...], chosen: map_layers.Layer) -> dict[str, pd.DataFrame]:
    """Read and style the layers due at these cadences; queue what changed. Returns the frames read."""
    frames: dict[str, pd.DataFrame] = {}
    for layer in map_layers.due(cadences, chosen):
        frames[layer.id] = layer.read(data, now)
        plan.map(layer.style(frames[layer.id], scene))
    return frames


def board_parts(plan: bigscreen.Plan, data: Data, names: dict[str, str], now: datetime, lang: Lang,
                scale: int = 1, roll: bool = True) -> None:
    """Beside the map, what follows the incident and warning tables: the feed, the trend, today's KPIs."""
    warnings = data.latest_warnings()
    if plan.part("warnings", [bigscreen.rolls(len(warnings), roll), bigscreen.warnings_key(warnings, now)]):
        plan.warnings = bigscreen.warning_items(warnings, names, lang, now, roll=roll)
    hourly = data.hourly_new(now)
    if plan.part("trend", [scale, local(now).strftime("%d%H"), hourly.to_dict("list")]):
        plan.trend = charts.hourly_trend(hourly, now, lang, scale=scale)
    kpis = data.kpis(start_of_local_day(now), now)
    if plan.part("kpis", kpis):
        plan.kpis = kpis


def online_part(plan: bigscreen.Plan, devices: pd.DataFrame) -> None:
    rate = bigscreen.online_rate(devices)
    if plan.part("online", rate):
        plan.kpis = {**(plan.kpis or {}), "online_rate": rate}


def scene_of(layers: dict[str, Any], view: dict[str, Any], lang: Lang) -> map_layers.Scene:
    return map_layers.Scene(layers, view, lang, urls_for(layers))


_CANVAS: dict[tuple[Any, ...], dict[str, Any]] = {}


def canvas(layers: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """A copy of the map without data for the city view, built (and checked by plotly) once per
    boundary version and language: the layers' reads are what each page load adds."""
    style = dash.get_asset_url("map-dark.json")
    key = (layers["version"], lang, style)
    if key not in _CANVAS:
        _CANVAS[key] = bigmap.build(map_layers.REGISTRY, layers, urls_for(layers), style, lang, dict(bigmap.CITY),
                                    map_layers.DEFAULT_ON)
    return copy.deepcopy(_CANVAS[key])


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    now = utcnow()
    layers = data.base_layers()
    view, chosen = dict(bigmap.CITY), map_layers.choropleth(None)
    scene = scene_of(layers, view, lang)
    fig = canvas(layers, lang)
    for layer in map_layers.due((map_layers.Cadence.ONCE,), chosen):
        bigmap.apply(fig, layer.style(layer.read(data, now), scene))
    # A fresh plan finds every part new: what it queues is the whole first picture, fingerprinted
    # so that the refreshes send only what differs from it.
    plan = bigscreen.Plan(fp={})
    frames = map_parts(plan, data, scene, now, (map_layers.Cadence.CHANGE, map_layers.Cadence.LIVE), chosen)
    bigmap.apply(fig, plan.map_changes)
    # A long feed stands still in the first picture: its endless scroll would repaint the whole screen,
    # in software on a machine without a GPU, while the map is still being drawn. The first tick
    # (its change marker left blank) sets it rolling; nothing else it finds differs from this picture.
    board_parts(plan, data, layers["names"], now, lang, roll=False)
    online_part(plan, frames["devices"])
    kpis = plan.kpis or {}
    state = {"change": "", "fp": plan.fp, "live_at": time.time(), "kpis": kpis}
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
                    dcc.Checklist(layer_options(lang), value=map_layers.DEFAULT_ON, id=Ids.LAYERS,
                                  className="layer-list", inputClassName="layer-check"),
                    html.Div(t("map.metric", lang), className="overlay-title"),
                    dcc.RadioItems([{"label": t(layer.label, lang), "value": layer.id}
                                    for layer in map_layers.CHOROPLETHS],
                                   value=chosen.id, id=Ids.METRIC, className="layer-list",
                                   inputClassName="layer-check"),
                ], className="map-overlay map-layers"),
            ], className="map-wrap"),
            html.Aside([
                html.H2(t("map.warnings", lang)),
                html.Div(html.Ul(plan.warnings, id=Ids.WARNINGS, className="warning-list"), className="feed"),
                html.Div(id=Ids.CLICKED, className="clicked"),
                html.H2(t("map.trend", lang)),
                dcc.Graph(id=Ids.TREND, figure=plan.trend, className="trend",
                          responsive=True, config={"displayModeBar": False, "displaylogo": False}),
            ], className="bigscreen-side"),
        ], className="bigscreen-main"),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
        dcc.Store(id=Ids.MARKER, data=state),
        dcc.Store(id=Ids.VIEW, data=view),
        dcc.Store(id=Ids.FIT, data=bigmap.fit_hints(view, layers)),
        dcc.Store(id=Ids.LAYER_MAP, data=map_layers.toggle_traces()),
        dcc.Store(id=Ids.SCALE, data=1),
    ], className="page page-dark bigscreen")


def layer_options(lang: Lang) -> list[dict[str, Any]]:
    return [{"label": html.Span([html.Span(className=f"swatch swatch-{layer.id}"), t(layer.label, lang)]),
             "value": layer.id} for layer in map_layers.TOGGLES]


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
    scene = scene_of(layers, bigmap.valid_view(view, layers), lang)
    chosen = map_layers.choropleth(metric)
    change = _change(data, now)
    if change != state["change"]:
        map_parts(plan, data, scene, now, (map_layers.Cadence.CHANGE,), chosen)
        board_parts(plan, data, layers["names"], now, lang, scale=2 if scale == 2 else 1)
    live_at = state["live_at"]
    if time.time() - live_at >= LIVE_EVERY_S:
        frames = map_parts(plan, data, scene, now, (map_layers.Cadence.LIVE,), chosen)
        online_part(plan, frames["devices"])
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
    scene = scene_of(layers, current, lang)
    chosen = map_layers.choropleth(metric)
    colours = chosen.style(chosen.read(data, utcnow()), scene)
    patch = bigmap.apply(dash.Patch(), bigmap.merge(bigmap.view_changes(current, layers, scene.urls), colours))
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
