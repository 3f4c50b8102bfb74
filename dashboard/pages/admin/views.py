"""The 系统管理 page as components: the new-user form, the form managing one account, the accounts a page at
a time, the lock-outs in force with the unlock form, the login log a page at a time with its filters, the
alert rules, the boundary layer versions and the devices by type."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from dashboard import users
from dashboard.components import aria, message, page_in, pager
from dashboard.rule_table import rule_rows
from dashboard.widgets import township_options
from i18n.labels import Lang, auth_event_label, role_label, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.texts import DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt
from ingest.health import online_percent
from store.audit import AuthEvent
from store.users import Account

from . import processes, root_causes
from .ids import Ids
from .load import AUDIT_PAGE, Accounts, AuditPage, Lock, Page, Rules
from .policy import LockKind

USERS_PAGE = 20  # rows of the users table per page
PROCESSES_REFRESH_MS = 5_000  # as often as the processes beat
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


def state_label(a: Account, lang: Lang) -> str:
    """正常, or what is in the way: disabled, a password its user must change."""
    flags = [key for key, on in (("state.disabled", a.disabled), ("state.must_change", a.must_change_password)) if on]
    return " · ".join(t(key, lang) for key in flags or ["state.active"])


def scope_label(a: Account, names: dict[str, str]) -> str:
    """What the account is scoped to, 名称（代码）: its township or department, a district desk's district, a grid
    member's grids (— none)."""
    codes = [c for c in (a.township_code, a.district_code) if c] or list(a.grid_codes or ())
    return "、".join(f"{names.get(code, code)}（{code}）" for code in codes) or "—"


def users_table(a: Accounts, lang: Lang, page: int = 1) -> list[Any]:
    """One page of the accounts, with the pager under it when there is more than one."""
    page = page_in(page, len(a.rows), USERS_PAGE)
    shown = a.rows[(page - 1) * USERS_PAGE:page * USERS_PAGE]
    rows = [[r.username, r.display_name, role_label(r.role, lang), scope_label(r, a.names), state_label(r, lang)]
            for r in shown]
    return [_table([t(k, lang) for k in ("col.username", "col.display_name", "col.role", "col.township",
                                         "col.state")], rows, Ids.USERS_TABLE, ("nowrap",)),
            pager(Ids.USERS, page, len(a.rows), USERS_PAGE, lang)]


def users_page_of(a: Accounts, username: str) -> int:
    """The page of the accounts table that shows ``username`` (the first when it is not there)."""
    names = [r.username for r in a.rows]
    return names.index(username) // USERS_PAGE + 1 if username in names else 1


def account_options(a: Accounts) -> list[dict[str, str]]:
    return [{"label": f"{r.username} · {r.display_name}", "value": r.username} for r in a.rows]


def lock_name(kind: LockKind, key: str, lang: Lang) -> str:
    """账号 zhang_san, 客户端地址 10.1.2.3."""
    return f"{t(f'lock.{kind.value}', lang)} {key}"


def locks_table(locks: list[Lock], lang: Lang) -> html.Div | html.P:
    if not locks:
        return html.P(t("admin.no_locks", lang), className="muted")
    rows = [[t(f"lock.{k.kind.value}", lang), k.key, fmt_int(k.failures), fmt_dt(k.until, seconds=True)]
            for k in locks]
    return _table([t(k, lang) for k in ("col.kind", "col.locked", "col.failures", "col.until")], rows,
                  Ids.LOCKS_TABLE, ("nowrap", "mono"))


def lock_options(locks: list[Lock], lang: Lang) -> list[dict[str, str]]:
    return [{"label": t("lock.option", lang, who=lock_name(k.kind, k.key, lang), until=fmt_dt(k.until, seconds=True)),
             "value": k.value} for k in locks]


def audit_table(a: AuditPage, lang: Lang) -> list[Any]:
    """One page of the login log, newest first, times in Shanghai's, with the pager under it."""
    if not a.rows:
        return [html.P(t("admin.audit_empty", lang), className="muted")]
    rows = [[fmt_dt(r.at, seconds=True), auth_event_label(r.event, lang), r.username or "—", r.actor or "—",
             r.address or "—", r.detail or "—"] for r in a.rows]
    return [_table([t(k, lang) for k in ("col.at", "col.event", "col.username", "col.actor", "col.address",
                                         "col.details")], rows, Ids.AUDIT_TABLE,
                   ("nowrap", "nowrap", "nowrap", "nowrap", "mono")),
            pager(Ids.AUDIT, a.page, a.total, AUDIT_PAGE, lang)]


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
             fmt_int(r.online), fmt_pct(online_percent(int(r.online), int(r.devices)))]
            for r in frame.itertuples()]
    return _table([t(k, lang) for k in ("col.device_type", "col.dept", "col.devices", "col.online",
                                        "col.online_rate")], rows, Ids.DEVICES_TABLE)


def _field(key: str, control: Any, lang: Lang) -> html.Label:
    return html.Label([html.Span(t(key, lang)), control], className="filter")


def _role_field(control_id: str, lang: Lang) -> html.Label:
    return _field("col.role", dcc.Dropdown([{"label": role_label(r, lang), "value": r.value} for r in users.ASSIGNABLE],
                                           id=control_id, placeholder=t("admin.choose_role", lang),
                                           className="dropdown-md"), lang)


def _township_field(control_id: str, townships: list[tuple[str, str]], lang: Lang) -> html.Label:
    return _field("admin.choose_township", dcc.Dropdown(township_options(townships), id=control_id,
                                                        className="dropdown-md"), lang)


def _district_field(control_id: str, districts: list[tuple[str, str]], lang: Lang) -> html.Label:
    return _field("admin.choose_district", dcc.Dropdown(township_options(districts), id=control_id,
                                                        className="dropdown-md"), lang)


def _grids_field(control_id: str, lang: Lang) -> html.Label:
    """A grid member's grids: their 12-digit codes, typed (a city has thousands of grids; the server checks each)."""
    return _field("admin.grids", dcc.Input(id=control_id, type="text", maxLength=700, className="input",
                                           placeholder=t("admin.grids_hint", lang)), lang)


def _password_field(key: str, control_id: str, lang: Lang) -> html.Label:
    return _field(key, dcc.Input(id=control_id, type="password", maxLength=128, className="input",
                                 autoComplete="new-password"), lang)


def user_form(townships: list[tuple[str, str]], districts: list[tuple[str, str]], lang: Lang) -> html.Div:
    return html.Div([
        html.H2(t("admin.create", lang)),
        html.Div([
            _field("col.username", dcc.Input(id=Ids.USERNAME, type="text", maxLength=32, className="input",
                                             autoComplete="off"), lang),
            _field("col.display_name", dcc.Input(id=Ids.DISPLAY, type="text", maxLength=50, className="input"), lang),
            _password_field("col.password", Ids.PASSWORD, lang),
            _password_field("col.password2", Ids.PASSWORD2, lang),
            _role_field(Ids.ROLE, lang),
            _township_field(Ids.TOWNSHIP, townships, lang),
            _district_field(Ids.DISTRICT, districts, lang),
            _grids_field(Ids.GRIDS, lang),
        ], className="filter-bar"),
        html.Div(id=Ids.MSG, **aria(live="polite")),
        html.Button(t("admin.submit", lang), id=Ids.SUBMIT, n_clicks=0, className="btn btn-primary"),
    ], className="card panel")


def manage_form(a: Accounts, townships: list[tuple[str, str]], districts: list[tuple[str, str]],
                lang: Lang) -> html.Div:
    """Choose an account, then set its role and township (a district desk's: its district), reset its password,
    disable or enable it."""
    return html.Div([
        html.H2(t("admin.manage", lang)),
        html.Div(_field("admin.choose_account", dcc.Dropdown(account_options(a), id=Ids.ACCOUNT,
                                                             className="dropdown-md"), lang), className="filter-bar"),
        html.Div(id=Ids.EDIT_MSG, **aria(live="polite")),
        html.Div([
            html.P(id=Ids.ACCOUNT_STATE, className="muted"),
            html.Div([_role_field(Ids.EDIT_ROLE, lang), _township_field(Ids.EDIT_TOWNSHIP, townships, lang),
                      _district_field(Ids.EDIT_DISTRICT, districts, lang), _grids_field(Ids.EDIT_GRIDS, lang),
                      html.Button(t("admin.save", lang), id=Ids.SAVE, n_clicks=0, className="btn btn-primary")],
                     className="filter-bar"),
            html.Div([_password_field("admin.reset_password", Ids.RESET_PASSWORD, lang),
                      _password_field("col.password2", Ids.RESET_PASSWORD2, lang),
                      html.Button(t("admin.reset", lang), id=Ids.RESET, n_clicks=0, className="btn btn-secondary")],
                     className="filter-bar"),
            html.Div([html.Button(t("admin.disable", lang), id=Ids.DISABLE, n_clicks=0, className="btn btn-danger"),
                      html.Button(t("admin.enable", lang), id=Ids.ENABLE, n_clicks=0, className="btn btn-primary")],
                     className="card-actions"),
        ], id=Ids.EDIT_FORM, hidden=True),
        dcc.Store(id=Ids.EDITED, data=0),
    ], className="card panel")


def locks_section(locks: list[Lock], lang: Lang) -> html.Section:
    return html.Section([
        html.H2(t("admin.locks", lang)),
        html.Div(locks_table(locks, lang), id=Ids.LOCKS),
        html.Div([_field("admin.choose_lock", dcc.Dropdown(lock_options(locks, lang), id=Ids.LOCK,
                                                           className="dropdown-md"), lang),
                  html.Button(t("admin.unlock", lang), id=Ids.UNLOCK, n_clicks=0, className="btn btn-primary")],
                 className="filter-bar"),
        html.Div(id=Ids.LOCK_MSG, **aria(live="polite")),
    ], className="card panel")


def audit_section(a: AuditPage, lang: Lang) -> html.Section:
    events = [{"label": auth_event_label(e, lang), "value": e.value} for e in AuthEvent]
    return html.Section([
        html.H2(t("admin.audit", lang)),
        html.Div([
            _field("admin.filter_user", dcc.Input(id=Ids.AUDIT_USER, type="text", maxLength=200, className="input",
                                                  debounce=True, autoComplete="off"), lang),
            _field("admin.filter_event", dcc.Dropdown(events, id=Ids.AUDIT_EVENT, className="dropdown-md",
                                                      placeholder=t("admin.all_events", lang)), lang),
        ], className="filter-bar"),
        html.Div(audit_table(a, lang), id=Ids.AUDIT),
    ], className="card panel")


def page(p: Page, lang: Lang) -> html.Div:
    return html.Div([
        html.H1(t("admin.title", lang)),
        dcc.Store(id=Ids.VERSION, data=0),
        html.Section([html.H2(t("admin.processes", lang)),
                      html.Div(processes.table(p.processes, p.now, lang), id=Ids.PROCESSES),
                      dcc.Interval(id=Ids.PROCESS_TICK, interval=PROCESSES_REFRESH_MS)], className="card panel"),
        user_form(p.townships, p.districts, lang),
        manage_form(p.accounts, p.townships, p.districts, lang),
        html.Section([html.H2(t("admin.users", lang)), html.Div(users_table(p.accounts, lang), id=Ids.USERS)],
                     className="card panel"),
        locks_section(p.locks, lang),
        audit_section(p.audit, lang),
        html.Section([html.H2(t("admin.rules", lang)), *rules_section(p.rules, lang)], className="card panel"),
        root_causes.section(lang),
        html.Div([
            html.Section([html.H2(t("admin.layers", lang)), layers_table(p.layers, lang)], className="card panel"),
            html.Section([html.H2(t("admin.devices", lang)), devices_table(p.devices, lang)], className="card panel"),
        ], className="two-col"),
    ], className="page page-light page-wide admin")
