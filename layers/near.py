"""Near-boundary flag: is a point within a given distance (metres) of a border line?

A point that close to a township border may really belong to the neighbour (a GPS
fix is often 10–30 m off, a geocoded address more), so the dispatcher confirms it.

Same shape as :mod:`layers.lookup`: a lookup raster over the borders' bounding box
marks every cell that could hold a point within the distance; points elsewhere are
answered "no" without further work, the rest are measured exactly: projected to a
local transverse Mercator (:class:`layers.plane.MetricPlane`) and queried against an
R-tree of the border segments with ``dwithin`` (distance ≤ d, in metres).

Why "elsewhere" is safe: border vertices are densified to half a cell apart, so a
border point's cell is within one cell of a vertex's cell; a point within d metres
of it is within ceil(d / cell size in metres) more cells, the cell size taken at its
smallest (the bounding box's highest latitude). Marking that reach around every
vertex cell covers every point that could be near.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

from layers.lookup import Raster
from layers.plane import MetricPlane, min_metres_per_degree

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

DEFAULT_NEAR_M = 50.0
# Finer than the polygon raster: here every point in a marked cell costs a projection and
# a tree query, and the marked band is (2 × reach + 1) cells wide.
NEAR_MAX_CELLS = 1 << 22
# ~200 m: a chord that short departs from the lon/lat-straight edge by < 0.5 mm on the plane.
SEGMENT_DEG = 0.002


def border_segments(lines: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Every two-point segment of ``lines``, deduplicated: the tree stays small and its boxes tight."""
    coords, ring = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    same = ring[1:] == ring[:-1]
    seg = np.column_stack([coords[:-1][same], coords[1:][same]])  # x0 y0 x1 y1
    # A border shared by two polygons appears once per side, in either direction.
    flip = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    seg[flip] = seg[flip][:, [2, 3, 0, 1]]
    seg = np.unique(seg, axis=0)
    return np.asarray(shapely.linestrings(seg.reshape(-1, 2, 2)), dtype=object)


class NearIndex:
    """``flag(x, y)``: True where a WGS84 point is within ``distance_m`` of a border of ``polygons``."""

    def __init__(self, polygons: npt.ArrayLike, distance_m: float = DEFAULT_NEAR_M,
                 max_cells: int = NEAR_MAX_CELLS) -> None:
        self.distance_m = float(distance_m)
        geoms = np.asarray(polygons, dtype=object)
        self.empty = len(geoms) == 0 or self.distance_m <= 0
        if self.empty:
            return
        lines = np.asarray(shapely.boundary(geoms), dtype=object)
        x0, y0, x1, y1 = shapely.total_bounds(lines)
        m_per_deg = min_metres_per_degree(max(abs(y0), abs(y1)) + 1.0)
        pad = self.distance_m / m_per_deg  # points this far outside the borders' box can still be near
        self.raster = Raster((x0 - pad, y0 - pad, x1 + pad, y1 + pad), max_cells)
        cell_m = self.raster.h * m_per_deg
        # +1: a border point is within one cell of a vertex cell; x1.01: margin for float rounding.
        reach = math.ceil(self.distance_m / cell_m * 1.01) + 1
        self.maybe = self.raster.marked_near(lines, reach)
        self.plane = MetricPlane((x0, y0, x1, y1))
        # Borders are straight in lon/lat (that is how tagging reads them); a long edge projected
        # as one chord would bow by up to ~1 m per 10 km, so it is cut into short pieces first.
        self.tree = shapely.STRtree(self.plane.to_metres(border_segments(shapely.segmentize(lines, SEGMENT_DEG))))

    def flag(self, x: FloatArray, y: FloatArray) -> BoolArray:
        out = np.zeros(x.size, dtype=bool)
        if self.empty or x.size == 0:
            return out
        cell, on = self.raster.cells_of(x, y)
        idx = np.flatnonzero(on)
        idx = idx[self.maybe[cell[idx]]]
        if idx.size:
            px, py = self.plane.xy(x[idx], y[idx])
            hit, _ = self.tree.query(shapely.points(px, py), predicate="dwithin", distance=self.distance_m)
            out[idx[hit]] = True
        return out
