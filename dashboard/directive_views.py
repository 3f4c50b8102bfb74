"""政令一键智达 widgets: the command desk's form and list, the township desk's cards to acknowledge.

Pure builders over what ``Data`` returns; the callbacks live in the pages
(``pages/command/directives.py``, ``pages/township/directives.py``) and every write in ``actions``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from dash import dcc, html

from dashboard import response_level
from dashboard.components import aria
from dashboard.response_level import RIds
from i18n.labels import Lang, t
from i18n.timefmt import fmt_dt


class DirIds(StrEnum):
    FORM = "dir-form"
    TITLE = "dir-title"
    BODY = "dir-body"
    SCOPE = "dir-scope"
    PICK = "dir-pick"
    DISTRICTS = "dir-districts"
    TOWNSHIPS = "dir-townships"
    MINUTES = "dir-minutes"
    SUBMIT = "dir-submit"
    MSG = "dir-msg"
    LIST = "dir-list"
    MARKER = "dir-marker"
    VERSION = "dir-version"
    # township desk
    PENDING = "tw-directives"
    PENDING_MARKER = "tw-dir-marker"
    PENDING_VERSION = "tw-dir-version"
    ACK = "tw-ack"  # pattern-matching, index = directive id


SCOPE_ALL, SCOPE_SOME = "all", "some"


def targets_of(scope: str | None, districts: list[str] | None, townships: list[str] | None,
               choices: list[dict[str, str]]) -> list[str]:
    """The townships a directive goes to: all of them, or the chosen districts' and the chosen ones."""
    known = {c["code"] for c in choices}
    if scope == SCOPE_ALL:
        return sorted(known)
    wanted = set(districts or [])
    picked = {c["code"] for c in choices if c["district_code"] in wanted}
    # Unknown codes are passed on, not dropped: the server refuses them by name instead of sending less.
    return sorted(picked | {c for c in townships or [] if isinstance(c, str)})


def _district_options(choices: list[dict[str, str]]) -> list[dict[str, str]]:
    districts: dict[str, str] = {}
    for c in choices:
        districts.setdefault(c["district_code"], c["district_name"] or c["district_code"])
    return [{"label": name, "value": code} for code, name in sorted(districts.items())]


def form(choices: list[dict[str, str]], lang: Lang) -> html.Div:
    """The directive form, and under it the 应急响应 form (a response level is declared as a directive)."""
    return html.Div([directive_form(choices, lang), response_form(choices, lang)], className="directive-forms")


def response_form(choices: list[dict[str, str]], lang: Lang) -> html.Div:
    """启动 / 调整 / 解除应急响应 for the city or a district, with the levels in force above it."""
    return html.Div([
        html.H3(t("response.title", lang)),
        response_level.element(),
        html.Label(t("response.scope", lang), htmlFor=RIds.SCOPE),
        dcc.Dropdown(id=RIds.SCOPE, value=response_level.CITY, clearable=False, className="dropdown",
                     options=[{"label": t("response.city", lang), "value": response_level.CITY},
                              *_district_options(choices)]),
        html.Label(t("response.level", lang)),
        dcc.RadioItems(id=RIds.LEVEL, inline=True, className="radio-row",
                       options=[{"label": response_level.level_text(n, lang), "value": n} for n in (4, 3, 2, 1)]),
        html.Label(t("response.note", lang), htmlFor=RIds.NOTE),
        dcc.Input(id=RIds.NOTE, type="text", className="input", maxLength=response_level.MAX_NOTE),
        html.Div(id=RIds.MSG, **aria(live="assertive")),
        html.Div([html.Button(t("response.declare", lang), id=RIds.DECLARE, className="btn btn-primary", n_clicks=0),
                  html.Button(t("response.lift", lang), id=RIds.LIFT, className="btn btn-secondary", n_clicks=0)],
                 className="card-actions"),
    ], className="card form response-form")


def directive_form(choices: list[dict[str, str]], lang: Lang) -> html.Div:
    district_options = _district_options(choices)
    township_options = [{"label": f"{c['district_name'] or ''} · {c['name']}", "value": c["code"]} for c in choices]
    return html.Div([
        html.Label(t("directive.form_title", lang), htmlFor=DirIds.TITLE),
        dcc.Input(id=DirIds.TITLE, type="text", className="input", maxLength=200, debounce=False),
        html.Label(t("directive.body", lang), htmlFor=DirIds.BODY),
        dcc.Textarea(id=DirIds.BODY, className="input textarea", maxLength=5000),
        html.Label(t("directive.scope", lang)),
        dcc.RadioItems(id=DirIds.SCOPE, value=SCOPE_ALL, inline=True, className="radio-row",
                       options=[{"label": t("directive.scope_all", lang), "value": SCOPE_ALL},
                                {"label": t("directive.scope_some", lang), "value": SCOPE_SOME}]),
        html.Div([
            html.Label(t("directive.districts", lang), htmlFor=DirIds.DISTRICTS),
            dcc.Dropdown(id=DirIds.DISTRICTS, options=district_options, multi=True, className="dropdown",
                         placeholder=t("directive.districts", lang)),
            html.Label(t("directive.townships", lang), htmlFor=DirIds.TOWNSHIPS),
            dcc.Dropdown(id=DirIds.TOWNSHIPS, options=township_options, multi=True, className="dropdown",
                         placeholder=t("directive.townships", lang)),
        ], id=DirIds.PICK, className="form", hidden=True),
        html.Label(t("directive.minutes", lang), htmlFor=DirIds.MINUTES),
        dcc.Input(id=DirIds.MINUTES, type="text", inputMode="numeric", value="30", className="input input-short",
                  maxLength=6),
        html.Div(id=DirIds.MSG, **aria(live="assertive")),
        html.Button(t("directive.submit", lang), id=DirIds.SUBMIT, className="btn btn-primary", n_clicks=0),
    ], id=DirIds.FORM, className="card form directive-form")


def _tier_label(tier: int, lang: Lang) -> str:
    return t(f"directive.tier.{min(max(int(tier), 0), 3)}", lang)


def directive_list(rows: list[dict[str, Any]], names: dict[str, str], now: datetime, lang: Lang) -> Any:
    """Each recent directive: how many acknowledged, who did, and who has not (with the reminder tier)."""
    if not rows:
        return html.Div(t("directive.none", lang), className="muted")
    cards = []
    for d in rows:
        targets = d["targets"]
        acked = [x for x in targets if x["acked_at"] is not None]
        waiting = [x for x in targets if x["acked_at"] is None]
        late = now > d["ack_by"]
        done = len(acked) == len(targets)
        acked_items = [html.Span(f"{names.get(x['township_code'], x['township_code'])}"
                                 f"（{x['acked_name'] or x['acked_by']} {fmt_dt(x['acked_at'])}）"
                                 if lang == "zh" else
                                 f"{names.get(x['township_code'], x['township_code'])}"
                                 f" ({x['acked_name'] or x['acked_by']} {fmt_dt(x['acked_at'])})",
                                 className="ack-name") for x in acked]
        waiting_items = [html.Span([names.get(x["township_code"], x["township_code"]),
                                    html.Small(_tier_label(x["escalation_tier"], lang), className="tier")],
                                   className=f"laggard tier-{min(int(x['escalation_tier']), 3)}"
                                   + (" laggard-late" if late else ""),
                                   title=_tier_label(x["escalation_tier"], lang)) for x in waiting]
        sep = "：" if lang == "zh" else ": "
        cards.append(html.Div([
            html.Div([
                html.Span(t("directive.ack_count", lang, a=len(acked), n=len(targets)),
                          className="ack-count " + ("ack-done" if done else "ack-late" if late else "ack-open"),
                          id=f"dir-count-{d['id']}"),
                html.Span(f"#{d['id']} {d['title']}", className="card-title"),
            ], className="card-top"),
            html.Div(d["body"], className="directive-body") if d["body"] else None,
            html.Div(f"{t('directive.issued_by', lang)} {fmt_dt(d['issued_at'])} {d['issued_by']} · "
                     f"{t('directive.ack_by', lang)} {fmt_dt(d['ack_by'])}"
                     + (f" · {t('directive.overdue', lang)}" if late and not done else ""),
                     className="card-meta"),
            html.Div([html.Span(t("directive.pending_list", lang) + sep, className="ack-label"), *waiting_items],
                     className="ack-row") if waiting else None,
            html.Div([html.Span(t("directive.acked_list", lang) + sep, className="ack-label"), *acked_items],
                     className="ack-row") if acked else None,
        ], className="card directive-card", id=f"dir-card-{d['id']}"))
    return cards


def pending_cards(rows: list[dict[str, Any]], now: datetime, lang: Lang) -> Any:
    """The township's directives still to acknowledge; nothing at all when there are none."""
    if not rows:
        return None
    cards = [html.Div([
        html.Div(f"#{d['id']} {d['title']}", className="card-title"),
        html.Div(d["body"], className="directive-body") if d["body"] else None,
        html.Div(f"{t('directive.issued_by', lang)} {fmt_dt(d['issued_at'])} · {t('directive.ack_by', lang)}"
                 f" {fmt_dt(d['ack_by'])}" + (f" · {t('directive.overdue', lang)}" if now > d["ack_by"] else ""),
                 className="card-meta" + (" overdue" if now > d["ack_by"] else "")),
        html.Div(html.Button(t("directive.ack_button", lang), id={"type": DirIds.ACK, "index": int(d["id"])},
                             className="btn btn-primary", n_clicks=0), className="card-actions"),
    ], className="card directive-card directive-pending", id=f"tw-dir-{d['id']}") for d in rows]
    return html.Section([html.H2(t("directive.township_title", lang) + (f"（{len(rows)}）" if lang == "zh"
                                                                        else f" ({len(rows)})")),
                         html.Div(cards, className="card-list")], className="queue directives-pending")
