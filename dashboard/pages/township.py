"""镇街工作台: a township's own queue, sign-for, feedback (text, people evacuated, photo), send back
(with the reason and, optionally, the township it should go to), and the directives
(政令) addressed to it, acknowledged with one button.

Works at phone width: one column of cards, large buttons. The list shows only
incidents whose ``township_code`` is the session's, and every action re-checks that
on the server (``actions.perform``), whatever the browser sends. An incident near a
township border whose area the command center has not confirmed says that it may not
be theirs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Action, Role, Status
from dashboard import auth
from dashboard.actions import InvalidInput, acknowledge_directive, parse_evacuated, parse_photo, perform
from dashboard.components import (
    bump,
    clicked,
    level_badge,
    message,
    outcome_message,
    scroll_into_view,
    session_user,
    status_chip,
)
from dashboard.context import get_data
from dashboard.directive_views import DirIds, pending_cards
from dashboard.shell import page_title
from dashboard.widgets import incident_button
from i18n.labels import Lang, action_label, category_label, t
from i18n.timefmt import fmt_dt, local, remaining, utcnow

ROLES = (Role.TOWNSHIP,)
REFRESH_MS = 10_000


class Ids(StrEnum):
    LIST = "tw-list"
    MSG = "tw-msg"
    TICK = "tw-tick"
    VERSION = "tw-version"  # bumped after each action so the list re-reads at once
    MARKER = "tw-marker"  # what the list shows: the township's change marker and the minute
    SELECTED = "tw-selected"  # {"id": incident id, "mode": "feedback" | "return"}
    PANEL = "tw-panel"
    PANEL_TITLE = "tw-panel-title"
    FORM_MSG = "tw-form-msg"  # errors of the open form, shown where the user is looking
    FEEDBACK_FORM = "tw-feedback-form"
    RETURN_FORM = "tw-return-form"
    NOTE = "tw-note"
    EVACUATED = "tw-evacuated"
    PHOTO = "tw-photo"
    PHOTO_NAME = "tw-photo-name"
    SUBMIT_FEEDBACK = "tw-submit-feedback"
    REASON = "tw-reason"
    SUGGEST = "tw-suggest"
    SUBMIT_RETURN = "tw-submit-return"
    CANCEL = "tw-cancel"
    # pattern-matching button types; the index is the incident id
    SIGN = "tw-sign"
    OPEN_FEEDBACK = "tw-open-feedback"
    OPEN_RETURN = "tw-open-return"


def incident_card(row: Any, now: Any, near: bool, lang: Lang) -> html.Div:
    status = Status(row.status)
    deadline_key = "time.sign_by" if status is Status.DISPATCHED else "time.finish_by"
    left, overdue = remaining(row.deadline if pd.notna(row.deadline) else None, now, lang)
    buttons = []
    if status is Status.DISPATCHED:
        buttons.append(incident_button(Ids.SIGN, row.id, action_label(Action.SIGN, lang), "btn-primary"))
    if status in (Status.SIGNED, Status.IN_PROGRESS):
        buttons.append(incident_button(Ids.OPEN_FEEDBACK, row.id, action_label(Action.FEEDBACK, lang), "btn-primary"))
    if status in (Status.DISPATCHED, Status.SIGNED):
        buttons.append(incident_button(Ids.OPEN_RETURN, row.id, action_label(Action.RETURN, lang), "btn-secondary"))
    return html.Div([
        html.Div([level_badge(int(row.level), lang), status_chip(row.status, lang)], className="card-top"),
        html.Div(html.A(f"#{row.id} {row.title}", href=f"/incident/{row.id}"), className="card-title"),
        html.Div([
            html.Span(f"{t(deadline_key, lang)} {fmt_dt(row.deadline) if pd.notna(row.deadline) else '—'}"),
            html.Span(left, className="overdue" if overdue else "remaining"),
        ], className="card-deadline") if status not in (Status.RESOLVED, Status.POSTPONED) else None,
        html.Div(f"{t('col.created', lang)} {fmt_dt(row.created_at)} · {category_label(row.category, lang)}",
                 className="card-meta"),
        html.Div(t("near.township_hint", lang), className="msg msg-info") if near else None,
        html.Div(buttons, className="card-actions") if buttons else None,
    ], className="card incident-card" + (" card-overdue" if overdue else ""), id=f"tw-card-{row.id}")


MAX_CARDS = 60  # the most urgent first; a phone does not scroll through hundreds of cards


def incident_list(township_code: str, lang: Lang) -> list[html.Div] | html.Div:
    queue = get_data().township_queue(township_code)
    if queue.empty:
        return html.Div(t("township.empty", lang), className="muted empty")
    now = utcnow()
    shown = queue.head(MAX_CARDS)
    near = {int(r.id) for r in shown.itertuples() if r.near_boundary}
    cards: list[html.Div] = [incident_card(r, now, r.id in near, lang) for r in shown.itertuples()]
    if len(queue) > MAX_CARDS:
        cards.append(html.Div(t("township.more", lang, n=len(queue) - MAX_CARDS), className="muted empty",
                              id="tw-more"))
    return cards


def list_marker(township_code: str) -> str:
    """Changes when the township's incidents change, and once a minute for the countdowns."""
    return f"{local(utcnow()).strftime('%H%M')}|{get_data().township_marker(township_code)}"


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    assert user.township_code is not None  # require() refuses a township account without one
    data = get_data()
    name = data.region_names().get(user.township_code, user.township_code)
    others = [{"label": n, "value": code} for code, n in data.townships() if code != user.township_code]
    return html.Div([
        html.H1([t("township.title", lang), html.Span(f" · {name}", className="subtitle")]),
        html.Div(id=Ids.MSG, className="msg-area", **{"aria-live": "polite"}),
        html.Div(pending_cards(data.pending_directives(user.township_code), utcnow(), lang), id=DirIds.PENDING),
        dcc.Store(id=DirIds.PENDING_MARKER, data=data.directive_marker(user.township_code)),
        dcc.Store(id=DirIds.PENDING_VERSION, data=0),
        html.Div([
            html.H2(id=Ids.PANEL_TITLE),
            html.Div(id=Ids.FORM_MSG, **{"aria-live": "assertive"}),
            html.Div([
                html.Label(t("township.note", lang), htmlFor=Ids.NOTE),
                dcc.Textarea(id=Ids.NOTE, className="input textarea", maxLength=2000),
                html.Label(t("township.evacuated", lang), htmlFor=Ids.EVACUATED),
                # type=text: the server validates and explains; a number input would hide bad values as None
                dcc.Input(id=Ids.EVACUATED, type="text", inputMode="numeric", value="0", className="input",
                          maxLength=9),
                dcc.Upload(html.Div(t("township.photo", lang)), id=Ids.PHOTO, className="upload",
                           accept="image/jpeg,image/png,image/webp", max_size=5 * 1024 * 1024, multiple=False),
                html.Div(id=Ids.PHOTO_NAME, className="muted"),
                html.Button(t("township.submit_feedback", lang), id=Ids.SUBMIT_FEEDBACK, className="btn btn-primary",
                            n_clicks=0),
            ], id=Ids.FEEDBACK_FORM, className="form", hidden=True),
            html.Div([
                html.Label(t("township.reason", lang), htmlFor=Ids.REASON),
                dcc.Textarea(id=Ids.REASON, className="input textarea", maxLength=2000),
                html.Label(t("township.suggest", lang), htmlFor=Ids.SUGGEST),
                dcc.Dropdown(id=Ids.SUGGEST, options=others, clearable=True, className="dropdown",
                             placeholder=t("township.suggest", lang)),
                html.Button(t("township.submit_return", lang), id=Ids.SUBMIT_RETURN, className="btn btn-danger",
                            n_clicks=0),
            ], id=Ids.RETURN_FORM, className="form", hidden=True),
            html.Button(t("township.cancel", lang), id=Ids.CANCEL, className="btn btn-secondary", n_clicks=0),
        ], id=Ids.PANEL, className="card action-panel", hidden=True),
        html.Div(incident_list(user.township_code, lang), id=Ids.LIST, className="card-list"),
        dcc.Store(id=Ids.SELECTED),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.MARKER, data=list_marker(user.township_code)),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light township")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/township", title=page_title("nav.township"), order=1, layout=layout)


@callback(Output(Ids.LIST, "children"), Output(Ids.MARKER, "data"), Input(Ids.TICK, "n_intervals"),
          Input(Ids.VERSION, "data"), State(Ids.MARKER, "data"), prevent_initial_call=True)
def refresh_list(_n: int | None, _version: int | None, marker: Any = None) -> Any:
    """Re-read the queue after an action, or on the timer when something changed (the minute included)."""
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user, no_update
    assert user.township_code is not None
    current = list_marker(user.township_code)
    if current == marker and ctx.triggered_id == Ids.TICK:
        raise PreventUpdate  # nothing new: a phone on mobile data is not sent the same list again
    return incident_list(user.township_code, lang), current


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Input({"type": Ids.SIGN, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def sign(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    outcome = perform(incident_id, Action.SIGN, ROLES)
    return outcome_message(outcome), bump(version)


@callback(
    Output(Ids.SELECTED, "data"),
    Input({"type": Ids.OPEN_FEEDBACK, "index": ALL}, "n_clicks"),
    Input({"type": Ids.OPEN_RETURN, "index": ALL}, "n_clicks"),
    Input(Ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select(_fb: list[int | None], _ret: list[int | None], _cancel: int | None) -> dict[str, Any] | None:
    if ctx.triggered_id == Ids.CANCEL:
        return None
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    mode = "feedback" if isinstance(ctx.triggered_id, dict) and ctx.triggered_id["type"] == Ids.OPEN_FEEDBACK \
        else "return"
    return {"id": incident_id, "mode": mode}


@callback(
    Output(Ids.PANEL, "hidden"),
    Output(Ids.FEEDBACK_FORM, "hidden"),
    Output(Ids.RETURN_FORM, "hidden"),
    Output(Ids.PANEL_TITLE, "children"),
    Output(Ids.FORM_MSG, "children", allow_duplicate=True),
    Input(Ids.SELECTED, "data"),
    prevent_initial_call=True,
)
def show_panel(selected: dict[str, Any] | None) -> tuple[bool, bool, bool, str, None]:
    if not selected:
        return True, True, True, "", None
    lang = auth.current_lang()
    action = Action.FEEDBACK if selected.get("mode") == "feedback" else Action.RETURN
    title = f"{action_label(action, lang)} · #{selected.get('id')}"
    return False, action is not Action.FEEDBACK, action is not Action.RETURN, title, None


# On a phone the form may be off screen when a card's button opens it: bring it into view.
scroll_into_view(Ids.PANEL)


@callback(Output(Ids.PHOTO_NAME, "children"), Input(Ids.PHOTO, "filename"), prevent_initial_call=True)
def photo_name(filename: str | None) -> str:
    return filename or ""


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.FORM_MSG, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Output(Ids.NOTE, "value"),
    Output(Ids.EVACUATED, "value"),
    Output(Ids.PHOTO, "contents"),
    Output(Ids.PHOTO, "filename"),
    Input(Ids.SUBMIT_FEEDBACK, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.NOTE, "value"),
    State(Ids.EVACUATED, "value"),
    State(Ids.PHOTO, "contents"),
    State(Ids.PHOTO, "filename"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def submit_feedback(n: int | None, selected: dict[str, Any] | None, note: str | None, evacuated: object,
                    contents: str | None, filename: str | None, version: int | None) -> tuple[Any, ...]:
    """Errors go to the form (where the user is looking); success closes it and reports above the list."""
    if not n or not selected:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = (no_update,) * 6
    try:
        people = parse_evacuated(evacuated)
        photo = parse_photo(contents, filename)
    except InvalidInput as exc:
        return no_update, message(t(exc.key, lang), "error"), *keep
    details: dict[str, object] = {"people_evacuated": people}
    if photo is not None:
        details["photo"] = photo.filename
    outcome = perform(selected.get("id"), Action.FEEDBACK, ROLES, note=note or "", details=details, photo=photo)
    if not outcome.ok:
        return no_update, outcome_message(outcome), bump(version), *keep[:5]
    return outcome_message(outcome), None, bump(version), None, "", "0", None, None


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.FORM_MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Output(Ids.REASON, "value"),
    Output(Ids.SUGGEST, "value"),
    Input(Ids.SUBMIT_RETURN, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.REASON, "value"),
    State(Ids.VERSION, "data"),
    State(Ids.SUGGEST, "value"),
    prevent_initial_call=True,
)
def submit_return(n: int | None, selected: dict[str, Any] | None, reason: str | None,
                  version: int | None, suggested: str | None = None) -> tuple[Any, ...]:
    """退单 with its reason; the suggested owner (a township of the active layer) goes into the log row."""
    if not n or not selected:
        raise PreventUpdate
    details: dict[str, object] = {}
    if isinstance(suggested, str) and suggested in dict(get_data().townships()):
        details["suggested"] = suggested
    outcome = perform(selected.get("id"), Action.RETURN, ROLES, note=reason or "", details=details)
    if not outcome.ok:
        return no_update, outcome_message(outcome), bump(version), no_update, no_update, no_update
    return outcome_message(outcome), None, bump(version), None, "", None


# -- 政令: acknowledge receipt --

@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(DirIds.PENDING_VERSION, "data"),
    Input({"type": DirIds.ACK, "index": ALL}, "n_clicks"),
    State(DirIds.PENDING_VERSION, "data"),
    prevent_initial_call=True,
)
def acknowledge(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    """确认收到: for the session's own township only (checked on the server); a second click changes nothing."""
    directive_id = clicked()
    if directive_id is None:
        raise PreventUpdate
    return outcome_message(acknowledge_directive(directive_id)), bump(version)


@callback(
    Output(DirIds.PENDING, "children"),
    Output(DirIds.PENDING_MARKER, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(DirIds.PENDING_VERSION, "data"),
    State(DirIds.PENDING_MARKER, "data"),
    prevent_initial_call=True,
)
def refresh_directives(_n: int | None, _version: int | None, marker: str | None) -> tuple[Any, Any]:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user, no_update
    assert user.township_code is not None
    data = get_data()
    current = data.directive_marker(user.township_code)
    if current == marker and ctx.triggered_id == Ids.TICK:
        raise PreventUpdate
    return pending_cards(data.pending_directives(user.township_code), utcnow(), lang), current
