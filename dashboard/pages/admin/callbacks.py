"""The 系统管理 page's callbacks: create a user (validated on the server, ``dashboard.users``) and turn
the pages of the accounts, for administrators only (re-checked in each)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate
from werkzeug.security import generate_password_hash

from alerts.lifecycle import Role
from dashboard import auth, users
from dashboard.actions import InvalidInput
from dashboard.components import clicked, message, pager_input, session_user
from dashboard.context import get_data
from dashboard.reads_ops import UsernameTaken
from i18n.labels import t

from . import load, views
from .ids import Ids

ROLES = (Role.ADMIN,)


@callback(
    output={"msg": Output(Ids.MSG, "children"), "users": Output(Ids.USERS, "children"),
            "username": Output(Ids.USERNAME, "value"), "display": Output(Ids.DISPLAY, "value"),
            "password": Output(Ids.PASSWORD, "value"), "password2": Output(Ids.PASSWORD2, "value")},
    inputs=[Input(Ids.SUBMIT, "n_clicks")],
    state=[State(Ids.USERNAME, "value"), State(Ids.DISPLAY, "value"), State(Ids.PASSWORD, "value"),
           State(Ids.PASSWORD2, "value"), State(Ids.ROLE, "value"), State(Ids.TOWNSHIP, "value")],
    prevent_initial_call=True,
)
def create_user(n: int | None, username: Any, display_name: Any, password: Any, password2: Any, role: Any,
                township: Any) -> dict[str, Any]:
    """A new account; refused, the form keeps what was typed. Created, the accounts show the page it is on."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = dict.fromkeys(("users", "username", "display", "password", "password2"), no_update)
    try:
        auth.require(*ROLES)
    except auth.Denied as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    data = get_data()
    try:
        new = users.validate(username=username, display_name=display_name, password=password,
                             password2=password2, role=role, township=township,
                             townships={code for code, _ in data.townships()})
        data.create_user(new.username, new.display_name, generate_password_hash(new.password), new.role.value,
                         new.township_code)
    except InvalidInput as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    except UsernameTaken:
        return {"msg": message(t("err.username_taken", lang), "error"), **keep}
    accounts = load.accounts(data)
    page = list(accounts.rows["username"]).index(new.username) // views.USERS_PAGE + 1
    return {"msg": message(t("admin.created", lang, u=new.username), "ok"),
            "users": views.users_table(accounts, lang, page), "username": "", "display": "", "password": "",
            "password2": ""}


@callback(Output(Ids.USERS, "children", allow_duplicate=True), pager_input(Ids.USERS), prevent_initial_call=True)
def users_page(_clicks: list[int | None]) -> Any:
    """Another page of the accounts."""
    page = clicked("to")
    if page is None:
        raise PreventUpdate
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return user
    return views.users_table(load.accounts(get_data()), lang, page)
