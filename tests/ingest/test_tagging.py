"""Ingest follows the active boundary version: a city's new boundaries are used without a restart.
Each point also gets the near-boundary flag, within a distance the tagger is given."""

from __future__ import annotations

import numpy as np

from ingest.tagging import FollowingTagger
from layers.geo import Layers, demo_layers
from layers.loader import load_demo_layers, write_version
from tests.fix_system import new_database
from tests.near_border import border_points


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
    ((district, township, _grid, _near),) = tagger(lon, lat)
    assert township == demo.townships["code"].iloc[0] and tagger.version == first

    # The city loads boundaries without townships or grids (districts only).
    districts_only = Layers(demo.districts, demo.townships.iloc[0:0], demo.grids.iloc[0:0])
    second = write_version(dsn, districts_only, "test: districts only")
    assert second != first

    clock.now += 29.0  # before the next check: still the version it loaded
    assert tagger(lon, lat)[0][1] == township
    clock.now += 1.0
    assert tagger(lon, lat)[0][:3] == (district, None, None)
    assert tagger.version == second


def test_points_near_a_township_border_are_flagged_within_the_given_distance(pg_dsn: str) -> None:
    dsn = new_database(pg_dsn)
    load_demo_layers(dsn)
    points = border_points()
    lon, lat = np.array([points.near[0], points.far[0]]), np.array([points.near[1], points.far[1]])
    near, far = FollowingTagger(dsn)(lon, lat)  # 50 m by default
    assert near[1] == far[1] == points.township
    assert (near[3], far[3]) == (True, False)
    closer = FollowingTagger(dsn, near_m=points.near_m / 2)(lon, lat)
    assert [c[3] for c in closer] == [False, False]
    assert all(type(c[3]) is bool for c in closer)  # plain bools: psycopg stores them as they are
