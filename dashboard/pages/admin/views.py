"""The 系统管理 page as components: the new-user form, the accounts a page at a time, the alert rules,
the boundary layer versions and the devices by type."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from dashboard import users
from dashboard.components import message, page_in, pager
from dashboard.rule_table import rule_rows
from dashboard.widgets import township_options
from i18n.labels import Lang, role_label, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.texts import DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import Accounts, Page, Rules

USERS_PAGE = 20  # rows of the users table per page
RULE_COLUMNS = ("nowrap", "nowrap", "nowrap", "nowrap", "rule-levels", "rule-settings")  # short ones never wrap


def _table(headers: list[str], rows: list[list[Any]], table_id: str,
           classes: tuple[str | None, ...] = ()) -> html.Div:
    """A compact table; ``classes`` are the CSS classes of the body's columns, first to last (none for the rest)."""
    def cls(i: int) -> str | None:
        return classes[i] if i < len(classes) else None

    return html.Div(html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                                html.Tbody([html.Tr([html.Td(c, className=cls(i)) for i, c in enumerate(row)])
                                            for row in rows])],
                               className="table table-compact", id=table_id), className="table-wrap")


def users_table(a: Accounts, lang: Lang, page: int = 1) -> list[Any]:
    """One page of the accounts, with the pager under it when there is more than one."""
    page = page_in(page, len(a.rows), USERS_PAGE)
    shown = a.rows.iloc[(page - 1) * USERS_PAGE:page * USERS_PAGE]
    rows = [[r.username, r.display_name, role_label(r.role, lang),
             f"{a.names.get(r.township_code, r.township_code)}（{r.township_code}）" if r.township_code else "—"]
            for r in shown.itertuples()]
    return [_table([t(k, lang) for k in ("col.username", "col.display_name", "col.role", "col.township")], rows,
                   Ids.USERS_TABLE, ("nowrap",)),
            pager(Ids.USERS, page, len(a.rows), USERS_PAGE, lang)]


def rules_section(r: Rules, lang: Lang) -> list[Any]:
    if r.error is not None:
        return [message(t("admin.rules_error", lang, e=r.error[:500]), "error")]
    return [_table([t(k, lang) for k in ("col.rule_id", "col.rule_name", "col.kind", "col.category", "col.levels",
                                         "col.settings")], rule_rows(r.rules, lang), Ids.RULES_TABLE, RULE_COLUMNS)]


def layers_table(frame: pd.DataFrame, lang: Lang) -> html.Div:
    yes, no = t("common.yes", lang), t("common.no", lang)
    rows = [[str(r.version), fmt_dt(r.loaded_at), r.source, r.note or "—", yes if r.active else no,
             fmt_int(r.districts), fmt_int(r.townships), fmt_int(r.grids)] for r in frame.itertuples()]
    return _table([t(k, lang) for k in ("col.version", "col.loaded_at", "col.source", "col.note", "col.active",
                                        "col.districts", "col.townships", "col.grids")], rows, Ids.LAYERS_TABLE,
                  ("nowrap", "nowrap", "mono", None, "nowrap"))


def devices_table(frame: pd.DataFrame, lang: Lang) -> html.Div:
    rows = [[label(DEVICE_TYPE, r.device_type, lang), label(DEPT, r.dept, lang), fmt_int(r.devices),
             fmt_int(r.online), fmt_pct(round(100 * int(r.online) / int(r.devices), 1) if r.devices else None)]
            for r in frame.itertuples()]
    return _table([t(k, lang) for k in ("col.device_type", "col.dept", "col.devices", "col.online",
                                        "col.online_rate")], rows, Ids.DEVICES_TABLE)


def user_form(townships: list[tuple[str, str]], lang: Lang) -> html.Div:
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
            field("admin.choose_township", dcc.Dropdown(township_options(townships), id=Ids.TOWNSHIP,
                                                        className="dropdown-md")),
        ], className="filter-bar"),
        html.Div(id=Ids.MSG, **{"aria-live": "polite"}),
        html.Button(t("admin.submit", lang), id=Ids.SUBMIT, n_clicks=0, className="btn btn-primary"),
    ], className="card panel")


def page(p: Page, lang: Lang) -> html.Div:
    return html.Div([
        html.H1(t("admin.title", lang)),
        user_form(p.townships, lang),
        html.Section([html.H2(t("admin.users", lang)), html.Div(users_table(p.accounts, lang), id=Ids.USERS)],
                     className="card panel"),
        html.Section([html.H2(t("admin.rules", lang)), *rules_section(p.rules, lang)], className="card panel"),
        html.Div([
            html.Section([html.H2(t("admin.layers", lang)), layers_table(p.layers, lang)], className="card panel"),
            html.Section([html.H2(t("admin.devices", lang)), devices_table(p.devices, lang)], className="card panel"),
        ], className="two-col"),
    ], className="page page-light page-wide admin")
