"""The 值班指挥 page as components, from what ``load`` read: the three queues (待核查 cards, 待分拨 cards,
the 办理中 table), each cut to what was asked for with 显示更多 / 收起 under it, and the directives column."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from alerts.deadlines import waiting_on
from alerts.lifecycle import Action, Role, offered
from alerts.status import Status
from dashboard import directive_views as dv
from dashboard.components import aria, level_badge, message, status_chip
from dashboard.directive_views import DirIds
from dashboard.widgets import QueueRow, incident_button, near_badge, township_options
from i18n.labels import Lang, action_label, category_label, t
from i18n.timefmt import fmt_dt, remaining

from .ids import Ids
from .load import SHOWN, Directives, Note, Page, Queue, Queues, Reported
from .panels import PANEL_ACTIONS, action_panel, rework_panel

REFRESH_MS = 5000
TABLE_KEYS = ("col.id", "col.title", "col.level", "col.status", "col.township", "col.deadline")


def _act_btn(incident_id: int, action: str, lang: Lang, css: str = "btn-secondary") -> html.Button:
    return html.Button(action_label(PANEL_ACTIONS[action], lang), n_clicks=0, className=f"btn btn-sm {css}",
                       id={"type": Ids.OPEN_ACT, "index": incident_id, "action": action})


def confirm_button(incident_id: int, lang: Lang) -> html.Button:
    """确认属地, offered while the incident is flagged near a township border."""
    return _act_btn(incident_id, "confirm", lang, "btn-primary")


# The row's moves that open the action panel, in this order, where the lifecycle allows them.
ROW_ACTIONS = (Action.TRANSFER, Action.ASSIST, Action.POSTPONE, Action.MERGE)


def row_actions(incident_id: int, status: Status, near: bool, lang: Lang) -> list[html.Button]:
    """The buttons an open incident's row offers, by what the lifecycle allows from its status."""
    buttons = [confirm_button(incident_id, lang)] if near else []
    allowed = offered(status, Role.COMMAND)
    if Action.RESUME in allowed:
        buttons.append(incident_button(Ids.RESUME, incident_id, action_label(Action.RESUME, lang),
                                       "btn-primary btn-sm"))
    buttons += [_act_btn(incident_id, a.value, lang) for a in ROW_ACTIONS if a in allowed]
    return buttons


def _unit(code: str | None, names: dict[str, str]) -> str:
    return names.get(code or "", code or "—")


def _return_lines(ret: Note | None, names: dict[str, str], lang: Lang) -> html.Div | None:
    """Why a township sent the incident back (退单), and whom it suggested, above the dispatch choice."""
    if ret is None:
        return None
    suggested = ret.details.get("suggested")
    unit = names.get(ret.unit or "", ret.unit or "")
    sep = "：" if lang == "zh" else ": "
    parts = [html.Div(f"{t('command.returned', lang)}{sep}{ret.note}", className="return-reason"),
             html.Div(f"{fmt_dt(ret.at)} {unit} {ret.actor}", className="card-meta")]
    if isinstance(suggested, str) and suggested:
        parts.append(html.Div(f"{t('command.suggested', lang)}{sep}{names.get(suggested, suggested)}",
                              className="return-suggested"))
    return html.Div(parts, className="return-note")


def _feedback_lines(fb: Note | None, lang: Lang) -> html.Div | None:
    if fb is None:
        return None
    extra = f" · {t('details.people_evacuated', lang)} {fb.details['people_evacuated']}" \
        if "people_evacuated" in fb.details else ""
    return html.Div(f"{fmt_dt(fb.at)} {fb.actor}：{fb.note}{extra}", className="feedback-note")


def escalation_badge(to: str | None, lang: Lang) -> html.Span | None:
    """升级督办's mark: whom the escalation reached (the desk it reached lists it first)."""
    return html.Span(t(f"escalation.{to}", lang), className=f"badge badge-escalated escalated-{to}") if to else None


def _head(row: QueueRow, names: dict[str, str], lang: Lang, escalated: str | None = None) -> list[Any]:
    return [
        html.Div([level_badge(row.level, lang), status_chip(row.status, lang), near_badge(lang) if row.near else None,
                  escalation_badge(escalated, lang)], className="card-top"),
        html.Div(html.A(f"#{row.id} {row.title}", href=f"/incident/{row.id}"), className="card-title"),
        html.Div(" · ".join([category_label(row.category, lang), _unit(row.township_code, names),
                             fmt_dt(row.created_at)]), className="card-meta"),
    ]


def _verify_card(row: QueueRow, q: Queues, lang: Lang, can_act: bool) -> html.Div:
    return html.Div([
        *_head(row, q.names, lang, q.escalated.get(row.id)), _feedback_lines(q.feedback.get(row.id), lang),
        html.Div([dcc.Dropdown(options=[{"label": c.label(lang), "value": c.id} for c in q.root_causes],
                               id={"type": Ids.ROOT_CAUSE, "index": row.id}, clearable=True, className="dropdown",
                               placeholder=t("rootcause.choose", lang)),
                  incident_button(Ids.VERIFY, row.id, action_label(Action.VERIFY, lang), "btn-primary"),
                  incident_button(Ids.OPEN_REWORK, row.id, action_label(Action.REWORK, lang), "btn-danger"),
                  confirm_button(row.id, lang) if row.near else None],
                 className="card-actions verify-row") if can_act else None,
    ], className="card", id=f"cmd-resolved-{row.id}")


def _reported_card(rep: Reported, q: Queues, lang: Lang, can_act: bool) -> html.Div:
    """A grid report (待受理): who reported what, a likely duplicate marked, and 受理立案 / 不予立案 / 合并."""
    row, sep = rep.row, "：" if lang == "zh" else ": "
    return html.Div([
        *_head(row, q.names, lang, rep.escalated),
        html.Div(f"{t('command.reporter', lang)}{sep}{rep.reporter}", className="card-meta"),
        html.Div(f"{t('command.duplicate', lang)}{sep}" + "、".join(f"#{i}" for i in rep.duplicates),
                 className="msg msg-error likely-duplicate") if rep.duplicates else None,
        html.Div([incident_button(Ids.ACCEPT, row.id, action_label(Action.ACCEPT, lang), "btn-primary"),
                  _act_btn(row.id, "decline", lang, "btn-danger"), _act_btn(row.id, "merge", lang)],
                 className="card-actions") if can_act else None,
    ], className="card", id=f"cmd-reported-{row.id}")


def _new_card(row: QueueRow, q: Queues, lang: Lang, can_act: bool) -> html.Div:
    ret = q.returns.get(row.id)
    suggested = ret.details.get("suggested") if ret else None
    known = {code for code, _ in q.townships}
    return html.Div([
        *_head(row, q.names, lang, q.escalated.get(row.id)), _return_lines(ret, q.names, lang),
        html.Div([
            dcc.Dropdown(options=township_options(q.townships), id={"type": Ids.TARGET, "index": row.id},
                         clearable=True, value=suggested if suggested in known else None,  # the township's suggestion
                         placeholder=t("command.choose_township", lang), className="dropdown"),
            incident_button(Ids.DISPATCH, row.id, action_label(Action.DISPATCH, lang), "btn-primary"),
            confirm_button(row.id, lang) if row.near else None,
            _act_btn(row.id, "merge", lang),
        ], className="card-actions dispatch-row") if can_act else None,
    ], className="card", id=f"cmd-card-{row.id}")


def _active_row(row: QueueRow, q: Queues, lang: Lang, can_act: bool) -> html.Tr:
    if waiting_on(row.status) is None:  # 缓办: the finish clock is stopped
        left, overdue = t("command.paused", lang), False
    else:
        left, overdue = remaining(row.deadline, q.now, lang)
    helpers = q.assists.get(row.id, [])
    unit: list[Any] = [_unit(row.township_code, q.names)]
    if helpers:
        sep = "：" if lang == "zh" else ": "
        unit.append(html.Div(t("command.assisting", lang) + sep + "、".join(q.names.get(c, c) for c in helpers),
                             className="muted small"))
    return html.Tr([
        html.Td(html.A(f"#{row.id}", href=f"/incident/{row.id}")),
        html.Td([row.title, " ", near_badge(lang) if row.near else None, " ",
                 escalation_badge(q.escalated.get(row.id), lang)]),
        html.Td(level_badge(row.level, lang)), html.Td(status_chip(row.status, lang)),
        html.Td(unit),
        html.Td(left, className="overdue nowrap" if overdue else "nowrap"),
        html.Td(html.Div(row_actions(row.id, row.status, row.near, lang), className="row-actions"))
        if can_act else None,
    ], id=f"cmd-row-{row.id}")


def _more_buttons(queue: Queue, lang: Lang) -> html.Div | None:
    """显示更多 under a queue longer than what is shown; 收起 once it was opened further."""
    if queue.key not in SHOWN:
        return None  # a queue shown whole (待受理)
    step, buttons = SHOWN[queue.key], []
    if queue.count > queue.shown:
        buttons.append(html.Button(t("command.more", lang, n=queue.count - queue.shown), n_clicks=0,
                                   className="btn btn-secondary",
                                   id={"type": Ids.MORE, "queue": queue.key, "to": queue.shown + step}))
    if queue.shown > step and queue.count > step:
        buttons.append(html.Button(t("command.less", lang), n_clicks=0, className="btn btn-secondary",
                                   id={"type": Ids.MORE, "queue": queue.key, "to": step}))
    return html.Div(buttons, className="queue-more") if buttons else None


def _section(key: str, queue: Queue, body: Any, lang: Lang) -> html.Section:
    title = f"{t(key, lang)}（{queue.count}）" if lang == "zh" else f"{t(key, lang)} ({queue.count})"
    return html.Section([
        html.Div([html.H2(title), html.Span(t("command.shown", lang, shown=queue.shown), className="muted")
                  if queue.count > queue.shown else None], className="section-head"),
        body if queue.count else html.Div(t("command.empty", lang), className="muted"),
        _more_buttons(queue, lang),
    ], className="queue", id=f"cmd-queue-{queue.key}")


def queues(q: Queues, lang: Lang, can_act: bool) -> list[html.Section]:
    """The grid reports waiting (when there are any), then the three queues, the most urgent first; the
    buttons only for a role that may act."""
    header = html.Tr([html.Th(t(k, lang)) for k in TABLE_KEYS + (("col.actions",) if can_act else ())])
    active = html.Table([html.Thead(header), html.Tbody([_active_row(r, q, lang, can_act) for r in q.active.rows])],
                        className="table")
    waiting = Queue("reported", (), len(q.reported), len(q.reported))
    return [
        *([_section("command.reported_queue", waiting, html.Div([_reported_card(r, q, lang, can_act)
                                                                 for r in q.reported], className="card-grid"),
                    lang)] if q.reported else []),
        _section("command.verify_queue", q.verify,
                 html.Div([_verify_card(r, q, lang, can_act) for r in q.verify.rows], className="card-grid"), lang),
        _section("command.new_queue", q.new,
                 html.Div([_new_card(r, q, lang, can_act) for r in q.new.rows], className="card-grid"), lang),
        _section("command.open_queue", q.active, html.Div(active, className="table-wrap"), lang),
    ]


def directive_list(d: Directives, lang: Lang) -> Any:
    return dv.directive_list(d.rows, d.names, d.now, lang)


def _directives_section(page: Page, lang: Lang, can_issue: bool) -> html.Section:
    listing = html.Div(directive_list(page.directives, lang), id=DirIds.LIST, className="card-list")
    body = html.Div([dv.form(page.choices, lang), listing], className="directive-grid") if can_issue else listing
    return html.Section([html.H2(t("directive.title", lang)), body,
                         dcc.Store(id=DirIds.MARKER, data=page.directive_marker),
                         dcc.Store(id=DirIds.VERSION, data=0)], className="queue directives")


def page(p: Page, lang: Lang, can_act: bool, can_issue: bool | None = None) -> html.Div:
    return html.Div([
        html.H1(t("command.title", lang)),
        None if can_act else message(t("command.read_only", lang)),
        html.Div(id=Ids.MSG, className="msg-area", **aria(live="polite")),
        html.Div([
            html.Div([
                rework_panel(lang),
                action_panel(lang),  # hidden; present for every role so its callbacks always have their outputs
                html.Div(queues(p.queues, lang, can_act), id=Ids.QUEUES),
            ], className="command-main"),
            # beside the queues on a wide screen, under them on a narrow one
            html.Aside(_directives_section(p, lang, can_act if can_issue is None else can_issue),
                       className="command-side"),
        ], className="command-layout"),
        dcc.Store(id=Ids.MARKER, data=p.marker),
        dcc.Store(id=Ids.SHOWN, data=SHOWN),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.SELECTED),
        dcc.Store(id=Ids.ACT_SELECTED),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light page-wide command")
