"""The 领导驾驶舱 as components, from what ``load`` read: the filter bar, the totals, the trend, the 12345
hotspots ranked, and the overdue list, the ranking and the incident list a page at a time (whole pages: nothing
scrolls inside the page), and the timeline panel of any incident."""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import dcc, html

from dashboard import charts, figures
from dashboard.components import aria, level_badge, message, pager, status_chip
from dashboard.widgets import band_chip, log_table, timeline_graph
from i18n.labels import Lang, category_label, complaint_label, level_label, t
from i18n.numbers import fmt_int, fmt_pct, known
from i18n.timefmt import fmt_dt, remaining

from . import rectifications
from .ids import Ids
from .load import OVERDUE_ROWS, PAGE_ROWS, Choices, Hotspots, Page, Paged, Panels, Summary, Timeline

QUICK_DAYS = (7, 30, 90, 365)
MONTH_FORMAT: dict[Lang, str] = {"zh": "YYYY年M月", "en": "MMMM YYYY"}  # the calendar's month header


def _name(names: dict[str, str], code: Any) -> str:
    return names.get(code, code) if isinstance(code, str) else "—"


def kpi_cards(s: Summary, lang: Lang) -> list[html.Div]:
    items = [("total", fmt_int(s.total)), ("closed", fmt_int(s.closed)), ("close_rate", fmt_pct(s.close_rate)),
             ("overdue", fmt_int(s.overdue)), ("on_time", fmt_pct(s.on_time_rate)), ("rework", fmt_int(s.rework))]
    return [html.Div([html.Div(t(f"leader.kpi.{key}", lang), className="stat-label"),
                      html.Div(value, className="stat-value", id=f"ld-kpi-{key}")],
                     className="stat" + (" stat-alert" if key == "overdue" and s.overdue else ""))
            for key, value in items]


def _table(headers: list[str], rows: list[html.Tr], table_id: str, empty: str, numeric: int = 0) -> html.Div:
    """A compact table; the last ``numeric`` columns hold numbers (right-aligned, header too)."""
    if not rows:
        return html.Div(empty, className="muted empty-small", id=table_id)
    first_num = len(headers) - numeric
    head = html.Tr([html.Th(h, className="num" if i >= first_num else None) for i, h in enumerate(headers)])
    return html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="table table-compact", id=table_id),
                    className="table-wrap")


def _open_button(incident_id: int, panel: str, lang: Lang) -> html.Button:
    """Its id names the panel too: one incident can be both overdue and in the list (one id, one button)."""
    return html.Button(f"#{incident_id}", id={"type": Ids.OPEN, "index": int(incident_id), "panel": panel}, n_clicks=0,
                       className="link-button", title=t("leader.timeline", lang))


def overdue_panel(p: Paged, lang: Lang) -> list[Any]:
    body = [html.Tr([
        html.Td(_open_button(r.id, "overdue", lang)), html.Td(r.title), html.Td(level_badge(int(r.level), lang)),
        html.Td(status_chip(r.status, lang)), html.Td(_name(p.names, r.township_code)),
        html.Td(remaining(r.deadline, p.now, lang)[0], className="overdue nowrap"),
    ]) for r in p.rows.itertuples()]
    headers = [t(k, lang) for k in ("col.id", "col.title", "col.level", "col.status", "col.township",
                                    "col.overdue_by")]
    return [_table(headers, body, Ids.OVERDUE_TABLE, t("leader.no_overdue", lang)),
            pager(Ids.OVERDUE, p.page, p.total, OVERDUE_ROWS, lang)]


def ranking_panel(p: Paged, lang: Lang) -> list[Any]:
    """考核's figures per township (the 考核 page has their definitions, the movement and the lists)."""
    body = [html.Tr([
        html.Td("—" if known(r.rank) is None else str(int(r.rank)), className="rank"), html.Td(r.name),
        html.Td(_name(p.names, r.district_code)), html.Td(band_chip(r.band if isinstance(r.band, str) else None, lang)),
        html.Td("—" if known(r.score) is None else f"{r.score:.1f}", className="num"),
        html.Td(fmt_int(r.dispatched), className="num"), html.Td(fmt_pct(known(r.sign_rate)), className="num"),
        html.Td(fmt_pct(known(r.on_time_rate)), className="num"),
        html.Td(fmt_pct(known(r.close_rate)), className="num"),
        html.Td(fmt_pct(known(r.rework_rate)), className="num"), html.Td(fmt_int(r.open), className="num"),
        html.Td(fmt_int(r.overdue), className="num" + (" overdue" if r.overdue else "")),
    ]) for r in p.rows.itertuples()]
    headers = [t(k, lang) for k in ("col.rank", "col.township", "col.district", "assess.col.band", "assess.col.score",
                                    "col.dispatched", "assess.col.sign_rate", "assess.col.on_time_rate",
                                    "assess.col.close_rate", "assess.col.rework_rate", "col.open", "col.overdue")]
    return [_table(headers, body, Ids.RANKING_TABLE, t("leader.none", lang), numeric=8),
            pager(Ids.RANKING, p.page, p.total, PAGE_ROWS, lang)]


def hotspot_panel(h: Hotspots, lang: Lang) -> list[Any]:
    """12345 hotspots (主动治理) of the period: the kinds of complaint and the townships with the most."""
    def counts(r: Any) -> list[html.Td]:
        return [html.Td(fmt_int(r.hotspots), className="num"), html.Td(fmt_int(r.tickets), className="num"),
                html.Td(fmt_int(r.closed), className="num")]

    numbers = [t(k, lang) for k in ("col.hotspots", "col.tickets", "col.closed")]
    kinds = [html.Tr([html.Td(str(n), className="rank"), html.Td(complaint_label(r.complaint, lang)), *counts(r)])
             for n, r in enumerate(h.kinds.itertuples(), start=1)]
    areas = [html.Tr([html.Td(str(n), className="rank"), html.Td(_name(h.names, r.township_code)),
                      html.Td(_name(h.names, r.district_code)), *counts(r)])
             for n, r in enumerate(h.areas.itertuples(), start=1)]
    return [
        html.Div([html.H3(t("leader.hotspot_kinds", lang)),
                  _table([t("col.rank", lang), t("col.complaint", lang), *numbers], kinds, Ids.HOTSPOT_KINDS,
                         t("leader.no_hotspots", lang), numeric=3)]),
        html.Div([html.H3(t("leader.hotspot_areas", lang)),
                  _table([t("col.rank", lang), t("col.township", lang), t("col.district", lang), *numbers], areas,
                         Ids.HOTSPOT_AREAS, t("leader.no_hotspots", lang), numeric=3)]),
    ]


def list_panel(p: Paged, lang: Lang) -> list[Any]:
    body = [html.Tr([
        html.Td(_open_button(r.id, "list", lang)), html.Td(r.title), html.Td(category_label(r.category, lang)),
        html.Td(level_badge(int(r.level), lang)), html.Td(status_chip(r.status, lang)),
        html.Td(_name(p.names, r.township_code)), html.Td(fmt_dt(r.created_at), className="nowrap"),
        html.Td(fmt_dt(r.closed_at) if r.closed_at is not None else "—", className="nowrap"),
        html.Td(fmt_int(r.rework_count), className="num"),
    ], className="row-overdue" if r.overdue else None) for r in p.rows.itertuples()]
    headers = [t(k, lang) for k in ("col.id", "col.title", "col.category", "col.level", "col.status", "col.township",
                                    "col.created", "col.closed_at", "col.rework")]
    return [_table(headers, body, Ids.LIST_TABLE, t("leader.none", lang), numeric=1),
            pager(Ids.LIST, p.page, p.total, PAGE_ROWS, lang)]


def count(p: Paged, lang: Lang) -> str:
    """How many incidents match (the export has them all)."""
    return t("leader.count", lang, n=fmt_int(p.total))


def trend(p: Panels, lang: Lang) -> Any:
    return charts.daily_trend(p.daily, p.filters.start, p.filters.end, lang, moved=p.moved,
                              moved_name=t("leader.people_moved", lang))


def timeline(tl: Timeline | None, lang: Lang) -> html.Div:
    """Any incident's timeline, in place: the Gantt of its states and every log row."""
    if tl is None:
        return message(t("common.not_found", lang), "error")
    i = tl.incident
    return html.Div([
        html.H3([f"#{i['id']} {i['title']} ", level_badge(i["level"], lang), " ", status_chip(i["status"], lang), " ",
                 html.A(t("leader.open_page", lang), href=f"/incident/{i['id']}", className="small-link")]),
        timeline_graph(Ids.TIMELINE, tl.log, tl.now, lang),
        html.Div(log_table(tl.log, tl.names, lang), className="table-wrap"),
    ], id=Ids.TIMELINE_BOX)


def area_options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Options of districts or townships, by name."""
    return [{"label": name, "value": code} for code, name in pairs]


def _date_picker(picker_id: Ids, day: date, lang: Lang) -> dcc.DatePickerSingle:
    """A day as 2026-11-23 whatever the browser's locale; weeks start on Monday, as Chinese calendars do."""
    return dcc.DatePickerSingle(id=picker_id, date=day.isoformat(), display_format="YYYY-MM-DD",
                                month_format=MONTH_FORMAT[lang], first_day_of_week=1, className="date-picker")


def _filter_bar(c: Choices, p: Panels, lang: Lang) -> html.Div:
    def field(label_key: str, control: Any) -> html.Label:
        return html.Label([html.Span(t(label_key, lang)), control], className="filter")

    return html.Div([
        field("filter.quick", dcc.Dropdown(
            [{"label": t("filter.days", lang, n=n), "value": n} for n in QUICK_DAYS], value=30, id=Ids.QUICK,
            clearable=False, searchable=False, className="dropdown-sm")),
        field("filter.from", _date_picker(Ids.START, p.filters.start, lang)),
        field("filter.to", _date_picker(Ids.END, p.filters.end, lang)),
        field("filter.district", dcc.Dropdown(area_options(c.districts), id=Ids.DISTRICT,
                                              placeholder=t("common.all", lang), className="dropdown-sm")),
        field("filter.township", dcc.Dropdown(area_options(c.townships), id=Ids.TOWNSHIP,
                                              placeholder=t("common.all", lang), className="dropdown-md")),
        field("filter.category", dcc.Dropdown(
            [{"label": category_label(cat, lang), "value": cat} for cat in c.categories], id=Ids.CATEGORY,
            placeholder=t("common.all", lang), className="dropdown-sm")),
        field("filter.level", dcc.Dropdown(
            [{"label": level_label(n, lang), "value": n} for n in figures.LEVELS], id=Ids.LEVEL,
            placeholder=t("common.all", lang), className="dropdown-sm")),
    ], className="filter-bar")


def escalated_panel(p: Page, lang: Lang) -> html.Section | None:
    """升级督办 that reached a leader, above everything else, each marked and linked to its page; none: nothing."""
    rows = p.escalated
    if rows.empty:
        return None
    names = p.panels.overdue.names
    head = t("escalation.leader", lang)
    title = f"{head}（{len(rows)}）" if lang == "zh" else f"{head} ({len(rows)})"
    return html.Section([
        html.H2(title),
        html.Ul([html.Li([level_badge(int(r.level), lang), " ", status_chip(r.status, lang), " ",
                          html.A(f"#{int(r.id)} {r.title}", href=f"/incident/{int(r.id)}"), " ",
                          html.Span(" · ".join(filter(None, [names.get(r.township_code or "", r.township_code or ""),
                                                              fmt_dt(r.escalated_at)])), className="muted")],
                         className="escalated-item", id=f"ld-escalated-{int(r.id)}") for r in rows.itertuples()],
                className="escalated-list"),
    ], className="card panel escalated", id="ld-escalated")


def page(p: Page, lang: Lang) -> html.Div:
    panels = p.panels
    return html.Div([
        html.H1(t("leader.title", lang)),
        _filter_bar(p.choices, panels, lang),
        html.Div(id=Ids.MSG, **aria(live="polite")),
        html.Div(kpi_cards(panels.summary, lang), id=Ids.KPIS, className="stat-row"),
        escalated_panel(p, lang),
        rectifications.panel(lang),
        html.Div([
            html.Section([html.H2(t("leader.trend", lang)),
                          dcc.Graph(id=Ids.TREND, figure=trend(panels, lang),
                                    config={"displayModeBar": False, "displaylogo": False})],
                         className="card panel"),
            html.Section([html.H2(t("leader.overdue", lang)),
                          html.Div(overdue_panel(panels.overdue, lang), id=Ids.OVERDUE)],
                         className="card panel"),
        ], className="two-col"),
        html.Div([
            html.H2(t("leader.timeline", lang), id=Ids.PANEL_TITLE),
            html.Div(id=Ids.PANEL_BODY),
            html.Button(t("leader.close_panel", lang), id=Ids.PANEL_CLOSE, className="btn btn-secondary",
                        n_clicks=0),
        ], id=Ids.PANEL, className="card action-panel", hidden=True),
        html.Section([
            html.Div([html.H2(t("leader.ranking", lang)), html.Span(t("leader.ranking_note", lang), className="muted"),
                      html.Button(t("leader.export_ranking", lang), id=Ids.EXPORT_RANKING, n_clicks=0,
                                  className="btn btn-secondary btn-right")], className="section-head"),
            html.Div(ranking_panel(panels.ranking, lang), id=Ids.RANKING),
        ], className="card panel"),
        html.Section([html.H2(t("leader.hotspots", lang)),
                      html.Div(hotspot_panel(panels.hotspots, lang), id=Ids.HOTSPOTS, className="two-col")],
                     className="card panel"),
        html.Section([
            html.Div([html.H2(t("leader.list", lang)),
                      dcc.Input(id=Ids.SEARCH, type="search", debounce=True, placeholder=t("filter.search", lang),
                                className="input search", maxLength=100),
                      html.Span(count(p.listing, lang), id=Ids.COUNT, className="muted"),
                      html.Button(t("leader.export_list", lang), id=Ids.EXPORT_LIST, n_clicks=0,
                                  className="btn btn-secondary btn-right")], className="section-head"),
            html.Div(list_panel(p.listing, lang), id=Ids.LIST),
        ], className="card panel"),
        dcc.Download(id=Ids.DOWNLOAD),
    ], className="page page-light page-wide leader")
