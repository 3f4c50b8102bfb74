"""数据质量: are the feeds healthy? Devices online per department and type, dead letters by reason.

Starts simple on purpose: two aggregates and the newest dead letters, refreshed every
30 s. The monthly data-quality report (数据质量月报, a Word document from ``reports``) is
downloaded here for a chosen month: this one so far, last month, or up to a year back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, charts
from dashboard.components import message, session_user
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.labels import Lang, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.texts import DEAD_REASON, DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt, fmt_time, utcnow
from reports.month import Month, recent_months
from reports.texts import rt

ROLES = (Role.LEADER, Role.COMMAND, Role.ADMIN)
REFRESH_MS = 30_000
REPORT_MONTHS = 12  # the months offered for the monthly report, this one included


class Ids(StrEnum):
    BODY = "dq-body"
    TICK = "dq-tick"
    UPDATED = "dq-updated"
    REPORT_MONTH = "dq-report-month"
    REPORT = "dq-report"
    REPORT_MSG = "dq-report-msg"
    DOWNLOAD = "dq-download"


def _rate(online: int, devices: int) -> float | None:
    return round(100 * online / devices, 1) if devices else None


def online_section(online: pd.DataFrame, lang: Lang) -> html.Section:
    labels = [f"{label(DEPT, r.dept, lang)} · {label(DEVICE_TYPE, r.device_type, lang)}" for r in online.itertuples()]
    rows = [html.Tr([
        html.Td(label(DEPT, r.dept, lang)), html.Td(label(DEVICE_TYPE, r.device_type, lang)),
        html.Td(fmt_int(r.devices), className="num"), html.Td(fmt_int(r.online), className="num"),
        html.Td(fmt_int(int(r.devices) - int(r.online)), className="num"),
        html.Td(fmt_int(r.never), className="num"),
        html.Td(fmt_pct(_rate(int(r.online), int(r.devices))), className="num"),
    ]) for r in online.itertuples()]
    headers = [html.Th(t(k, lang), className="num" if i > 1 else None) for i, k in enumerate(
        ("col.dept", "col.device_type", "col.devices", "col.online", "col.offline", "col.never", "col.online_rate"))]
    return html.Section([
        html.H2(t("quality.online", lang)),
        html.Div(t("quality.online_rule", lang), className="muted"),
        html.Div([
            html.Table([html.Thead(html.Tr(headers)), html.Tbody(rows)], className="table table-compact",
                       id="dq-online-table"),
            dcc.Graph(figure=charts.online_bars(online, labels), config={"displayModeBar": False},
                      id="dq-online-chart") if len(online) else None,
        ], className="two-col"),
    ], className="card panel")


def _payload_text(head: Any, size: Any) -> str:
    text = bytes(head or b"").decode("utf-8", errors="replace")
    return text + (" …" if int(size or 0) > len(head or b"") else "")


def dead_section(by_reason: pd.DataFrame, latest: pd.DataFrame, lang: Lang) -> html.Section:
    reason_rows = [html.Tr([html.Td(label(DEAD_REASON, r.reason, lang)), html.Td(r.reason, className="muted"),
                            html.Td(fmt_int(r.n), className="num")]) for r in by_reason.itertuples()]
    reason_head = [html.Th(t("col.reason", lang)), html.Th(t("col.code", lang)),
                   html.Th(t("col.count", lang), className="num")]
    latest_rows = [html.Tr([
        html.Td(fmt_dt(r.received_at, seconds=True), className="nowrap"), html.Td(r.topic, className="mono"),
        html.Td(label(DEAD_REASON, r.reason, lang)), html.Td(r.detail),
        html.Td(_payload_text(r.head, r.size), className="mono payload"),
    ]) for r in latest.itertuples()]
    return html.Section([
        html.H2(t("quality.dead", lang)),
        html.Table([html.Thead(html.Tr(reason_head)), html.Tbody(reason_rows)],
                   className="table table-compact narrow", id="dq-dead-reasons")
        if reason_rows else html.Div(t("quality.no_dead", lang), className="muted", id="dq-dead-reasons"),
        html.H2(t("quality.dead_latest", lang)),
        html.Div(html.Table([
            html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("col.received", "col.topic", "col.reason",
                                                               "col.details", "col.payload")])),
            html.Tbody(latest_rows)], className="table table-compact", id="dq-dead-latest"), className="table-wrap")
        if latest_rows else html.Div(t("common.none", lang), className="muted", id="dq-dead-latest"),
    ], className="card panel")


def body(lang: Lang) -> list[Any]:
    data = get_data()
    now = utcnow()
    online = data.online_by_type(now)
    by_reason = data.dead_letters_by_reason(now)
    devices, on = int(online["devices"].sum()) if len(online) else 0, int(online["online"].sum()) if len(online) else 0
    stats = [("quality.kpi.devices", fmt_int(devices)), ("quality.kpi.online", fmt_int(on)),
             ("quality.kpi.rate", fmt_pct(_rate(on, devices))),
             ("quality.kpi.dead", fmt_int(int(by_reason["n"].sum()) if len(by_reason) else 0))]
    return [
        html.Div([html.Div([html.Div(t(k, lang), className="stat-label"), html.Div(v, className="stat-value")],
                           className="stat") for k, v in stats], className="stat-row"),
        online_section(online, lang),
        dead_section(by_reason, data.latest_dead_letters(), lang),
    ]


def month_options(now: datetime, lang: Lang) -> list[dict[str, str]]:
    """This month (so far), last month, then the ten before, newest first."""
    months = recent_months(now, REPORT_MONTHS)
    labels = [rt("page.this_month", lang, month=months[0].label(lang)),
              rt("page.last_month", lang, month=months[1].label(lang)), *(m.label(lang) for m in months[2:])]
    return [{"label": text, "value": m.key} for m, text in zip(months, labels, strict=True)]


def chosen_month(value: Any, now: datetime) -> Month | None:
    """The month a request names, if it is one of those offered (a forged value gets no report)."""
    offered = recent_months(now, REPORT_MONTHS)
    return next((m for m in offered if m.key == value), None)


def report_bar(now: datetime, lang: Lang) -> html.Div:
    options = month_options(now, lang)
    return html.Div([
        html.Label([html.Span(rt("page.report", lang)),
                    dcc.Dropdown(options, value=options[1]["value"], id=Ids.REPORT_MONTH, clearable=False,
                                 searchable=False, className="dropdown-md")], className="filter"),
        html.Button(rt("page.download", lang), id=Ids.REPORT, n_clicks=0, className="btn btn-secondary"),
        html.Div(id=Ids.REPORT_MSG, **{"aria-live": "polite"}),
        dcc.Download(id=Ids.DOWNLOAD),
    ], className="filter-bar")


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    now = utcnow()
    return html.Div([
        html.Div([html.H1(t("quality.title", lang)),
                  html.Span([t("map.updated", lang), " ", html.Span(fmt_time(now), id=Ids.UPDATED)],
                            className="updated")], className="section-head"),
        report_bar(now, lang),
        html.Div(body(lang), id=Ids.BODY),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light page-wide quality")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/quality", title=page_title("nav.quality"), order=5, layout=layout)


@callback(Output(Ids.BODY, "children"), Output(Ids.UPDATED, "children"), Input(Ids.TICK, "n_intervals"),
          prevent_initial_call=True)
def refresh(_n: int | None) -> tuple[Any, Any]:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user, no_update
    return body(lang), fmt_time(utcnow())


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.REPORT_MSG, "children"), Input(Ids.REPORT, "n_clicks"),
          State(Ids.REPORT_MONTH, "value"), prevent_initial_call=True)
def download_report(n_clicks: int | None, month: Any) -> tuple[Any, Any]:
    """The chosen month's 数据质量月报 as a Word file, for the page's roles only (checked here, not by the button)."""
    from reports.quality import quality_report  # python-docx and matplotlib load only when someone downloads

    if not n_clicks:
        raise PreventUpdate
    lang = auth.current_lang()
    try:
        auth.require(*ROLES)
    except auth.Denied as exc:
        return no_update, message(t(exc.key, lang), "error")
    now = utcnow()
    chosen = chosen_month(month, now)
    if chosen is None:
        return no_update, message(rt("page.bad_month", lang), "error")
    with get_data().pool.connection() as conn:
        content, filename = quality_report(conn, chosen, now, lang)
    return dcc.send_bytes(content, filename), None
