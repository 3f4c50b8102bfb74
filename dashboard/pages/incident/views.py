"""The incident page as components: its facts (with its reporter, as the session may see them), the timeline
of its states and the log table (two views of the same log rows, so what a leader reviews cannot disagree
with what happened), a 12345 hotspot's tickets, the units' reports (处置进展, 处置反馈 and 协办: each unit named
and marked 主办 or 协办, with its fields and its photos) and all its photos; and the rows of its Excel export."""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html

from alerts.feedback import FIELDS, PEOPLE_MOVED, REPORTS
from alerts.lifecycle import MOVES, Action
from dashboard.components import level_badge, message, status_chip
from dashboard.widgets import format_details, log_table, near_badge, timeline_graph
from i18n.labels import Lang, action_label, category_label, complaint_label, status_label, t
from i18n.timefmt import fmt_dt

from . import suppressed
from .ids import Ids
from .load import HotspotTicket, PhotoRef, Record

_REPORT_ACTIONS = frozenset(a.value for a in REPORTS)
# A report's fields in the catalogue's order (jsonb keeps keys in its own); its photos show as photos.
CATALOGUE_ORDER = tuple(f.key for fields in FIELDS.values() for f in fields)
HIDDEN = frozenset({"photos", "simulated"})


def fact_rows(r: Record, lang: Lang) -> list[tuple[str, str]]:
    """(label, value) of the incident's facts, as the page and its export show them to this session."""
    f = r.facts

    def place(code: str | None) -> str:
        return f"{r.names.get(code, code)}（{code}）" if code else "—"

    pairs = [
        ("col.category", category_label(f.category, lang)),
        ("col.township", place(f.township_code)),
        ("col.location", f"{f.lon:.5f}, {f.lat:.5f}" if f.lon is not None and f.lat is not None else "—"),
        ("col.created", fmt_dt(f.created_at)),
        ("time.sign_by", fmt_dt(f.sign_deadline)),
        ("time.finish_by", fmt_dt(f.finish_deadline)),
        ("incident.rework_count", str(f.rework_count)),
        ("escalation.tier", t(f"escalation.{f.escalated_to or 'none'}", lang)),  # on the page and in its export
    ]
    if r.contact is not None:
        pairs += [("incident.reporter", r.contact.reporter.name or "—"),
                  ("incident.reporter_phone", r.contact.reporter.phone),
                  ("incident.privacy", t("incident.masked" if r.contact.masked else "incident.unmasked", lang))]
    return [(t(key, lang), value) for key, value in pairs]


def page(r: Record, lang: Lang) -> html.Div:
    f = r.facts
    near: list[str | html.Span] = [" ", near_badge(lang)] if f.near else []
    return html.Div([
        html.H1([f"#{f.id} {f.title} ", level_badge(f.level, lang), " ", status_chip(f.status, lang), *near]),
        html.Dl([item for label, value in fact_rows(r, lang) for item in (html.Dt(label), html.Dd(value))],
                className="facts"),
        html.Button(t("incident.export", lang), id=Ids.EXPORT, className="btn btn-secondary", n_clicks=0),
        dcc.Store(id=Ids.NUMBER, data=str(f.id)),
        dcc.Download(id=Ids.DOWNLOAD),
        html.H2(t("incident.timeline", lang)),
        timeline_graph(Ids.TIMELINE, r.log, r.now, lang),
        html.H2(t("incident.log", lang)),
        html.Div(log_table(r.log, r.names, lang), className="table-wrap"),
        *hotspot_section(r, lang),
        suppressed.placeholder(),  # what its area warning held back (issue 18): filled by its own callback
        html.H2(t("incident.reports", lang)),
        reports(r, lang),
        html.H2(t("incident.photos", lang)),
        html.Div(_thumbs(r.photos) or [html.Div(t("incident.no_photos", lang), className="muted")], id=Ids.PHOTOS,
                 className="photos"),
    ], className="page page-light incident")


def hotspot_section(r: Record, lang: Lang) -> list[Any]:
    """A 12345 hotspot's tickets (主动治理): when, which kind, what the caller said, the caller (as the session may
    see them), where, and the outcome each is answered with (the incident's); nothing for any other incident."""
    if not r.tickets:
        return []

    def place(x: HotspotTicket) -> str:
        area = r.names.get(x.township_code, x.township_code) if x.township_code else "—"
        return f"{area} · {r.names.get(x.grid_code, x.grid_code)}" if x.grid_code else area

    def outcome(x: HotspotTicket) -> str:
        if x.status == "closed":
            return x.outcome or status_label(x.status, lang)
        return t("hotspot.pending", lang, status=status_label(x.status, lang))

    head = html.Tr([html.Th(t(k, lang)) for k in ("col.at", "col.complaint", "col.ticket_text", "col.contact",
                                                  "col.place", "col.outcome")])
    rows = [html.Tr([
        html.Td(fmt_dt(x.ts), className="nowrap"), html.Td(complaint_label(x.complaint, lang)), html.Td(x.text or "—"),
        html.Td(" ".join(filter(None, (x.reporter.name, x.reporter.phone))) if x.reporter else "—", className="nowrap"),
        html.Td(place(x)), html.Td(outcome(x)),
    ]) for x in r.tickets]
    return [html.H2(t("incident.hotspot_tickets", lang, n=len(r.tickets))),
            html.P(t("incident.hotspot_note", lang), className="muted"),
            html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="table table-compact",
                                id=Ids.TICKETS), className="table-wrap")]


def _thumbs(photos: tuple[PhotoRef, ...] | list[PhotoRef]) -> list[html.A]:
    return [html.A(html.Img(src=f"/attachment/{p.id}", alt=p.filename, className="photo"),
                   href=f"/attachment/{p.id}", target="_blank") for p in photos]


def _details(raw: Any) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


def reports(r: Record, lang: Lang) -> html.Div:
    """Every report of the units, oldest first: when, which unit (主办 the unit it is with, 协办 an assisting
    one), which report, the note, the fields and the photos that came with it; for a flood, the people moved
    in all (the sum of the reports)."""
    rows = [row for row in r.log.itertuples() if row.action in _REPORT_ACTIONS]
    if not rows:
        return html.Div(t("incident.no_reports", lang), className="muted", id=Ids.REPORTS)
    by_log: dict[int, list[PhotoRef]] = {}
    for p in r.photos:
        by_log.setdefault(p.log_id or 0, []).append(p)
    moved = sum(v for row in rows if isinstance(v := _details(row.details).get(PEOPLE_MOVED.key), int))
    items = []
    for row in rows:
        assisting = MOVES[Action(row.action)].part is not None  # a 协办 unit's move on its part
        mark = t("incident.assist_unit" if assisting else "incident.lead_unit", lang)
        details = _details(row.details)
        shown = {k: details[k] for k in (*CATALOGUE_ORDER, *details) if k in details and k not in HIDDEN}
        fields = format_details(shown, r.names, lang)
        items.append(html.Li([
            html.Div([html.Span(fmt_dt(row.at), className="nowrap"), " ",
                      html.Span(mark, className="badge assisting" if assisting else "badge lead"), " ",
                      html.Strong(r.names.get(row.unit, row.unit) if isinstance(row.unit, str) else row.actor), " · ",
                      action_label(row.action, lang)], className="report-head"),
            html.Div(row.note, className="report-note"),
            html.Div(fields, className="report-fields") if fields else None,
            html.Div(_thumbs(by_log.get(int(row.id), [])), className="photos") if by_log.get(int(row.id)) else None,
        ], className="report", id=f"report-{row.id}"))
    total = html.Div(t("incident.people_total", lang, n=moved), className="report-total") if moved else None
    return html.Div([total, html.Ol(items, className="reports")], id=Ids.REPORTS)


def not_found(lang: Lang) -> html.Div:
    # The same words for "missing" and "not yours": ids of other townships' incidents stay opaque.
    return html.Div(message(t("common.not_found", lang), "error"), className="page page-light")
