"""The 考核 page as components: the filter bar, the ranking (each header with its definition, each figure
a button that opens the incidents behind it), that list, and the sheets of the Excel export. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import dcc, html

from alerts.assessment import Figures, Ranked
from dashboard import figures as chart
from dashboard.components import aria, level_badge, status_chip
from dashboard.excel import Sheet
from dashboard.widgets import band_chip
from i18n.labels import Lang, category_label, level_label, status_label, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import KINDS, Assessment, DrillRow, period_label


def _pct(rate: float | None) -> str:
    return fmt_pct(None if rate is None else 100 * rate)


def _minutes(median: float | None, p90: float | None) -> str:
    return "—" if median is None or p90 is None else f"{median:,.0f} / {p90:,.0f}"


def moved(value: int | None) -> str:
    if value is None:
        return "—"
    return f"↑{value}" if value > 0 else f"↓{-value}" if value < 0 else "–"


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # assess.col.<key>, its definition assess.def.<key> when there is one
    text: Callable[[Ranked], str]
    number: Callable[[Ranked], float | int | None]  # as the Excel cell holds it
    drill: str | None = None  # the figure whose incidents a click lists
    defined: bool = True


def _f(get: Callable[[Figures], Any]) -> Callable[[Ranked], Any]:
    return lambda r: get(r.figures)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


COLUMNS: tuple[Column, ...] = (
    Column("score", lambda r: "—" if r.score is None else f"{r.score:.1f}", lambda r: r.score),
    Column("sign_rate", _f(lambda f: _pct(f.sign_rate)), _f(lambda f: _round(f.sign_rate, 4)), "dispatched"),
    Column("on_time_rate", _f(lambda f: _pct(f.on_time_rate)), _f(lambda f: _round(f.on_time_rate, 4)), "due"),
    Column("close_rate", _f(lambda f: _pct(f.close_rate)), _f(lambda f: _round(f.close_rate, 4)), "closed"),
    Column("rework_rate", _f(lambda f: _pct(f.rework_rate)), _f(lambda f: _round(f.rework_rate, 4)), "reworked"),
    Column("return_rate", _f(lambda f: _pct(f.return_rate)), _f(lambda f: _round(f.return_rate, 4)), "returned"),
    Column("emergency_rate", _f(lambda f: _pct(f.emergency_rate)), _f(lambda f: _round(f.emergency_rate, 4))),
    Column("routine_rate", _f(lambda f: _pct(f.routine_rate)), _f(lambda f: _round(f.routine_rate, 4))),
    Column("sign_time", _f(lambda f: _minutes(f.sign_median(), f.sign_p90())), _f(lambda f: _round(f.sign_median()))),
    Column("handle_time", _f(lambda f: _minutes(f.handle_median(), f.handle_p90())),
           _f(lambda f: _round(f.handle_median()))),
    Column("dispatched", _f(lambda f: fmt_int(f.dispatched)), _f(lambda f: f.dispatched), "dispatched", False),
    Column("due", _f(lambda f: fmt_int(f.due)), _f(lambda f: f.due), "due", False),
    Column("postponed", _f(lambda f: fmt_int(f.postponed)), _f(lambda f: f.postponed), "postponed", False),
    Column("returned_wrongly", _f(lambda f: fmt_int(f.returned_wrongly)), _f(lambda f: f.returned_wrongly),
           "returned_wrongly", False),
    Column("reworked_thrice", _f(lambda f: fmt_int(f.reworked_thrice)), _f(lambda f: f.reworked_thrice),
           "reworked_thrice", False),
)


def _header(key: str, lang: Lang, defined: bool = True) -> html.Th:
    title = t(f"assess.def.{key}", lang) if defined else None
    return html.Th(t(f"assess.col.{key}", lang), title=title, className="has-def" if title else None)


def _cell(r: Ranked, c: Column) -> html.Td:
    text = c.text(r)
    if c.drill is None or not r.figures.incidents.get(c.drill):  # nothing behind it: no list to open
        return html.Td(text, className="num")
    # the column in the id too: two columns can open the same list (派遣数 and 按期签收率), and ids are unique
    return html.Td(html.Button(text, id={"type": Ids.CELL, "unit": r.figures.unit, "figure": c.drill, "column": c.key},
                               className="link-button", n_clicks=0), className="num")


def ranking(a: Assessment, lang: Lang) -> html.Div:
    head = [_header("rank", lang, False), _header("moved", lang), _header("unit", lang, False),
            *(_header(c.key, lang, c.defined) for c in COLUMNS[:1]), _header("band", lang),
            *(_header(c.key, lang, c.defined) for c in COLUMNS[1:])]
    ranked = [r for r in a.rows if r.rank is not None]
    body = [html.Tr([html.Td(str(r.rank), className="rank"), html.Td(moved(r.moved), className="moved"),
                     html.Td(a.names.get(r.figures.unit, r.figures.unit)),
                     _cell(r, COLUMNS[0]), html.Td(band_chip(r.band, lang)),
                     *(_cell(r, c) for c in COLUMNS[1:])]) for r in ranked]
    idle = [a.names.get(r.figures.unit, r.figures.unit) for r in a.rows if r.rank is None]
    return html.Div([
        html.Div(html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="table assess-table"),
                 className="table-wrap"),
        # units with nothing to score in the period: one line, their names on hover (the export lists them)
        html.Div(t("assess.idle", lang, n=len(idle)), title="、".join(idle), className="muted") if idle else None,
    ])


def score_chart(a: Assessment, lang: Lang) -> dcc.Graph:
    """The scored units as bars in their bands' colours, best first: who is where at a glance."""
    scored = [r for r in a.rows if r.score is not None][:30]
    return dcc.Graph(figure=chart.score_bars([a.names.get(r.figures.unit, r.figures.unit) for r in scored],
                                             [r.score or 0.0 for r in scored], [r.band or "" for r in scored], lang),
                     config={"displayModeBar": False, "displaylogo": False}, className="assess-chart")


DRILL_COLUMNS = ("incident", "title", "level", "dispatched_at", "sign_deadline", "signed_at", "finish_deadline",
                 "handled_at", "closed_at", "returned_at", "reworks", "paused_h", "status")


def _drill_values(d: DrillRow) -> list[Any]:
    s = d.stretch
    return [s.incident_id, d.title, s.level, s.dispatched_at, s.sign_deadline, s.signed_at, s.finish_deadline,
            s.handled_at, s.closed_at, s.returned_at, s.reworks, round(s.paused.total_seconds() / 3600, 1), d.status]


def drill(rows: list[DrillRow], unit_name: str, figure: str, lang: Lang) -> html.Div:
    title = t("assess.drill_title", lang, unit=unit_name, figure=t(f"assess.drill.{figure}", lang), n=len(rows))
    if not rows:
        return html.Div([html.H3(title), html.Div(t("assess.drill_empty", lang), className="muted")])

    def when(value: datetime | None, late: bool = False) -> html.Td:
        return html.Td(fmt_dt(value) if value else "—", className="late" if late else None)

    body = [html.Tr([
        html.Td(html.A(f"#{d.stretch.incident_id}", href=f"/incident/{d.stretch.incident_id}")),
        html.Td(d.title), html.Td(level_badge(d.stretch.level, lang)), when(d.stretch.dispatched_at),
        when(d.stretch.sign_deadline), when(d.stretch.signed_at, d.stretch.signed_at is not None
                                            and not d.stretch.sign_on_time),
        when(d.stretch.finish_deadline), when(d.stretch.handled_at, d.stretch.handled_at is not None
                                              and not d.stretch.handled_on_time),
        when(d.stretch.closed_at), when(d.stretch.returned_at), html.Td(str(d.stretch.reworks), className="num"),
        html.Td(f"{d.stretch.paused.total_seconds() / 3600:.1f}", className="num"),
        html.Td(status_chip(d.status, lang) if d.status else "—"),
    ]) for d in rows]
    return html.Div([
        html.H3(title),
        html.Div(html.Table([html.Thead(html.Tr([html.Th(t(f"assess.col.{k}", lang)) for k in DRILL_COLUMNS])),
                             html.Tbody(body)], className="table"), className="table-wrap"),
    ])


def _notes(a: Assessment, lang: Lang, now: datetime) -> list[str]:
    q = a.query
    parts = [f"{t('assess.period', lang)}：{period_label(q.period, lang)}（{fmt_dt(a.period.start)} – "
             f"{fmt_dt(a.period.end)}）", f"{t('assess.kind', lang)}：{t(f'assess.kind.{q.kind}', lang)}"]
    if q.category:
        parts.append(f"{t('filter.category', lang)}：{category_label(q.category, lang)}")
    if q.level:
        parts.append(f"{t('filter.level', lang)}：{level_label(q.level, lang)}")
    return ["；".join(parts), f"{t('export.generated', lang)}：{fmt_dt(now)}"]


def sheets(a: Assessment, drills: list[DrillRow], lang: Lang, now: datetime) -> list[Sheet]:
    """The ranking (numbers as numbers: rates as fractions, times in minutes), then every incident it counts."""
    columns = [(t("assess.col.rank", lang), 8), (t("assess.col.moved", lang), 8), (t("assess.col.unit", lang), 18),
               (t("assess.col.band", lang), 8), *((t(f"assess.col.{c.key}", lang), 14) for c in COLUMNS)]
    rows = [[r.rank, r.moved, a.names.get(r.figures.unit, r.figures.unit),
             t(f"assess.band.{r.band}", lang) if r.band else None, *(c.number(r) for c in COLUMNS)] for r in a.rows]
    detail_columns = [(t("assess.col.unit", lang), 18), *((t(f"assess.col.{k}", lang), 16 if k != "title" else 36)
                                                          for k in DRILL_COLUMNS)]
    detail = [[a.names.get(d.stretch.unit, d.stretch.unit), *_drill_values(d)] for d in drills]
    for row in detail:
        row[-1] = status_label(row[-1], lang) if row[-1] else None
    heading = t("assess.title", lang)
    return [Sheet(t("assess.sheet_ranking", lang), heading, _notes(a, lang, now), columns, rows),
            Sheet(t("assess.sheet_detail", lang), heading, _notes(a, lang, now), detail_columns, detail)]


def filter_bar(periods: list[tuple[str, str]], categories: list[str], lang: Lang,
               kinds: tuple[str, ...] = KINDS) -> html.Div:
    """The period, what is ranked (``kinds``: those the user may rank), the category and the level."""
    def field(label_key: str, control: Any) -> html.Label:
        return html.Label([html.Span(t(label_key, lang)), control], className="filter")

    return html.Div([
        field("assess.period", dcc.Dropdown([{"label": label, "value": key} for key, label in periods],
                                            value=periods[0][0], id=Ids.PERIOD, clearable=False,
                                            className="dropdown-sm")),
        field("assess.kind", dcc.RadioItems([{"label": t(f"assess.kind.{k}", lang), "value": k} for k in kinds],
                                            value=kinds[0], id=Ids.KIND, inline=True, className="radio")),
        field("filter.category", dcc.Dropdown(
            [{"label": category_label(cat, lang), "value": cat} for cat in categories], id=Ids.CATEGORY,
            placeholder=t("common.all", lang), className="dropdown-sm")),
        field("filter.level", dcc.Dropdown(
            [{"label": level_label(n, lang), "value": n} for n in chart.LEVELS], id=Ids.LEVEL,
            placeholder=t("common.all", lang), className="dropdown-sm")),
    ], className="filter-bar")


def body(a: Assessment, lang: Lang) -> list[Any]:
    return [score_chart(a, lang), ranking(a, lang)]


def page(a: Assessment, periods: list[tuple[str, str]], categories: list[str], lang: Lang,
         kinds: tuple[str, ...] = KINDS) -> html.Div:
    return html.Div([
        html.Div([html.H1(t("assess.title", lang)),
                  html.Button(t("assess.export", lang), id=Ids.EXPORT, n_clicks=0,
                              className="btn btn-secondary btn-right")], className="section-head"),
        filter_bar(periods, categories, lang, kinds),
        html.Div(t("assess.note", lang), className="muted"),
        html.Div(id=Ids.MSG, **aria(live="polite")),
        html.Section(body(a, lang), id=Ids.TABLE, className="card panel"),
        html.Section([html.Div(html.Button(t("assess.export_drill", lang), id=Ids.EXPORT_DRILL, n_clicks=0,
                                           className="btn btn-secondary btn-right"), className="section-head"),
                      html.Div(id=Ids.DRILL_BODY)], id=Ids.DRILL, className="card panel", hidden=True),
        dcc.Store(id=Ids.DRILL_CHOSEN),
        dcc.Download(id=Ids.DOWNLOAD),
    ], className="page page-light page-wide assessment")
