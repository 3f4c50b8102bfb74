"""The 值班指挥 page's callbacks: re-draw the queues when the incidents changed, and every button that
changes an incident at one click (核查结案, 返工, 分拨, 恢复办理; the panel of the others is ``act``), each
re-checked on the server."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Action, Refusal, Role
from dashboard import auth
from dashboard.actions import act_on_click, on_desk_of, perform
from dashboard.components import (
    bump,
    clicked,
    message,
    only_for,
    outcome_message,
    scroll_into_view,
    session_user,
    skip_unchanged,
)
from dashboard.context import get_data
from i18n.labels import action_label, t
from i18n.timefmt import utcnow

from . import load, views
from .ids import Ids
from .panels import OVERRIDE

VIEW_ROLES = (Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN)
# The city's desk and a district's (区县指挥中心: its district's incidents and townships only, checked again by
# ``actions.may_act`` and the lifecycle); leaders and admins see the city's queues, read only.
ACT_ROLES = (Role.COMMAND, Role.DISTRICT)


def on_own_desk(user: auth.SessionUser, incident_id: object) -> bool:
    """Whether a desk may open a form on the incident: the city's on any, a district's on its own only (a
    form of another district's incident would echo its number)."""
    if user.role is not Role.DISTRICT:
        return True
    return isinstance(incident_id, int) and on_desk_of(get_data().incident(incident_id), user.district_code)


@callback(
    Output(Ids.QUEUES, "children"),
    Output(Ids.MARKER, "data"),
    Output(Ids.SHOWN, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(Ids.VERSION, "data"),
    Input({"type": Ids.MORE, "queue": ALL, "to": ALL}, "n_clicks"),
    State(Ids.MARKER, "data"),
    State(Ids.SHOWN, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, _version: int | None, _more: list[int | None], marker: str | None,
            asked: object) -> tuple[Any, Any, Any]:
    """Re-draw the queues when the incidents changed, after an action, or for 显示更多 / 收起 (one queue longer).

    A timer tick or a refused action (nothing changed) sends nothing, so a half-made choice in a dropdown is
    not wiped: 核查结案 refused for want of a root cause left the desk's cards re-drawn under the dropdown
    the user was opening to choose one.
    """
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, no_update, no_update
    rows, tid = load.shown_rows(asked), ctx.triggered_id
    if isinstance(tid, dict):
        to = clicked("to")
        if to is None or tid.get("queue") not in load.SHOWN:
            raise PreventUpdate  # the buttons were re-drawn, not clicked
        rows = load.shown_rows(rows | {tid["queue"]: to})
    data = get_data()
    new_marker = data.change_marker()
    skip_unchanged(new_marker, marker, Ids.TICK, Ids.VERSION)
    return (views.queues(load.queues(data, utcnow(), rows, load.district_of(user)), lang, user.role in ACT_ROLES),
            new_marker, rows)


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Input({"type": Ids.VERIFY, "index": ALL}, "n_clicks"),
    State({"type": Ids.ROOT_CAUSE, "index": ALL}, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def verify(_clicks: list[int | None], _causes: list[int | None], version: int | None) -> tuple[Any, Any, Any]:
    """核查结案 with the root cause chosen on the card (required: ``alerts.incidents.act`` refuses a desk's close
    without one); refused because the sensor still breaches, it opens the override (强制结案) form."""
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    outcome = perform(incident_id, Action.VERIFY, ACT_ROLES,
                      details={"root_cause": chosen_for(incident_id, ctx.states_list[0])})
    override = {"id": incident_id, "action": OVERRIDE} if outcome.refusal is Refusal.SENSOR_STILL_BREACHING \
        else no_update
    return outcome_message(outcome), bump(version), override


def chosen_for(incident_id: int, states: list[dict[str, Any]]) -> Any:
    """What is chosen in the dropdown of the card whose button was clicked (None: nothing)."""
    for state in states:
        sid = state.get("id")
        if isinstance(sid, dict) and sid.get("index") == incident_id:
            return state.get("value")
    return None


def target_for(incident_id: int, states: list[dict[str, Any]]) -> str | None:
    """The township chosen in the dropdown of the card whose button was clicked."""
    value = chosen_for(incident_id, states)
    return value if isinstance(value, str) and value else None


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.DISPATCH, "index": ALL}, "n_clicks"),
    State({"type": Ids.TARGET, "index": ALL}, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def dispatch(_clicks: list[int | None], _targets: list[str | None], version: int | None) -> tuple[Any, Any]:
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    target = target_for(incident_id, ctx.states_list[0])
    if target is None or target not in load.township_codes(get_data()):  # none chosen, or not of the active layer
        return message(t("err.choose_township", auth.current_lang()), "error"), no_update
    outcome = perform(incident_id, Action.DISPATCH, ACT_ROLES, township_code=target)
    return outcome_message(outcome), bump(version)


@callback(
    Output(Ids.SELECTED, "data"),
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Input({"type": Ids.OPEN_REWORK, "index": ALL}, "n_clicks"),
    Input(Ids.REWORK_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select_rework(_clicks: list[int | None], _cancel: int | None) -> tuple[int | None, Any]:
    """Open the rework form (and close the other panel: one form at a time)."""
    user = only_for(*ACT_ROLES)
    if ctx.triggered_id == Ids.REWORK_CANCEL:
        return None, no_update
    incident_id = clicked()
    if incident_id is None or not on_own_desk(user, incident_id):
        raise PreventUpdate
    return incident_id, None


scroll_into_view(Ids.REWORK_PANEL)


@callback(
    Output(Ids.REWORK_PANEL, "hidden"),
    Output(Ids.REWORK_TITLE, "children"),
    Input(Ids.SELECTED, "data"),
    prevent_initial_call=True,
)
def show_rework(selected: int | None) -> tuple[bool, str]:
    user = only_for(*ACT_ROLES)
    if not selected or not on_own_desk(user, selected):
        return True, ""
    return False, f"{action_label(Action.REWORK, auth.current_lang())} · #{selected}"


@callback(
    output={"msg": Output(Ids.MSG, "children", allow_duplicate=True),
            "version": Output(Ids.VERSION, "data", allow_duplicate=True),
            "selected": Output(Ids.SELECTED, "data", allow_duplicate=True),
            "reason": Output(Ids.REWORK_REASON, "value")},
    inputs=[Input(Ids.REWORK_SUBMIT, "n_clicks")],
    state=[State(Ids.SELECTED, "data"), State(Ids.REWORK_REASON, "value"), State(Ids.VERSION, "data")],
    prevent_initial_call=True,
)
def rework(n: int | None, selected: int | None, reason: str | None, version: int | None) -> dict[str, Any]:
    """返工 with its reason; refused, the form stays open with what was typed."""
    if not n or not selected:
        raise PreventUpdate
    outcome = perform(selected, Action.REWORK, ACT_ROLES, note=reason or "")
    if not outcome.ok:
        return {"msg": outcome_message(outcome), "version": bump(version), "selected": no_update, "reason": no_update}
    return {"msg": outcome_message(outcome), "version": bump(version), "selected": None, "reason": ""}


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.RESUME, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def resume(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    return act_on_click(Action.RESUME, ACT_ROLES, version)


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.ACCEPT, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def accept(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    """受理立案 of a grid report: then routed and dispatched as any incident."""
    return act_on_click(Action.ACCEPT, ACT_ROLES, version)
