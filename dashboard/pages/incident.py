"""/incident/<id>: one incident's details and its whole history, read from incident_log only.

The log table and the state timeline are two views of the same rows, so what a
leader reviews cannot disagree with what happened. Township staff may open only
incidents that are or were routed to their own township.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import dcc, html

from alerts.lifecycle import Role
from dashboard import auth, figures
from dashboard.components import level_badge, message, session_user, status_chip
from dashboard.context import get_data
from dashboard.reads import OPEN_STATUSES
from dashboard.shell import page_title
from i18n.labels import MESSAGES, Lang, action_label, category_label, level_label, role_label, status_label, t
from i18n.timefmt import fmt_dt, utcnow

ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN, Role.TOWNSHIP)


class Ids(StrEnum):
    TIMELINE = "incident-timeline"
    LOG = "incident-log"
    PHOTOS = "incident-photos"


def near_badge(lang: Lang) -> html.Span:
    """近边界·请确认属地: the point may lie in the neighbouring township; shown until the area is confirmed."""
    return html.Span(t("near.badge", lang), title=t("near.badge_help", lang), className="badge near-boundary")


def _detail_value(key: str, value: Any, names: dict[str, str], lang: Lang) -> str:
    """One detail's value in words: names for township codes, labels for levels, categories and ladder rungs."""
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if key in ("township_code", "suggested", "township_code_of_point") and isinstance(value, str):
        return names.get(value, value)
    if key in ("level", "from_level") and isinstance(value, int):
        return level_label(value, lang)
    if key == "category" and isinstance(value, str):
        return category_label(value, lang)
    if key == "into" and isinstance(value, int):
        return f"#{value}"
    if key == "tier" and isinstance(value, int):
        return t("details.tier_n", lang, n=value)
    if key == "to" and f"details.to.{value}" in MESSAGES:
        return t(f"details.to.{value}", lang)
    return str(value)


def format_details(details: Any, names: dict[str, str], lang: Lang) -> str:
    """A log row's details as ``label：value`` pairs in the user's language.

    Township codes become names, levels, categories and escalation rungs become words; a level
    change reads ``old → new`` and a point ``lon, lat``. A key without a label shows as it is.
    """
    if isinstance(details, str):
        details = json.loads(details)
    if not isinstance(details, dict) or not details:
        return ""
    lon, lat = details.get("lon"), details.get("lat")
    point = isinstance(lon, int | float) and isinstance(lat, int | float)
    parts = []
    for key, value in details.items():
        if (key == "from_level" and "level" in details) or (key == "lat" and point):
            continue  # said with the new level / with the longitude
        if key == "lon" and point:
            label, shown = t("col.location", lang), f"{lon:.5f}, {lat:.5f}"
        else:
            label = t(f"details.{key}", lang) if f"details.{key}" in MESSAGES else key
            shown = _detail_value(key, value, names, lang)
            if key == "level" and "from_level" in details:
                shown = f"{_detail_value(key, details['from_level'], names, lang)} → {shown}"
        parts.append(f"{label}：{shown}" if lang == "zh" else f"{label}: {shown}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def log_table(log: pd.DataFrame, names: dict[str, str], lang: Lang) -> html.Table:
    header = html.Tr([html.Th(t(k, lang)) for k in ("col.at", "col.actor", "col.role", "col.action",
                                                      "col.transition", "col.note", "col.details")])
    body = [html.Tr([
        html.Td(fmt_dt(r.at, seconds=True), className="nowrap"),
        html.Td(r.actor),
        html.Td(role_label(r.role, lang)),
        html.Td(action_label(r.action, lang)),
        html.Td(f"{status_label(r.from_status if isinstance(r.from_status, str) else None, lang)}"
                f" → {status_label(r.to_status, lang)}",
                className="nowrap"),
        html.Td(r.note),
        html.Td(format_details(r.details, names, lang)),
    ], id=f"log-row-{r.id}") for r in log.itertuples()]
    return html.Table([html.Thead(header), html.Tbody(body)], className="table log-table", id=Ids.LOG)


def _facts(incident: dict[str, Any], names: dict[str, str], lang: Lang) -> html.Dl:
    def place(code: str | None) -> str:
        return f"{names.get(code, code)}（{code}）" if code else "—"

    lon, lat = incident.get("lon"), incident.get("lat")
    pairs = [
        ("col.category", category_label(incident["category"], lang)),
        ("col.township", place(incident["township_code"])),
        ("col.location", f"{lon:.5f}, {lat:.5f}" if lon is not None and lat is not None else "—"),
        ("col.created", fmt_dt(incident["created_at"])),
        ("time.sign_by", fmt_dt(incident["sign_deadline"])),
        ("time.finish_by", fmt_dt(incident["finish_deadline"])),
        ("incident.rework_count", str(incident["rework_count"])),
    ]
    return html.Dl([item for key, value in pairs for item in (html.Dt(t(key, lang)), html.Dd(value))],
                   className="facts")


def layout(incident_id: str | None = None, **_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    iid = int(incident_id) if incident_id and incident_id.isdigit() and len(incident_id) < 19 else None
    incident = data.incident(iid) if iid is not None else None
    allowed = incident is not None and (
        user.role is not Role.TOWNSHIP
        or (user.township_code is not None and data.township_involved(incident["id"], user.township_code)))
    if incident is None or not allowed:
        # The same words for "missing" and "not yours": ids of other townships' incidents stay opaque.
        return html.Div(message(t("common.not_found", lang), "error"), className="page page-light")
    names = data.region_names()
    log = data.incident_log(incident["id"])
    photos = data.attachments(incident["id"])
    near = bool(incident["near_boundary"]) and incident["status"] in OPEN_STATUSES  # the area is for open work
    return html.Div([
        html.H1([f"#{incident['id']} {incident['title']} ", level_badge(incident["level"], lang), " ",
                 status_chip(incident["status"], lang), *([" ", near_badge(lang)] if near else [])]),
        _facts(incident, names, lang),
        html.H2(t("incident.timeline", lang)),
        dcc.Graph(id=Ids.TIMELINE, figure=figures.timeline(log, utcnow(), lang),
                  config={"displayModeBar": False, "displaylogo": False}),
        html.H2(t("incident.log", lang)),
        html.Div(log_table(log, names, lang), className="table-wrap"),
        html.H2(t("incident.photos", lang)),
        html.Div([
            html.A(html.Img(src=f"/attachment/{p.id}", alt=p.filename, className="photo"),
                   href=f"/attachment/{p.id}", target="_blank")
            for p in photos.itertuples()
        ] or [html.Div(t("incident.no_photos", lang), className="muted")], id=Ids.PHOTOS, className="photos"),
    ], className="page page-light incident")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path_template="/incident/<incident_id>", title=page_title("incident.title"),
                   order=3, layout=layout)
