"""The 问题清单 page as components: the problems (root cause, where, owner, status, deadline), one problem's
timeline from its log with its incidents and watch rules, and the forms of its loop (整改报告 for the owner
unit; 验收通过 / 验收退回 and 转预警预防 for a desk). ``problem_table`` is the leader page's list too."""

from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from alerts.lifecycle import DESK_ROLES, UNIT_ROLES, Role
from alerts.problems import ProblemRow
from alerts.rectification import RAction, RStatus
from dashboard.components import aria
from i18n.labels import Lang, category_label, level_label, role_label, t
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import Detail, Listing

HEAD = ("rect.col.id", "rect.col.cause", "rect.col.scope", "rect.col.owner", "rect.col.status", "rect.col.deadline",
        "rect.col.incidents")


def where(row: ProblemRow, names: dict[str, str], lang: Lang) -> str:
    """网格 <name> or 类别 <category>."""
    code = names.get(row.scope_code, row.scope_code) if row.scope == "grid" else category_label(row.scope_code, lang)
    return f"{t(f'rect.scope.{row.scope}', lang)} {code}"


def deadline_cell(row: ProblemRow, now: datetime, lang: Lang) -> html.Td:
    late = row.status != RStatus.ACCEPTED and now > row.deadline
    return html.Td([fmt_dt(row.deadline), html.Span(f" {t('rect.overdue', lang)}", className="overdue") if late
                    else None], className="overdue-cell" if late else None)


def problem_table(ls: Listing, now: datetime, lang: Lang, table_id: str) -> html.Div:
    if not ls.rows:
        return html.Div(t("rect.empty", lang), className="muted empty-small", id=table_id)
    body = [html.Tr([
        html.Td(f"#{r.id}"),
        html.Td(ls.causes[r.root_cause_id].label(lang) if r.root_cause_id in ls.causes else str(r.root_cause_id)),
        html.Td(where(r, ls.names, lang)), html.Td(ls.names.get(r.owner_unit, r.owner_unit)),
        html.Td(t(f"rect.status.{r.status}", lang)), deadline_cell(r, now, lang), html.Td(str(len(r.incident_ids))),
    ], id=f"rect-row-{r.id}") for r in ls.rows]
    return html.Div(html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in HEAD])), html.Tbody(body)],
                               className="table table-compact"), id=table_id)


def choices(ls: Listing, lang: Lang) -> list[dict[str, object]]:
    return [{"label": f"#{r.id} {where(r, ls.names, lang)} · {t(f'rect.status.{r.status}', lang)}", "value": r.id}
            for r in ls.rows]


def _timeline(d: Detail, names: dict[str, str], lang: Lang) -> html.Ol:
    items = []
    for e in d.log:
        who = f"{names.get(e.unit or '', e.unit or '')} {e.actor}".strip() if e.role is not Role.SYSTEM else ""
        items.append(html.Li([
            html.Span(fmt_dt(e.at), className="tl-time"), " ",
            html.Strong(t(f"rect.action.{e.action.value}", lang)), " ",
            html.Span(f"{role_label(e.role, lang)} {who}".strip(), className="muted"), " → ",
            html.Span(t(f"rect.status.{e.to_status.value}", lang), className="chip"),
            html.Div(e.note, className="tl-note") if e.note else None,
        ], className="tl-item"))
    return html.Ol(items, className="timeline", id="rect-timeline")


def _watch_lines(d: Detail, lang: Lang) -> list[html.Li]:
    return [html.Li(t("rect.watch_line", lang, rule=w.rule_id, grid=w.grid_code, until=fmt_dt(w.ends_at),
                      levels="、".join(f"{level_label(lt.level, lang)} ≥ {lt.at_least:g}" for lt in w.levels)))
            for w in d.watches]


def _forms(d: Detail, role: Role, lang: Lang) -> list[html.Div]:
    status, pid = RStatus(d.row.status), d.row.id
    forms = []
    if status is not RStatus.ACCEPTED and (role in UNIT_ROLES or role in DESK_ROLES):
        label = "rect.report_note" if role in UNIT_ROLES else "rect.return_note"
        moves = [(RAction.REPORT, "btn-primary")] if role in UNIT_ROLES else [(RAction.ACCEPT, "btn-primary"),
                                                                               (RAction.RETURN, "btn-danger")]
        buttons = [html.Button(t(f"rect.action.{a.value}", lang), id={"type": Ids.MOVE, "action": a.value, "pid": pid},
                               n_clicks=0, className=f"btn {css}") for a, css in moves]
        forms.append(html.Div([html.Label(t(label, lang)),
                               dcc.Textarea(id={"type": Ids.NOTE, "pid": pid}, className="input textarea",
                                            maxLength=2000),
                               html.Div(buttons, className="card-actions")], className="form"))
    if status is not RStatus.ACCEPTED and role in DESK_ROLES and d.row.scope == "grid":
        forms.append(html.Div([
            html.H3(t("rect.action.watch", lang)),
            html.Label(t("rect.watch_rule", lang)),
            dcc.Dropdown(id={"type": Ids.WATCH_RULE, "pid": pid}, className="dropdown",
                         options=[{"label": f"{r.name} ({r.id})", "value": r.id} for r in d.rules]),
            html.Label(t("rect.watch_factor", lang)),
            dcc.Input(id={"type": Ids.WATCH_FACTOR, "pid": pid}, type="text", value="0.8", maxLength=6,
                      className="input input-short"),
            html.Label(t("rect.watch_days", lang)),
            dcc.Input(id={"type": Ids.WATCH_DAYS, "pid": pid}, type="text", value="90", maxLength=4,
                      className="input input-short"),
            html.Label(t("rect.watch_note", lang)),
            dcc.Textarea(id={"type": Ids.WATCH_NOTE, "pid": pid}, className="input textarea", maxLength=2000),
            html.Div(html.Button(t("rect.action.watch", lang), id={"type": Ids.WATCH, "pid": pid}, n_clicks=0,
                                 className="btn btn-primary"), className="card-actions"),
        ], className="form watch-form"))
    return forms


def detail(d: Detail, names: dict[str, str], role: Role, lang: Lang) -> html.Div:
    sep = "：" if lang == "zh" else ": "
    incidents = [html.A(f"#{i}", href=f"/incident/{i}", className="btn btn-sm btn-secondary incident-link")
                 for i in d.row.incident_ids]
    return html.Div([
        html.H2(f"#{d.row.id} {where(d.row, names, lang)} · {t(f'rect.status.{d.row.status}', lang)}"),
        html.Div(f"{t('rect.col.owner', lang)}{sep}{names.get(d.row.owner_unit, d.row.owner_unit)} · "
                 f"{t('rect.col.deadline', lang)}{sep}{fmt_dt(d.row.deadline)}", className="card-meta"),
        html.H3(t("rect.incidents", lang)), html.Div(incidents, className="incident-links"),
        html.H3(t("rect.timeline", lang)), _timeline(d, names, lang),
        html.H3(t("rect.watches", lang)) if d.watches else None,
        html.Ul(_watch_lines(d, lang)) if d.watches else None,
        *_forms(d, role, lang),
    ], className="card panel", id="rect-problem")


def page(ls: Listing, now: datetime, lang: Lang) -> html.Div:
    return html.Div([
        html.H1(t("rect.title", lang)),
        html.Div(id=Ids.MSG, **aria(live="polite")),
        html.Section(problem_table(ls, now, lang, Ids.LIST), className="card panel"),
        html.Label(t("rect.choose", lang), htmlFor=Ids.CHOOSE),
        dcc.Dropdown(id=Ids.CHOOSE, options=choices(ls, lang), className="dropdown", clearable=True),
        html.Div(id=Ids.DETAIL),
        dcc.Store(id=Ids.VERSION, data=0),
    ], className="page page-light page-wide rectification")
