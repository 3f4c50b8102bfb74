"""Ingest follows the active boundary version: a city's new boundaries are used without a restart."""

from __future__ import annotations

import numpy as np

from ingest.tagging import FollowingTagger
from layers.geo import Layers, demo_layers
from layers.loader import load_demo_layers, write_version
from tests.fix_system import new_database


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_new_boundary_version_is_used_after_the_next_check(pg_dsn: str) -> None:
    dsn = new_database(pg_dsn)
    first = load_demo_layers(dsn)
    clock = FakeMonotonic()
    tagger = FollowingTagger(dsn, check_every=30.0, monotonic=clock)
    demo = demo_layers()
    point = demo.townships.geometry.iloc[0].representative_point()
    lon, lat = np.array([point.x]), np.array([point.y])
    ((district, township, _grid),) = tagger(lon, lat)
    assert township == demo.townships["code"].iloc[0] and tagger.version == first

    # The city loads boundaries without townships or grids (districts only).
    districts_only = Layers(demo.districts, demo.townships.iloc[0:0], demo.grids.iloc[0:0])
    second = write_version(dsn, districts_only, "test: districts only")
    assert second != first

    clock.now += 29.0  # before the next check: still the version it loaded
    assert tagger(lon, lat)[0][1] == township
    clock.now += 1.0
    assert tagger(lon, lat) == [(district, None, None)]
    assert tagger.version == second
