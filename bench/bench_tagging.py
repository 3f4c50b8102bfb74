"""Tagging throughput: points/s of layers.geo.tag_points into the 郴州 grid layer.

    .venv/bin/python bench/bench_tagging.py [--points 1000000] [--naive 10000]

Random points in the city's bounding box (~45 % fall inside the city). Compared with
the same join through geopandas ``sjoin`` building its tree on the points, and with a
naive per-point Python loop over the polygons (on a smaller sample; its rate is what
the ratio uses). Figures vary ±50 % between runs on shared machines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.geo import CRS, demo_layers, tag_points


def naive_loop(lon: np.ndarray, lat: np.ndarray, polygons: list[shapely.Geometry],
               codes: list[str]) -> list[str | None]:
    """What a per-row implementation looks like: one Point and a scan of the polygons per point."""
    out: list[str | None] = []
    for x, y in zip(lon, lat, strict=True):
        pt = shapely.Point(x, y)
        out.append(next((c for c, poly in zip(codes, polygons, strict=True) if poly.intersects(pt)), None))
    return out


def best_of(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
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
    tag_points(lon[:10], lat[:10], layers)  # builds the layer's R-tree once, as a long-running ingest would

    t_tag = best_of(lambda: tag_points(lon, lat, layers), args.repeats)
    tags = tag_points(lon, lat, layers)
    inside = tags["grid_code"].notna().mean()
    print(f"tag_points, {args.points:,} points into {len(layers.grids)} grids: {t_tag:.2f} s, "
          f"{args.points / t_tag:,.0f} points/s ({inside:.1%} inside the city)")

    grids = gpd.GeoDataFrame(geometry=layers.grids.geometry.values, crs=CRS)

    def sjoin_tree_on_points() -> None:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=CRS)
        gpd.sjoin(grids, points, predicate="intersects")

    t_sjoin = best_of(sjoin_tree_on_points, args.repeats)
    print(f"geopandas sjoin, tree built on the points per call: {t_sjoin:.2f} s, "
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
    print(f"naive per-point loop, {n:,} points: {t_naive:.2f} s, {n / t_naive:,.0f} points/s")
    print(f"speed-up of tag_points over the naive loop: {(args.points / t_tag) / (n / t_naive):,.0f}x")


if __name__ == "__main__":
    main()
