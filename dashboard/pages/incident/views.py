"""The incident page as components: its facts (with its reporter, as the session may see them), the timeline
of its states and the log table (two views of the same log rows, so what a leader reviews cannot disagree
with what happened), and its photos; and the rows of its Excel export."""

from __future__ import annotations

from dash import dcc, html

from dashboard.components import level_badge, message, status_chip
from dashboard.widgets import log_table, near_badge, timeline_graph
from i18n.labels import Lang, category_label, t
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import Record


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
        html.H2(t("incident.photos", lang)),
        html.Div([
            html.A(html.Img(src=f"/attachment/{p.id}", alt=p.filename, className="photo"),
                   href=f"/attachment/{p.id}", target="_blank")
            for p in r.photos
        ] or [html.Div(t("incident.no_photos", lang), className="muted")], id=Ids.PHOTOS, className="photos"),
    ], className="page page-light incident")


def not_found(lang: Lang) -> html.Div:
    # The same words for "missing" and "not yours": ids of other townships' incidents stay opaque.
    return html.Div(message(t("common.not_found", lang), "error"), className="page page-light")
