"""The lookup raster (layers.lookup) and the near-boundary flag (layers.near) against brute force.

The raster answers most points without a geometric test, so these tests aim where it
could go wrong: points on and a hair off borders, shared vertices, holes, overlaps,
polygons smaller than a cell, the raster's own edges, NaN; and for the near flag,
points just inside and just outside the distance.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers.geo import Layers, demo_layers, tag_points
from layers.lookup import PolygonIndex
from layers.near import NearIndex
from layers.plane import MetricPlane


@pytest.fixture(scope="module")
def layers() -> Layers:
    return demo_layers()


def oracle(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smallest index of a polygon the point intersects (-1 for none), by brute force."""
    out = np.full(x.size, -1, dtype=np.int64)
    for i in range(len(polygons) - 1, -1, -1):  # descending, so the smallest index is written last
        out[shapely.intersects_xy(polygons[i], x, y)] = i
    return out


def border_points(polygons: np.ndarray, n: int, jitter: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points on the polygons' vertices and edges, and a tiny random step off them."""
    rng = np.random.default_rng(seed)
    lines = shapely.segmentize(shapely.boundary(polygons), 0.001)
    xy = shapely.get_coordinates(lines)
    pick = xy[rng.integers(0, len(xy), n)]
    offset = rng.normal(0, jitter, (n, 2)) * (rng.random((n, 1)) < 0.7)  # 30 % exactly on the vertex
    return pick[:, 0] + offset[:, 0], pick[:, 1] + offset[:, 1]


def test_grid_layer_matches_brute_force_on_and_near_borders(layers: Layers) -> None:
    polygons = np.asarray(layers.grids.geometry.values, dtype=object)
    index = layers.polygon_index
    for jitter in (1e-9, 1e-6, 1e-4):
        x, y = border_points(polygons, 20_000, jitter, seed=int(jitter * 1e9) % 1000)
        np.testing.assert_array_equal(index.locate(x, y), oracle(polygons, x, y))


def test_random_points_in_the_box_match_brute_force(layers: Layers) -> None:
    polygons = np.asarray(layers.grids.geometry.values, dtype=object)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    rng = np.random.default_rng(5)
    x = rng.uniform(x0 - 0.01, x1 + 0.01, 30_000)
    y = rng.uniform(y0 - 0.01, y1 + 0.01, 30_000)
    got = layers.polygon_index.locate(x, y)
    np.testing.assert_array_equal(got, oracle(polygons, x, y))
    assert 0.3 < (got >= 0).mean() < 0.6


def test_holes_overlaps_multipolygons_and_tiny_polygons() -> None:
    outer = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(3, 3), (7, 3), (7, 7), (3, 7)]])
    polygons = np.array([
        shapely.box(5, 5, 15, 15),  # 0: overlaps 1 and its hole
        outer,  # 1: with a hole
        shapely.box(4, 4, 6, 6),  # 2: inside the hole, partly under 0
        shapely.MultiPolygon([shapely.box(20, 0, 21, 1), shapely.box(22, 0, 23, 1)]),  # 3
        shapely.box(12.0, 1.0, 12.0001, 1.0001),  # 4: far smaller than a raster cell
    ], dtype=object)
    index = PolygonIndex(polygons, max_cells=400)  # coarse on purpose: most cells are "test exactly"
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.uniform(-1, 24, 20_000), [12.00005, 5.0, 3.0, 21.5, 23.0, 15.0, 0.0]])
    y = np.concatenate([rng.uniform(-1, 16, 20_000), [1.00005, 5.0, 3.0, 0.5, 1.0, 15.0, 0.0]])
    got = index.locate(x, y)
    np.testing.assert_array_equal(got, oracle(polygons, x, y))
    assert got[-7:].tolist() == [4, 0, 1, -1, 3, 0, 1]  # tiny, overlap → smallest, hole edge, gap, corners


def test_degenerate_inputs() -> None:
    empty = PolygonIndex(np.array([], dtype=object))
    assert empty.locate(np.array([1.0]), np.array([1.0])).tolist() == [-1]
    one = PolygonIndex(np.array([shapely.box(0, 0, 1, 1)], dtype=object), max_cells=1)
    x = np.array([0.5, 1.0, 0.0, 1.0 + 1e-12, np.nan, np.inf, -np.inf, 0.5])
    y = np.array([0.5, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5, np.nan])
    assert one.locate(x, y).tolist() == [0, 0, 0, -1, -1, -1, -1, -1]
    assert one.locate(np.array([]), np.array([])).size == 0


# -- near-boundary ----------------------------------------------------------------------


def metric_distance(plane: MetricPlane, lines: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Metres from each point to ``lines``, whose edges are straight in lon/lat (as tagging reads them):
    densified to ~50 m before projecting, so the projected chords follow those edges to < 0.1 mm."""
    x, y = plane.xy(lon, lat)
    dense = shapely.segmentize(lines, 0.0005)
    return shapely.distance(shapely.points(x, y), plane.to_metres(np.array([dense]))[0])


@pytest.mark.parametrize("distance", [10.0, 50.0, 300.0])
def test_near_flag_matches_measured_distance(layers: Layers, distance: float) -> None:
    towns = np.asarray(layers.townships.geometry.values, dtype=object)
    near = NearIndex(towns, distance)
    lines = shapely.union_all(shapely.boundary(towns))
    rng = np.random.default_rng(int(distance))
    # Points scattered up to 3× the distance around border vertices, in metres on the plane.
    xy = shapely.get_coordinates(shapely.segmentize(lines, 0.002))[rng.integers(0, 10_000, 6_000)]
    bx, by = near.plane.xy(xy[:, 0], xy[:, 1])
    ang = rng.uniform(0, 2 * np.pi, bx.size)
    r = rng.uniform(0, 3 * distance, bx.size)
    lon, lat = near.plane.lonlat(bx + r * np.cos(ang), by + r * np.sin(ang))
    d = metric_distance(near.plane, lines, lon, lat)
    flag = near.flag(lon, lat)
    np.testing.assert_array_equal(flag, d <= distance)
    assert 0.2 < flag.mean() < 0.8


def test_near_flag_is_sharp_at_the_distance(layers: Layers) -> None:
    towns = np.asarray(layers.townships.geometry.values, dtype=object)
    near = NearIndex(towns, 50.0)
    lines = shapely.union_all(shapely.boundary(towns))
    # Long straight segments of the border, stepped out along their normal by 49.9 and 50.1 m.
    segs = shapely.get_coordinates(lines)
    mx, my = near.plane.xy(segs[:, 0], segs[:, 1])
    dx, dy = np.diff(mx), np.diff(my)
    length = np.hypot(dx, dy)
    pick = np.flatnonzero(length > 400)[:200]
    cx, cy = mx[pick] + dx[pick] / 2, my[pick] + dy[pick] / 2
    nx, ny = -dy[pick] / length[pick], dx[pick] / length[pick]
    for step, expected in ((49.9, True), (50.1, False)):
        lon, lat = near.plane.lonlat(cx + step * nx, cy + step * ny)
        measured = metric_distance(near.plane, lines, lon, lat)
        clean = np.abs(measured - step) < 0.01  # another border bend may be closer; skip those
        assert clean.sum() > 100
        assert (near.flag(lon, lat)[clean] == expected).all()


def test_tag_points_flags_township_borders_only(layers: Layers) -> None:
    plane = MetricPlane(layers.districts.total_bounds)
    towns_border = shapely.union_all(shapely.boundary(layers.townships.geometry.values))
    t = layers.townships.set_index("code").geometry
    a, b = "431002001", next(c for c in t.index if c != "431002001" and t[c].touches(t["431002001"]))
    mid = shapely.line_interpolate_point(shapely.line_merge(shapely.intersection(t[a], t[b])), 0.5, normalized=True)
    mx, my = plane.xy(np.array([mid.x]), np.array([mid.y]))
    # On the border, then 30 m and 80 m off it along the plane's x axis, then deep inside a township.
    off_lon, off_lat = plane.lonlat(mx + np.array([30.0, 80.0]), np.repeat(my, 2))
    inside = shapely.point_on_surface(t[a])
    lon = np.array([mid.x, *off_lon, inside.x])
    lat = np.array([mid.y, *off_lat, inside.y])
    dist_m = metric_distance(plane, towns_border, lon, lat)
    tags = tag_points(lon, lat, layers)
    assert tags["near_boundary"].tolist() == (dist_m <= 50).tolist()
    assert tags["near_boundary"].iloc[0]  # on the border itself
    assert tags["township_code"].iloc[0] == min(a, b)  # and it still gets one township
    wide = tag_points(lon, lat, layers, near_m=100.0)
    assert wide["near_boundary"].tolist() == (dist_m <= 100).tolist()
    off = tag_points(lon, lat, layers, near_m=None)
    assert not off["near_boundary"].any()
    codes = ["district_code", "township_code", "grid_code"]
    assert off[codes].equals(tags[codes])


def test_grid_borders_inside_a_township_are_not_near(layers: Layers) -> None:
    plane = MetricPlane(layers.districts.total_bounds)
    towns_border = shapely.union_all(shapely.boundary(layers.townships.geometry.values))
    grid_lines = shapely.union_all(shapely.boundary(layers.grids.geometry.values))
    inner = shapely.difference(grid_lines, shapely.buffer(towns_border, 0.002))  # grid-only borders, ≥ ~200 m away
    xy = shapely.get_coordinates(inner)[::50]
    assert len(xy) > 50
    dist = metric_distance(plane, towns_border, xy[:, 0], xy[:, 1])
    tags = tag_points(xy[:, 0], xy[:, 1], layers)
    assert (dist > 50).all()
    assert not tags["near_boundary"].any()
    assert tags["grid_code"].notna().all()


def test_near_flag_includes_the_city_edge_and_points_just_outside(layers: Layers) -> None:
    d = layers.districts
    edge = shapely.boundary(shapely.union_all(d.geometry.values))
    plane = MetricPlane(d.total_bounds)
    xy = shapely.get_coordinates(edge)
    mx, my = plane.xy(xy[:, 0], xy[:, 1])
    i = int(np.argmax(np.hypot(np.diff(mx), np.diff(my))))  # the longest straight piece of the edge
    cx, cy = (mx[i] + mx[i + 1]) / 2, (my[i] + my[i + 1]) / 2
    length = np.hypot(mx[i + 1] - mx[i], my[i + 1] - my[i])
    nx, ny = -(my[i + 1] - my[i]) / length, (mx[i + 1] - mx[i]) / length
    steps = np.array([0.0, 20.0, -20.0, 60.0, -60.0])
    lon, lat = plane.lonlat(cx + steps * nx, cy + steps * ny)
    tags = tag_points(lon, lat, layers)
    assert tags["near_boundary"].tolist() == [True, True, True, False, False]
    # 20 m either side of the edge: one point lies in no district, yet it is near.
    assert sum(tags["district_code"].iloc[1:3].isna()) == 1
    assert sum(tags["district_code"].iloc[3:].isna()) == 1


def test_layers_without_townships_use_district_borders(layers: Layers) -> None:
    only = Layers(layers.districts, layers.townships.iloc[:0], layers.grids.iloc[:0])
    d = layers.districts.set_index("code").geometry
    shared = shapely.line_merge(shapely.intersection(d["431002"].boundary, d["431003"].boundary))
    p = shapely.line_interpolate_point(shared, 0.5, normalized=True)
    assert tag_points(np.array([p.x]), np.array([p.y]), only)["near_boundary"].iloc[0]
    nothing = Layers(layers.districts.iloc[:0], layers.townships.iloc[:0], layers.grids.iloc[:0])
    tags = tag_points(np.array([113.0]), np.array([25.8]), nothing)
    assert tags["district_code"].iloc[0] is None and not tags["near_boundary"].iloc[0]


def test_densify_gives_a_shared_border_the_same_vertices_from_both_sides() -> None:
    from layers.densify import densify_all

    rng = np.random.default_rng(4)
    pts = rng.uniform(400_000, 500_000, (40, 2))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts)))
    cells = shapely.intersection(cells, shapely.box(*pts.min(axis=0), *pts.max(axis=0)))
    assert shapely.coverage_is_valid(cells)
    dense = densify_all(cells, 97.0)
    assert shapely.get_num_coordinates(dense).sum() > 10 * shapely.get_num_coordinates(cells).sum()
    assert shapely.coverage_is_valid(dense)  # shapely.segmentize fails this (14 % of segments differ)
    assert (shapely.hausdorff_distance(dense, cells) < 1e-6).all()  # the same shapes
    for ring in shapely.get_exterior_ring(dense):
        xy = shapely.get_coordinates(ring)
        assert np.hypot(*np.diff(xy, axis=0).T).max() <= 97.0 + 1e-9
