"""The big screen, pure: what was read (``load``) and the language in, components, figures and the
refresh plan out. A ``bigscreen.RefreshPlan`` fingerprints every part it is given and keeps only those
whose content differs from what the screen shows.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
from dash import Patch, dcc, html

from dashboard import bigscreen, charts, response_level
from dashboard.components import level_badge
from dashboard.map import figure, points, registry
from dashboard.map import views as map_views
from dashboard.map.model import CITY, BaseMap, Cadence, Layer, Scene, View
from i18n.labels import Lang, cargo_label, level_label, t
from i18n.timefmt import fmt_time, local

from .ids import Ids
from .load import Kpis, LayerReads, Shown, VehicleCard

REFRESH_MS = 3000
WATCH_MS = 1000  # how often the browser checks that refreshes land (it says "reconnecting" after two missed)


def kpi_cards(values: Kpis, lang: Lang) -> list[html.Div]:
    return [html.Div([html.Div(t(f"kpi.{k}", lang), className="kpi-label"),
                      html.Div(bigscreen.kpi_text(k, values.get(k)), id=f"overview-kpi-{k}", className="kpi-value")],
                     className=bigscreen.kpi_class(k, values), id=f"overview-kpi-card-{k}")
            for k in bigscreen.KPIS]


# -- the parts a refresh may send --

def map_parts(plan: bigscreen.RefreshPlan, reads: LayerReads, scene: Scene) -> None:
    """Style every layer that was read (but those read once, already in the picture); queue what changed."""
    for layer in registry.REGISTRY:
        if layer.id in reads.frames and layer.cadence is not Cadence.ONCE:
            plan.map(layer.style(reads.frames[layer.id], scene))


def board_parts(plan: bigscreen.RefreshPlan, reads: LayerReads, lang: Lang, scale: int = 1, roll: bool = True) -> None:
    """Beside the map, when the tables were read: the feed, the trend, today's KPIs."""
    board, now = reads.board, reads.now
    if board is None:
        return
    if plan.part("warnings", [bigscreen.rolls(len(board.warnings), roll), bigscreen.warnings_key(board.warnings, now)]):
        plan.warnings = bigscreen.warning_items(board.warnings, reads.base.names, lang, now, roll=roll)
    if plan.part("trend", [scale, local(now).strftime("%d%H"), board.hourly.to_dict("list")]):
        plan.trend = charts.hourly_trend(board.hourly, now, lang, scale=scale)
    if plan.part("kpis", board.kpis):
        plan.kpis = board.kpis


def online_part(plan: bigscreen.RefreshPlan, reads: LayerReads) -> None:
    """The share of devices reporting, when the devices were read."""
    if "devices" in reads.frames:
        rate = bigscreen.online_rate(reads.frames["devices"])
        if plan.part("online", rate):
            plan.kpis = {**(plan.kpis or {}), "online_rate": rate}


def refresh(reads: LayerReads, shown: Shown, scene: Scene, scale: int) -> bigscreen.RefreshPlan:
    """What a tick sends: the parts it read whose content differs from what the screen shows."""
    plan = bigscreen.RefreshPlan(fp=dict(shown.fp))
    map_parts(plan, reads, scene)
    board_parts(plan, reads, scene.lang, scale=scale)
    online_part(plan, reads)
    return plan


# -- the first picture --

_CANVAS: dict[tuple[Any, ...], dict[str, Any]] = {}


def canvas(base: BaseMap, lang: Lang, style_url: str, view: View = CITY) -> dict[str, Any]:
    """A copy of the map without data for the view it opens on (the city, or a district desk's district),
    built (and checked by plotly) once per boundary version, language and view: the layers' reads are
    what each page load adds."""
    key = (base.version, lang, style_url, view.key)
    if key not in _CANVAS:
        _CANVAS[key] = figure.build(registry.REGISTRY, base, base.urls, style_url, lang, view, registry.DEFAULT_ON)
    return copy.deepcopy(_CANVAS[key])


def first_picture(reads: LayerReads, lang: Lang, style_url: str,
                  view: View = CITY) -> tuple[dict[str, Any], bigscreen.RefreshPlan]:
    """The map of ``view`` with every layer's data, and a plan holding the rest. A fresh plan finds every
    part new: what it queues is the whole first picture, fingerprinted so that the refreshes send only
    what differs from it (the layers read once are not fingerprinted: no refresh sends them)."""
    fig = canvas(reads.base, lang, style_url, view)
    scene = Scene.of(reads.base, view, lang)
    for layer in registry.REGISTRY:
        if layer.cadence is Cadence.ONCE:
            layer.style(reads.frames[layer.id], scene).apply_to(fig)
    plan = bigscreen.RefreshPlan(fp={})
    map_parts(plan, reads, scene)
    plan.map_changes.apply_to(fig)
    # A long feed stands still in the first picture: its endless scroll would repaint the whole screen,
    # in software on a machine without a GPU, while the map is still being drawn. The first tick
    # (its change marker left blank) sets it rolling; nothing else it finds differs from this picture.
    board_parts(plan, reads, lang, roll=False)
    online_part(plan, reads)
    return fig, plan


def page(reads: LayerReads, lang: Lang, style_url: str, view: View = CITY) -> html.Div:
    """The screen opened on ``view``: the city's, or a district desk's district (its top: no way back up)."""
    base, chosen = reads.base, registry.DEFAULT_CHOROPLETH
    fig, plan = first_picture(reads, lang, style_url, view)
    kpis = plan.kpis or {}
    marker = Shown(reads.change, plan.fp, reads.now.timestamp(), kpis).to_store()
    return html.Div([
        html.Div([
            html.H1(t("nav.map", lang)),
            response_level.element(),  # 应急响应 in force (issue 12): its own module, its own slow timer
            html.Span(t("map.illustrative", lang), className="muted") if base.illustrative else None,
            html.Span([t("map.updated", lang), " ", html.Span(fmt_time(reads.now), id=Ids.UPDATED)],
                      className="updated"),
            html.Span(t("map.reconnecting", lang), id=Ids.LINK, className="link-lost", hidden=True, role="status"),
        ], className="bigscreen-head"),
        html.Div(kpi_cards(kpis, lang), className="kpi-row", id=Ids.KPIS),
        html.Div([
            html.Div([
                dcc.Graph(id=Ids.MAP, figure=fig, className="bigscreen-map", responsive=True,
                          config={"displayModeBar": False, "scrollZoom": True, "displaylogo": False}),
                html.Div([
                    html.Button(f"‹ {t('map.back', lang)}", id=Ids.BACK, n_clicks=0, className="map-btn", hidden=True),
                    html.Span(crumbs(view, base, lang), id=Ids.CRUMB, className="crumb"),
                    html.Div(dcc.Dropdown(pick_options(view, base), id=Ids.PICK, className="map-pick",
                                          placeholder=pick_placeholder(view, lang), clearable=False),
                             id=Ids.PICK_WRAP, title=t("map.hint", lang)),
                ], className="map-overlay map-nav"),
                html.Div([
                    html.Div(t("map.layers", lang), className="overlay-title"),
                    dcc.Checklist(layer_options(lang), value=registry.DEFAULT_ON, id=Ids.LAYERS,
                                  className="layer-list", inputClassName="layer-check"),
                    cargo_legend(lang),
                    html.Div(t("map.metric", lang), className="overlay-title"),
                    dcc.RadioItems(metric_options(lang), value=chosen.id, id=Ids.METRIC, className="layer-list",
                                   inputClassName="layer-check"),
                ], className="map-overlay map-layers"),
            ], className="map-wrap"),
            html.Aside([
                html.H2(t("map.warnings", lang)),
                html.Div(html.Ul(plan.warnings, id=Ids.WARNINGS, className="warning-list"), className="feed"),
                html.Div(id=Ids.CLICKED, className="clicked"),
                html.H2(t("map.trend", lang)),
                dcc.Graph(id=Ids.TREND, figure=plan.trend, className="trend",
                          responsive=True, config={"displayModeBar": False, "displaylogo": False}),
            ], className="bigscreen-side"),
        ], className="bigscreen-main"),
        dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
        dcc.Interval(id=Ids.WATCH, interval=WATCH_MS),
        dcc.Store(id=Ids.MARKER, data=marker),
        dcc.Store(id=Ids.VIEW, data=view.to_store()),
        dcc.Store(id=Ids.FIT, data=figure.fit_hints(view, base, registry.REGISTRY)),
        dcc.Store(id=Ids.LAYER_MAP, data=registry.toggle_traces()),
        dcc.Store(id=Ids.SCALE, data=1),
    ], className="page page-dark bigscreen")


def layer_options(lang: Lang) -> list[dict[str, Any]]:
    return [{"label": html.Span([html.Span(className=f"swatch swatch-{layer.id}"), t(layer.label, lang)]),
             "value": layer.id} for layer in registry.TOGGLES]


def metric_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": t(layer.label, lang), "value": layer.id} for layer in registry.CHOROPLETHS]


# -- the view shown, and a clicked incident --

def crumbs(view: View, base: BaseMap, lang: Lang) -> str:
    parts = [t("map.city", lang)]
    if view.level == "township" and view.code:
        parts.append(base.names.get(base.parents.get(view.code) or "", ""))
    if view.code:
        parts.append(base.names.get(view.code, view.code))
    return " › ".join(p for p in parts if p)


def pick_options(view: View, base: BaseMap) -> list[dict[str, str]]:
    if view.level == "township":
        return []
    return [{"label": base.names.get(c, c), "value": c} for c in base.children_of(view)]


def pick_placeholder(view: View, lang: Lang) -> str:
    return t("map.pick_township" if view.level == "district" else "map.pick_district", lang)


def view_patch(view: View, base: BaseMap, chosen: Layer, frame: pd.DataFrame, devices: pd.DataFrame | None,
               lang: Lang) -> Patch:
    """The Patch that makes ``view`` the one shown, its areas coloured by ``chosen``; with ``devices`` (the
    devices layer read for it, when the view changed) its devices too: per grid, or one by one in a township."""
    scene = Scene.of(base, view, lang)
    changes = map_views.view_changes(view, base, scene.urls).merge(chosen.style(frame, scene))
    if devices is not None:
        changes = changes.merge(points.DEVICES.style(devices, scene))
    patch: Patch = changes.apply_to(Patch())
    return patch


def cargo_legend(lang: Lang) -> html.Div:
    """The hazmat trucks' colours: one chip per UN class, named on hover."""
    chips = [html.Span(str(k), title=cargo_label(k, lang), style={
        "background": color, "color": "#1b1b1b", "borderRadius": "3px", "padding": "0 4px", "fontSize": "12px",
        "fontWeight": 700}) for k, color in sorted(points.CARGO_COLOR.items())]
    return html.Div([html.Div(t("map.cargo_legend", lang), className="overlay-title"),
                     html.Div(chips, style={"display": "flex", "gap": "3px"})], id="overview-cargo-legend")


def vehicle_card(card: VehicleCard | None, lang: Lang) -> html.Div:
    """A clicked vehicle: plate, company, cargo (its UN class), speed and time, and its open warnings."""
    if card is None:
        return html.Div(t("vehicle.gone", lang), className="muted")
    head = card.head
    cargo = cargo_label(int(head["cargo_class"]), lang) if pd.notna(head.get("cargo_class")) else "—"
    speed = "—" if pd.isna(head.get("speed")) else f"{float(head['speed']):.0f} km/h"
    goods = f" · {head['cargo']}" if head.get("cargo") else ""
    warnings = ([html.Li([level_badge(int(w.level), lang), " ",
                          html.A(w.title, href=f"/incident/{int(w.incident_id)}") if pd.notna(w.incident_id)
                          else w.title]) for w in card.warnings.itertuples()]
                if len(card.warnings) else [html.Li(t("vehicle.no_warnings", lang), className="muted")])
    return html.Div([
        html.Strong(head.get("plate") or head.get("name")),
        html.Div(f"{t('vehicle.company', lang)}：{head.get('company') or '—'}"),
        html.Div(f"{t('vehicle.cargo', lang)}：{cargo}{goods}"),
        html.Div(f"{t('vehicle.speed', lang)}：{speed} · {fmt_time(head['ts'])}"),
        html.Div(t("vehicle.warnings", lang), className="muted"),
        html.Ul(warnings, style={"margin": 0, "paddingLeft": "1.2em"}),
    ], className="clicked-card", style={"flexDirection": "column", "alignItems": "flex-start", "gap": "2px"})


def clicked_card(incident: dict[str, Any] | None, lang: Lang) -> html.Div:
    if incident is None:
        return html.Div(t("common.not_found", lang), className="muted")
    return html.Div([
        level_badge(incident["level"], lang),
        html.A(f"#{incident['id']} {incident['title']}", href=f"/incident/{incident['id']}"),
    ], className="clicked-card", title=level_label(incident["level"], lang))
