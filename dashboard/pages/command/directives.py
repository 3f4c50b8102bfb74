"""政令一键智达 on the command desk: send a directive to all townships or to chosen ones, and watch who has
acknowledged it; declare, change or lift the 应急响应 level of the city or a district, as a directive. Only the
command role sends; the server re-checks the role, the townships, the level and the window."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, response_level
from dashboard import directive_views as dv
from dashboard.actions import issue_directive
from dashboard.components import bump, message, outcome_message, session_user, skip_unchanged
from dashboard.context import get_data
from dashboard.directive_views import DirIds
from dashboard.response_level import RIds
from i18n.labels import t
from i18n.timefmt import utcnow

from . import load, views
from .callbacks import VIEW_ROLES
from .ids import Ids


@callback(Output(DirIds.PICK, "hidden"), Input(DirIds.SCOPE, "value"), prevent_initial_call=True)
def directive_scope(scope: str | None) -> bool:
    return scope != dv.SCOPE_SOME


@callback(
    output={"msg": Output(DirIds.MSG, "children"), "version": Output(DirIds.VERSION, "data"),
            "title": Output(DirIds.TITLE, "value"), "body": Output(DirIds.BODY, "value"),
            "townships": Output(DirIds.TOWNSHIPS, "value"), "districts": Output(DirIds.DISTRICTS, "value")},
    inputs=[Input(DirIds.SUBMIT, "n_clicks")],
    state=[State(DirIds.TITLE, "value"), State(DirIds.BODY, "value"), State(DirIds.SCOPE, "value"),
           State(DirIds.DISTRICTS, "value"), State(DirIds.TOWNSHIPS, "value"), State(DirIds.MINUTES, "value"),
           State(DirIds.VERSION, "data")],
    running=[(Output(DirIds.SUBMIT, "disabled"), True, False)],
    prevent_initial_call=True,
)
def submit_directive(n: int | None, title: str | None, body: str | None, scope: str | None,
                     districts: list[str] | None, townships: list[str] | None, minutes: object,
                     version: int | None) -> dict[str, Any]:
    """Send a directive; refused (a resend too), the form keeps what was typed."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = dict.fromkeys(("version", "title", "body", "townships", "districts"), no_update)
    try:
        auth.require(Role.COMMAND)
    except auth.Denied as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    targets = dv.targets_of(scope, districts, townships, get_data().township_choices())
    outcome = issue_directive(title=title, body=body, townships=targets, minutes=minutes)
    if not outcome.ok:
        return {"msg": outcome_message(outcome), **keep}
    return {"msg": outcome_message(outcome), "version": bump(version), "title": "", "body": "", "townships": [],
            "districts": []}


@callback(
    Output(DirIds.LIST, "children"),
    Output(DirIds.MARKER, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(DirIds.VERSION, "data"),
    State(DirIds.MARKER, "data"),
    prevent_initial_call=True,
)
def refresh_directives(_n: int | None, _version: int | None, marker: str | None) -> tuple[Any, Any]:
    """Who has acknowledged, re-read when a directive was sent, acknowledged or its laggards reminded."""
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, no_update
    data = get_data()
    new_marker = data.directive_marker()
    skip_unchanged(new_marker, marker, Ids.TICK)
    return views.directive_list(load.directives(data, utcnow(), load.district_of(user)), lang), new_marker


@callback(
    output={"msg": Output(RIds.MSG, "children"), "version": Output(DirIds.VERSION, "data", allow_duplicate=True),
            "note": Output(RIds.NOTE, "value")},
    inputs=[Input(RIds.DECLARE, "n_clicks"), Input(RIds.LIFT, "n_clicks")],
    state=[State(RIds.SCOPE, "value"), State(RIds.LEVEL, "value"), State(RIds.NOTE, "value"),
           State(DirIds.VERSION, "data")],
    running=[(Output(RIds.DECLARE, "disabled"), True, False), (Output(RIds.LIFT, "disabled"), True, False)],
    prevent_initial_call=True,
)
def declare_response(_declare: int | None, _lift: int | None, scope: Any, level: Any, note: Any,
                     version: int | None) -> dict[str, Any]:
    """启动 / 调整 or 解除应急响应; refused, the form keeps what was chosen. Its directive joins the list."""
    if ctx.triggered_id not in (RIds.DECLARE, RIds.LIFT):
        raise PreventUpdate
    outcome = response_level.declare(scope=scope, level=level, note=note, lift=ctx.triggered_id == RIds.LIFT)
    if not outcome.ok:
        return {"msg": outcome_message(outcome), "version": no_update, "note": no_update}
    return {"msg": outcome_message(outcome), "version": bump(version), "note": ""}
