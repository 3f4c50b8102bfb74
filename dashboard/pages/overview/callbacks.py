"""The big screen's callbacks: who may ask, the clock read once, then ``load`` and ``views``.

After the first render the map only ever gets a ``Patch`` (never the figure as State: that
would upload it). Fitting, the 4K scale and the layer switch run in the browser (cityops.js).
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.context import get_read_data
from dashboard.map import figure, points, registry
from dashboard.map.model import LEVELS, Scene, T, incident_trace
from i18n.timefmt import fmt_time, utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN)  # a district desk: its district's screen

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
# Whether refreshes still land, judged in the browser (a server that is away cannot say so).
clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="linkLost"),
    Output(Ids.LINK, "hidden"),
    Input(Ids.WATCH, "n_intervals"),
    State(Ids.MARKER, "modified_timestamp"),
    State(Ids.TICK, "interval"),
    prevent_initial_call=True,
)
# Layers on and off in the browser: a Patch of ``visible``, no round trip, nothing to check.
clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="toggleLayers"),
    Output(Ids.MAP, "figure", allow_duplicate=True),
    Input(Ids.LAYERS, "value"),
    State(Ids.LAYER_MAP, "data"),
    prevent_initial_call=True,
)


def _allowed() -> auth.SessionUser:
    try:
        return auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None  # a logged-out screen keeps its last picture and learns nothing new


@callback(
    output={"map": Output(Ids.MAP, "figure"), "kpis": Output(Ids.KPIS, "children"),
            "warnings": Output(Ids.WARNINGS, "children"), "trend": Output(Ids.TREND, "figure"),
            "marker": Output(Ids.MARKER, "data"), "updated": Output(Ids.UPDATED, "children")},
    inputs=[Input(Ids.TICK, "n_intervals")],
    state=[State(Ids.MARKER, "data"), State(Ids.VIEW, "data"), State(Ids.METRIC, "value"), State(Ids.SCALE, "data")],
    prevent_initial_call=True,
)
def refresh(_n: int | None, marker: Any, view: Any, metric: Any, scale: Any = 1) -> dict[str, Any]:
    user = _allowed()
    lang, now = auth.current_lang(), utcnow()
    shown, data = load.Shown.from_store(marker), load.screen(get_read_data(), user)
    current = load.view_of(view, data.base_map(), load.district_of(user))
    reads = load.tick(data, now, shown, registry.choropleth(metric), current)
    plan = views.refresh(reads, shown, Scene.of(reads.base, current, lang), scale=2 if scale == 2 else 1)
    kpis = {**shown.kpis, **(plan.kpis or {})}
    patch = plan.map_patch()
    return {
        "map": patch if patch is not None else no_update,
        "kpis": views.kpi_cards(kpis, lang) if plan.kpis is not None else no_update,
        "warnings": plan.warnings if plan.warnings is not None else no_update,
        "trend": plan.trend if plan.trend is not None else no_update,
        "marker": load.Shown(reads.change, plan.fp, now.timestamp() if reads.live else shown.live_at,
                             kpis).to_store(),
        "updated": fmt_time(now),
    }


@callback(
    Output(Ids.VIEW, "data"),
    Input(Ids.MAP, "clickData"), Input(Ids.BACK, "n_clicks"), Input(Ids.PICK, "value"),
    State(Ids.VIEW, "data"),
    prevent_initial_call=True,
)
def navigate(click: Any, _back: int | None, pick: Any, view: Any) -> dict[str, str | None]:
    """Drill down on a click on a district or township (or a pick from the list); up with the back button, as
    far as the screen's top (a district desk's: its district)."""
    district = load.district_of(_allowed())
    base = get_read_data().for_district(district).base_map()
    current = load.view_of(view, base, district)
    if ctx.triggered_id == Ids.BACK:
        if current == load.home(district):
            raise PreventUpdate
        return base.parent_of(current).to_store()
    if ctx.triggered_id == Ids.PICK:
        code = pick
    else:
        points = (click or {}).get("points") or []
        fills = {T.DISTRICT_FILL: "city", T.TOWNSHIP_FILL: "district"}
        hit = next((p for p in points if fills.get(p.get("curveNumber")) == current.level), None)
        code = hit.get("location") if hit else None
    if not isinstance(code, str) or code not in base.children_of(current) or current.level == "township":
        raise PreventUpdate  # a click on a point, a grid, or outside the current area
    return current.child(code).to_store()


@callback(
    output={"map": Output(Ids.MAP, "figure", allow_duplicate=True), "fit": Output(Ids.FIT, "data"),
            "crumb": Output(Ids.CRUMB, "children"), "back_hidden": Output(Ids.BACK, "hidden"),
            "pick_options": Output(Ids.PICK, "options"), "pick_value": Output(Ids.PICK, "value"),
            "pick_placeholder": Output(Ids.PICK, "placeholder"), "pick_hidden": Output(Ids.PICK_WRAP, "hidden")},
    inputs=[Input(Ids.VIEW, "data"), Input(Ids.METRIC, "value")],
    prevent_initial_call=True,
)
def show_view(view: Any, metric: Any) -> dict[str, Any]:
    """Make ``view`` the one shown: its areas coloured, its border bright, the map fitted to it."""
    district = load.district_of(_allowed())
    lang, now = auth.current_lang(), utcnow()
    data = get_read_data().for_district(district)
    base = data.base_map()
    current = load.view_of(view, base, district)
    chosen = registry.choropleth(metric)
    return {
        "map": views.view_patch(current, base, chosen, chosen.read(data, now, current),
                                points.DEVICES.read(data, now, current) if ctx.triggered_id == Ids.VIEW else None,
                                lang),
        "fit": figure.fit_hints(current, base, registry.REGISTRY) if ctx.triggered_id == Ids.VIEW else no_update,
        "crumb": views.crumbs(current, base, lang),
        "back_hidden": current == load.home(district),
        "pick_options": views.pick_options(current, base),
        "pick_value": None,
        "pick_placeholder": views.pick_placeholder(current, lang),
        "pick_hidden": current.level == "township",
    }


@callback(Output(Ids.CLICKED, "children"), Input(Ids.MAP, "clickData"), prevent_initial_call=True)
def on_click(click: dict[str, Any] | None) -> Any:
    """A click on an incident shows it under the feed, with a link to its timeline (one the screen shows); a
    click on a vehicle or its track shows the vehicle: plate, company, cargo and its open warnings."""
    district = load.district_of(_allowed())
    points = (click or {}).get("points") or []
    vehicles = [p.get("customdata") for p in points if isinstance(p.get("customdata"), str)
                and p.get("curveNumber") == T.VEHICLES]
    if vehicles:
        card = load.clicked_vehicle(get_read_data().for_district(district), vehicles[0], utcnow())
        return views.vehicle_card(card, auth.current_lang())
    ids = [p.get("customdata") for p in points if isinstance(p.get("customdata"), int)
           and p.get("curveNumber") in [incident_trace(level) for level in LEVELS]]
    if not ids:
        return no_update  # a click on an area drills down instead
    return views.clicked_card(load.clicked(get_read_data(), ids[0], district), auth.current_lang())
