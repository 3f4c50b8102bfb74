"""/incident/<id>: one incident's details and its whole history, read from incident_log only.

The log table and the state timeline are two views of the same rows, so what a
leader reviews cannot disagree with what happened. Township staff may open only
incidents that are or were routed to their own township.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
from dash import html

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.components import level_badge, message, session_user, status_chip
from dashboard.context import get_data
from dashboard.reads import OPEN_STATUSES
from dashboard.shell import page_title
from dashboard.widgets import log_table, near_badge, timeline_graph
from i18n.labels import Lang, category_label, t
from i18n.timefmt import fmt_dt, utcnow

ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN, Role.TOWNSHIP)


class Ids(StrEnum):
    TIMELINE = "incident-timeline"
    PHOTOS = "incident-photos"


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
        timeline_graph(Ids.TIMELINE, log, utcnow(), lang),
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
