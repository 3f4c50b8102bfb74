"""The 镇街工作台's callbacks: re-read the queue when it changed, and 签收, the unit's reports (处置进展 and
处置反馈: a note, the fields of ``alerts.feedback``'s catalogue for the incident's category, up to 3 photos),
退单 (reason, suggested township), and on an incident the unit assists its 协办 part (协办签收, 协办进展,
协办反馈). Every action re-checks on the server (``actions.perform``) that the incident is the session's
unit's (its 协办 moves: one it assists), whatever the browser sends."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.feedback import PEOPLE_MOVED, REPORTS, RESULT, SHELTERS, fields_for
from alerts.lifecycle import Action, Role
from dashboard import auth, response_level
from dashboard.actions import InvalidInput, Outcome, act_on_click, may_act, parse_photos, parse_report, perform
from dashboard.components import bump, clicked, message, outcome_message, scroll_into_view, session_user
from dashboard.context import get_data
from dashboard.directive_views import DirIds
from i18n.labels import action_label, t
from i18n.timefmt import utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.TOWNSHIP, Role.DEPARTMENT)


@callback(Output(Ids.LIST, "children"), Output(Ids.MARKER, "data"),
          Output(DirIds.PENDING, "children"), Output(DirIds.PENDING_MARKER, "data"), *response_level.OUTPUTS,
          Input(Ids.TICK, "n_intervals"), Input(Ids.VERSION, "data"), Input(DirIds.PENDING_VERSION, "data"),
          State(Ids.MARKER, "data"), State(DirIds.PENDING_MARKER, "data"), response_level.STATE,
          prevent_initial_call=True)
def refresh(_n: int | None, _version: int | None, _pending_version: int | None, marker: Any = None,
            pending_marker: Any = None, banner_shown: Any = None) -> tuple[Any, ...]:
    """The queue, the 政令 to acknowledge and the 应急响应 banner in one request a tick (a phone polls every
    3 s), each re-read and sent only when it changed (the queue: the minute included) or after an action on it,
    nothing at all when none did: a phone on mobile data is not sent the same list again."""
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, *[no_update] * 6
    assert user.township_code is not None  # require() refuses a township account without one
    data, now = get_data(), utcnow()
    current, pending_current = load.marker(data, user.township_code, now), data.directive_marker(user.township_code)
    queue_due = current != marker or ctx.triggered_id == Ids.VERSION
    pending_due = pending_current != pending_marker or ctx.triggered_id == DirIds.PENDING_VERSION
    banner = response_level.changed(user, lang, banner_shown)
    if not (queue_due or pending_due or banner):
        raise PreventUpdate
    queue = (views.incident_list(load.queue(data, user.township_code, now), lang), current) if queue_due \
        else (no_update, no_update)
    pending = (views.pending(load.pending(data, user.township_code, now), lang), pending_current) if pending_due \
        else (no_update, no_update)
    return *queue, *pending, *(banner or (no_update,) * 3)


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Input({"type": Ids.SIGN, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def sign(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    return act_on_click(Action.SIGN, ROLES, version)


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.ASSIST_SIGN, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def assist_sign(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    """协办签收: an assisting unit signs for its part (the lifecycle refuses anyone else)."""
    return act_on_click(Action.ASSIST_SIGN, ROLES, version)


# The panel's forms by mode (what ``Ids.SELECTED`` holds), and the button that opens each.
MODES: dict[str, Action] = {"feedback": Action.FEEDBACK, "progress": Action.PROGRESS, "return": Action.RETURN,
                            "assist_progress": Action.ASSIST_PROGRESS, "assist_feedback": Action.ASSIST_FEEDBACK}
MODE_OF_BUTTON: dict[str, str] = {Ids.OPEN_FEEDBACK: "feedback", Ids.OPEN_PROGRESS: "progress",
                                  Ids.OPEN_RETURN: "return", Ids.OPEN_ASSIST_PROGRESS: "assist_progress",
                                  Ids.OPEN_ASSIST_FEEDBACK: "assist_feedback"}
PANEL_CLOSED: dict[str, Any] = {"hidden": True, "report_hidden": True, "return_hidden": True, "result_hidden": True,
                                "flood_hidden": True, "title": "", "form_msg": None}


@callback(
    Output(Ids.SELECTED, "data"),
    Input({"type": Ids.OPEN_FEEDBACK, "index": ALL}, "n_clicks"),
    Input({"type": Ids.OPEN_PROGRESS, "index": ALL}, "n_clicks"),
    Input({"type": Ids.OPEN_RETURN, "index": ALL}, "n_clicks"),
    Input({"type": Ids.OPEN_ASSIST_PROGRESS, "index": ALL}, "n_clicks"),
    Input({"type": Ids.OPEN_ASSIST_FEEDBACK, "index": ALL}, "n_clicks"),
    Input(Ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select(_fb: list[int | None], _progress: list[int | None], _ret: list[int | None],
           _assist_progress: list[int | None], _assist_feedback: list[int | None],
           _cancel: int | None) -> dict[str, Any] | None:
    """The incident and the form chosen; a form opens only on an incident the session's unit may act on."""
    if ctx.triggered_id == Ids.CANCEL:
        return None
    incident_id = clicked()
    if incident_id is None or not isinstance(ctx.triggered_id, dict):
        raise PreventUpdate
    mode = MODE_OF_BUTTON[ctx.triggered_id["type"]]
    if isinstance(may_act(incident_id, MODES[mode], ROLES), Outcome):
        raise PreventUpdate
    return {"id": incident_id, "mode": mode}


def _category(incident_id: object) -> str:
    """The category of an incident the session may act on (``may_act`` has said so)."""
    row = get_data().incident(incident_id) if isinstance(incident_id, int) else None
    return str(row["category"]) if row is not None else ""


@callback(
    output={"hidden": Output(Ids.PANEL, "hidden"), "report_hidden": Output(Ids.REPORT_FORM, "hidden"),
            "return_hidden": Output(Ids.RETURN_FORM, "hidden"), "result_hidden": Output(Ids.RESULT_ROW, "hidden"),
            "flood_hidden": Output(Ids.FLOOD_ROWS, "hidden"), "title": Output(Ids.PANEL_TITLE, "children"),
            "form_msg": Output(Ids.FORM_MSG, "children", allow_duplicate=True)},
    inputs=[Input(Ids.SELECTED, "data")],
    prevent_initial_call=True,
)
def show_panel(selected: dict[str, Any] | None) -> dict[str, Any]:
    """The form of the chosen action with the rows its incident's category asks for (处置结果 for work done,
    人员转移 for a flood), without the last form's error; nothing when none is chosen, or when the incident
    is not the session's unit's to act on (the store is the browser's: trust nothing)."""
    if not isinstance(selected, dict) or selected.get("mode") not in MODES:
        return dict(PANEL_CLOSED)
    action = MODES[selected["mode"]]
    if isinstance(may_act(selected.get("id"), action, ROLES), Outcome):
        return dict(PANEL_CLOSED)
    asked = set(fields_for(_category(selected.get("id")), action))
    return {"hidden": False, "report_hidden": action is Action.RETURN, "return_hidden": action is not Action.RETURN,
            "result_hidden": RESULT not in asked, "flood_hidden": PEOPLE_MOVED not in asked,
            "title": f"{action_label(action, auth.current_lang())} · #{selected.get('id')}", "form_msg": None}


# On a phone the form may be off screen when a card's button opens it: bring it into view.
scroll_into_view(Ids.PANEL)


@callback(Output(Ids.PHOTO_NAME, "children"), Input(Ids.PHOTO, "filename"), prevent_initial_call=True)
def photo_name(filenames: list[str] | str | None) -> str:
    names = filenames if isinstance(filenames, list) else [filenames] if filenames else []
    return "、".join(str(n) for n in names)


@callback(
    output={"msg": Output(Ids.MSG, "children", allow_duplicate=True), "form_msg": Output(Ids.FORM_MSG, "children"),
            "version": Output(Ids.VERSION, "data", allow_duplicate=True),
            "selected": Output(Ids.SELECTED, "data", allow_duplicate=True), "note": Output(Ids.NOTE, "value"),
            "result": Output(Ids.RESULT, "value"), "evacuated": Output(Ids.EVACUATED, "value"),
            "shelters": Output(Ids.SHELTERS, "value"), "photo": Output(Ids.PHOTO, "contents"),
            "filename": Output(Ids.PHOTO, "filename")},
    inputs=[Input(Ids.SUBMIT_REPORT, "n_clicks")],
    state=[State(Ids.SELECTED, "data"), State(Ids.NOTE, "value"), State(Ids.RESULT, "value"),
           State(Ids.EVACUATED, "value"), State(Ids.SHELTERS, "value"), State(Ids.PHOTO, "contents"),
           State(Ids.PHOTO, "filename"), State(Ids.VERSION, "data")],
    prevent_initial_call=True,
)
def submit_report(n: int | None, selected: dict[str, Any] | None, note: str | None, result: object,
                  evacuated: object, shelters: object, contents: object, filenames: object,
                  version: int | None) -> dict[str, Any]:
    """A unit's report (the mode's: 处置进展, 处置反馈, 协办进展 or 协办反馈) with the fields its incident's
    category asks for and its photos. The session's right to it is checked first (nothing is said about another
    unit's incident); errors go to the form (where the user is looking), which keeps what was typed; success
    closes it, clears it and reports above the list."""
    if not n or not isinstance(selected, dict) or MODES.get(str(selected.get("mode"))) not in REPORTS:
        raise PreventUpdate
    action, incident_id = MODES[str(selected.get("mode"))], selected.get("id")
    keep = dict.fromkeys(("msg", "version", "selected", "note", "result", "evacuated", "shelters", "photo",
                          "filename"), no_update)
    allowed = may_act(incident_id, action, ROLES)
    if isinstance(allowed, Outcome):
        return {**keep, "form_msg": outcome_message(allowed), "version": bump(version)}
    try:
        details = parse_report(_category(incident_id), action, {RESULT.key: result, PEOPLE_MOVED.key: evacuated,
                                                                 SHELTERS.key: shelters})
        photos = parse_photos(contents, filenames)
    except InvalidInput as exc:
        return {**keep, "form_msg": message(t(exc.key, auth.current_lang()), "error")}
    if photos:
        details["photos"] = [p.filename for p in photos]
    outcome = perform(incident_id, action, ROLES, note=note or "", details=details, photos=photos)
    if not outcome.ok:
        return {**keep, "form_msg": outcome_message(outcome), "version": bump(version)}
    return {"msg": outcome_message(outcome), "form_msg": None, "version": bump(version), "selected": None,
            "note": "", "result": None, "evacuated": "0", "shelters": "", "photo": None, "filename": None}


@callback(
    output={"msg": Output(Ids.MSG, "children", allow_duplicate=True),
            "form_msg": Output(Ids.FORM_MSG, "children", allow_duplicate=True),
            "version": Output(Ids.VERSION, "data", allow_duplicate=True),
            "selected": Output(Ids.SELECTED, "data", allow_duplicate=True), "reason": Output(Ids.REASON, "value"),
            "suggest": Output(Ids.SUGGEST, "value")},
    inputs=[Input(Ids.SUBMIT_RETURN, "n_clicks")],
    state=[State(Ids.SELECTED, "data"), State(Ids.REASON, "value"), State(Ids.VERSION, "data"),
           State(Ids.SUGGEST, "value")],
    prevent_initial_call=True,
)
def submit_return(n: int | None, selected: dict[str, Any] | None, reason: str | None,
                  version: int | None, suggested: str | None = None) -> dict[str, Any]:
    """退单 with its reason; the suggested owner (a township of the active layer) goes into the log row."""
    if not n or not selected:
        raise PreventUpdate
    details: dict[str, object] = {}
    if isinstance(suggested, str) and suggested in dict(get_data().townships()):
        details["suggested"] = suggested
    outcome = perform(selected.get("id"), Action.RETURN, ROLES, note=reason or "", details=details)
    if not outcome.ok:
        return {"msg": no_update, "form_msg": outcome_message(outcome), "version": bump(version),
                "selected": no_update, "reason": no_update, "suggest": no_update}
    return {"msg": outcome_message(outcome), "form_msg": None, "version": bump(version), "selected": None,
            "reason": "", "suggest": None}
