"""Checks a set of boundary layers must pass before they may become the active version.

What is refused, and why it matters downstream:

- codes: missing, duplicated, wrong length (6/9/12 digits), or not starting with the
  parent's code — codes are what incidents are routed by and what the 12-digit grid
  code's prefix promises;
- a parent code that does not exist in the parent layer;
- geometry: missing, not a polygon, invalid (self-intersections make point-in-polygon
  answers arbitrary);
- overlaps between polygons of one level: a point in two townships has two owners;
- gaps between the units inside their parent (townships inside a district, grids
  inside a township): a point there would be routed nowhere;
- a unit (partly) outside its parent: its codes would contradict the map.

Overlaps, gaps and overhangs are found in lon/lat and measured in m² on a local
transverse Mercator (:mod:`layers.plane`); anything up to ``tolerance_m2`` per piece
is let through: digitised borders often disagree by centimetres, which is no one's
problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from layers.geo import CODE_LENGTH, LEVELS, Level
from layers.plane import MetricPlane
from layers.report import Problem

DEFAULT_TOLERANCE_M2 = 100.0  # e.g. a sliver 1 m wide and 100 m long
PARENT_OF: dict[Level, Level] = {"township": "district", "grid": "township"}

Step = Callable[[str, str], None]  # (phase key, level): progress reporting


def _no_step(_phase: str, _level: str) -> None:
    return None


def fill_parents(frames: dict[Level, gpd.GeoDataFrame]) -> None:
    """Where a file has no parent column, the parent is the code's prefix (what GB/T 2260 codes encode)."""
    for level, parent in PARENT_OF.items():
        frame = frames.get(level)
        if frame is None:
            continue
        n = CODE_LENGTH[parent]
        parents = [p if p is not None else (c[:n] if c is not None and len(c) > n else None)
                   for c, p in zip(frame["code"], frame["parent_code"], strict=True)]
        frame["parent_code"] = pd.Series(parents, index=frame.index, dtype=object)  # None stays None


def _prefix_of_parent(parent: str) -> str:
    """The part of a city/province code a district code shares: 431000 → 4310, 110000 → 11."""
    while parent.endswith("00") and len(parent) > 2:
        parent = parent[:-2]
    return parent


def check_attributes(level: Level, frame: gpd.GeoDataFrame, parent_codes: set[str] | None) -> list[Problem]:
    out: list[Problem] = []
    n = CODE_LENGTH[level]
    well_formed = re.compile(rf"\d{{{n}}}")
    codes = frame["code"].tolist()
    counts = frame["code"].value_counts()
    for code, count in counts[counts > 1].items():
        out.append(Problem("duplicate_code", level, code=str(code), detail=str(count)))
    for i, (code, name, parent) in enumerate(zip(codes, frame["name"], frame["parent_code"], strict=True)):
        if code is None:
            out.append(Problem("code_missing", level, detail=str(i + 1)))
            continue
        if not well_formed.fullmatch(code):
            out.append(Problem("code_format", level, code=code, detail=str(n)))
        if name is None:
            out.append(Problem("name_missing", level, code=code))
        if parent is None:
            continue
        prefix = _prefix_of_parent(parent) if level == "district" else parent
        if not code.startswith(prefix):
            out.append(Problem("code_prefix", level, code=code, other=parent))
        elif parent_codes is not None and parent not in parent_codes:
            out.append(Problem("parent_unknown", level, code=code, other=parent))
    return out


_REASON_AT = re.compile(r"\[\s*([-+\d.eE]+)\s+([-+\d.eE]+)")


def check_geometry(level: Level, frame: gpd.GeoDataFrame) -> tuple[list[Problem], npt.NDArray[np.bool_]]:
    """Problems, and which rows are valid polygons (the only ones the topology checks can trust)."""
    out: list[Problem] = []
    geoms = np.asarray(frame.geometry.values, dtype=object)
    codes = frame["code"].tolist()
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~absent  # Polygon, MultiPolygon
    valid = np.zeros(len(geoms), dtype=bool)
    valid[polygonal] = shapely.is_valid(geoms[polygonal])
    for i in np.flatnonzero(absent):
        out.append(Problem("geometry_empty", level, code=codes[i] or f"#{i + 1}"))
    for i in np.flatnonzero(~absent & ~polygonal):
        out.append(Problem("geometry_type", level, code=codes[i] or f"#{i + 1}", detail=geoms[i].geom_type))
    for i in np.flatnonzero(polygonal & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        m = _REASON_AT.search(reason)
        where = (float(m.group(1)), float(m.group(2))) if m else None
        out.append(Problem("invalid_polygon", level, code=codes[i] or f"#{i + 1}", detail=reason.split("[")[0],
                           where=where))
    return out, valid


class Topology:
    """The usable rows of every level, for the area-based checks.

    Overlay happens in lon/lat, the space tagging uses (edges are straight in lon/lat),
    so a child vertex lying on its parent's edge stays on it; projecting first would bow
    long edges differently on either side (a 10 km edge along a parallel by ~1 m) and
    invent slivers. Only the pieces found are projected to measure their area in m².
    """

    def __init__(self, frames: dict[Level, gpd.GeoDataFrame], usable: dict[Level, npt.NDArray[np.bool_]],
                 tolerance_m2: float) -> None:
        self.tolerance = tolerance_m2
        self.codes: dict[Level, list[str]] = {}
        self.parents: dict[Level, list[str | None]] = {}
        self.geoms: dict[Level, npt.NDArray[np.object_]] = {}
        self.complete: dict[Level, bool] = {}
        for level, frame in frames.items():
            keep = usable[level] & frame["code"].notna().to_numpy()
            self.codes[level] = frame["code"][keep].tolist()
            self.parents[level] = frame["parent_code"][keep].tolist()
            self.geoms[level] = np.asarray(frame.geometry.values, dtype=object)[keep]
            self.complete[level] = bool(keep.all())
        self.plane = MetricPlane(shapely.total_bounds(np.concatenate(list(self.geoms.values()))))

    def area_m2(self, geoms: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.asarray(shapely.area(self.plane.to_metres(geoms)), dtype=np.float64)

    @staticmethod
    def _where(geom: shapely.Geometry) -> tuple[float, float]:
        p = shapely.point_on_surface(geom)
        return float(p.x), float(p.y)

    def overlaps(self, level: Level) -> list[Problem]:
        geoms, codes = self.geoms[level], self.codes[level]
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        pair = a < b
        a, b = a[pair], b[pair]
        interior = ~shapely.touches(geoms[a], geoms[b])  # neighbours sharing a border only touch
        a, b = a[interior], b[interior]
        inter = np.asarray(shapely.intersection(geoms[a], geoms[b]), dtype=object)
        area = self.area_m2(inter)
        return [Problem("overlap", level, code=codes[i], other=codes[j], area_m2=float(ar), where=self._where(g))
                for i, j, ar, g in zip(a, b, area, inter, strict=True) if ar > self.tolerance]

    def containment(self, child: Level, parent: Level) -> list[Problem]:
        """Children outside their parent, and parts of a parent no child covers."""
        out: list[Problem] = []
        parent_geom = dict(zip(self.codes[parent], self.geoms[parent], strict=True))
        shapely.prepare(self.geoms[parent])  # the covers() test below, once per child
        kids: dict[str, list[shapely.Geometry]] = {}
        for code, pcode, geom in zip(self.codes[child], self.parents[child], self.geoms[child], strict=True):
            if pcode is None or pcode not in parent_geom:
                continue  # reported as a code problem already
            kids.setdefault(pcode, []).append(geom)
            if shapely.covers(parent_geom[pcode], geom):
                continue  # wholly inside (the usual case): skip the costly overlay with a big parent
            pieces = np.asarray(shapely.get_parts(shapely.difference(geom, parent_geom[pcode])), dtype=object)
            areas = self.area_m2(pieces)
            if areas.sum() > self.tolerance:
                out.append(Problem("outside_parent", child, code=code, other=pcode, area_m2=float(areas.sum()),
                                   where=self._where(pieces[int(np.argmax(areas))])))
        if not self.complete[child]:
            # A child left out as invalid would show up as a "gap" where it lies: do not guess.
            return out
        for pcode, pgeom in parent_geom.items():
            covered = shapely.union_all(kids.get(pcode, []))
            pieces = np.asarray(shapely.get_parts(shapely.difference(pgeom, covered)), dtype=object)
            for piece, area in zip(pieces, self.area_m2(pieces), strict=True):
                if area > self.tolerance:
                    out.append(Problem("gap", child, other=pcode, area_m2=float(area), where=self._where(piece)))
        return out


def validate(frames: dict[Level, gpd.GeoDataFrame], tolerance_m2: float = DEFAULT_TOLERANCE_M2,
             step: Step = _no_step) -> list[Problem]:
    """Every problem of the layers given (any subset of levels, parents completed by :func:`fill_parents`)."""
    problems: list[Problem] = []
    usable: dict[Level, npt.NDArray[np.bool_]] = {}
    present = [lv for lv in LEVELS if lv in frames]
    for level in present:
        step("attributes", level)
        parent = PARENT_OF.get(level)
        parent_codes = set(frames[parent]["code"].dropna()) if parent in frames else None
        problems += check_attributes(level, frames[level], parent_codes)
        step("geometry", level)
        found, usable[level] = check_geometry(level, frames[level])
        problems += found
    if not any(u.any() for u in usable.values()):
        return problems
    topo = Topology({lv: frames[lv] for lv in present}, usable, tolerance_m2)
    for level in present:
        step("overlaps", level)
        problems += topo.overlaps(level)
    for level in present:
        parent = PARENT_OF.get(level)
        if parent in frames:
            step("containment", level)
            problems += topo.containment(level, parent)
    return problems


def validation_steps(levels: list[Level]) -> int:
    """How many times :func:`validate` calls ``step`` for these levels (for a progress bar)."""
    return 3 * len(levels) + sum(1 for lv in levels if PARENT_OF.get(lv) in levels)
