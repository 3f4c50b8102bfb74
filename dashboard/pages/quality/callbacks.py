"""The 数据质量 page's callbacks: the figures again every 30 s (a district desk's: its district's), and the
chosen month's report as a Word file (the city's: not a district desk's), for the page's roles only (checked
here, not by the button)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, dcc, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.components import message, session_user
from dashboard.context import get_read_data
from i18n.labels import t
from i18n.timefmt import fmt_time, utcnow
from reports.texts import rt

from . import load, views
from .ids import Ids

ROLES = (Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN)
REPORT_ROLES = (Role.LEADER, Role.COMMAND, Role.ADMIN)  # the monthly report is the city's


@callback(Output(Ids.BODY, "children"), Output(Ids.UPDATED, "children"), Input(Ids.TICK, "n_intervals"),
          prevent_initial_call=True)
def refresh(_n: int | None) -> tuple[Any, Any]:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, no_update
    now = utcnow()
    return views.body(load.health(get_read_data(), now, load.district_of(user)), lang), fmt_time(now)


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.REPORT_MSG, "children"), Input(Ids.REPORT, "n_clicks"),
          State(Ids.REPORT_MONTH, "value"), prevent_initial_call=True)
def download_report(n_clicks: int | None, month: Any) -> tuple[Any, Any]:
    """The month asked for, if it is one of those offered (a forged value gets no report)."""
    if not n_clicks:
        raise PreventUpdate
    lang = auth.current_lang()
    try:
        auth.require(*REPORT_ROLES)
    except auth.Denied as exc:
        return no_update, message(t(exc.key, lang), "error")
    now = utcnow()
    chosen = next((m for m in load.offered_months(now) if m.key == month), None)
    if chosen is None:
        return no_update, message(rt("page.bad_month", lang), "error")
    return dcc.send_bytes(*load.report(get_read_data(), chosen, now, lang)), None
