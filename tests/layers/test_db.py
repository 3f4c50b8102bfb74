"""Boundary versions round-trip through a real PostgreSQL (tests/fix_db.py starts one)."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import shapely

from layers.__main__ import main as cli
from layers.geo import LEVELS, Layers, demo_layers, tag_points
from layers.loader import load_active_layers, load_demo_layers, write_version
from tests.fix_db import one

# pg_dsn (a real, migrated PostgreSQL) comes from tests/fix_db.py via tests/conftest.py.


def counts(dsn: str) -> tuple[int, int, list[int]]:
    with psycopg.connect(dsn) as conn:
        versions = one(conn, "SELECT count(*) FROM boundary_versions")[0]
        regions = one(conn, "SELECT count(*) FROM regions")[0]
        active = [r[0] for r in conn.execute("SELECT version FROM boundary_versions WHERE active")]
    return versions, regions, active


def test_demo_round_trip_is_exact(pg_dsn: str) -> None:
    version = load_demo_layers(pg_dsn)
    _, regions_after, active = counts(pg_dsn)
    assert active == [version]
    back = load_active_layers(pg_dsn)
    demo = demo_layers()
    assert back.version == version and back.source == demo.source
    for level in LEVELS:
        a, b = demo.level(level), back.level(level)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
        # WKB keeps every double exactly: the database holds the full-precision polygons.
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT level, count(*), bool_and(illustrative) FROM regions WHERE version = %s GROUP BY level",
            (version,),
        ).fetchall()
        labels = conn.execute("SELECT code, label_lon, label_lat FROM regions WHERE version = %s ORDER BY code",
                              (version,)).fetchall()
    assert {r[0]: (r[1], r[2]) for r in rows} == {
        "district": (11, False), "township": (162, True), "grid": (len(demo.grids), True)}
    # Each label point lies inside its own polygon.
    tags = tag_points(np.array([r[1] for r in labels]), np.array([r[2] for r in labels]), back)
    by_len = {6: "district_code", 9: "township_code", 12: "grid_code"}
    assert all(tags.loc[i, by_len[len(code)]] == code for i, (code, _, _) in enumerate(labels))
    # Loading the same source again writes nothing.
    assert load_demo_layers(pg_dsn) == version
    assert counts(pg_dsn)[1] == regions_after


def test_tagging_with_database_layers_matches_files(pg_dsn: str) -> None:
    load_demo_layers(pg_dsn)
    back = load_active_layers(pg_dsn)
    rng = np.random.default_rng(11)
    lon = rng.uniform(112.2, 114.3, 20_000)
    lat = rng.uniform(24.9, 26.9, 20_000)
    assert tag_points(lon, lat, back).equals(tag_points(lon, lat, demo_layers()))


def test_new_version_switches_active_and_demo_reactivates(pg_dsn: str) -> None:
    demo_version = load_demo_layers(pg_dsn)
    demo = demo_layers()
    districts_only = Layers(demo.districts, demo.townships.iloc[:0], demo.grids.iloc[:0])
    other = write_version(pg_dsn, districts_only, "test:districts-only", "a second source")
    assert other > demo_version
    assert counts(pg_dsn)[2] == [other]
    assert len(load_active_layers(pg_dsn).townships) == 0
    versions_before = counts(pg_dsn)[0]
    assert load_demo_layers(pg_dsn) == demo_version  # re-activated, not rewritten
    assert counts(pg_dsn)[0] == versions_before
    assert counts(pg_dsn)[2] == [demo_version]


def test_failed_load_leaves_nothing_behind(pg_dsn: str) -> None:
    demo_version = load_demo_layers(pg_dsn)
    before = counts(pg_dsn)
    demo = demo_layers()
    bad_grids = demo.grids.copy()
    bad_grids.loc[len(bad_grids) - 1, "code"] = "4310"  # violates the code-length CHECK, written last
    bad = Layers(demo.districts, demo.townships, bad_grids)
    with pytest.raises(psycopg.errors.CheckViolation):
        write_version(pg_dsn, bad, "test:bad")
    assert counts(pg_dsn) == before
    assert counts(pg_dsn)[2] == [demo_version]


def test_works_inside_a_callers_transaction(pg_dsn: str) -> None:
    demo_version = load_demo_layers(pg_dsn)
    demo = demo_layers()
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("SELECT 1")  # the caller's transaction is open
        version = write_version(conn, Layers(demo.districts, demo.townships, demo.grids.iloc[:0]), "test:caller")
        assert load_active_layers(conn).version == version
        conn.rollback()  # the caller decides: nothing of it stays
    assert counts(pg_dsn)[2] == [demo_version]


def test_cli_load_demo(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["load-demo", "--dsn", pg_dsn]) == 0
    out = capsys.readouterr().out
    assert "11 districts, 162 townships" in out
    assert cli(["active", "--dsn", pg_dsn]) == 0
