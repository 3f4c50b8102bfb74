"""The 网格巡查 page as components (phone width, one column): a map of the member's grids and their open
incidents, the 巡查上报 form (category from the catalogue,
the position typed or the phone's, a note, up to 3 photos), the incidents waiting for the member's 核查 on site
with the check form, its grids' other open incidents, and its own reports (a declined one with the reason)."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from alerts.feedback import PATROL_CATEGORIES
from alerts.lifecycle import Action
from alerts.status import Status
from dashboard import response_level
from dashboard.actions import MAX_PHOTO_BYTES
from dashboard.components import aria, level_badge, status_chip
from dashboard.map.figure import fit
from dashboard.widgets import incident_button
from i18n.labels import LEVEL_COLOR, Lang, action_label, category_label, t
from i18n.timefmt import fmt_dt

from .ids import Ids
from .load import Lists, Page, Row

REFRESH_MS = 15_000
MAP_HEIGHT = 260


def _card(row: Row, lang: Lang, *, check: bool = False) -> html.Div:
    declined = row.status is Status.DECLINED and row.reason
    return html.Div([
        html.Div([level_badge(row.level, lang), status_chip(row.status, lang)], className="card-top"),
        html.Div(html.A(f"#{row.id} {row.title}", href=f"/incident/{row.id}"), className="card-title"),
        html.Div(f"{fmt_dt(row.created_at)} · {category_label(row.category, lang)}", className="card-meta"),
        html.Div(f"{t('grid.declined', lang)}：{row.reason}" if lang == "zh" else
                 f"{t('grid.declined', lang)}: {row.reason}", className="msg msg-error decline-reason")
        if declined else None,
        html.Div(incident_button(Ids.OPEN_CHECK, row.id, t("grid.check", lang), "btn-primary"),
                 className="card-actions") if check else None,
    ], className="card incident-card", id=f"wg-card-{row.id}")


def _section(key: str, rows: tuple[Row, ...], lang: Lang, *, check: bool = False) -> html.Section:
    title = f"{t(key, lang)}（{len(rows)}）" if lang == "zh" else f"{t(key, lang)} ({len(rows)})"
    body = [_card(r, lang, check=check) for r in rows] or [html.Div(t("grid.empty", lang), className="muted empty")]
    return html.Section([html.H2(title), *body], className="queue card-list", id=f"{Ids.LISTS}-{key.split('.')[-1]}")


def lists(ls: Lists, lang: Lang) -> list[html.Section]:
    return [_section("grid.checks", ls.checks, lang, check=True), _section("grid.incidents", ls.incidents, lang),
            _section("grid.reports", ls.reports, lang)]


def _upload(upload_id: str, name_id: str, lang: Lang) -> list[html.Div | dcc.Upload]:
    return [dcc.Upload(html.Div(t("grid.photos", lang)), id=upload_id, className="upload",
                       accept="image/jpeg,image/png,image/webp", max_size=MAX_PHOTO_BYTES, multiple=True),
            html.Div(id=name_id, className="muted")]


def grid_map(p: Page, style_url: str) -> go.Figure:
    """Its grids' outlines and their open incidents (in the level's colour; the number on hover), fitted to the
    grids on a phone's width."""
    fig = go.Figure()
    for lons, lats in p.outlines:
        fig.add_trace(go.Scattermap(lon=lons, lat=lats, mode="lines", fill="toself", hoverinfo="skip",
                                    line={"color": "#5aa9e6", "width": 2}, fillcolor="rgba(90,169,230,0.12)"))
    rows = [r for r in (*p.lists.checks, *p.lists.incidents) if r.lon is not None and r.lat is not None]
    fig.add_trace(go.Scattermap(lon=[r.lon for r in rows], lat=[r.lat for r in rows], mode="markers",
                                text=[f"#{r.id} {r.title}" for r in rows], hovertemplate="%{text}<extra></extra>",
                                marker={"size": 13, "color": [LEVEL_COLOR[r.level] for r in rows]}))
    lons = [x for ring, _ in p.outlines for x in ring]
    lats = [y for _, ring in p.outlines for y in ring]
    center, zoom = fit((min(lons), min(lats), max(lons), max(lats)) if lons else None, (360, MAP_HEIGHT))
    fig.update_layout(map={"style": style_url, "center": center, "zoom": zoom},
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False, height=MAP_HEIGHT)
    return fig


def report_form(p: Page, lang: Lang) -> html.Section:
    lon, lat = p.center if p.center else (None, None)
    return html.Section([
        html.H2(t("grid.report_title", lang)),
        html.Div(id=Ids.FORM_MSG, **aria(live="assertive")),
        html.Div([
            html.Label(t("grid.category", lang), htmlFor=Ids.CATEGORY),
            dcc.Dropdown(id=Ids.CATEGORY, className="dropdown", clearable=False, value=PATROL_CATEGORIES[0],
                         options=[{"label": category_label(c, lang), "value": c} for c in PATROL_CATEGORIES]),
            html.Div([
                html.Div([html.Label(t("grid.lon", lang), htmlFor=Ids.LON),
                          dcc.Input(id=Ids.LON, type="text", className="input",
                                    value=f"{lon:.6f}" if lon is not None else "", maxLength=20)]),
                html.Div([html.Label(t("grid.lat", lang), htmlFor=Ids.LAT),
                          dcc.Input(id=Ids.LAT, type="text", className="input",
                                    value=f"{lat:.6f}" if lat is not None else "", maxLength=20)]),
            ], className="point-row"),
            html.Div([
                html.Button(t("grid.locate", lang), id=Ids.LOCATE, className="btn btn-secondary", n_clicks=0),
                html.Button(t("grid.from_map", lang), id=Ids.FROM_MAP, className="btn btn-secondary", n_clicks=0),
            ], className="card-actions"),
            html.Div(id=Ids.LOCATE_MSG, className="muted"),
            html.Label(t("grid.note", lang), htmlFor=Ids.NOTE),
            dcc.Textarea(id=Ids.NOTE, className="input textarea", maxLength=2000),
            *_upload(Ids.PHOTO, Ids.PHOTO_NAME, lang),
            html.Button(t("grid.submit", lang), id=Ids.SUBMIT, className="btn btn-primary", n_clicks=0),
        ], className="form"),
    ], className="card patrol-form")


def check_panel(lang: Lang) -> html.Div:
    """现场核查 of the incident chosen: a note (required for a fail) and photos, then pass or fail."""
    return html.Div([
        html.H2(id=Ids.CHECK_TITLE),
        html.Div(id=Ids.CHECK_MSG, **aria(live="assertive")),
        html.Label(t("grid.check_note", lang), htmlFor=Ids.CHECK_NOTE),
        dcc.Textarea(id=Ids.CHECK_NOTE, className="input textarea", maxLength=2000),
        *_upload(Ids.CHECK_PHOTO, Ids.CHECK_PHOTO_NAME, lang),
        html.Div([
            html.Button(action_label(Action.SITE_PASS, lang), id=Ids.CHECK_PASS, className="btn btn-primary",
                        n_clicks=0),
            html.Button(action_label(Action.SITE_FAIL, lang), id=Ids.CHECK_FAIL, className="btn btn-danger",
                        n_clicks=0),
            html.Button(t("township.cancel", lang), id=Ids.CHECK_CANCEL, className="btn btn-secondary", n_clicks=0),
        ], className="card-actions"),
    ], id=Ids.CHECK_PANEL, className="card action-panel", hidden=True)


def page(p: Page, lang: Lang, style_url: str) -> html.Div:
    grids = "、".join(name for _, name in p.grids)
    return html.Div([
        html.H1([t("grid.title", lang), html.Span(f" · {grids}", className="subtitle")]),
        response_level.element(own_timer=False),  # 应急响应 in its district (issue 12), fed by the lists' refresh
        html.Div(id=Ids.MSG, className="msg-area", **aria(live="polite")),
        html.Div([
            dcc.Graph(id=Ids.MAP, figure=grid_map(p, style_url), config={"displayModeBar": False, "scrollZoom": True},
                      className="grid-map"),
            html.Div("+", className="map-cross", **aria(hidden="true"),  # where 用地图中心位置 reads the point
                     style={"position": "absolute", "left": "50%", "top": "50%", "transform": "translate(-50%, -50%)",
                            "color": "#ffd166", "fontSize": "28px", "pointerEvents": "none", "lineHeight": "1"}),
        ], style={"position": "relative"}),
        check_panel(lang),
        report_form(p, lang),
        html.Div(lists(p.lists, lang), id=Ids.LISTS),
        dcc.Store(id=Ids.SELECTED),
        dcc.Store(id=Ids.VERSION, data=0),
        dcc.Store(id=Ids.MARKER, data=p.marker),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
    ], className="page page-light township grid-page")
