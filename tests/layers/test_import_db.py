"""Importing a city's boundary files into a real PostgreSQL: atomic, versioned, refused when broken.

One fresh database for this module (tests.fix_system.new_database on the session's
server, tests/fix_db.py). Files are written by the tests: the tiny city of
tests/layers/test_import.py, and the real 郴州 demo layers exported to Shapefile, GeoPackage
and projected GeoJSON, which must come back tagging exactly as the originals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
import pytest
import shapely

from cityops.settings import PROJECT_ROOT
from layers.__main__ import main as cli
from layers.geo import LEVELS, demo_layers, tag_points
from layers.importer import ImportOptions, import_files
from layers.loader import active_version, load_active_layers, load_demo_layers
from tests.fix_db import one
from tests.fix_system import new_database
from tests.layers.test_import import BROKEN_CITIES, city, write


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    return new_database(pg_dsn)


def state(dsn: str) -> tuple[int, int, int | None]:
    """(versions, region rows, active version)."""
    with psycopg.connect(dsn) as conn:
        versions = one(conn, "SELECT count(*) FROM boundary_versions")[0]
        regions = one(conn, "SELECT count(*) FROM regions")[0]
    return int(versions), int(regions), active_version(dsn)


def test_import_loads_a_new_active_version_and_reimport_is_a_no_op(dsn: str, tmp_path: Path) -> None:
    files = write(city(), tmp_path, "gpkg")
    before = state(dsn)
    result = import_files(dsn, files)
    assert result.ok and result.version is not None
    versions, regions, active = state(dsn)
    assert active == result.version and versions == before[0] + 1 and regions == before[1] + 14
    back = load_active_layers(dsn)
    assert result.layers is not None
    for level in LEVELS:
        assert back.level(level)["code"].tolist() == result.layers.level(level)["code"].tolist()
        assert shapely.equals_exact(np.asarray(back.level(level).geometry.values),
                                    np.asarray(result.layers.level(level).geometry.values), 0).all()
    assert back.source.startswith("import:")
    with psycopg.connect(dsn) as conn:
        note = one(conn, "SELECT note FROM boundary_versions WHERE active")[0]
    assert "city.gpkg" in note
    # The same files again: recognised, nothing written.
    again = import_files(dsn, files)
    assert again.version == result.version and state(dsn) == (versions, regions, active)


@pytest.mark.parametrize("case", ["overlap", "gap between townships", "wrong code length"])
def test_a_refused_import_writes_nothing(dsn: str, tmp_path: Path, case: str) -> None:
    load_demo_layers(dsn)
    before = state(dsn)
    frames = city()
    BROKEN_CITIES[case][0](frames)
    result = import_files(dsn, write(frames, tmp_path))
    assert not result.ok and result.version is None
    assert state(dsn) == before


def test_incidents_keep_the_version_they_were_routed_with(dsn: str, tmp_path: Path) -> None:
    demo_version = load_demo_layers(dsn)
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        incident = one(conn,
            "INSERT INTO incidents (title, category, level, status, source_kind, lon, lat, district_code,"
            " township_code, grid_code, boundary_version, created_at, updated_at)"
            " VALUES ('积水', 'flood', 2, 'dispatched', 'manual', 113.011, 25.784, '431002', '431002001',"
            " '431002001001', %s, %s, %s) RETURNING id", (demo_version, now, now))[0]
    frames = city()
    frames["grid"].loc[0, "name"] = "改名的网格"  # a different file: a new version
    result = import_files(dsn, write(frames, tmp_path))
    assert result.ok and result.version != demo_version
    with psycopg.connect(dsn) as conn:
        kept = conn.execute("SELECT boundary_version, grid_code FROM incidents WHERE id = %s",
                            (incident,)).fetchone()
        old_regions = one(conn, "SELECT count(*) FROM regions WHERE version = %s",
                                   (demo_version,))[0]
    assert kept == (demo_version, "431002001001")
    assert old_regions == len(demo_layers().districts) + len(demo_layers().townships) + len(demo_layers().grids)
    assert active_version(dsn) == result.version


@pytest.mark.parametrize("fmt", ["shp", "gpkg", "geojson-4547"])
def test_the_real_demo_layers_round_trip_through_files(dsn: str, tmp_path: Path, fmt: str) -> None:
    demo = demo_layers()
    frames = {lv: demo.level(lv).drop(columns="illustrative") for lv in LEVELS}
    if fmt == "geojson-4547":  # as a surveying office would hand them over: CGCS2000 Gauss-Krüger, metres
        for lv in LEVELS:
            frames[lv].to_crs("EPSG:4547").to_file(tmp_path / f"{lv}.geojson", driver="GeoJSON")
        files = {lv: str(tmp_path / f"{lv}.geojson") for lv in LEVELS}
    else:
        files = write(frames, tmp_path, fmt)
    result = import_files(dsn, files)
    assert result.ok, result.problems[:5]
    back = load_active_layers(dsn)
    assert back.version == result.version
    for level in LEVELS:
        geoms = np.asarray(back.level(level).geometry.values)
        assert shapely.coverage_is_valid(geoms)  # still one shared border between neighbours
        assert back.level(level)["name"].tolist() == demo.level(level)["name"].tolist()
    rng = np.random.default_rng(17)
    x0, y0, x1, y1 = demo.districts.total_bounds
    lon, lat = rng.uniform(x0, x1, 50_000), rng.uniform(y0, y1, 50_000)
    got, want = tag_points(lon, lat, back), tag_points(lon, lat, demo)
    codes = ["district_code", "township_code", "grid_code"]
    if fmt == "geojson-4547":
        # Reprojection moved long edges by < 1 m (their chords bow on the plane): only points
        # that close to a border may change hands, and those are flagged near the border.
        differ = (got[codes].fillna("-") != want[codes].fillna("-")).any(axis=1).to_numpy()
        assert differ.sum() < 10
        assert want["near_boundary"].to_numpy()[differ].all()
    else:
        assert got[codes].equals(want[codes])


def test_cli_import_prints_progress_and_a_chinese_report(dsn: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYOPS_LANG", raising=False)
    files = write(city(), tmp_path / "ok", "zip")
    args = ["import", "--districts", files["district"], "--townships", files["township"], "--grids", files["grid"],
            "--dsn", dsn]
    assert cli(args) == 0
    out = capsys.readouterr()
    assert "[####################] " in out.err and "100%" in out.err  # the progress bar reached the end
    assert "写入数据库" in out.err
    assert "边界版本" in out.out and "已启用" in out.out
    before = state(dsn)
    frames = city()
    BROKEN_CITIES["township outside its district"][0](frames)
    bad = write(frames, tmp_path / "bad", "shp")
    bad_args = ["import", "--districts", bad["district"], "--townships", bad["township"], "--dsn", dsn]
    assert cli(bad_args) == 2
    out = capsys.readouterr()
    assert "拒绝导入" in out.out and "超出上级范围" in out.out and "431003002" in out.out
    assert cli([*bad_args, "--lang", "en"]) == 2
    assert "Import refused" in capsys.readouterr().out
    monkeypatch.setenv("CITYOPS_LANG", "en")
    assert cli(bad_args) == 2
    assert "outside its parent" in capsys.readouterr().out
    assert state(dsn) == before
    # --check validates without writing, even for good files.
    assert cli([*args, "--check", "--tolerance-m2", "10"]) == 0
    assert "ready to import" in capsys.readouterr().out


def test_cli_field_options_and_a_real_process(dsn: str, tmp_path: Path) -> None:
    frames = city()
    frames["grid"] = frames["grid"].rename(columns={"code": "GRID_ID", "name": "GRID_NM"})
    files = write(frames, tmp_path, "geojson")
    base = [sys.executable, "-m", "layers", "import", "--districts", files["district"],
            "--townships", files["township"], "--grids", files["grid"], "--dsn", dsn]
    env = {k: v for k, v in os.environ.items() if k != "CITYOPS_LANG"}
    done = subprocess.run([*base, "--code-field", "grid=GRID_ID", "--name-field", "grid=GRID_NM", "--lang", "en"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "boundary version" in done.stdout and "active" in done.stdout
    assert load_active_layers(dsn).grids["name"].tolist() == sorted(frames["grid"]["GRID_NM"])
    done = subprocess.run(base, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "拒绝导入" in done.stdout and "--code-field" in done.stdout and "GRID_ID" in done.stdout


def test_import_options_reach_the_source_identity(dsn: str, tmp_path: Path) -> None:
    files = write(city(), tmp_path)
    plain = import_files(dsn, files)
    converted = import_files(dsn, files, ImportOptions(coords="gcj02"))
    assert plain.ok and converted.ok
    assert plain.source != converted.source  # the same bytes read differently are a different version
    assert converted.version != plain.version
