"""值班指挥: verify or send back what townships reported, dispatch what is still unassigned.

Duty officers (role command) act; leaders and admins see the same queues read-only.
The queues re-render only when the incident table changed, so a half-made choice
in a dropdown is not wiped by a timer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Action, Role, Status
from dashboard import auth
from dashboard.actions import perform
from dashboard.components import denied, level_badge, message, status_chip
from dashboard.context import get_data
from dashboard.i18n import Lang, action_label, category_label, t
from dashboard.shell import page_title
from dashboard.timefmt import fmt_dt, remaining, utcnow

VIEW_ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN)
ACT_ROLES = (Role.COMMAND,)
REFRESH_MS = 5000


class Ids(StrEnum):
    QUEUES = "cmd-queues"
    MSG = "cmd-msg"
    TICK = "cmd-tick"
    MARKER = "cmd-marker"
    VERSION = "cmd-version"
    SELECTED = "cmd-selected"  # incident id chosen for rework
    REWORK_PANEL = "cmd-rework-panel"
    REWORK_TITLE = "cmd-rework-title"
    REWORK_REASON = "cmd-rework-reason"
    REWORK_SUBMIT = "cmd-rework-submit"
    REWORK_CANCEL = "cmd-rework-cancel"
    # pattern-matching types, index = incident id
    VERIFY = "cmd-verify"
    OPEN_REWORK = "cmd-open-rework"
    DISPATCH = "cmd-dispatch"
    TARGET = "cmd-target"


def _btn(kind: Ids, incident_id: int, label: str, css: str) -> html.Button:
    return html.Button(label, id={"type": kind, "index": incident_id}, className=f"btn {css}", n_clicks=0)


def _head(row: Any, names: dict[str, str], lang: Lang) -> list[Any]:
    return [
        html.Div([level_badge(int(row.level), lang), status_chip(row.status, lang)], className="card-top"),
        html.Div(html.A(f"#{row.id} {row.title}", href=f"/incident/{row.id}"), className="card-title"),
        html.Div(" · ".join([category_label(row.category, lang),
                             names.get(row.township_code or "", row.township_code or "—"),
                             fmt_dt(row.created_at)]), className="card-meta"),
    ]


def _feedback_lines(fb: dict[str, Any] | None, lang: Lang) -> html.Div | None:
    if fb is None:
        return None
    details = fb.get("details") or {}
    extra = f" · {t('details.people_evacuated', lang)} {details['people_evacuated']}" \
        if "people_evacuated" in details else ""
    return html.Div(f"{fmt_dt(fb['at'])} {fb['actor']}：{fb['note']}{extra}", className="feedback-note")


def queues(lang: Lang, can_act: bool) -> list[html.Section]:
    data = get_data()
    rows = data.command_queue()
    names = data.region_names()
    now = utcnow()
    status = rows["status"].astype(str)
    resolved = rows[status == Status.RESOLVED.value]
    new = rows[status == Status.NEW.value]
    active = rows[status.isin([Status.DISPATCHED.value, Status.SIGNED.value, Status.IN_PROGRESS.value])]
    feedback = data.latest_feedback([int(i) for i in resolved["id"]]) if len(resolved) else {}
    options = [{"label": f"{name}（{code}）", "value": code} for code, name in data.townships()]

    verify_cards = [html.Div([
        *_head(r, names, lang), _feedback_lines(feedback.get(int(r.id)), lang),
        html.Div([_btn(Ids.VERIFY, r.id, action_label(Action.VERIFY, lang), "btn-primary"),
                  _btn(Ids.OPEN_REWORK, r.id, action_label(Action.REWORK, lang), "btn-danger")],
                 className="card-actions") if can_act else None,
    ], className="card") for r in resolved.itertuples()]

    new_cards = [html.Div([
        *_head(r, names, lang),
        html.Div([
            dcc.Dropdown(options=options, id={"type": Ids.TARGET, "index": r.id}, clearable=True,
                         placeholder=t("command.choose_township", lang), className="dropdown"),
            _btn(Ids.DISPATCH, r.id, action_label(Action.DISPATCH, lang), "btn-primary"),
        ], className="card-actions dispatch-row") if can_act else None,
    ], className="card") for r in new.itertuples()]

    active_rows = []
    for r in active.itertuples():
        left, overdue = remaining(r.deadline if pd.notna(r.deadline) else None, now, lang)
        active_rows.append(html.Tr([
            html.Td(html.A(f"#{r.id}", href=f"/incident/{r.id}")), html.Td(r.title),
            html.Td(level_badge(int(r.level), lang)), html.Td(status_chip(r.status, lang)),
            html.Td(names.get(r.township_code or "", r.township_code or "—")),
            html.Td(left, className="overdue" if overdue else ""),
        ]))
    header = html.Tr([html.Th(t(k, lang)) for k in
                      ("col.id", "col.title", "col.level", "col.status", "col.township", "col.deadline")])

    def section(key: str, body: Any, count: int) -> html.Section:
        return html.Section([html.H2(f"{t(key, lang)}（{count}）" if lang == "zh" else f"{t(key, lang)} ({count})"),
                             body if count else html.Div(t("command.empty", lang), className="muted")],
                            className="queue")

    return [
        section("command.verify_queue", html.Div(verify_cards, className="card-grid"), len(verify_cards)),
        section("command.new_queue", html.Div(new_cards, className="card-grid"), len(new_cards)),
        section("command.open_queue", html.Table([html.Thead(header), html.Tbody(active_rows)],
                                                 className="table"), len(active_rows)),
    ]


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    try:
        user = auth.require(*VIEW_ROLES)
    except auth.Denied as exc:
        return denied(exc, lang)
    can_act = user.role in ACT_ROLES
    return html.Div([
        html.H1(t("command.title", lang)),
        None if can_act else message(t("command.read_only", lang)),
        html.Div(id=Ids.MSG, className="msg-area", **{"aria-live": "polite"}),
        html.Div([
            html.H2(id=Ids.REWORK_TITLE),
            html.Label(t("command.rework_reason", lang), htmlFor=Ids.REWORK_REASON),
            dcc.Textarea(id=Ids.REWORK_REASON, className="input textarea", maxLength=2000),
            html.Div([
                html.Button(action_label(Action.REWORK, lang), id=Ids.REWORK_SUBMIT, className="btn btn-danger",
                            n_clicks=0),
                html.Button(t("township.cancel", lang), id=Ids.REWORK_CANCEL, className="btn btn-secondary",
                            n_clicks=0),
            ], className="card-actions"),
        ], id=Ids.REWORK_PANEL, className="card action-panel", hidden=True),
        html.Div(queues(lang, can_act), id=Ids.QUEUES),
        dcc.Store(id=Ids.MARKER, data=get_data().change_marker()),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.SELECTED),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light command")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/command", title=page_title("nav.command"), order=2, layout=layout)


@callback(
    Output(Ids.QUEUES, "children"),
    Output(Ids.MARKER, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(Ids.VERSION, "data"),
    State(Ids.MARKER, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, _version: int | None, marker: str | None) -> tuple[Any, Any]:
    lang = auth.current_lang()
    try:
        user = auth.require(*VIEW_ROLES)
    except auth.Denied as exc:
        return denied(exc, lang), no_update
    new_marker = get_data().change_marker()
    if new_marker == marker and ctx.triggered_id == Ids.TICK:
        raise PreventUpdate  # nothing changed: keep the user's half-made dropdown choices
    return queues(lang, user.role in ACT_ROLES), new_marker


def _clicked_index() -> int | None:
    trig = ctx.triggered[0] if ctx.triggered else None
    if not trig or not trig.get("value"):
        return None
    tid = ctx.triggered_id
    index = tid.get("index") if isinstance(tid, dict) else None
    return index if isinstance(index, int) else None


def _bump(version: int | None) -> int:
    return (version or 0) + 1


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Input({"type": Ids.VERIFY, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def verify(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    incident_id = _clicked_index()
    if incident_id is None:
        raise PreventUpdate
    outcome = perform(incident_id, Action.VERIFY, ACT_ROLES)
    return message(outcome.text, "ok" if outcome.ok else "error"), _bump(version)


def target_for(incident_id: int, states: list[dict[str, Any]]) -> str | None:
    """The township chosen in the dropdown of the card whose button was clicked."""
    for state in states:
        sid = state.get("id")
        if isinstance(sid, dict) and sid.get("index") == incident_id:
            value = state.get("value")
            return value if isinstance(value, str) and value else None
    return None


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.DISPATCH, "index": ALL}, "n_clicks"),
    State({"type": Ids.TARGET, "index": ALL}, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def dispatch(_clicks: list[int | None], _targets: list[str | None], version: int | None) -> tuple[Any, Any]:
    incident_id = _clicked_index()
    if incident_id is None:
        raise PreventUpdate
    target = target_for(incident_id, ctx.states_list[0])
    lang = auth.current_lang()
    if target is None:
        return message(t("err.choose_township", lang), "error"), no_update
    if target not in dict(get_data().townships()):
        return message(t("err.choose_township", lang), "error"), no_update  # not a township of the active layer
    outcome = perform(incident_id, Action.DISPATCH, ACT_ROLES, township_code=target)
    return message(outcome.text, "ok" if outcome.ok else "error"), _bump(version)


@callback(
    Output(Ids.SELECTED, "data"),
    Input({"type": Ids.OPEN_REWORK, "index": ALL}, "n_clicks"),
    Input(Ids.REWORK_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select_rework(_clicks: list[int | None], _cancel: int | None) -> int | None:
    if ctx.triggered_id == Ids.REWORK_CANCEL:
        return None
    incident_id = _clicked_index()
    if incident_id is None:
        raise PreventUpdate
    return incident_id


clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="scrollIntoView"),
    Input(Ids.REWORK_PANEL, "hidden"),
    State(Ids.REWORK_PANEL, "id"),
    prevent_initial_call=True,
)


@callback(
    Output(Ids.REWORK_PANEL, "hidden"),
    Output(Ids.REWORK_TITLE, "children"),
    Input(Ids.SELECTED, "data"),
    prevent_initial_call=True,
)
def show_rework(selected: int | None) -> tuple[bool, str]:
    if not selected:
        return True, ""
    return False, f"{action_label(Action.REWORK, auth.current_lang())} · #{selected}"


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Output(Ids.REWORK_REASON, "value"),
    Input(Ids.REWORK_SUBMIT, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.REWORK_REASON, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def rework(n: int | None, selected: int | None, reason: str | None, version: int | None) -> tuple[Any, ...]:
    if not n or not selected:
        raise PreventUpdate
    outcome = perform(selected, Action.REWORK, ACT_ROLES, note=reason or "")
    if not outcome.ok:
        return message(outcome.text, "error"), _bump(version), no_update, no_update
    return message(outcome.text, "ok"), _bump(version), None, ""
