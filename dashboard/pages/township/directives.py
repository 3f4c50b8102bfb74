"""政令 on the township desk: the directives addressed to the township, acknowledged with one button
(确认收到), for the session's own township only (checked on the server); a second click changes nothing."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard.actions import acknowledge_directive
from dashboard.components import bump, clicked, outcome_message, session_user, skip_unchanged
from dashboard.context import get_data
from dashboard.directive_views import DirIds
from i18n.timefmt import utcnow

from . import load, views
from .callbacks import ROLES
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
    if not isinstance(user, auth.SessionUser):
        return user, no_update
    assert user.township_code is not None
    data = get_data()
    current = data.directive_marker(user.township_code)
    skip_unchanged(current, marker, Ids.TICK)
    return views.pending(load.pending(data, user.township_code, utcnow()), lang), current
