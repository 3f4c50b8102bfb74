"""The panel of the actions that need a note: 转派 / 协办 / 缓办 / 合并 / 确认属地, and 强制结案 after a
refused closure. One action's form at a time; the server re-checks the role, the township and the note."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Refusal
from dashboard import auth
from dashboard.actions import InvalidInput, parse_incident_ref, perform
from dashboard.components import bump, clicked, message, only_for, outcome_message, scroll_into_view
from dashboard.context import get_data
from i18n.labels import refusal_message, t

from . import load
from .callbacks import ACT_ROLES, on_own_desk
from .ids import Ids
from .panels import CLOSED, OVERRIDE, PANEL_ACTIONS, TO_TOWNSHIP, shown


@callback(
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Output(Ids.MSG, "children", allow_duplicate=True),
    Input({"type": Ids.OPEN_ACT, "index": ALL, "action": ALL}, "n_clicks"),
    Input(Ids.ACT_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select_act(_clicks: list[int | None], _cancel: int | None) -> tuple[Any, Any, Any]:
    """Open the form of the clicked action (closing the rework form and the last, now stale, message)."""
    user = only_for(*ACT_ROLES)
    if ctx.triggered_id == Ids.ACT_CANCEL:
        return None, no_update, no_update
    incident_id = clicked()
    tid = ctx.triggered_id
    action = tid.get("action") if isinstance(tid, dict) else None
    if incident_id is None or action not in PANEL_ACTIONS or action == OVERRIDE or not on_own_desk(user, incident_id):
        raise PreventUpdate
    return {"id": incident_id, "action": action}, None, None


scroll_into_view(Ids.ACT_PANEL)


@callback(
    output={"hidden": Output(Ids.ACT_PANEL, "hidden"), "title": Output(Ids.ACT_TITLE, "children"),
            "township_hidden": Output(Ids.ACT_TOWNSHIP_ROW, "hidden"),
            "township_label": Output(Ids.ACT_TOWNSHIP_LABEL, "children"),
            "township_options": Output(Ids.ACT_TOWNSHIP, "options"), "township": Output(Ids.ACT_TOWNSHIP, "value"),
            "into_hidden": Output(Ids.ACT_INTO_ROW, "hidden"), "into": Output(Ids.ACT_INTO, "value"),
            "override_hidden": Output(Ids.ACT_OVERRIDE_ROW, "hidden"),
            "override": Output(Ids.ACT_OVERRIDE, "value"),
            "note_label": Output(Ids.ACT_NOTE_LABEL, "children"), "note": Output(Ids.ACT_NOTE, "value"),
            "msg": Output(Ids.ACT_MSG, "children")},
    inputs=[Input(Ids.ACT_SELECTED, "data")],
    prevent_initial_call=True,
)
def show_act_panel(selected: dict[str, Any] | None) -> dict[str, Any]:
    """Show the chosen action's fields, empty; the township choices leave out the current unit."""
    user = only_for(*ACT_ROLES)
    if not isinstance(selected, dict) or selected.get("action") not in PANEL_ACTIONS:
        return dict(CLOSED)
    mode, incident_id = selected["action"], selected.get("id")
    if not on_own_desk(user, incident_id):
        return dict(CLOSED)
    targets = load.act_targets(get_data(), incident_id, load.district_of(user)) \
        if mode in TO_TOWNSHIP and isinstance(incident_id, int) else []
    return shown(mode, incident_id, targets, auth.current_lang(), load.duplicate_of(get_data(), incident_id)
                 if mode == "merge" and isinstance(incident_id, int) else "")


@callback(
    output={"msg": Output(Ids.MSG, "children", allow_duplicate=True),
            "form_msg": Output(Ids.ACT_MSG, "children", allow_duplicate=True),
            "version": Output(Ids.VERSION, "data", allow_duplicate=True),
            "selected": Output(Ids.ACT_SELECTED, "data", allow_duplicate=True)},
    inputs=[Input(Ids.ACT_SUBMIT, "n_clicks")],
    state=[State(Ids.ACT_SELECTED, "data"), State(Ids.ACT_TOWNSHIP, "value"), State(Ids.ACT_INTO, "value"),
           State(Ids.ACT_OVERRIDE, "value"), State(Ids.ACT_NOTE, "value"), State(Ids.VERSION, "data")],
    running=[(Output(Ids.ACT_SUBMIT, "disabled"), True, False)],  # no second click while the first runs
    prevent_initial_call=True,
)
def submit_act(n: int | None, selected: dict[str, Any] | None, township: str | None, into: object,
               override: list[str] | None, note: str | None, version: int | None) -> dict[str, Any]:
    """Errors stay in the form; success closes it and reports above the queues.

    A repeated submit is refused by the lifecycle (the status moved on, the unit is the
    same, the township already assists, the area is confirmed already), never applied twice.
    """
    if not n or not isinstance(selected, dict):
        raise PreventUpdate
    lang = auth.current_lang()

    def form_error(text: str) -> dict[str, Any]:
        return {"msg": no_update, "form_msg": message(text, "error"), "version": no_update, "selected": no_update}

    try:
        auth.require(*ACT_ROLES)
    except auth.Denied as exc:
        return form_error(t(exc.key, lang))
    incident_id, mode = selected.get("id"), selected.get("action")
    if mode not in PANEL_ACTIONS:
        return form_error(t("command.choose_action", lang))
    action, note = PANEL_ACTIONS[mode], note or ""

    kwargs: dict[str, Any] = {"note": note}
    if mode in TO_TOWNSHIP:
        if not isinstance(township, str) or township not in load.township_codes(get_data()):
            return form_error(refusal_message(Refusal.TARGET_REQUIRED, action, lang))
        kwargs["township_code"] = township
    elif mode == "merge":
        try:
            kwargs["details"] = {"into": parse_incident_ref(into)}
        except InvalidInput as exc:
            return form_error(t(exc.key, lang))
    elif mode == OVERRIDE:
        if OVERRIDE not in (override or []):
            return form_error(t("err.override_check", lang))
        if not note.strip():
            return form_error(t("err.override_reason", lang))
        kwargs["details"] = {"override": True}
    outcome = perform(incident_id, action, ACT_ROLES, **kwargs)
    if not outcome.ok:
        return {"msg": no_update, "form_msg": outcome_message(outcome), "version": bump(version),
                "selected": no_update}
    return {"msg": outcome_message(outcome), "form_msg": None, "version": bump(version), "selected": None}
