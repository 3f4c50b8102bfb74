"""The map figure, assembled once per page load from the views' traces and the layers' own,
and fitted to the screen (here for the first picture, in the browser's fitMap after).

No tiles: the boundary polygons are the base map, fetched by URL and cached. Everything after
the first render is a ``dash.Patch`` of the same traces (``Changes.apply_to``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

from dashboard.map import views
from dashboard.map.model import BaseMap, Bounds, Changes, GeoUrls, Layer, T, View
from i18n.labels import Lang

MAP_UIREVISION = "keep-user-view"  # plotly keeps the user's pan/zoom across patches while this is unchanged
FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"


def build(registry: Sequence[Layer], base: BaseMap, urls: GeoUrls, style_url: str, lang: Lang, view: View,
          visible: Collection[str]) -> dict[str, Any]:
    """The whole map, every trace in ``T`` order with its look and no data yet, as the figure dict
    ``dcc.Graph`` takes (plotly checks every property here, once).

    The views draw the fills, the focus line and the names; each layer draws its own traces
    (``Layer.draw``) at its marker sizes. Styles then fill in what the layers read; later
    refreshes patch the same traces.
    """
    slots: dict[int, BaseTraceType] = dict(views.draw(urls, view))
    for layer in registry:
        if layer.draw is not None:
            for index, trace in zip(layer.traces, layer.draw(lang), strict=True):
                if index in slots:
                    raise ValueError(f"layer {layer.id} draws trace {index}, which is taken")
                slots[index] = trace
    if sorted(slots) != list(range(len(T))):
        raise ValueError(f"the layers leave traces undrawn: {sorted(set(range(len(T))) - set(slots))}")
    center, zoom = fit(base.bounds_of(view))
    fig: dict[str, Any] = go.Figure([slots[index] for index in range(len(T))], layout={
        "map": {"style": style_url, "center": center, "zoom": zoom},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "paper_bgcolor": "rgba(0,0,0,0)", "showlegend": False,
        "font": {"color": views.DARK_TEXT, "family": FONT}, "uirevision": MAP_UIREVISION,
        "hoverlabel": {"font": {"size": 14}},
    }).to_plotly_json()
    sizes = Changes({index: {"marker.size": size} for layer in registry
                     for index, size in layer.marker_sizes.items()})
    shown = Changes({index: {"visible": layer.id in visible} for layer in registry if layer.toggled
                     for index in layer.traces})
    sizes.merge(views.view_changes(view, base, urls), shown).apply_to(fig)
    return fig


def fit_hints(view: View, base: BaseMap, registry: Sequence[Layer]) -> dict[str, Any]:
    """For the browser's fitMap (the FIT store): the area to fit, and which traces to enlarge, by how
    much, on a 4K wall."""
    points = [(index, size) for layer in registry for index, size in layer.marker_sizes.items()]
    return {"bounds": base.bounds_of(view), "label_trace": int(T.LABELS), "point_traces": [int(i) for i, _ in points],
            "point_sizes": [s for _, s in points], "heat_trace": int(T.HEAT),
            "fill_traces": [int(f) for f in views.FILLS], "view": view.key}


# The map's size on a 1920×1080 screen (the big screen's layout in cityops.css): the first
# picture is fitted for it, so the browser's own fit (cityops.js fitMap) finds nothing to move
# there and MapLibre lays its tiles out once. Other screens are refitted by the browser.
SCREEN_MAP_PX = (1474, 870)


def fit(bounds: Bounds | None, size_px: tuple[int, int] = SCREEN_MAP_PX) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit ``bounds`` into ``size_px``: fitMap's formula and rounding, in Python."""
    if not bounds:
        return {"lon": 113.0, "lat": 25.8}, 7.5  # 郴州 when no layer is loaded yet
    min_lon, min_lat, max_lon, max_lat = bounds
    lon_span = max(max_lon - min_lon, 1e-3)
    lat_span = max(max_lat - min_lat, 1e-3) / math.cos(math.radians((min_lat + max_lat) / 2))
    zoom = min(math.log2(size_px[0] / 512 * 360 / lon_span), math.log2(size_px[1] / 512 * 360 / lat_span))
    center = {"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2}
    return center, math.floor((zoom - 0.1) * 100 + 0.5) / 100  # JavaScript's Math.round, not banker's
