"""Tagging throughput: points/s of layers.geo.tag_points into the 郴州 grid layer.

    .venv/bin/python bench/bench_tagging.py [--points 1000000] [--naive 10000] [--repeats 3]

Random points in the city's bounding box (~45 % fall inside the city). tag_points is
timed as ingest calls it: grid, township and district codes plus the near-boundary
flag (≤ 50 m from a township border). Compared, in the same run, with geopandas
``sjoin`` building its tree on the points, and with a naive per-point Python loop over
the polygons (on a smaller sample; its rate is what the ratio uses). The naive loop's
answers are checked against tag_points, for the codes and for the near flag (a
per-point distance in metres). Times are the best of ``--repeats``; figures vary
±50 % between runs on shared machines.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.geo import CRS, Layers, demo_layers, tag_points
from layers.near import DEFAULT_NEAR_M
from layers.plane import MetricPlane

TARGET_POINTS_PER_S = 1_000_000


def naive_loop(lon: np.ndarray, lat: np.ndarray, polygons: list[shapely.Geometry],
               codes: list[str]) -> list[str | None]:
    """What a per-row implementation looks like: one Point and a scan of the polygons per point."""
    out: list[str | None] = []
    for x, y in zip(lon, lat, strict=True):
        pt = shapely.Point(x, y)
        out.append(next((c for c, poly in zip(codes, polygons, strict=True) if poly.intersects(pt)), None))
    return out


def naive_near(lon: np.ndarray, lat: np.ndarray, layers: Layers, distance_m: float) -> list[bool]:
    """Per point: metres to the township borders on a local transverse Mercator."""
    plane = MetricPlane(layers.districts.total_bounds)
    borders = plane.to_metres(np.array([shapely.union_all(shapely.boundary(layers.townships.geometry.values))]))[0]
    x, y = plane.xy(lon, lat)
    return [borders.distance(shapely.Point(px, py)) <= distance_m for px, py in zip(x, y, strict=True)]


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--naive", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    layers = demo_layers()
    x0, y0, x1, y1 = layers.districts.total_bounds
    rng = np.random.default_rng(2024)
    lon = rng.uniform(x0, x1, args.points)
    lat = rng.uniform(y0, y1, args.points)

    # Built once per boundary version, as a long-running ingest does on its first batch.
    t = time.perf_counter()
    _ = layers.polygon_index
    t_poly = time.perf_counter() - t
    t = time.perf_counter()
    layers.near_index(DEFAULT_NEAR_M)
    t_near = time.perf_counter() - t
    print(f"index build, once per boundary version: lookup raster {t_poly:.2f} s, "
          f"near-boundary {t_near:.2f} s")

    t_tag = best_of(lambda: tag_points(lon, lat, layers), args.repeats)
    tags = tag_points(lon, lat, layers)
    rate = args.points / t_tag
    print(f"tag_points, {args.points:,} points into {len(layers.grids)} grids, with near-boundary "
          f"(≤ {DEFAULT_NEAR_M:g} m): {t_tag:.3f} s, {rate:,.0f} points/s "
          f"({tags['grid_code'].notna().mean():.1%} inside the city, {tags['near_boundary'].mean():.1%} near a border)")
    t_codes = best_of(lambda: tag_points(lon, lat, layers, near_m=None), args.repeats)
    print(f"tag_points, codes only (near_m=None): {t_codes:.3f} s, {args.points / t_codes:,.0f} points/s")

    grids = gpd.GeoDataFrame(geometry=layers.grids.geometry.values, crs=CRS)

    def sjoin_tree_on_points() -> None:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=CRS)
        gpd.sjoin(grids, points, predicate="intersects")

    t_sjoin = best_of(sjoin_tree_on_points, args.repeats)
    print(f"geopandas sjoin, tree built on the points per call (codes only): {t_sjoin:.2f} s, "
          f"{args.points / t_sjoin:,.0f} points/s")

    batch = 5_000

    def sjoin_batch() -> None:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[:batch], lat[:batch]), crs=CRS)
        gpd.sjoin(grids, points, predicate="intersects")

    t_batch = best_of(lambda: tag_points(lon[:batch], lat[:batch], layers), 20)
    t_sjoin_batch = best_of(sjoin_batch, 20)
    print(f"one ingest batch of {batch:,} points: tag_points {t_batch * 1e3:.1f} ms, "
          f"sjoin with the tree on the points {t_sjoin_batch * 1e3:.1f} ms")

    n = min(args.naive, args.points)
    polygons = list(layers.grids.geometry.values)
    codes = layers.grids["code"].tolist()
    t = time.perf_counter()
    expected = naive_loop(lon[:n], lat[:n], polygons, codes)
    t_naive = time.perf_counter() - t
    assert tags["grid_code"].iloc[:n].tolist() == expected, "vectorised and naive tagging disagree"
    near_expected = naive_near(lon[:n], lat[:n], layers, DEFAULT_NEAR_M)
    assert tags["near_boundary"].iloc[:n].tolist() == near_expected, "near-boundary flags disagree"
    print(f"naive per-point loop, {n:,} points: {t_naive:.2f} s, {n / t_naive:,.0f} points/s "
          f"(same grid codes and near flags as tag_points)")
    print(f"speed-up of tag_points over the naive loop: {rate / (n / t_naive):,.0f}x")
    verdict = "met" if rate >= TARGET_POINTS_PER_S else "NOT met"
    print(f"target ≥ {TARGET_POINTS_PER_S:,} points/s into the grid layer: {verdict}")


if __name__ == "__main__":
    main()
