"""Region tagging for ingest: the active boundary version, as a vectorised tagger that follows it.

Each point gets its region codes and the near-boundary flag (within ``near_m`` metres of a
township border) from one ``tag_points`` call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import psycopg

from ingest.batch import Codes, Tagger
from layers.geo import Layers, tag_points
from layers.loader import active_version, load_active_layers
from layers.near import DEFAULT_NEAR_M

log = logging.getLogger("cityops.ingest")


def layer_tagger(layers: Layers, near_m: float = DEFAULT_NEAR_M) -> Tagger:
    def tag(lon: np.ndarray, lat: np.ndarray) -> list[Codes]:
        frame = tag_points(lon, lat, layers, near_m)
        return list(zip(frame["district_code"], frame["township_code"], frame["grid_code"],
                        frame["near_boundary"].tolist(), strict=True))

    return tag


def active_layer_tagger(dsn: str, near_m: float = DEFAULT_NEAR_M) -> tuple[Tagger, int | None]:
    """The tagger for the database's active boundary version, and that version."""
    layers = load_active_layers(dsn)
    return layer_tagger(layers, near_m), layers.version


class FollowingTagger:
    """Tags with the active boundary version, and with a new one soon after it is loaded.

    A city that imports corrected boundaries must not have to restart ingest: when there
    are points to tag and ``check_every`` seconds have passed, the active version number
    is read (one indexed row) and, if it changed, the new layers are loaded. A failed
    check keeps the current layers: tagging with the old version beats not ingesting.
    """

    def __init__(self, dsn: str, *, check_every: float = 30.0, near_m: float = DEFAULT_NEAR_M,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._dsn = dsn
        self._check_every = check_every
        self._near_m = near_m
        self._monotonic = monotonic
        self._tag, self.version = active_layer_tagger(dsn, near_m)
        self._checked = monotonic()

    def __call__(self, lon: np.ndarray, lat: np.ndarray) -> list[Codes]:
        if self._monotonic() - self._checked >= self._check_every:
            self._follow()
        return self._tag(lon, lat)

    def _follow(self) -> None:
        self._checked = self._monotonic()
        try:
            if active_version(self._dsn) == self.version:
                return
            tag, version = active_layer_tagger(self._dsn, self._near_m)
        except psycopg.Error as exc:
            log.warning("could not check the active boundary version, still tagging with %s: %s", self.version, exc)
            return
        log.info("boundary version %s is active now (was %s): tagging with it from this batch on", version,
                 self.version)
        self._tag, self.version = tag, version
