"""The 镇街工作台 as components, from what ``load`` read: one column of large cards (phone width), the
form panel for the unit's reports (处置进展, 处置反馈, 协办) and 退单, and the directives to acknowledge on top."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from alerts.deadlines import waiting_on
from alerts.feedback import RESULTS
from alerts.lifecycle import Action, Part, Role, offered
from alerts.status import Clock, Party
from dashboard import response_level
from dashboard.actions import MAX_PHOTO_BYTES
from dashboard.components import aria, level_badge, status_chip
from dashboard.directive_views import DirIds, pending_cards
from dashboard.widgets import QueueRow, incident_button
from i18n.labels import Lang, action_label, category_label, t
from i18n.timefmt import fmt_dt, remaining

from .ids import Ids
from .load import Page, Pending, Queue

REFRESH_MS = 10_000


# The card's buttons, for the moves the lifecycle offers township staff from the incident's status (and, on
# an incident the unit assists, from the state of its 协办 part).
BUTTONS: dict[Action, tuple[Ids, str]] = {Action.SIGN: (Ids.SIGN, "btn-primary"),
                                          Action.PROGRESS: (Ids.OPEN_PROGRESS, "btn-secondary"),
                                          Action.FEEDBACK: (Ids.OPEN_FEEDBACK, "btn-primary"),
                                          Action.RETURN: (Ids.OPEN_RETURN, "btn-secondary"),
                                          Action.ASSIST_SIGN: (Ids.ASSIST_SIGN, "btn-primary"),
                                          Action.ASSIST_PROGRESS: (Ids.OPEN_ASSIST_PROGRESS, "btn-secondary"),
                                          Action.ASSIST_FEEDBACK: (Ids.OPEN_ASSIST_FEEDBACK, "btn-primary")}
DEADLINE_KEY = {Clock.SIGN: "time.sign_by", Clock.FINISH: "time.finish_by"}


def incident_card(row: QueueRow, now: datetime, lang: Lang, unit: str | None = None,
                  part: Part | None = None) -> html.Div:
    """One incident: the township's own deadline and what is left of it (not the desk's 核查 deadline: a
    township is not late for that), and the buttons its status allows. An incident of another unit that
    ``unit`` assists (协办) is shown marked with the state of its ``part``, without the primary unit's
    deadline, with the buttons of its part (协办签收, then 协办进展 and 协办反馈)."""
    assisting = unit is not None and row.township_code != unit
    clock = waiting_on(row.status)
    mine = clock is not None and clock.owner is Party.TOWNSHIP and not assisting
    left, overdue = remaining(row.deadline, now, lang) if mine else ("", False)
    moves = offered(row.status, Role.TOWNSHIP, (part or Part.PENDING) if assisting else None)
    buttons = [incident_button(BUTTONS[a][0], row.id, action_label(a, lang), BUTTONS[a][1])
               for a in moves if a in BUTTONS]
    return html.Div([
        html.Div([level_badge(row.level, lang), status_chip(row.status, lang),
                  html.Span(t("township.assisting", lang), className="badge assisting") if assisting else None,
                  html.Span(t(f"assist.part.{(part or Part.PENDING).value}", lang), className="badge assist-part")
                  if assisting else None],
                 className="card-top"),
        html.Div(html.A(f"#{row.id} {row.title}", href=f"/incident/{row.id}"), className="card-title"),
        html.Div([
            html.Span(f"{t(DEADLINE_KEY[clock], lang)} {fmt_dt(row.deadline) if row.deadline is not None else '—'}"),
            html.Span(left, className="overdue" if overdue else "remaining"),
        ], className="card-deadline") if mine and clock is not None else None,
        html.Div(f"{t('col.created', lang)} {fmt_dt(row.created_at)} · {category_label(row.category, lang)}",
                 className="card-meta"),
        html.Div(t("near.township_hint", lang), className="msg msg-info") if row.near else None,
        html.Div(buttons, className="card-actions") if buttons else None,
    ], className="card incident-card" + (" card-overdue" if overdue else ""), id=f"tw-card-{row.id}")


def incident_list(queue: Queue, lang: Lang) -> list[html.Div] | html.Div:
    if not queue.cards:
        return html.Div(t("township.empty", lang), className="muted empty")
    cards = [incident_card(r, queue.now, lang, queue.unit, queue.parts.get(r.id)) for r in queue.cards]
    if queue.more:
        cards.append(html.Div(t("township.more", lang, n=queue.more), className="muted empty", id=Ids.MORE))
    return cards


def pending(p: Pending, lang: Lang) -> Any:
    return pending_cards(p.rows, p.now, lang)


def _panel(others: list[tuple[str, str]], lang: Lang) -> html.Div:
    """The form of a unit's report (处置进展, 处置反馈, 协办进展, 协办反馈: a note, 处置结果 when the work is done,
    人员转移 for a flood, up to 3 photos) or of 退单 (reason, suggested township), hidden; ``show_panel`` opens
    the one chosen with the rows its incident's category asks for (``alerts.feedback``)."""
    return html.Div([
        html.H2(id=Ids.PANEL_TITLE),
        html.Div(id=Ids.FORM_MSG, **aria(live="assertive")),
        html.Div([
            html.Label(t("township.note", lang), htmlFor=Ids.NOTE),
            dcc.Textarea(id=Ids.NOTE, className="input textarea", maxLength=2000),
            html.Div([
                html.Label(t("report.result", lang), htmlFor=Ids.RESULT),
                dcc.RadioItems(id=Ids.RESULT, className="choices",
                               options=[{"label": t(f"details.result.{r}", lang), "value": r} for r in RESULTS]),
            ], id=Ids.RESULT_ROW, hidden=True),
            html.Div([
                html.Label(t("report.people", lang), htmlFor=Ids.EVACUATED),
                # type=text: the server validates and explains; a number input would hide bad values as None
                dcc.Input(id=Ids.EVACUATED, type="text", inputMode="numeric", value="0", className="input",
                          maxLength=9),
                html.Label(t("report.shelters", lang), htmlFor=Ids.SHELTERS),
                dcc.Input(id=Ids.SHELTERS, type="text", value="", className="input", maxLength=600),
            ], id=Ids.FLOOD_ROWS, hidden=True),
            dcc.Upload(html.Div(t("report.photos", lang)), id=Ids.PHOTO, className="upload",
                       accept="image/jpeg,image/png,image/webp", max_size=MAX_PHOTO_BYTES, multiple=True),
            html.Div(id=Ids.PHOTO_NAME, className="muted"),
            html.Button(t("report.submit", lang), id=Ids.SUBMIT_REPORT, className="btn btn-primary", n_clicks=0),
        ], id=Ids.REPORT_FORM, className="form", hidden=True),
        html.Div([
            html.Label(t("township.reason", lang), htmlFor=Ids.REASON),
            dcc.Textarea(id=Ids.REASON, className="input textarea", maxLength=2000),
            html.Label(t("township.suggest", lang), htmlFor=Ids.SUGGEST),
            dcc.Dropdown(id=Ids.SUGGEST, options=[{"label": name, "value": code} for code, name in others],
                         clearable=True, className="dropdown", placeholder=t("township.suggest", lang)),
            html.Button(t("township.submit_return", lang), id=Ids.SUBMIT_RETURN, className="btn btn-danger",
                        n_clicks=0),
        ], id=Ids.RETURN_FORM, className="form", hidden=True),
        html.Button(t("township.cancel", lang), id=Ids.CANCEL, className="btn btn-secondary", n_clicks=0),
    ], id=Ids.PANEL, className="card action-panel", hidden=True)


def page(p: Page, lang: Lang) -> html.Div:
    return html.Div([
        html.H1([t("township.title", lang), html.Span(f" · {p.name}", className="subtitle")]),
        response_level.element(own_timer=False),  # 应急响应 in its district (issue 12), fed by the queue's refresh
        html.Div(id=Ids.MSG, className="msg-area", **aria(live="polite")),
        html.Div(pending(p.pending, lang), id=DirIds.PENDING),
        dcc.Store(id=DirIds.PENDING_MARKER, data=p.directive_marker),
        dcc.Store(id=DirIds.PENDING_VERSION, data=0),
        _panel(p.others, lang),
        html.Div(incident_list(p.queue, lang), id=Ids.LIST, className="card-list"),
        dcc.Store(id=Ids.SELECTED),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.MARKER, data=p.marker),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light township")
