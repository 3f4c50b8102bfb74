"""领导驾驶舱: trends, overdue incidents, township rankings, any incident's timeline, Excel exports.

One set of filters (time range, district/township, category, level) drives every
panel; the server re-checks them (``filters.parse``) and the role on every callback.
The numbers are SQL aggregates (``reads_leader``); this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, charts, figures
from dashboard.components import (
    clicked,
    denied,
    level_badge,
    message,
    pager,
    pager_input,
    pages_of,
    scroll_into_view,
    session_user,
    status_chip,
)
from dashboard.context import get_data
from dashboard.filters import BadFilter, Filters, default_range, parse
from dashboard.shell import page_title
from dashboard.widgets import log_table, timeline_graph
from i18n.labels import Lang, category_label, level_label, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.timefmt import fmt_dt, local, remaining, utcnow

ROLES = (Role.LEADER, Role.COMMAND, Role.ADMIN)
QUICK_DAYS = (7, 30, 90, 365)
PAGE_ROWS = 20  # the ranking and the incident list, a page at a time: nothing scrolls inside the page
OVERDUE_ROWS = 8  # beside the trend chart, about as tall as it
MONTH_FORMAT: dict[Lang, str] = {"zh": "YYYY年M月", "en": "MMMM YYYY"}  # the calendar's month header
EXPORT_LIMIT = 100_000  # rows; a year of a city's incidents fits, a runaway query does not


class Ids(StrEnum):
    QUICK = "ld-quick"
    START = "ld-start"
    END = "ld-end"
    DISTRICT = "ld-district"
    TOWNSHIP = "ld-township"
    CATEGORY = "ld-category"
    LEVEL = "ld-level"
    SEARCH = "ld-search"
    MSG = "ld-msg"
    KPIS = "ld-kpis"
    TREND = "ld-trend"
    OVERDUE = "ld-overdue"
    RANKING = "ld-ranking"
    LIST = "ld-list"
    COUNT = "ld-count"
    EXPORT_LIST = "ld-export-list"
    EXPORT_RANKING = "ld-export-ranking"
    DOWNLOAD = "ld-download"
    PANEL = "ld-panel"
    PANEL_BODY = "ld-panel-body"
    PANEL_CLOSE = "ld-panel-close"
    OPEN = "ld-open"  # pattern-matching type; index = incident id


FILTER_INPUTS = [Input(Ids.START, "date"), Input(Ids.END, "date"), Input(Ids.DISTRICT, "value"),
                 Input(Ids.TOWNSHIP, "value"), Input(Ids.CATEGORY, "value"), Input(Ids.LEVEL, "value")]
FILTER_STATES = [State(i.component_id, i.component_property) for i in FILTER_INPUTS]


def _filters(start: Any, end: Any, district: Any, township: Any, category: Any, level: Any,
             search: Any = None) -> Filters:
    return parse(utcnow(), start=start, end=end, district=district, township=township, category=category,
                 level=level, search=search)


def _name(names: dict[str, str], code: Any) -> str:
    return names.get(code, code) if isinstance(code, str) else "—"


# -- panels: pure functions of frames --

def kpi_cards(summary: dict[str, Any], lang: Lang) -> list[html.Div]:
    items = [("total", fmt_int(summary["total"])), ("closed", fmt_int(summary["closed"])),
             ("close_rate", fmt_pct(summary["close_rate"])), ("overdue", fmt_int(summary["overdue"])),
             ("on_time", fmt_pct(summary["on_time_rate"])), ("rework", fmt_int(summary["rework"]))]
    return [html.Div([html.Div(t(f"leader.kpi.{key}", lang), className="stat-label"),
                      html.Div(value, className="stat-value", id=f"ld-kpi-{key}")],
                     className="stat" + (" stat-alert" if key == "overdue" and summary["overdue"] else ""))
            for key, value in items]


def _table(headers: list[str], rows: list[html.Tr], table_id: str, empty: str, numeric: int = 0) -> html.Div:
    """A compact table; the last ``numeric`` columns hold numbers (right-aligned, header too)."""
    if not rows:
        return html.Div(empty, className="muted empty-small", id=table_id)
    first_num = len(headers) - numeric
    head = html.Tr([html.Th(h, className="num" if i >= first_num else None) for i, h in enumerate(headers)])
    return html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="table table-compact", id=table_id),
                    className="table-wrap")


def overdue_table(rows: pd.DataFrame, names: dict[str, str], now: Any, lang: Lang) -> html.Div:
    body = [html.Tr([
        html.Td(_open_button(r.id, lang)), html.Td(r.title), html.Td(level_badge(int(r.level), lang)),
        html.Td(status_chip(r.status, lang)), html.Td(_name(names, r.township_code)),
        html.Td(remaining(r.deadline, now, lang)[0], className="overdue nowrap"),
    ]) for r in rows.itertuples()]
    headers = [t(k, lang) for k in ("col.id", "col.title", "col.level", "col.status", "col.township",
                                    "col.overdue_by")]
    return _table(headers, body, "ld-overdue-table", t("leader.no_overdue", lang))


def ranking_table(ranking: pd.DataFrame, names: dict[str, str], lang: Lang) -> html.Div:
    body = [html.Tr([
        html.Td(str(r.rank), className="rank"), html.Td(r.name), html.Td(_name(names, r.district_code)),
        html.Td(fmt_int(r.dispatched), className="num"), html.Td(fmt_pct(r.on_time_rate), className="num"),
        html.Td(fmt_int(r.closed), className="num"), html.Td(fmt_int(r.rework), className="num"),
        html.Td(fmt_int(r.overdue), className="num" + (" overdue" if r.overdue else "")),
    ]) for r in ranking.itertuples()]
    headers = [t(k, lang) for k in ("col.rank", "col.township", "col.district", "col.dispatched", "col.on_time_rate",
                                    "col.closed", "col.rework", "col.overdue")]
    return _table(headers, body, "ld-ranking-table", t("leader.none", lang), numeric=5)


def _open_button(incident_id: int, lang: Lang) -> html.Button:
    return html.Button(f"#{incident_id}", id={"type": Ids.OPEN, "index": int(incident_id)}, n_clicks=0,
                       className="link-button", title=t("leader.timeline", lang))


def incident_table(rows: pd.DataFrame, names: dict[str, str], lang: Lang) -> html.Div:
    body = [html.Tr([
        html.Td(_open_button(r.id, lang)), html.Td(r.title), html.Td(category_label(r.category, lang)),
        html.Td(level_badge(int(r.level), lang)), html.Td(status_chip(r.status, lang)),
        html.Td(_name(names, r.township_code)), html.Td(fmt_dt(r.created_at), className="nowrap"),
        html.Td(fmt_dt(r.closed_at) if r.closed_at is not None else "—", className="nowrap"),
        html.Td(fmt_int(r.rework_count), className="num"),
    ], className="row-overdue" if r.overdue else None) for r in rows.itertuples()]
    headers = [t(k, lang) for k in ("col.id", "col.title", "col.category", "col.level", "col.status", "col.township",
                                    "col.created", "col.closed_at", "col.rework")]
    return _table(headers, body, "ld-list-table", t("leader.none", lang), numeric=1)


# -- panels a page at a time: the table and its pager --

Reader = Callable[[int, int], tuple[pd.DataFrame, int]]  # (limit, offset) → (rows, rows in all)


def _page(read: Reader, page: int, size: int) -> tuple[pd.DataFrame, int, int]:
    """(rows, rows in all, page shown) of page ``page``; the last page when fewer rows are left than it needs."""
    page = max(page, 1)
    rows, total = read(size, (page - 1) * size)
    if rows.empty and total:
        page = pages_of(total, size)
        rows, total = read(size, (page - 1) * size)
    return rows, total, page


def overdue_panel(f: Filters, now: Any, names: dict[str, str], lang: Lang, page: int = 1) -> list[Any]:
    rows, total, page = _page(lambda n, skip: get_data().overdue_list(f, now, n, skip), page, OVERDUE_ROWS)
    return [overdue_table(rows, names, now, lang), pager(Ids.OVERDUE, page, total, OVERDUE_ROWS, lang)]


def ranking_panel(f: Filters, now: Any, names: dict[str, str], lang: Lang, page: int = 1) -> list[Any]:
    ranking = get_data().township_ranking(f, now)  # every township: the rank needs them all

    def read(n: int, skip: int) -> tuple[pd.DataFrame, int]:
        return ranking.iloc[skip:skip + n], len(ranking)

    rows, total, page = _page(read, page, PAGE_ROWS)
    return [ranking_table(rows, names, lang), pager(Ids.RANKING, page, total, PAGE_ROWS, lang)]


def list_panel(f: Filters, now: Any, names: dict[str, str], lang: Lang, page: int = 1) -> tuple[list[Any], str]:
    """A page of the incident list, and how many incidents match (the export has them all)."""
    rows, total, page = _page(lambda n, skip: get_data().incident_list(f, now, n, skip), page, PAGE_ROWS)
    return ([incident_table(rows, names, lang), pager(Ids.LIST, page, total, PAGE_ROWS, lang)],
            t("leader.count", lang, n=fmt_int(total)))


# -- layout --

def _options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": name, "value": code} for code, name in pairs]


def _date_picker(picker_id: Ids, day: date, lang: Lang) -> dcc.DatePickerSingle:
    """A day as 2026-11-23 whatever the browser's locale; weeks start on Monday, as Chinese calendars do."""
    return dcc.DatePickerSingle(id=picker_id, date=day.isoformat(), display_format="YYYY-MM-DD",
                                month_format=MONTH_FORMAT[lang], first_day_of_week=1, className="date-picker")


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    now = utcnow()
    start, end = default_range(now)
    f = Filters(start, end)
    names = data.region_names()
    summary = data.leader_summary(f, now)
    listed, count = list_panel(f, now, names, lang)

    def field(label_key: str, control: Any) -> html.Label:
        return html.Label([html.Span(t(label_key, lang)), control], className="filter")

    return html.Div([
        html.H1(t("leader.title", lang)),
        html.Div([
            field("filter.quick", dcc.Dropdown(
                [{"label": t("filter.days", lang, n=n), "value": n} for n in QUICK_DAYS], value=30, id=Ids.QUICK,
                clearable=False, searchable=False, className="dropdown-sm")),
            field("filter.from", _date_picker(Ids.START, start, lang)),
            field("filter.to", _date_picker(Ids.END, end, lang)),
            field("filter.district", dcc.Dropdown(_options(data.districts()), id=Ids.DISTRICT,
                                                  placeholder=t("common.all", lang), className="dropdown-sm")),
            field("filter.township", dcc.Dropdown(_options(data.townships()), id=Ids.TOWNSHIP,
                                                  placeholder=t("common.all", lang), className="dropdown-md")),
            field("filter.category", dcc.Dropdown(
                [{"label": category_label(c, lang), "value": c} for c in data.categories()], id=Ids.CATEGORY,
                placeholder=t("common.all", lang), className="dropdown-sm")),
            field("filter.level", dcc.Dropdown(
                [{"label": level_label(n, lang), "value": n} for n in figures.LEVELS], id=Ids.LEVEL,
                placeholder=t("common.all", lang), className="dropdown-sm")),
        ], className="filter-bar"),
        html.Div(id=Ids.MSG, **{"aria-live": "polite"}),
        html.Div(kpi_cards(summary, lang), id=Ids.KPIS, className="stat-row"),
        html.Div([
            html.Section([html.H2(t("leader.trend", lang)),
                          dcc.Graph(id=Ids.TREND, figure=charts.daily_trend(data.daily_counts(f), start, end, lang),
                                    config={"displayModeBar": False, "displaylogo": False})],
                         className="card panel"),
            html.Section([html.H2(t("leader.overdue", lang)),
                          html.Div(overdue_panel(f, now, names, lang), id=Ids.OVERDUE)],
                         className="card panel"),
        ], className="two-col"),
        html.Div([
            html.H2(t("leader.timeline", lang), id="ld-panel-title"),
            html.Div(id=Ids.PANEL_BODY),
            html.Button(t("leader.close_panel", lang), id=Ids.PANEL_CLOSE, className="btn btn-secondary",
                        n_clicks=0),
        ], id=Ids.PANEL, className="card action-panel", hidden=True),
        html.Section([
            html.Div([html.H2(t("leader.ranking", lang)), html.Span(t("leader.ranking_note", lang), className="muted"),
                      html.Button(t("leader.export_ranking", lang), id=Ids.EXPORT_RANKING, n_clicks=0,
                                  className="btn btn-secondary btn-right")], className="section-head"),
            html.Div(ranking_panel(f, now, names, lang), id=Ids.RANKING),
        ], className="card panel"),
        html.Section([
            html.Div([html.H2(t("leader.list", lang)),
                      dcc.Input(id=Ids.SEARCH, type="search", debounce=True, placeholder=t("filter.search", lang),
                                className="input search", maxLength=100),
                      html.Span(count, id=Ids.COUNT, className="muted"),
                      html.Button(t("leader.export_list", lang), id=Ids.EXPORT_LIST, n_clicks=0,
                                  className="btn btn-secondary btn-right")], className="section-head"),
            html.Div(listed, id=Ids.LIST),
        ], className="card panel"),
        dcc.Download(id=Ids.DOWNLOAD),
    ], className="page page-light page-wide leader")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/leader", title=page_title("nav.leader"), order=4, layout=layout)


# -- callbacks --

@callback(Output(Ids.START, "date"), Output(Ids.END, "date"), Input(Ids.QUICK, "value"), prevent_initial_call=True)
def quick_range(days: Any) -> tuple[str, str]:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    if days not in QUICK_DAYS:
        raise PreventUpdate
    today = local(utcnow()).date()
    return (today - timedelta(days=int(days) - 1)).isoformat(), today.isoformat()


@callback(Output(Ids.TOWNSHIP, "options"), Output(Ids.TOWNSHIP, "value"), Input(Ids.DISTRICT, "value"),
          State(Ids.TOWNSHIP, "value"), prevent_initial_call=True)
def township_options(district: Any, township: Any) -> tuple[Any, Any]:
    try:
        auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    pairs = get_data().townships()
    if isinstance(district, str) and district:
        pairs = [(code, name) for code, name in pairs if code.startswith(district)]
    keep = township if any(code == township for code, _ in pairs) else None
    return _options(pairs), keep


@callback(
    Output(Ids.MSG, "children"), Output(Ids.KPIS, "children"), Output(Ids.TREND, "figure"),
    Output(Ids.OVERDUE, "children"), Output(Ids.RANKING, "children"),
    *FILTER_INPUTS, prevent_initial_call=True,
)
def update(start: Any, end: Any, district: Any, township: Any, category: Any, level: Any) -> tuple[Any, ...]:
    lang = auth.current_lang()
    try:
        auth.require(*ROLES)
        f = _filters(start, end, district, township, category, level)
    except auth.Denied as exc:
        return (denied(exc, lang),) + (no_update,) * 4
    except BadFilter as exc:
        return (message(t(exc.key, lang), "error"),) + (no_update,) * 4
    data = get_data()
    now = utcnow()
    names = data.region_names()
    return (
        None,
        kpi_cards(data.leader_summary(f, now), lang),
        charts.daily_trend(data.daily_counts(f), f.start, f.end, lang),
        overdue_panel(f, now, names, lang),
        ranking_panel(f, now, names, lang),
    )


@callback(Output(Ids.LIST, "children"), Output(Ids.COUNT, "children"), *FILTER_INPUTS,
          Input(Ids.SEARCH, "value"), prevent_initial_call=True)
def update_list(start: Any, end: Any, district: Any, township: Any, category: Any, level: Any,
                search: Any) -> tuple[Any, Any]:
    lang = auth.current_lang()
    try:
        auth.require(*ROLES)
        f = _filters(start, end, district, township, category, level, search)
    except auth.Denied as exc:
        return denied(exc, lang), ""
    except BadFilter:
        return no_update, no_update  # ``update`` says what is wrong, above the panels
    return list_panel(f, utcnow(), get_data().region_names(), lang)


PAGED = (Ids.OVERDUE, Ids.RANKING, Ids.LIST)  # the panels with a pager, in the order of turn_page's outputs


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
    try:
        auth.require(*ROLES)
        f = _filters(start, end, district, township, category, level, search)
    except auth.Denied as exc:
        shown: Any = denied(exc, lang)
    except BadFilter:
        raise PreventUpdate from None  # ``update`` says what is wrong, above the panels
    else:
        now, names = utcnow(), get_data().region_names()
        if table is Ids.LIST:
            shown, _ = list_panel(f, now, names, lang, page)
        else:
            shown = (overdue_panel if table is Ids.OVERDUE else ranking_panel)(f, now, names, lang, page)
    return tuple(shown if panel is table else no_update for panel in PAGED)


@callback(
    Output(Ids.PANEL, "hidden"), Output(Ids.PANEL_BODY, "children"),
    Input({"type": Ids.OPEN, "index": ALL}, "n_clicks"), Input(Ids.PANEL_CLOSE, "n_clicks"),
    prevent_initial_call=True,
)
def open_timeline(_clicks: list[int | None], _close: int | None) -> tuple[bool, Any]:
    """Any incident's timeline, in place: the Gantt of its states and every log row."""
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return False, user
    if ctx.triggered_id == Ids.PANEL_CLOSE:
        return True, None
    incident_id = clicked()  # a re-rendered list re-creates the buttons with n_clicks 0: not a click
    if incident_id is None:
        raise PreventUpdate
    data = get_data()
    incident = data.incident(incident_id)
    if incident is None:
        return False, message(t("common.not_found", lang), "error")
    log = data.incident_log(incident["id"])
    names = data.region_names()
    return False, html.Div([
        html.H3([f"#{incident['id']} {incident['title']} ", level_badge(incident["level"], lang), " ",
                 status_chip(incident["status"], lang), " ",
                 html.A(t("leader.open_page", lang), href=f"/incident/{incident['id']}", className="small-link")]),
        timeline_graph("ld-timeline", log, utcnow(), lang),
        html.Div(log_table(log, names, lang), className="table-wrap"),
    ], id="ld-timeline-box")


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
    try:
        auth.require(*ROLES)
        f = _filters(start, end, district, township, category, level, search)
    except auth.Denied as exc:
        return no_update, message(t(exc.key, lang), "error")
    except BadFilter as exc:
        return no_update, message(t(exc.key, lang), "error")
    data = get_data()
    now = utcnow()
    names = data.region_names()
    if ctx.triggered_id == Ids.EXPORT_RANKING:
        content, filename = exports.ranking(data.township_ranking(f, now), f, names, now, lang)
    else:
        rows, _ = data.incident_list(f, now, EXPORT_LIMIT)
        content, filename = exports.incidents(rows, f, names, now, lang)
    return dcc.send_bytes(content, filename), None
