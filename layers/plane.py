"""A local metric plane for a layer: distances and areas in metres, not degrees.

A transverse Mercator centred on the layer's own meridian: within ±150 km of it
(a city) the scale error is under 0.03 %, so 50 m stays 50 m to within 1.5 cm
and an area tolerance in m² means what it says. Degrees would not: a degree of
longitude is 10 % shorter in 郴州 than at the equator and shrinks further north.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

FloatArray = npt.NDArray[np.float64]

# Metres per degree, lower bounds (WGS84): a meridian degree is ≥ 110,574 m everywhere and a
# parallel degree ≥ 111,319 m × cos(latitude). Used to size rasters conservatively.
M_PER_DEG_MIN = 110_574.0


def min_metres_per_degree(max_abs_lat: float) -> float:
    """Metres in one degree along either axis, at least, anywhere up to latitude ``max_abs_lat``."""
    return M_PER_DEG_MIN * float(np.cos(np.radians(min(abs(max_abs_lat), 89.0))))


class MetricPlane:
    """WGS84 lon/lat ↔ metres on a transverse Mercator through the middle of ``bounds``."""

    def __init__(self, bounds: tuple[float, float, float, float] | npt.ArrayLike) -> None:
        x0, _, x1, _ = (float(v) for v in np.asarray(bounds, dtype=np.float64))
        self.lon0 = round((x0 + x1) / 2, 6) if np.isfinite(x0 + x1) else 0.0
        self.crs = pyproj.CRS.from_proj4(
            f"+proj=tmerc +lat_0=0 +lon_0={self.lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs")
        self._fwd = pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x, y = self._fwd.transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = self._inv.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def to_metres(self, geoms: npt.ArrayLike) -> npt.NDArray[np.object_]:
        return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), self._coords_fwd), dtype=object)

    def _coords_fwd(self, c: FloatArray) -> FloatArray:
        return np.column_stack(self.xy(c[:, 0], c[:, 1]))
