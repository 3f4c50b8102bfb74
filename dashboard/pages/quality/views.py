"""The 数据质量 page as components: the totals, devices online per department and type (table and
bars), dead letters by reason and the newest of them, and the bar to download a month's report."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from dashboard import charts
from dashboard.components import aria
from i18n.labels import Lang, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.texts import DEAD_REASON, DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt, fmt_time
from ingest.health import online_percent
from reports.month import Month
from reports.texts import rt
from store.privacy import payload_preview

from .ids import Ids
from .load import Health, Page

REFRESH_MS = 30_000


def online_section(online: pd.DataFrame, lang: Lang) -> html.Section:
    labels = [f"{label(DEPT, r.dept, lang)} · {label(DEVICE_TYPE, r.device_type, lang)}" for r in online.itertuples()]
    rows = [html.Tr([
        html.Td(label(DEPT, r.dept, lang)), html.Td(label(DEVICE_TYPE, r.device_type, lang)),
        html.Td(fmt_int(r.devices), className="num"), html.Td(fmt_int(r.online), className="num"),
        html.Td(fmt_int(int(r.devices) - int(r.online)), className="num"),
        html.Td(fmt_int(r.never), className="num"),
        html.Td(fmt_pct(online_percent(int(r.online), int(r.devices))), className="num"),
    ]) for r in online.itertuples()]
    headers = [html.Th(t(k, lang), className="num" if i > 1 else None) for i, k in enumerate(
        ("col.dept", "col.device_type", "col.devices", "col.online", "col.offline", "col.never", "col.online_rate"))]
    return html.Section([
        html.H2(t("quality.online", lang)),
        html.Div(t("quality.online_rule", lang), className="muted"),
        html.Div([
            html.Table([html.Thead(html.Tr(headers)), html.Tbody(rows)], className="table table-compact",
                       id=Ids.ONLINE_TABLE),
            dcc.Graph(figure=charts.online_bars(online, labels), config={"displayModeBar": False},
                      id=Ids.ONLINE_CHART) if len(online) else None,
        ], className="two-col"),
    ], className="card panel")


def dead_section(by_reason: pd.DataFrame, latest: pd.DataFrame, lang: Lang) -> html.Section:
    reason_rows = [html.Tr([html.Td(label(DEAD_REASON, r.reason, lang)), html.Td(r.reason, className="muted"),
                            html.Td(fmt_int(r.n), className="num")]) for r in by_reason.itertuples()]
    reason_head = [html.Th(t("col.reason", lang)), html.Th(t("col.code", lang)),
                   html.Th(t("col.count", lang), className="num")]
    latest_rows = [html.Tr([
        html.Td(fmt_dt(r.received_at, seconds=True), className="nowrap"), html.Td(r.topic, className="mono"),
        html.Td(label(DEAD_REASON, r.reason, lang)), html.Td(r.detail),
        html.Td(payload_preview(r.head, r.size), className="mono payload"),  # masked
    ]) for r in latest.itertuples()]
    return html.Section([
        html.H2(t("quality.dead", lang)),
        html.Table([html.Thead(html.Tr(reason_head)), html.Tbody(reason_rows)],
                   className="table table-compact narrow", id=Ids.DEAD_REASONS)
        if reason_rows else html.Div(t("quality.no_dead", lang), className="muted", id=Ids.DEAD_REASONS),
        html.H2(t("quality.dead_latest", lang)),
        html.Div(html.Table([
            html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("col.received", "col.topic", "col.reason",
                                                               "col.details", "col.payload")])),
            html.Tbody(latest_rows)], className="table table-compact", id=Ids.DEAD_LATEST), className="table-wrap")
        if latest_rows else html.Div(t("common.none", lang), className="muted", id=Ids.DEAD_LATEST),
    ], className="card panel")


def trend_section(daily: pd.DataFrame | None, lang: Lang) -> html.Section:
    """The last 30 days, day by day: what a bad day looked like, and whether today is one (the city's
    feeds: a district desk (None) is told so)."""
    if daily is None:
        return html.Section([html.H2(t("quality.days", lang)),
                             html.Div(t("quality.days_city", lang), className="muted", id=Ids.DAYS_CHART)],
                            className="card panel")
    names = (t("quality.days.rejected", lang), t("quality.days.reject_rate", lang), t("quality.days.late_rate", lang))
    return html.Section([
        html.H2(t("quality.days", lang)),
        html.Div(t("quality.days_note", lang), className="muted"),
        dcc.Graph(figure=charts.quality_days(daily, names), config={"displayModeBar": False}, id=Ids.DAYS_CHART)
        if len(daily) else html.Div(t("common.none", lang), className="muted", id=Ids.DAYS_CHART),
    ], className="card panel")


def body(h: Health, lang: Lang) -> list[Any]:
    online, by_reason = h.online, h.by_reason
    devices, on = int(online["devices"].sum()) if len(online) else 0, int(online["online"].sum()) if len(online) else 0
    stats = [("quality.kpi.devices", fmt_int(devices)), ("quality.kpi.online", fmt_int(on)),
             ("quality.kpi.rate", fmt_pct(online_percent(on, devices))),
             ("quality.kpi.dead", fmt_int(int(by_reason["n"].sum()) if len(by_reason) else 0))]
    return [
        html.Div([html.Div([html.Div(t(k, lang), className="stat-label"), html.Div(v, className="stat-value")],
                           className="stat") for k, v in stats], className="stat-row"),
        online_section(online, lang),
        trend_section(h.daily, lang),
        dead_section(by_reason, h.latest, lang),
    ]


def month_options(months: list[Month], lang: Lang) -> list[dict[str, str]]:
    """This month (so far), last month, then the ten before, newest first."""
    labels = [rt("page.this_month", lang, month=months[0].label(lang)),
              rt("page.last_month", lang, month=months[1].label(lang)), *(m.label(lang) for m in months[2:])]
    return [{"label": text, "value": m.key} for m, text in zip(months, labels, strict=True)]


def report_bar(months: list[Month], lang: Lang) -> html.Div | None:
    """The month to download and its button; none when no month is offered (a district desk's page)."""
    if not months:
        return None
    options = month_options(months, lang)
    return html.Div([
        html.Label([html.Span(rt("page.report", lang)),
                    dcc.Dropdown(options, value=options[1]["value"], id=Ids.REPORT_MONTH, clearable=False,
                                 searchable=False, className="dropdown-md")], className="filter"),
        html.Button(rt("page.download", lang), id=Ids.REPORT, n_clicks=0, className="btn btn-secondary"),
        html.Div(id=Ids.REPORT_MSG, **aria(live="polite")),
        dcc.Download(id=Ids.DOWNLOAD),
    ], className="filter-bar")


def page(p: Page, lang: Lang) -> html.Div:
    return html.Div([
        html.Div([html.H1(t("quality.title", lang)),
                  html.Span([t("map.updated", lang), " ", html.Span(fmt_time(p.health.now), id=Ids.UPDATED)],
                            className="updated")], className="section-head"),
        report_bar(p.months, lang),
        html.Div(body(p.health, lang), id=Ids.BODY),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light page-wide quality")
