"""值班指挥: verify or send back what townships reported, dispatch what is still unassigned,
transfer, add an assisting township, postpone and resume, merge duplicates, confirm the
area of incidents near a township border (确认属地), and send directives (政令一键智达) and
watch who has acknowledged them.

Duty officers (role command) act; leaders and admins see the same queues read-only.
The queues re-render only when the incident table changed, so a half-made choice
in a dropdown is not wiped by a timer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Action, Refusal, Role, Status
from dashboard import auth
from dashboard import directive_views as dv
from dashboard.actions import InvalidInput, issue_directive, parse_incident_ref, perform
from dashboard.components import (
    bump,
    clicked,
    level_badge,
    message,
    outcome_message,
    scroll_into_view,
    session_user,
    status_chip,
)
from dashboard.context import get_data
from dashboard.directive_views import DirIds
from dashboard.pages.incident import near_badge
from dashboard.shell import page_title
from i18n.labels import Lang, action_label, category_label, refusal_message, t
from i18n.timefmt import fmt_dt, remaining, utcnow

VIEW_ROLES = (Role.COMMAND, Role.LEADER, Role.ADMIN)
ACT_ROLES = (Role.COMMAND,)
REFRESH_MS = 5000
# How many of each queue show at first, the most urgent first (level, then deadline); "show more" adds as many.
SHOWN = {"verify": 9, "new": 9, "active": 20}
MAX_SHOWN = 10_000  # what a browser may ask for, at most


class Ids(StrEnum):
    QUEUES = "cmd-queues"
    MSG = "cmd-msg"
    TICK = "cmd-tick"
    MARKER = "cmd-marker"
    VERSION = "cmd-version"
    SELECTED = "cmd-selected"  # incident id chosen for rework
    SHOWN = "cmd-shown"  # how many rows of each queue are shown: {"verify": n, "new": n, "active": n}
    MORE = "cmd-more"  # pattern-matching: {"type", "queue", "to": rows to show}
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
    RESUME = "cmd-resume"
    OPEN_ACT = "cmd-open-act"  # {"type", "index", "action": transfer | assist | postpone | merge | confirm}
    # the panel of the actions that need a note (and the override of a refused closure)
    ACT_SELECTED = "cmd-act-selected"  # {"id": incident id, "action": ...}
    ACT_PANEL = "cmd-act-panel"
    ACT_TITLE = "cmd-act-title"
    ACT_MSG = "cmd-act-msg"
    ACT_TOWNSHIP_ROW = "cmd-act-township-row"
    ACT_TOWNSHIP_LABEL = "cmd-act-township-label"
    ACT_TOWNSHIP = "cmd-act-township"
    ACT_INTO_ROW = "cmd-act-into-row"
    ACT_INTO = "cmd-act-into"
    ACT_OVERRIDE_ROW = "cmd-act-override-row"
    ACT_OVERRIDE = "cmd-act-override"
    ACT_NOTE_LABEL = "cmd-act-note-label"
    ACT_NOTE = "cmd-act-note"
    ACT_SUBMIT = "cmd-act-submit"
    ACT_CANCEL = "cmd-act-cancel"


OVERRIDE = "override"  # the panel's mode after 核查结案 was refused because the sensor still breaches
PANEL_ACTIONS: dict[str, Action] = {"transfer": Action.TRANSFER, "assist": Action.ASSIST,
                                    "postpone": Action.POSTPONE, "merge": Action.MERGE,
                                    "confirm": Action.CONFIRM_AREA, OVERRIDE: Action.VERIFY}
NOTE_LABEL = {"transfer": "command.transfer_reason", "assist": "command.assist_note",
              "postpone": "command.postpone_note", "merge": "command.merge_note",
              "confirm": "command.confirm_note", OVERRIDE: "command.override_reason"}
ACTIVE = (Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS, Status.POSTPONED)


def _btn(kind: Ids, incident_id: int, label: str, css: str) -> html.Button:
    return html.Button(label, id={"type": kind, "index": incident_id}, className=f"btn {css}", n_clicks=0)


def _act_btn(incident_id: int, action: str, lang: Lang, css: str = "btn-secondary") -> html.Button:
    return html.Button(action_label(PANEL_ACTIONS[action], lang), n_clicks=0, className=f"btn btn-sm {css}",
                       id={"type": Ids.OPEN_ACT, "index": int(incident_id), "action": action})


def confirm_button(incident_id: int, lang: Lang) -> html.Button:
    """确认属地, offered while the incident is flagged near a township border."""
    return _act_btn(incident_id, "confirm", lang, "btn-primary")


def row_actions(incident_id: int, status: Status, near: bool, lang: Lang) -> list[html.Button]:
    """The buttons an open incident's row offers, by what the lifecycle allows from its status."""
    buttons = [confirm_button(incident_id, lang)] if near else []
    if status is Status.POSTPONED:
        buttons.append(_btn(Ids.RESUME, incident_id, action_label(Action.RESUME, lang), "btn-primary btn-sm"))
    if status in (Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS):
        buttons.append(_act_btn(incident_id, "transfer", lang))
    buttons.append(_act_btn(incident_id, "assist", lang))
    if status in (Status.SIGNED, Status.IN_PROGRESS):
        buttons.append(_act_btn(incident_id, "postpone", lang))
    buttons.append(_act_btn(incident_id, "merge", lang))
    return buttons


def _return_lines(ret: dict[str, Any] | None, names: dict[str, str], lang: Lang) -> html.Div | None:
    """Why a township sent the incident back (退单), and whom it suggested, above the dispatch choice."""
    if ret is None:
        return None
    details = ret.get("details") or {}
    suggested = details.get("suggested") if isinstance(details, dict) else None
    unit = names.get(ret.get("unit") or "", ret.get("unit") or "")
    sep = "：" if lang == "zh" else ": "
    parts = [html.Div(f"{t('command.returned', lang)}{sep}{ret['note']}", className="return-reason"),
             html.Div(f"{fmt_dt(ret['at'])} {unit} {ret['actor']}", className="card-meta")]
    if isinstance(suggested, str) and suggested:
        parts.append(html.Div(f"{t('command.suggested', lang)}{sep}{names.get(suggested, suggested)}",
                              className="return-suggested"))
    return html.Div(parts, className="return-note")


def _head(row: Any, names: dict[str, str], near: bool, lang: Lang) -> list[Any]:
    return [
        html.Div([level_badge(int(row.level), lang), status_chip(row.status, lang),
                  near_badge(lang) if near else None], className="card-top"),
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


def shown_rows(asked: object) -> dict[str, int]:
    """How many rows of each queue to show: what the browser asked for, within the defaults and ``MAX_SHOWN``."""
    asked = asked if isinstance(asked, dict) else {}
    shown = {}
    for queue, first in SHOWN.items():
        n = asked.get(queue)
        shown[queue] = min(max(n, first), MAX_SHOWN) if isinstance(n, int) else first
    return shown


def _more_buttons(queue: str, count: int, shown: int, lang: Lang) -> html.Div | None:
    """显示更多 under a queue longer than what is shown; 收起 once it was opened further."""
    buttons = []
    if count > shown:
        buttons.append(html.Button(t("command.more", lang, n=count - shown), n_clicks=0, className="btn btn-secondary",
                                   id={"type": Ids.MORE, "queue": queue, "to": shown + SHOWN[queue]}))
    if shown > SHOWN[queue] and count > SHOWN[queue]:
        buttons.append(html.Button(t("command.less", lang), n_clicks=0, className="btn btn-secondary",
                                   id={"type": Ids.MORE, "queue": queue, "to": SHOWN[queue]}))
    return html.Div(buttons, className="queue-more") if buttons else None


def queues(lang: Lang, can_act: bool, asked: object = None) -> list[html.Section]:
    """The three queues, each cut to the rows asked for (``shown_rows``), the most urgent first."""
    data = get_data()
    rows = data.command_queue()
    names = data.region_names()
    now = utcnow()
    limit = shown_rows(asked)
    status = rows["status"].astype(str)
    all_resolved = rows[status == Status.RESOLVED.value]
    all_new = rows[status == Status.NEW.value]
    all_active = rows[status.isin([s.value for s in ACTIVE])]
    resolved, new, active = (all_resolved.head(limit["verify"]), all_new.head(limit["new"]),
                             all_active.head(limit["active"]))
    feedback = data.latest_feedback([int(i) for i in resolved["id"]]) if len(resolved) else {}
    returns = data.latest_returns([int(i) for i in new["id"]]) if len(new) else {}
    assists = data.assist_units([int(i) for i in active["id"]]) if len(active) else {}
    near = {int(r.id) for frame in (resolved, new, active) for r in frame.itertuples() if r.near_boundary}
    townships = data.townships()
    known = {code for code, _ in townships}
    options = [{"label": f"{name}（{code}）", "value": code} for code, name in townships]

    verify_cards = [html.Div([
        *_head(r, names, r.id in near, lang), _feedback_lines(feedback.get(int(r.id)), lang),
        html.Div([_btn(Ids.VERIFY, r.id, action_label(Action.VERIFY, lang), "btn-primary"),
                  _btn(Ids.OPEN_REWORK, r.id, action_label(Action.REWORK, lang), "btn-danger"),
                  confirm_button(int(r.id), lang) if r.id in near else None],
                 className="card-actions") if can_act else None,
    ], className="card", id=f"cmd-resolved-{r.id}") for r in resolved.itertuples()]

    def suggested(incident_id: int) -> str | None:
        details = (returns.get(incident_id) or {}).get("details") or {}
        code = details.get("suggested") if isinstance(details, dict) else None
        return code if code in known else None

    new_cards = [html.Div([
        *_head(r, names, r.id in near, lang), _return_lines(returns.get(int(r.id)), names, lang),
        html.Div([
            dcc.Dropdown(options=options, id={"type": Ids.TARGET, "index": r.id}, clearable=True,
                         value=suggested(int(r.id)),  # the township's suggestion, pre-chosen
                         placeholder=t("command.choose_township", lang), className="dropdown"),
            _btn(Ids.DISPATCH, r.id, action_label(Action.DISPATCH, lang), "btn-primary"),
            confirm_button(int(r.id), lang) if r.id in near else None,
            _act_btn(int(r.id), "merge", lang),
        ], className="card-actions dispatch-row") if can_act else None,
    ], className="card", id=f"cmd-card-{r.id}") for r in new.itertuples()]

    active_rows = []
    for r in active.itertuples():
        if r.status == Status.POSTPONED.value:  # the finish clock is stopped while postponed
            left, overdue = t("command.paused", lang), False
        else:
            left, overdue = remaining(r.deadline if pd.notna(r.deadline) else None, now, lang)
        helpers = assists.get(int(r.id), [])
        unit = [names.get(r.township_code or "", r.township_code or "—")]
        if helpers:
            sep = "：" if lang == "zh" else ": "
            unit.append(html.Div(t("command.assisting", lang) + sep + "、".join(names.get(c, c) for c in helpers),
                                 className="muted small"))
        active_rows.append(html.Tr([
            html.Td(html.A(f"#{r.id}", href=f"/incident/{r.id}")),
            html.Td([r.title, " ", near_badge(lang)] if r.id in near else r.title),
            html.Td(level_badge(int(r.level), lang)), html.Td(status_chip(r.status, lang)),
            html.Td(unit),
            html.Td(left, className="overdue nowrap" if overdue else "nowrap"),
            html.Td(html.Div(row_actions(int(r.id), Status(r.status), r.id in near, lang), className="row-actions"))
            if can_act else None,
        ], id=f"cmd-row-{r.id}"))
    keys = ["col.id", "col.title", "col.level", "col.status", "col.township", "col.deadline"]
    header = html.Tr([html.Th(t(k, lang)) for k in keys + (["col.actions"] if can_act else [])])

    def section(key: str, queue: str, body: Any, count: int) -> html.Section:
        title = f"{t(key, lang)}（{count}）" if lang == "zh" else f"{t(key, lang)} ({count})"
        cut = count > limit[queue]
        return html.Section([
            html.Div([html.H2(title), html.Span(t("command.shown", lang, shown=limit[queue]), className="muted")
                      if cut else None], className="section-head"),
            body if count else html.Div(t("command.empty", lang), className="muted"),
            _more_buttons(queue, count, limit[queue], lang),
        ], className="queue", id=f"cmd-queue-{queue}")

    return [
        section("command.verify_queue", "verify", html.Div(verify_cards, className="card-grid"), len(all_resolved)),
        section("command.new_queue", "new", html.Div(new_cards, className="card-grid"), len(all_new)),
        section("command.open_queue", "active", html.Div(html.Table([html.Thead(header), html.Tbody(active_rows)],
                                                                    className="table"), className="table-wrap"),
                len(all_active)),
    ]


def action_panel(lang: Lang) -> html.Div:
    """One panel for 转派 / 协办 / 缓办 / 合并 / 确认属地 / 强制结案; ``show_act_panel`` shows the fields it needs."""
    return html.Div([
        html.H2(id=Ids.ACT_TITLE),
        html.Div(id=Ids.ACT_MSG, **{"aria-live": "assertive"}),
        html.Div([
            html.Label(id=Ids.ACT_TOWNSHIP_LABEL, htmlFor=Ids.ACT_TOWNSHIP),
            dcc.Dropdown(id=Ids.ACT_TOWNSHIP, options=[], clearable=True, className="dropdown",
                         placeholder=t("command.choose_township", lang)),
        ], id=Ids.ACT_TOWNSHIP_ROW, className="form", hidden=True),
        html.Div([
            html.Label(t("command.merge_into", lang), htmlFor=Ids.ACT_INTO),
            dcc.Input(id=Ids.ACT_INTO, type="text", inputMode="numeric", className="input input-short",
                      maxLength=20),
        ], id=Ids.ACT_INTO_ROW, className="form", hidden=True),
        html.Div(dcc.Checklist(id=Ids.ACT_OVERRIDE, value=[], className="check-row",
                               options=[{"label": t("command.override", lang), "value": OVERRIDE}]),
                 id=Ids.ACT_OVERRIDE_ROW, className="form override-row", hidden=True),
        html.Label(id=Ids.ACT_NOTE_LABEL, htmlFor=Ids.ACT_NOTE),
        dcc.Textarea(id=Ids.ACT_NOTE, className="input textarea", maxLength=2000),
        html.Div([
            html.Button(t("command.submit", lang), id=Ids.ACT_SUBMIT, className="btn btn-primary", n_clicks=0),
            html.Button(t("township.cancel", lang), id=Ids.ACT_CANCEL, className="btn btn-secondary", n_clicks=0),
        ], className="card-actions"),
    ], id=Ids.ACT_PANEL, className="card action-panel", hidden=True)


def directives_section(lang: Lang, can_act: bool) -> html.Section:
    data = get_data()
    listing = html.Div(dv.directive_list(data.recent_directives(), data.region_names(), utcnow(), lang),
                       id=DirIds.LIST, className="card-list")
    body = html.Div([dv.form(data.township_choices(), lang), listing], className="directive-grid") if can_act \
        else listing
    return html.Section([html.H2(t("directive.title", lang)), body,
                         dcc.Store(id=DirIds.MARKER, data=data.directive_marker()),
                         dcc.Store(id=DirIds.VERSION, data=0)], className="queue directives")


def rework_panel(lang: Lang) -> html.Div:
    """返工 with its reason, opened from a card of the verify queue."""
    return html.Div([
        html.H2(id=Ids.REWORK_TITLE),
        html.Label(t("command.rework_reason", lang), htmlFor=Ids.REWORK_REASON),
        dcc.Textarea(id=Ids.REWORK_REASON, className="input textarea", maxLength=2000),
        html.Div([
            html.Button(action_label(Action.REWORK, lang), id=Ids.REWORK_SUBMIT, className="btn btn-danger",
                        n_clicks=0),
            html.Button(t("township.cancel", lang), id=Ids.REWORK_CANCEL, className="btn btn-secondary",
                        n_clicks=0),
        ], className="card-actions"),
    ], id=Ids.REWORK_PANEL, className="card action-panel", hidden=True)


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if isinstance(user, html.Div):
        return user
    can_act = user.role in ACT_ROLES
    return html.Div([
        html.H1(t("command.title", lang)),
        None if can_act else message(t("command.read_only", lang)),
        html.Div(id=Ids.MSG, className="msg-area", **{"aria-live": "polite"}),
        html.Div([
            html.Div([
                rework_panel(lang),
                action_panel(lang),  # hidden; present for every role so its callbacks always have their outputs
                html.Div(queues(lang, can_act), id=Ids.QUEUES),
            ], className="command-main"),
            # beside the queues on a wide screen, under them on a narrow one
            html.Aside(directives_section(lang, can_act), className="command-side"),
        ], className="command-layout"),
        dcc.Store(id=Ids.MARKER, data=get_data().change_marker()),
        dcc.Store(id=Ids.SHOWN, data=SHOWN),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.SELECTED),
        dcc.Store(id=Ids.ACT_SELECTED),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light page-wide command")


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/command", title=page_title("nav.command"), order=2, layout=layout)


@callback(
    Output(Ids.QUEUES, "children"),
    Output(Ids.MARKER, "data"),
    Output(Ids.SHOWN, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(Ids.VERSION, "data"),
    Input({"type": Ids.MORE, "queue": ALL, "to": ALL}, "n_clicks"),
    State(Ids.MARKER, "data"),
    State(Ids.SHOWN, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, _version: int | None, _more: list[int | None], marker: str | None,
            asked: object) -> tuple[Any, Any, Any]:
    """Re-draw the queues when the incidents changed, after an action, or for 显示更多 / 收起 (one queue longer)."""
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if isinstance(user, html.Div):
        return user, no_update, no_update
    shown, tid = shown_rows(asked), ctx.triggered_id
    if isinstance(tid, dict):
        rows = clicked("to")
        if rows is None or tid.get("queue") not in SHOWN:
            raise PreventUpdate  # the buttons were re-drawn, not clicked
        shown = shown_rows(shown | {tid["queue"]: rows})
    new_marker = get_data().change_marker()
    if new_marker == marker and tid == Ids.TICK:
        raise PreventUpdate  # nothing changed: keep the user's half-made dropdown choices
    return queues(lang, user.role in ACT_ROLES, shown), new_marker, shown


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Input({"type": Ids.VERIFY, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def verify(_clicks: list[int | None], version: int | None) -> tuple[Any, Any, Any]:
    """核查结案; refused because the sensor still breaches, it opens the override (强制结案) form."""
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    outcome = perform(incident_id, Action.VERIFY, ACT_ROLES)
    override = {"id": incident_id, "action": OVERRIDE} if outcome.refusal is Refusal.SENSOR_STILL_BREACHING \
        else no_update
    return outcome_message(outcome), bump(version), override


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
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    target = target_for(incident_id, ctx.states_list[0])
    lang = auth.current_lang()
    if target is None:
        return message(t("err.choose_township", lang), "error"), no_update
    if target not in dict(get_data().townships()):
        return message(t("err.choose_township", lang), "error"), no_update  # not a township of the active layer
    outcome = perform(incident_id, Action.DISPATCH, ACT_ROLES, township_code=target)
    return outcome_message(outcome), bump(version)


@callback(
    Output(Ids.SELECTED, "data"),
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Input({"type": Ids.OPEN_REWORK, "index": ALL}, "n_clicks"),
    Input(Ids.REWORK_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select_rework(_clicks: list[int | None], _cancel: int | None) -> tuple[int | None, Any]:
    """Open the rework form (and close the other panel: one form at a time)."""
    if ctx.triggered_id == Ids.REWORK_CANCEL:
        return None, no_update
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    return incident_id, None


scroll_into_view(Ids.REWORK_PANEL)


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
        return message(outcome.text, "error"), bump(version), no_update, no_update
    return message(outcome.text, "ok"), bump(version), None, ""


# -- 转派 / 协办 / 缓办 / 恢复办理 / 合并 / 确认属地 / 强制结案 --

@callback(
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Output(Ids.MSG, "children", allow_duplicate=True),
    Input({"type": Ids.OPEN_ACT, "index": ALL, "action": ALL}, "n_clicks"),
    Input(Ids.ACT_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def select_act(_clicks: list[int | None], _cancel: int | None) -> tuple[Any, Any, Any]:
    """Open the form of the clicked action (closing the rework form and the last, now stale, message)."""
    if ctx.triggered_id == Ids.ACT_CANCEL:
        return None, no_update, no_update
    incident_id = clicked()
    tid = ctx.triggered_id
    action = tid.get("action") if isinstance(tid, dict) else None
    if incident_id is None or action not in PANEL_ACTIONS or action == OVERRIDE:
        raise PreventUpdate
    return {"id": incident_id, "action": action}, None, None


scroll_into_view(Ids.ACT_PANEL)


@callback(
    Output(Ids.ACT_PANEL, "hidden"),
    Output(Ids.ACT_TITLE, "children"),
    Output(Ids.ACT_TOWNSHIP_ROW, "hidden"),
    Output(Ids.ACT_TOWNSHIP_LABEL, "children"),
    Output(Ids.ACT_TOWNSHIP, "options"),
    Output(Ids.ACT_TOWNSHIP, "value"),
    Output(Ids.ACT_INTO_ROW, "hidden"),
    Output(Ids.ACT_INTO, "value"),
    Output(Ids.ACT_OVERRIDE_ROW, "hidden"),
    Output(Ids.ACT_OVERRIDE, "value"),
    Output(Ids.ACT_NOTE_LABEL, "children"),
    Output(Ids.ACT_NOTE, "value"),
    Output(Ids.ACT_MSG, "children"),
    Input(Ids.ACT_SELECTED, "data"),
    prevent_initial_call=True,
)
def show_act_panel(selected: dict[str, Any] | None) -> tuple[Any, ...]:
    """Show the chosen action's fields, empty; the township choices leave out the current unit."""
    action = selected.get("action") if isinstance(selected, dict) else None
    if action not in PANEL_ACTIONS:
        return True, "", True, "", [], None, True, "", True, [], "", "", None
    lang = auth.current_lang()
    incident_id = selected.get("id") if isinstance(selected, dict) else None
    title_action = t("command.override_title", lang) if action == OVERRIDE else action_label(PANEL_ACTIONS[action],
                                                                                              lang)
    needs_township = action in ("transfer", "assist")
    options: list[dict[str, str]] = []
    if needs_township and isinstance(incident_id, int):
        incident = get_data().incident(incident_id)
        current = incident["township_code"] if incident else None
        options = [{"label": f"{name}（{code}）", "value": code} for code, name in get_data().townships()
                   if code != current]
    township_label = t("command.transfer_to" if action == "transfer" else "command.assist_with", lang)
    return (False, f"{title_action} · #{incident_id}", not needs_township, township_label, options, None,
            action != "merge", "", action != OVERRIDE, [], t(NOTE_LABEL[action], lang), "", None)


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.ACT_MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.ACT_SELECTED, "data", allow_duplicate=True),
    Input(Ids.ACT_SUBMIT, "n_clicks"),
    State(Ids.ACT_SELECTED, "data"),
    State(Ids.ACT_TOWNSHIP, "value"),
    State(Ids.ACT_INTO, "value"),
    State(Ids.ACT_OVERRIDE, "value"),
    State(Ids.ACT_NOTE, "value"),
    State(Ids.VERSION, "data"),
    running=[(Output(Ids.ACT_SUBMIT, "disabled"), True, False)],  # no second click while the first runs
    prevent_initial_call=True,
)
def submit_act(n: int | None, selected: dict[str, Any] | None, township: str | None, into: object,
               override: list[str] | None, note: str | None, version: int | None) -> tuple[Any, ...]:
    """Errors stay in the form; success closes it and reports above the queues.

    A repeated submit is refused by the lifecycle (the status moved on, the unit is the
    same, the township already assists, the area is confirmed already), never applied twice.
    """
    if not n or not isinstance(selected, dict):
        raise PreventUpdate
    lang = auth.current_lang()

    def form_error(text: str) -> tuple[Any, ...]:
        return no_update, message(text, "error"), no_update, no_update

    try:
        auth.require(*ACT_ROLES)
    except auth.Denied as exc:
        return form_error(t(exc.key, lang))
    incident_id, mode = selected.get("id"), selected.get("action")
    if mode not in PANEL_ACTIONS:
        return form_error(t("command.choose_action", lang))
    action, note = PANEL_ACTIONS[mode], note or ""

    kwargs: dict[str, Any] = {"note": note}
    if mode in ("transfer", "assist"):
        if not isinstance(township, str) or township not in dict(get_data().townships()):
            return form_error(refusal_message(Refusal.TARGET_REQUIRED, action, lang))
        kwargs["township_code"] = township
    elif mode == "merge":
        try:
            kwargs["details"] = {"into": parse_incident_ref(into)}
        except InvalidInput as exc:
            return form_error(t(exc.key, lang))
    elif mode == OVERRIDE:
        if OVERRIDE not in (override or []):
            return form_error(t("err.override_check", lang))
        if not note.strip():
            return form_error(t("err.override_reason", lang))
        kwargs["details"] = {"override": True}
    outcome = perform(incident_id, action, ACT_ROLES, **kwargs)
    if not outcome.ok:
        return no_update, message(outcome.text, "error"), bump(version), no_update
    return message(outcome.text, "ok"), None, bump(version), None


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.RESUME, "index": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def resume(_clicks: list[int | None], version: int | None) -> tuple[Any, Any]:
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    outcome = perform(incident_id, Action.RESUME, ACT_ROLES)
    return outcome_message(outcome), bump(version)


# -- 政令一键智达 --

@callback(Output(DirIds.PICK, "hidden"), Input(DirIds.SCOPE, "value"), prevent_initial_call=True)
def directive_scope(scope: str | None) -> bool:
    return scope != dv.SCOPE_SOME


@callback(
    Output(DirIds.MSG, "children"),
    Output(DirIds.VERSION, "data"),
    Output(DirIds.TITLE, "value"),
    Output(DirIds.BODY, "value"),
    Output(DirIds.TOWNSHIPS, "value"),
    Output(DirIds.DISTRICTS, "value"),
    Input(DirIds.SUBMIT, "n_clicks"),
    State(DirIds.TITLE, "value"),
    State(DirIds.BODY, "value"),
    State(DirIds.SCOPE, "value"),
    State(DirIds.DISTRICTS, "value"),
    State(DirIds.TOWNSHIPS, "value"),
    State(DirIds.MINUTES, "value"),
    State(DirIds.VERSION, "data"),
    running=[(Output(DirIds.SUBMIT, "disabled"), True, False)],
    prevent_initial_call=True,
)
def submit_directive(n: int | None, title: str | None, body: str | None, scope: str | None,
                     districts: list[str] | None, townships: list[str] | None, minutes: object,
                     version: int | None) -> tuple[Any, ...]:
    """Send a directive; the server re-checks the role, the townships and the window, and refuses a resend."""
    if not n:
        raise PreventUpdate
    lang = auth.current_lang()
    try:
        auth.require(*ACT_ROLES)
    except auth.Denied as exc:
        return (message(t(exc.key, lang), "error"), *(no_update,) * 5)
    targets = dv.targets_of(scope, districts, townships, get_data().township_choices())
    outcome = issue_directive(title=title, body=body, townships=targets, minutes=minutes)
    if not outcome.ok:
        return (message(outcome.text, "error"), *(no_update,) * 5)
    return message(outcome.text, "ok"), bump(version), "", "", [], []


@callback(
    Output(DirIds.LIST, "children"),
    Output(DirIds.MARKER, "data"),
    Input(Ids.TICK, "n_intervals"),
    Input(DirIds.VERSION, "data"),
    State(DirIds.MARKER, "data"),
    prevent_initial_call=True,
)
def refresh_directives(_n: int | None, _version: int | None, marker: str | None) -> tuple[Any, Any]:
    """Who has acknowledged, re-read when a directive was sent, acknowledged or its laggards reminded."""
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if isinstance(user, html.Div):
        return user, no_update
    data = get_data()
    new_marker = data.directive_marker()
    if new_marker == marker and ctx.triggered_id == Ids.TICK:
        raise PreventUpdate
    return dv.directive_list(data.recent_directives(), data.region_names(), utcnow(), lang), new_marker
