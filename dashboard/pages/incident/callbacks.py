"""The incident page's one callback: its Excel export, read again for the session that asks (the same
checks as the page, the reporter masked or whole as the page shows it, an unmasked one audited)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, dcc
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.context import get_data
from i18n.timefmt import utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN, Role.TOWNSHIP, Role.DEPARTMENT, Role.GRID)


@callback(Output(Ids.DOWNLOAD, "data"), Input(Ids.EXPORT, "n_clicks"), State(Ids.NUMBER, "data"),
          prevent_initial_call=True)
def export(n_clicks: int | None, number: Any) -> Any:
    from dashboard import exports  # openpyxl is loaded only by whoever exports

    if not n_clicks:
        raise PreventUpdate
    try:
        user = auth.require(*ROLES)
    except auth.Denied:
        raise PreventUpdate from None
    lang, now = auth.current_lang(), utcnow()
    record = load.record(get_data(), load.incident_number(number if isinstance(number, str) else None), user, now,
                         auth.client_address())
    if record is None:
        raise PreventUpdate
    f = record.facts
    content, filename = exports.incident(f.id, f.title, views.fact_rows(record, lang), record.log, record.names,
                                         now, lang)
    return dcc.send_bytes(content, filename)
