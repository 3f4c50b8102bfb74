"""The 领导驾驶舱's callbacks: one set of filters drives every panel; each callback re-checks the role and
the filters on the server (``filters.parse``), reads once (``load``) and lays out (``views``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.components import clicked, denied, message, pager_input, scroll_into_view, session_user
from dashboard.context import get_read_data
from dashboard.filters import BadFilter, Filters, default_range, parse
from i18n.labels import Lang, t
from i18n.timefmt import utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN)  # a district desk: its district's figures only
FILTER_INPUTS = [Input(Ids.START, "date"), Input(Ids.END, "date"), Input(Ids.DISTRICT, "value"),
                 Input(Ids.TOWNSHIP, "value"), Input(Ids.CATEGORY, "value"), Input(Ids.LEVEL, "value")]
FILTER_STATES = [State(i.component_id, i.component_property) for i in FILTER_INPUTS]
# The panels with a pager, in the order of turn_page's outputs, and how each is read and drawn.
PAGED: dict[Ids, tuple[Callable[..., load.Paged], Callable[[load.Paged, Lang], list[Any]]]] = {
    Ids.OVERDUE: (load.overdue, views.overdue_panel), Ids.RANKING: (load.ranking, views.ranking_panel),
    Ids.LIST: (load.listing, views.list_panel)}


def _checked(now: datetime, start: Any, end: Any, district: Any, township: Any, category: Any, level: Any,
             search: Any = None) -> Filters:
    """The form's values, checked, for a session that may see the cockpit: raises ``auth.Denied``, or
    ``BadFilter`` naming the first problem."""
    user = auth.require(*ROLES)
    if user.role is Role.DISTRICT:  # its own district, whatever the browser sends; another's is refused
        if district not in (None, "", user.district_code):
            raise BadFilter("err.bad_area")
        district = user.district_code
    return parse(now, start=start, end=end, district=district, township=township, category=category,
                 level=level, search=search)


@callback(Output(Ids.START, "date"), Output(Ids.END, "date"), Input(Ids.QUICK, "value"), prevent_initial_call=True)
def quick_range(days: Any) -> tuple[str, str]:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    if days not in views.QUICK_DAYS:
        raise PreventUpdate
    start, end = default_range(utcnow(), int(days))
    return start.isoformat(), end.isoformat()


@callback(Output(Ids.TOWNSHIP, "options"), Output(Ids.TOWNSHIP, "value"), Input(Ids.DISTRICT, "value"),
          State(Ids.TOWNSHIP, "value"), prevent_initial_call=True)
def township_options(district: Any, township: Any) -> tuple[Any, Any]:
    """The townships of the district chosen; the one chosen stays if it is one of them."""
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    pairs = load.townships_in(get_read_data(), district)
    return views.area_options(pairs), township if any(code == township for code, _ in pairs) else None


@callback(
    output={"msg": Output(Ids.MSG, "children"), "kpis": Output(Ids.KPIS, "children"),
            "trend": Output(Ids.TREND, "figure"), "overdue": Output(Ids.OVERDUE, "children"),
            "ranking": Output(Ids.RANKING, "children"), "hotspots": Output(Ids.HOTSPOTS, "children")},
    inputs=FILTER_INPUTS,
    prevent_initial_call=True,
)
def update(start: Any, end: Any, district: Any, township: Any, category: Any, level: Any) -> dict[str, Any]:
    """Every panel under the filters; refused, only the message above them changes."""
    lang = auth.current_lang()
    keep = dict.fromkeys(("kpis", "trend", "overdue", "ranking", "hotspots"), no_update)
    now = utcnow()
    try:
        f = _checked(now, start, end, district, township, category, level)
    except auth.Denied as exc:
        return {"msg": denied(exc, lang), **keep}
    except BadFilter as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    data = get_read_data()
    panels = load.panels(data, f, now, data.unit_names())
    return {"msg": None, "kpis": views.kpi_cards(panels.summary, lang), "trend": views.trend(panels, lang),
            "overdue": views.overdue_panel(panels.overdue, lang), "ranking": views.ranking_panel(panels.ranking, lang),
            "hotspots": views.hotspot_panel(panels.hotspots, lang)}


@callback(Output(Ids.LIST, "children"), Output(Ids.COUNT, "children"), *FILTER_INPUTS,
          Input(Ids.SEARCH, "value"), prevent_initial_call=True)
def update_list(start: Any, end: Any, district: Any, township: Any, category: Any, level: Any,
                search: Any) -> tuple[Any, Any]:
    lang = auth.current_lang()
    now = utcnow()
    try:
        f = _checked(now, start, end, district, township, category, level, search)
    except auth.Denied as exc:
        return denied(exc, lang), ""
    except BadFilter:
        return no_update, no_update  # ``update`` says what is wrong, above the panels
    data = get_read_data()
    listed = load.listing(data, f, now, data.unit_names())
    return views.list_panel(listed, lang), views.count(listed, lang)


@callback(
    Output(Ids.OVERDUE, "children", allow_duplicate=True), Output(Ids.RANKING, "children", allow_duplicate=True),
    Output(Ids.LIST, "children", allow_duplicate=True),
    *(pager_input(table) for table in PAGED), *FILTER_STATES, State(Ids.SEARCH, "value"), prevent_initial_call=True,
)
def turn_page(_overdue: list[int | None], _ranking: list[int | None], _listed: list[int | None], start: Any,
              end: Any, district: Any, township: Any, category: Any, level: Any, search: Any) -> tuple[Any, ...]:
    """Another page of the overdue list, the ranking or the incident list, under the filters shown."""
    page, tid = clicked("to"), ctx.triggered_id
    if page is None or not isinstance(tid, dict) or tid.get("table") not in PAGED:
        raise PreventUpdate
    table = Ids(tid["table"])
    lang = auth.current_lang()
    now = utcnow()
    try:
        f = _checked(now, start, end, district, township, category, level, search)
    except auth.Denied as exc:
        shown: Any = denied(exc, lang)
    except BadFilter:
        raise PreventUpdate from None  # ``update`` says what is wrong, above the panels
    else:
        data = get_read_data()
        read, draw = PAGED[table]
        shown = draw(read(data, f, now, data.unit_names(), page), lang)
    return tuple(shown if panel is table else no_update for panel in PAGED)


@callback(
    Output(Ids.PANEL, "hidden"), Output(Ids.PANEL_BODY, "children"),
    Input({"type": Ids.OPEN, "index": ALL, "panel": ALL}, "n_clicks"), Input(Ids.PANEL_CLOSE, "n_clicks"),
    prevent_initial_call=True,
)
def open_timeline(_clicks: list[int | None], _close: int | None) -> tuple[bool, Any]:
    """Any incident's timeline, in place: the Gantt of its states and every log row."""
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return False, user
    if ctx.triggered_id == Ids.PANEL_CLOSE:
        return True, None
    incident_id = clicked()  # a re-rendered list re-creates the buttons with n_clicks 0: not a click
    if incident_id is None:
        raise PreventUpdate
    return False, views.timeline(load.timeline(get_read_data(), incident_id, utcnow(),
                                               user.district_code if user.role is Role.DISTRICT else None), lang)


# The panel opens above the lists: bring it into view (clientside, no round trip).
scroll_into_view(Ids.PANEL)


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Input(Ids.EXPORT_LIST, "n_clicks"), Input(Ids.EXPORT_RANKING, "n_clicks"), *FILTER_STATES,
          State(Ids.SEARCH, "value"), prevent_initial_call=True)
def export(n_list: int | None, n_ranking: int | None, start: Any, end: Any, district: Any, township: Any,
           category: Any, level: Any, search: Any) -> tuple[Any, Any]:
    """The filtered list or the ranking as an Excel file (the list: every matching row, not just the page)."""
    from dashboard import exports  # openpyxl is loaded only by whoever exports

    lang = auth.current_lang()
    if not (n_list or n_ranking):
        raise PreventUpdate
    now = utcnow()
    try:
        f = _checked(now, start, end, district, township, category, level, search)
    except (auth.Denied, BadFilter) as exc:
        return no_update, message(t(exc.key, lang), "error")
    ranked = ctx.triggered_id == Ids.EXPORT_RANKING
    rows = load.export(get_read_data(), f, now, ranked=ranked)
    content, filename = (exports.ranking if ranked else exports.incidents)(rows.rows, f, rows.names, now, lang)
    return dcc.send_bytes(content, filename), None
