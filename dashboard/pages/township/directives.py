"""政令 on the township desk: the directives addressed to the township, acknowledged with one button
(确认收到), for the session's own township only (checked on the server); a second click changes nothing."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback
from dash.exceptions import PreventUpdate

from dashboard.actions import acknowledge_directive
from dashboard.components import bump, clicked, outcome_message
from dashboard.directive_views import DirIds

from .ids import Ids


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(DirIds.PENDING_VERSION, "data"),
    Input({"type": DirIds.ACK, "index": ALL}, "n_clicks"),
    State(DirIds.PENDING_VERSION, "data"),
    prevent_initial_call=True,
)
def acknowledge(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    directive_id = clicked()
    if directive_id is None:
        raise PreventUpdate
    return outcome_message(acknowledge_directive(directive_id)), bump(version)
