"""The incident page as components: its facts, the timeline of its states and the log table (two views
of the same log rows, so what a leader reviews cannot disagree with what happened), and its photos."""

from __future__ import annotations

from dash import html

from dashboard.components import level_badge, message, status_chip
from dashboard.widgets import log_table, near_badge, timeline_graph
from i18n.labels import Lang, category_label, t
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import Facts, Record


def _facts(f: Facts, names: dict[str, str], lang: Lang) -> html.Dl:
    def place(code: str | None) -> str:
        return f"{names.get(code, code)}（{code}）" if code else "—"

    pairs = [
        ("col.category", category_label(f.category, lang)),
        ("col.township", place(f.township_code)),
        ("col.location", f"{f.lon:.5f}, {f.lat:.5f}" if f.lon is not None and f.lat is not None else "—"),
        ("col.created", fmt_dt(f.created_at)),
        ("time.sign_by", fmt_dt(f.sign_deadline)),
        ("time.finish_by", fmt_dt(f.finish_deadline)),
        ("incident.rework_count", str(f.rework_count)),
    ]
    return html.Dl([item for key, value in pairs for item in (html.Dt(t(key, lang)), html.Dd(value))],
                   className="facts")


def page(r: Record, lang: Lang) -> html.Div:
    f = r.facts
    return html.Div([
        html.H1([f"#{f.id} {f.title} ", level_badge(f.level, lang), " ", status_chip(f.status, lang),
                 *([" ", near_badge(lang)] if f.near else [])]),
        _facts(f, r.names, lang),
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
