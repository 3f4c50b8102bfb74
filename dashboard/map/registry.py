"""The map's layers in one list, and which of them the page shows, offers and reads when.

Order = the order of the toggles and of the area choice on the map. A new layer is one
``Layer`` in ``points`` or ``areas`` (its read, draw, style and sizes), in that module's
``LAYERS``, with its traces' place in the drawing order ``T``.
"""

from __future__ import annotations

from dashboard.map import areas, hotspots, points
from dashboard.map.model import Cadence, Layer

REGISTRY: tuple[Layer, ...] = (*points.LAYERS, hotspots.HOTSPOTS, *areas.LAYERS)
BY_ID = {layer.id: layer for layer in REGISTRY}
TOGGLES = tuple(layer for layer in REGISTRY if layer.toggled)
CHOROPLETHS = tuple(layer for layer in REGISTRY if not layer.toggled)
DEFAULT_ON = [layer.id for layer in TOGGLES if layer.default_on]
DEFAULT_CHOROPLETH = next(layer for layer in CHOROPLETHS if layer.default_on)


def choropleth(layer_id: object) -> Layer:
    """The area layer the browser asked for; anything unknown colours by the default."""
    layer = BY_ID.get(layer_id) if isinstance(layer_id, str) else None
    return layer if layer is not None and not layer.toggled else DEFAULT_CHOROPLETH


def due(cadences: tuple[Cadence, ...], chosen: Layer) -> list[Layer]:
    """The layers to read now: every toggled layer of these cadences, and the chosen choropleth if it is due."""
    return [layer for layer in REGISTRY if layer.cadence in cadences and (layer.toggled or layer is chosen)]


def toggle_traces() -> dict[str, list[int]]:
    """For the browser's layer switch: which traces each toggle shows or hides."""
    return {layer.id: [int(i) for i in layer.traces] for layer in TOGGLES}
