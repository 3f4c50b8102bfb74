"""The 系统管理 page's callbacks, for administrators only (re-checked in each): create an account, manage one
(role and township, a password reset, disable, enable), unlock a lock-out, and turn the pages of the
accounts and of the login log. The rules are ``policy``'s, the writes ``change``'s; a refused form keeps
what was typed."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth, users
from dashboard.actions import InvalidInput
from dashboard.components import bump, clicked, message, pager_input, session_user
from dashboard.context import get_data
from i18n.labels import Lang, t
from i18n.timefmt import utcnow
from store.users import UsernameTaken

from . import change, load, policy, views
from .ids import Ids
from .processes import table as process_table

ROLES = change.ADMIN_ROLES


def _users_showing(username: str, lang: Lang) -> list[Any]:
    """The accounts table at the page that shows ``username`` (the account just created or changed)."""
    accounts = load.accounts(get_data())
    return views.users_table(accounts, lang, views.users_page_of(accounts, username))


@callback(
    output={"msg": Output(Ids.MSG, "children"), "users": Output(Ids.USERS, "children"),
            "username": Output(Ids.USERNAME, "value"), "display": Output(Ids.DISPLAY, "value"),
            "password": Output(Ids.PASSWORD, "value"), "password2": Output(Ids.PASSWORD2, "value"),
            "version": Output(Ids.VERSION, "data")},
    inputs=[Input(Ids.SUBMIT, "n_clicks")],
    state=[State(Ids.USERNAME, "value"), State(Ids.DISPLAY, "value"), State(Ids.PASSWORD, "value"),
           State(Ids.PASSWORD2, "value"), State(Ids.ROLE, "value"), State(Ids.TOWNSHIP, "value"),
           State(Ids.VERSION, "data"), State(Ids.DISTRICT, "value"), State(Ids.GRIDS, "value")],
    prevent_initial_call=True,
)
def create_user(n: int | None, username: Any, display_name: Any, password: Any, password2: Any, role: Any,
                township: Any, version: int | None, district: Any = None, grids: Any = None) -> dict[str, Any]:
    """A new account; refused, the form keeps what was typed. Created, the accounts show the page it is on."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = dict.fromkeys(("users", "username", "display", "password", "password2", "version"), no_update)
    data = get_data()
    try:
        by = change.admin()
        new = users.validate(username=username, display_name=display_name, password=password,
                             password2=password2, role=role, township=township,
                             townships={code for code, _ in data.units()}, district=district,
                             districts={code for code, _ in data.districts()}, grids=grids,
                             known_grids=load.grid_codes(data) if role == Role.GRID else ())
        with data.pool.connection() as conn:
            change.create(conn, new, by)
    except InvalidInput as exc:
        return {"msg": message(t(exc.key, lang), "error"), **keep}
    except UsernameTaken:
        return {"msg": message(t("err.username_taken", lang), "error"), **keep}
    return {"msg": message(t("admin.created", lang, u=new.username), "ok"), "users": _users_showing(new.username, lang),
            "username": "", "display": "", "password": "", "password2": "", "version": bump(version)}


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


@callback(
    output={"hidden": Output(Ids.EDIT_FORM, "hidden"), "state": Output(Ids.ACCOUNT_STATE, "children"),
            "role": Output(Ids.EDIT_ROLE, "value"), "township": Output(Ids.EDIT_TOWNSHIP, "value"),
            "district": Output(Ids.EDIT_DISTRICT, "value"), "grids": Output(Ids.EDIT_GRIDS, "value"),
            "disable": Output(Ids.DISABLE, "hidden"), "enable": Output(Ids.ENABLE, "hidden")},
    inputs=[Input(Ids.ACCOUNT, "value"), Input(Ids.EDITED, "data")],
    prevent_initial_call=True,
)
def show_account(username: Any, _edited: int | None) -> dict[str, Any]:
    """The chosen account's form as it is stored (again after each change of it)."""
    lang = auth.current_lang()
    hidden = {"hidden": True, "state": "", "role": no_update, "township": no_update, "district": no_update,
              "grids": no_update, "disable": True, "enable": True}
    if not isinstance(session_user(lang, *ROLES), auth.SessionUser) or not isinstance(username, str):
        return hidden
    found = load.account(get_data(), username)
    if found is None:
        return hidden | {"hidden": False, "state": t("err.account_gone", lang)}
    return {"hidden": False, "state": t("admin.state_of", lang, u=found.username, state=views.state_label(found, lang)),
            "role": found.role, "township": found.township_code, "district": found.district_code,
            "grids": ", ".join(found.grid_codes or ()), "disable": found.disabled,
            "enable": not found.disabled}


DONE = {Ids.SAVE: "admin.saved", Ids.RESET: "admin.reset_done", Ids.DISABLE: "admin.disabled_done",
        Ids.ENABLE: "admin.enabled_done"}  # what each button of the account form says when it changed something


def _apply(button: Ids, by: change.By, username: str, role: Any, township: Any, district: Any, password: Any,
           password2: Any, grids: Any = None) -> bool:
    """The change ``button`` asks for; False when the account already was so."""
    data = get_data()
    if button is Ids.SAVE:
        chosen, code = users.assignment(role, township, {c for c, _ in data.units()}, district,
                                        {c for c, _ in data.districts()}, grids,
                                        load.grid_codes(data) if role == Role.GRID else ())
        with data.pool.connection() as conn:
            return change.assign(conn, by, username, chosen, code)
    with data.pool.connection() as conn:
        if button is Ids.RESET:
            change.reset_password(conn, by, username, password, password2)
            return True
        return change.set_disabled(conn, by, username, button is Ids.DISABLE)


@callback(
    output={"msg": Output(Ids.EDIT_MSG, "children"), "users": Output(Ids.USERS, "children", allow_duplicate=True),
            "edited": Output(Ids.EDITED, "data"), "password": Output(Ids.RESET_PASSWORD, "value"),
            "password2": Output(Ids.RESET_PASSWORD2, "value")},
    inputs=[Input(Ids.SAVE, "n_clicks"), Input(Ids.RESET, "n_clicks"), Input(Ids.DISABLE, "n_clicks"),
            Input(Ids.ENABLE, "n_clicks")],
    state=[State(Ids.ACCOUNT, "value"), State(Ids.EDIT_ROLE, "value"), State(Ids.EDIT_TOWNSHIP, "value"),
           State(Ids.RESET_PASSWORD, "value"), State(Ids.RESET_PASSWORD2, "value"), State(Ids.EDITED, "data"),
           State(Ids.EDIT_DISTRICT, "value"), State(Ids.EDIT_GRIDS, "value")],
    prevent_initial_call=True,
)
def manage(_save: int | None, _reset: int | None, _disable: int | None, _enable: int | None, username: Any,
           role: Any, township: Any, password: Any, password2: Any, edited: int | None,
           district: Any = None, grids: Any = None) -> dict[str, Any]:
    """The button pressed, applied to the chosen account; refused, the form keeps what was typed."""
    button = next((b for b in DONE if b == ctx.triggered_id), None)
    if button is None:
        raise PreventUpdate
    lang = auth.current_lang()
    try:
        by = change.admin()
        if not isinstance(username, str) or not username:
            raise InvalidInput("err.choose_account")
        changed = _apply(button, by, username, role, township, district, password, password2, grids)
    except InvalidInput as exc:
        return {"msg": message(t(exc.key, lang), "error"),
                **dict.fromkeys(("users", "edited", "password", "password2"), no_update)}
    cleared = "" if button is Ids.RESET else no_update  # the new password is the user's to know, not the form's
    return {"msg": message(t(DONE[button] if changed else "admin.unchanged", lang, u=username),
                           "ok" if changed else "info"),
            "users": _users_showing(username, lang), "edited": bump(edited), "password": cleared,
            "password2": cleared}


@callback(
    output={"msg": Output(Ids.LOCK_MSG, "children"), "version": Output(Ids.VERSION, "data", allow_duplicate=True)},
    inputs=[Input(Ids.UNLOCK, "n_clicks")],
    state=[State(Ids.LOCK, "value"), State(Ids.VERSION, "data")],
    prevent_initial_call=True,
)
def unlock(n: int | None, chosen: Any, version: int | None) -> dict[str, Any]:
    """Lift the chosen lock-out, if it is still in force (it may have lapsed since the list was drawn)."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    data = get_data()
    try:
        by = change.admin()
        kind, key = policy.lock_target(chosen)
        with data.pool.connection() as conn:
            lock = load.lock_of(conn, kind, key, change.lockout(), by.at)
            if lock is not None:
                change.unlock(conn, by, lock)
    except InvalidInput as exc:
        return {"msg": message(t(exc.key, lang), "error"), "version": no_update}
    who = views.lock_name(kind, key, lang)
    if lock is None:
        return {"msg": message(t("admin.not_locked", lang, who=who), "info"), "version": bump(version)}
    return {"msg": message(t("admin.unlocked", lang, who=who), "ok"), "version": bump(version)}


@callback(
    output={"locks": Output(Ids.LOCKS, "children"), "lock_options": Output(Ids.LOCK, "options"),
            "accounts": Output(Ids.ACCOUNT, "options")},
    inputs=[Input(Ids.VERSION, "data"), Input(Ids.EDITED, "data")],
    prevent_initial_call=True,
)
def refresh(_version: int | None, _edited: int | None) -> dict[str, Any]:
    """After a change, the lock-outs and the accounts to choose from, read again."""
    lang = auth.current_lang()
    if not isinstance(session_user(lang, *ROLES), auth.SessionUser):
        raise PreventUpdate
    data = get_data()
    locks = load.locks(data, change.lockout(), utcnow())
    return {"locks": views.locks_table(locks, lang), "lock_options": views.lock_options(locks, lang),
            "accounts": views.account_options(load.accounts(data))}


@callback(
    Output(Ids.AUDIT, "children"),
    inputs=[Input(Ids.VERSION, "data"), Input(Ids.EDITED, "data"), pager_input(Ids.AUDIT),
            Input(Ids.AUDIT_USER, "value"), Input(Ids.AUDIT_EVENT, "value")],
    prevent_initial_call=True,
)
def audit_log(_version: int | None, _edited: int | None, _pages: list[int | None], username: Any,
              event: Any) -> Any:
    """The login log: a page turned, or the first page after a filter or a change."""
    if isinstance(ctx.triggered_id, dict):
        page = clicked("to")
        if page is None:
            raise PreventUpdate  # the pager redrawn, not clicked
    else:
        page = 1
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return user
    try:
        name, chosen = policy.audit_filter(username, event)
    except InvalidInput as exc:
        return message(t(exc.key, lang), "error")
    return views.audit_table(load.audit_page(get_data(), page, name, chosen), lang)


@callback(Output(Ids.PROCESSES, "children"), Input(Ids.PROCESS_TICK, "n_intervals"), prevent_initial_call=True)
def refresh_processes(_tick: int | None) -> Any:
    """The process list read again, as often as the processes beat."""
    lang = auth.current_lang()
    if not isinstance(session_user(lang, *ROLES), auth.SessionUser):
        raise PreventUpdate
    now = utcnow()
    return process_table(load.processes(get_data(), now), now, lang)
