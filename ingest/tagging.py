"""Region tagging for ingest: the active boundary version, as a vectorised tagger."""

from __future__ import annotations

import numpy as np

from ingest.batch import Codes, Tagger
from layers.geo import Layers, tag_points
from layers.loader import load_active_layers


def layer_tagger(layers: Layers) -> Tagger:
    def tag(lon: np.ndarray, lat: np.ndarray) -> list[Codes]:
        frame = tag_points(lon, lat, layers)
        return list(zip(frame["district_code"], frame["township_code"], frame["grid_code"], strict=True))

    return tag


def active_layer_tagger(dsn: str) -> tuple[Tagger, int | None]:
    """The tagger for the database's active boundary version, and that version."""
    layers = load_active_layers(dsn)
    return layer_tagger(layers), layers.version
