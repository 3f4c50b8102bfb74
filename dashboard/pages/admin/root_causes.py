"""系统管理's root causes (七张问题清单): the list 核查结案 chooses from, with forms to add one, rename one and retire
or restore one. Admins only, re-checked in each callback; each change is written with its row of the login log
(``root_cause_changed``: what changed, by whom, from where) in one transaction, as the account changes are."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts import problems
from alerts.problems import RootCause, RootCauseError
from dashboard import auth
from dashboard.actions import InvalidInput
from dashboard.components import message
from dashboard.context import get_data
from i18n.labels import Lang, t
from store import audit
from store.audit import AuthEvent

from .change import By, admin


class Ids:
    SECTION = "adm-rc"
    TABLE = "adm-rc-table"
    MSG = "adm-rc-msg"
    NAME = "adm-rc-name"
    NAME_EN = "adm-rc-name-en"
    ADD = "adm-rc-add"
    CHOOSE = "adm-rc-choose"
    NEW_NAME = "adm-rc-new-name"
    NEW_NAME_EN = "adm-rc-new-name-en"
    RENAME = "adm-rc-rename"
    RETIRE = "adm-rc-retire"
    RESTORE = "adm-rc-restore"


def listed() -> list[RootCause]:
    with get_data().pool.connection() as conn:
        return problems.root_causes(conn)


def table(causes: list[RootCause], lang: Lang) -> html.Table:
    head = html.Tr([html.Th(t(k, lang)) for k in ("rect.col.id", "rootcause.name", "rootcause.name_en",
                                                   "rect.col.status")])
    return html.Table([html.Thead(head), html.Tbody([html.Tr([
        html.Td(str(c.id)), html.Td(c.name), html.Td(c.name_en or "—"),
        html.Td(t("rootcause.retired", lang) if c.retired else t("state.active", lang))]) for c in causes])],
        className="table table-compact", id=Ids.TABLE)


def _options(causes: list[RootCause]) -> list[dict[str, Any]]:
    return [{"label": f"{c.id} {c.name}" + ("（停用）" if c.retired else ""), "value": c.id} for c in causes]


def section(lang: Lang) -> html.Section:
    causes = listed()
    return html.Section([
        html.H2(t("rootcause.admin_title", lang)),
        html.Div(id=Ids.MSG),
        html.Div(table(causes, lang), className="table-wrap"),
        html.Div([
            html.Label(t("rootcause.name", lang), htmlFor=Ids.NAME),
            dcc.Input(id=Ids.NAME, type="text", maxLength=problems.MAX_NAME, className="input"),
            html.Label(t("rootcause.name_en", lang), htmlFor=Ids.NAME_EN),
            dcc.Input(id=Ids.NAME_EN, type="text", maxLength=problems.MAX_NAME, className="input"),
            html.Button(t("rootcause.add", lang), id=Ids.ADD, n_clicks=0, className="btn btn-primary"),
        ], className="form form-inline"),
        html.Div([
            dcc.Dropdown(id=Ids.CHOOSE, options=_options(causes), className="dropdown",
                         placeholder=t("rootcause.label", lang)),
            html.Label(t("rootcause.name", lang), htmlFor=Ids.NEW_NAME),
            dcc.Input(id=Ids.NEW_NAME, type="text", maxLength=problems.MAX_NAME, className="input"),
            html.Label(t("rootcause.name_en", lang), htmlFor=Ids.NEW_NAME_EN),
            dcc.Input(id=Ids.NEW_NAME_EN, type="text", maxLength=problems.MAX_NAME, className="input"),
            html.Button(t("rootcause.rename", lang), id=Ids.RENAME, n_clicks=0, className="btn btn-secondary"),
            html.Button(t("rootcause.retire", lang), id=Ids.RETIRE, n_clicks=0, className="btn btn-danger"),
            html.Button(t("rootcause.restore", lang), id=Ids.RESTORE, n_clicks=0, className="btn btn-secondary"),
        ], className="form form-inline"),
    ], className="card panel", id=Ids.SECTION)


def change(by: By, button: str, *, name: object = None, name_en: object = None, cause_id: object = None) -> RootCause:
    """Add (``Ids.ADD``), rename, retire or restore a root cause with its audit row; ``RootCauseError`` for a
    refusal, having changed nothing."""
    with get_data().pool.connection() as conn, conn.transaction():
        if button == Ids.ADD:
            after = problems.add_root_cause(conn, name, name_en)
            detail = f"add {after.id} {after.name} / {after.name_en}"
        else:
            kwargs: dict[str, Any] = {"name": name, "name_en": name_en} if button == Ids.RENAME \
                else {"retired": button == Ids.RETIRE}
            before, after = problems.change_root_cause(conn, cause_id, **kwargs)
            verb = "rename" if button == Ids.RENAME else "retire" if after.retired else "restore"
            detail = f"{verb} {after.id} {before.name} / {before.name_en} → {after.name} / {after.name_en}"
        audit.record(conn, by.at, AuthEvent.ROOT_CAUSE_CHANGED, actor=by.actor, address=by.address, detail=detail)
    return after


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.TABLE, "children"),
    Output(Ids.CHOOSE, "options"),
    Input(Ids.ADD, "n_clicks"),
    Input(Ids.RENAME, "n_clicks"),
    Input(Ids.RETIRE, "n_clicks"),
    Input(Ids.RESTORE, "n_clicks"),
    State(Ids.NAME, "value"),
    State(Ids.NAME_EN, "value"),
    State(Ids.CHOOSE, "value"),
    State(Ids.NEW_NAME, "value"),
    State(Ids.NEW_NAME_EN, "value"),
    prevent_initial_call=True,
)
def on_change(_add: int | None, _rename: int | None, _retire: int | None, _restore: int | None, name: Any,
              name_en: Any, cause_id: Any, new_name: Any, new_name_en: Any) -> tuple[Any, Any, Any]:
    """Add, rename, retire or restore; refused, the forms keep what was typed."""
    button = ctx.triggered_id
    if not isinstance(button, str) or not (ctx.triggered and ctx.triggered[0].get("value")):
        raise PreventUpdate
    lang = auth.current_lang()
    try:
        by = admin()
        renaming = button == Ids.RENAME
        change(by, button, name=new_name if renaming else name, name_en=new_name_en if renaming else name_en,
               cause_id=cause_id)
    except (InvalidInput, RootCauseError) as exc:
        return message(t(exc.key, lang), "error"), no_update, no_update
    causes = listed()
    return message(t("rootcause.saved", lang), "ok"), table(causes, lang).children, _options(causes)
