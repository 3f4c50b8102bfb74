"""系统管理 (admin only): users and roles (with a new-user form), alert rules, boundary layers, devices.

Read-mostly for now: rules are config as code (alerts/rules.toml, validated whole by
``alerts.rules.load_rules``), layers load with ``python -m layers``. The one write is
creating a user, validated on the server (``dashboard.users``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate
from werkzeug.security import generate_password_hash

from alerts.lifecycle import Role
from alerts.rules import RuleError, load_rules
from dashboard import auth, users
from dashboard.actions import InvalidInput
from dashboard.components import clicked, message, page_in, pager, pager_input, session_user
from dashboard.context import get_data
from dashboard.reads_ops import UsernameTaken
from dashboard.rule_table import rule_rows
from dashboard.shell import page_title
from i18n.labels import Lang, role_label, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.texts import DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt, utcnow

ROLES = (Role.ADMIN,)
USERS_PAGE = 20  # rows of the users table per page
RULE_COLUMNS = ("nowrap", "nowrap", "nowrap", "nowrap", "rule-levels", "rule-settings")  # short ones never wrap


class Ids(StrEnum):
    USERS = "adm-users"
    USERNAME = "adm-username"
    DISPLAY = "adm-display"
    PASSWORD = "adm-password"
    PASSWORD2 = "adm-password2"
    ROLE = "adm-role"
    TOWNSHIP = "adm-township"
    SUBMIT = "adm-submit"
    MSG = "adm-msg"


def _table(headers: list[str], rows: list[list[Any]], table_id: str,
           classes: tuple[str | None, ...] = ()) -> html.Div:
    """A compact table; ``classes`` are the CSS classes of the body's columns, first to last (none for the rest)."""
    def cls(i: int) -> str | None:
        return classes[i] if i < len(classes) else None

    return html.Div(html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                                html.Tbody([html.Tr([html.Td(c, className=cls(i)) for i, c in enumerate(row)])
                                            for row in rows])],
                               className="table table-compact", id=table_id), className="table-wrap")


def users_table(frame: pd.DataFrame, names: dict[str, str], lang: Lang, page: int = 1) -> list[Any]:
    """One page of the accounts, with the pager under it when there is more than one."""
    page = page_in(page, len(frame), USERS_PAGE)
    shown = frame.iloc[(page - 1) * USERS_PAGE:page * USERS_PAGE]
    rows = [[r.username, r.display_name, role_label(r.role, lang),
             f"{names.get(r.township_code, r.township_code)}（{r.township_code}）" if r.township_code else "—"]
            for r in shown.itertuples()]
    return [_table([t(k, lang) for k in ("col.username", "col.display_name", "col.role", "col.township")], rows,
                   "adm-users-table", ("nowrap",)),
            pager(Ids.USERS, page, len(frame), USERS_PAGE, lang)]


def rules_section(lang: Lang) -> list[Any]:
    try:
        rules = load_rules()
    except RuleError as exc:
        return [message(t("admin.rules_error", lang, e=str(exc)[:500]), "error")]
    return [_table([t(k, lang) for k in ("col.rule_id", "col.rule_name", "col.kind", "col.category", "col.levels",
                                         "col.settings")], rule_rows(rules, lang), "adm-rules-table", RULE_COLUMNS)]


def layers_table(frame: pd.DataFrame, lang: Lang) -> html.Div:
    yes, no = t("common.yes", lang), t("common.no", lang)
    rows = [[str(r.version), fmt_dt(r.loaded_at), r.source, r.note or "—", yes if r.active else no,
             fmt_int(r.districts), fmt_int(r.townships), fmt_int(r.grids)] for r in frame.itertuples()]
    return _table([t(k, lang) for k in ("col.version", "col.loaded_at", "col.source", "col.note", "col.active",
                                        "col.districts", "col.townships", "col.grids")], rows, "adm-layers-table",
                  ("nowrap", "nowrap", "mono", None, "nowrap"))


def devices_table(frame: pd.DataFrame, lang: Lang) -> html.Div:
    rows = [[label(DEVICE_TYPE, r.device_type, lang), label(DEPT, r.dept, lang), fmt_int(r.devices),
             fmt_int(r.online), fmt_pct(round(100 * int(r.online) / int(r.devices), 1) if r.devices else None)]
            for r in frame.itertuples()]
    return _table([t(k, lang) for k in ("col.device_type", "col.dept", "col.devices", "col.online",
                                        "col.online_rate")], rows, "adm-devices-table")


def user_form(lang: Lang, townships: list[tuple[str, str]]) -> html.Div:
    def field(key: str, control: Any) -> html.Label:
        return html.Label([html.Span(t(key, lang)), control], className="filter")

    return html.Div([
        html.H2(t("admin.create", lang)),
        html.Div([
            field("col.username", dcc.Input(id=Ids.USERNAME, type="text", maxLength=32, className="input",
                                            autoComplete="off")),
            field("col.display_name", dcc.Input(id=Ids.DISPLAY, type="text", maxLength=50, className="input")),
            field("col.password", dcc.Input(id=Ids.PASSWORD, type="password", maxLength=128, className="input",
                                            autoComplete="new-password")),
            field("col.password2", dcc.Input(id=Ids.PASSWORD2, type="password", maxLength=128, className="input",
                                             autoComplete="new-password")),
            field("col.role", dcc.Dropdown([{"label": role_label(r, lang), "value": r.value} for r in users.ASSIGNABLE],
                                           id=Ids.ROLE, placeholder=t("admin.choose_role", lang),
                                           className="dropdown-md")),
            field("admin.choose_township", dcc.Dropdown(
                [{"label": f"{name}（{code}）", "value": code} for code, name in townships], id=Ids.TOWNSHIP,
                className="dropdown-md")),
        ], className="filter-bar"),
        html.Div(id=Ids.MSG, **{"aria-live": "polite"}),
        html.Button(t("admin.submit", lang), id=Ids.SUBMIT, n_clicks=0, className="btn btn-primary"),
    ], className="card panel")


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    names = data.region_names()
    return html.Div([
        html.H1(t("admin.title", lang)),
        user_form(lang, data.townships()),
        html.Section([html.H2(t("admin.users", lang)), html.Div(users_table(data.users(), names, lang), id=Ids.USERS)],
                     className="card panel"),
        html.Section([html.H2(t("admin.rules", lang)), *rules_section(lang)], className="card panel"),
        html.Div([
            html.Section([html.H2(t("admin.layers", lang)), layers_table(data.boundary_versions(), lang)],
                         className="card panel"),
            html.Section([html.H2(t("admin.devices", lang)), devices_table(data.devices_by_type(utcnow()), lang)],
                         className="card panel"),
        ], className="two-col"),
    ], className="page page-light page-wide admin")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/admin", title=page_title("nav.admin"), order=6, layout=layout)


@callback(
    Output(Ids.MSG, "children"), Output(Ids.USERS, "children"),
    Output(Ids.USERNAME, "value"), Output(Ids.DISPLAY, "value"), Output(Ids.PASSWORD, "value"),
    Output(Ids.PASSWORD2, "value"),
    Input(Ids.SUBMIT, "n_clicks"),
    State(Ids.USERNAME, "value"), State(Ids.DISPLAY, "value"), State(Ids.PASSWORD, "value"),
    State(Ids.PASSWORD2, "value"), State(Ids.ROLE, "value"), State(Ids.TOWNSHIP, "value"),
    prevent_initial_call=True,
)
def create_user(n: int | None, username: Any, display_name: Any, password: Any, password2: Any, role: Any,
                township: Any) -> tuple[Any, ...]:
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    keep = (no_update,) * 5
    try:
        auth.require(*ROLES)
    except auth.Denied as exc:
        return message(t(exc.key, lang), "error"), *keep
    data = get_data()
    try:
        new = users.validate(username=username, display_name=display_name, password=password,
                             password2=password2, role=role, township=township,
                             townships={code for code, _ in data.townships()})
        data.create_user(new.username, new.display_name, generate_password_hash(new.password), new.role.value,
                         new.township_code)
    except InvalidInput as exc:
        return message(t(exc.key, lang), "error"), *keep
    except UsernameTaken:
        return message(t("err.username_taken", lang), "error"), *keep
    accounts = data.users()
    page = list(accounts["username"]).index(new.username) // USERS_PAGE + 1  # the page the new account is on
    return (message(t("admin.created", lang, u=new.username), "ok"),
            users_table(accounts, data.region_names(), lang, page), "", "", "", "")


@callback(Output(Ids.USERS, "children", allow_duplicate=True), pager_input(Ids.USERS), prevent_initial_call=True)
def users_page(_clicks: list[int | None]) -> Any:
    """Another page of the accounts (for administrators only, re-checked here)."""
    page = clicked("to")
    if page is None:
        raise PreventUpdate
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if isinstance(user, html.Div):
        return user
    data = get_data()
    return users_table(data.users(), data.region_names(), lang, page)
