"""The 修改密码 page's callback: the session's own user changes their own password, nobody else's (the
account is the session's, never a value the browser sends). The rules and the write are the admin
page's (``dashboard.pages.admin.policy`` and ``change``), so a password is held to one standard."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.actions import InvalidInput
from dashboard.components import message
from dashboard.context import get_data
from dashboard.pages.admin import change
from i18n.labels import t
from i18n.timefmt import fmt_time, utcnow

from . import views
from .ids import Ids

ROLES = tuple(r for r in Role if r is not Role.SYSTEM)  # every person: the engine has no password


@callback(
    output={"msg": Output(Ids.MSG, "children"), "current": Output(Ids.CURRENT, "value"),
            "new": Output(Ids.NEW, "value"), "new2": Output(Ids.NEW2, "value")},
    inputs=[Input(Ids.SUBMIT, "n_clicks")],
    state=[State(Ids.CURRENT, "value"), State(Ids.NEW, "value"), State(Ids.NEW2, "value")],
    prevent_initial_call=True,
)
def change_password(n: int | None, current: Any, new: Any, new2: Any) -> dict[str, Any]:
    """Changed, the fields are emptied; refused, they keep what was typed and the message says why."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = dict.fromkeys(("current", "new", "new2"), no_update)
    try:
        user = auth.require(*ROLES, changing_password=True)
        now = utcnow()
        with get_data().pool.connection() as conn:
            change.change_own_password(conn, user.username, current, new, new2, address=auth.client_address(),
                                       at=now)
        auth.password_changed_here(now)
    except (auth.Denied, InvalidInput) as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    except change.Locked as exc:
        return {"msg": message(t("login.locked", lang, until=fmt_time(exc.until)), "error"), **keep}
    return {"msg": views.changed(user, lang), "current": "", "new": "", "new2": ""}
