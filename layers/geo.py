"""The three boundary layers (区县 → 乡镇街道 → 网格) as GeoDataFrames, and point tagging.

Every layer frame has the columns ``code, name, parent_code, illustrative, geometry``
(WGS84, EPSG:4326), one row per polygon, sorted by code with a 0..n-1 index; the
position of a row is therefore also the rank of its code, which tagging relies on.
The lookup structures live in ``layers.lookup`` (which polygon) and ``layers.near``
(how close to a border); web GeoJSON in ``layers.web``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from layers.lookup import PolygonIndex
from layers.near import DEFAULT_NEAR_M, NearIndex

Level = Literal["district", "township", "grid"]
LEVELS: tuple[Level, ...] = ("district", "township", "grid")
CODE_LENGTH: dict[Level, int] = {"district": 6, "township": 9, "grid": 12}
COLUMNS = ["code", "name", "parent_code", "illustrative", "geometry"]
CRS = "EPSG:4326"

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_PREFIX = "chenzhou"
_PLURAL: dict[Level, str] = {"district": "districts", "township": "townships", "grid": "grids"}


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, so usable as an lru_cache key
class Layers:
    districts: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    version: int | None = None  # boundary_versions.version when read from the database
    source: str = ""

    def level(self, level: Level) -> gpd.GeoDataFrame:
        return {"district": self.districts, "township": self.townships, "grid": self.grids}[level]

    @functools.cached_property
    def _finest(self) -> tuple[gpd.GeoSeries, npt.NDArray[np.object_], npt.NDArray[np.object_],
                               npt.NDArray[np.object_]]:
        """Polygons of the finest non-empty level and, per polygon, its district/township/grid code.

        Each array has a trailing None, so index -1 (no match) yields None.
        """
        finest: Level = "grid" if len(self.grids) else "township" if len(self.townships) else "district"
        frame = self.level(finest)
        codes = frame["code"].to_numpy(dtype=object)
        n = len(codes)
        none = np.array([None], dtype=object)
        if finest == "district":
            return frame.geometry, np.append(codes, none), np.full(n + 1, None, dtype=object), \
                np.full(n + 1, None, dtype=object)
        town_parent = dict(zip(self.townships["code"], self.townships["parent_code"], strict=True))
        if finest == "township":
            towns = codes
            grids = np.full(n, None, dtype=object)
        else:
            towns = frame["parent_code"].to_numpy(dtype=object)
            grids = codes
        # Parent links come from the layers themselves; the code prefix is only a fallback.
        districts = np.array([town_parent.get(t) or (t[:6] if t else None) for t in towns], dtype=object)
        return (frame.geometry, np.append(districts, none), np.append(towns, none), np.append(grids, none))

    @functools.cached_property
    def polygon_index(self) -> PolygonIndex:
        """Point lookup into the finest level; row order = code order, so "smallest index" = smallest code."""
        return PolygonIndex(self._finest[0].values)

    def near_index(self, distance_m: float) -> NearIndex:
        """Distance-to-township-border test (districts when there are no townships), per distance."""
        cache = self._near_cache
        if distance_m not in cache:
            borders = self.townships if len(self.townships) else self.districts
            cache[distance_m] = NearIndex(borders.geometry.values, distance_m)
        return cache[distance_m]

    @functools.cached_property
    def _near_cache(self) -> dict[float, NearIndex]:
        return {}


def _frame(rows: pd.DataFrame | list[dict[str, Any]], geometry: Any) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometry, crs=CRS)
    for col in ("code", "name", "parent_code"):
        # Plain objects with None for missing (not pandas' NaN): they go to JSON and SQL as they are.
        values = gdf[col].astype(object)
        gdf[col] = values.where(values.notna(), None)
    gdf["illustrative"] = gdf["illustrative"].fillna(False).astype(bool)
    gdf = gdf.sort_values("code", kind="stable").reset_index(drop=True)
    return gdf[COLUMNS]


def make_layers(frames: dict[Level, gpd.GeoDataFrame], version: int | None = None, source: str = "") -> Layers:
    """Normalise frames (any extra columns dropped) into a :class:`Layers`."""
    norm = {lv: _frame(pd.DataFrame(frames[lv].drop(columns="geometry")), frames[lv].geometry.values)
            for lv in LEVELS}
    return Layers(norm["district"], norm["township"], norm["grid"], version=version, source=source)


def read_layer_file(path: Path) -> gpd.GeoDataFrame:
    """One layer from the project's GeoJSON (parsed with json + shapely: exact, no GDAL driver quirks)."""
    doc = json.loads(path.read_text("utf-8"))
    props = [dict(f["properties"]) for f in doc["features"]]
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in doc["features"]])
    for p in props:
        p.setdefault("parent_code", None)
        p.setdefault("illustrative", False)
    return _frame(props, geoms)


def demo_paths(directory: Path = DATA_DIR, prefix: str = DEMO_PREFIX) -> dict[Level, Path]:
    return {lv: directory / f"{prefix}-{_PLURAL[lv]}.geojson" for lv in LEVELS}


def demo_source(directory: Path = DATA_DIR, prefix: str = DEMO_PREFIX) -> str:
    """Identifies the demo files' content: reloading unchanged files is recognised as a no-op."""
    h = hashlib.sha256()
    for path in demo_paths(directory, prefix).values():
        h.update(path.read_bytes())
    return f"demo:{prefix}:{h.hexdigest()[:16]}"


def read_layers(directory: Path = DATA_DIR, prefix: str = DEMO_PREFIX) -> Layers:
    paths = demo_paths(directory, prefix)
    return Layers(read_layer_file(paths["district"]), read_layer_file(paths["township"]),
                  read_layer_file(paths["grid"]), source=demo_source(directory, prefix))


@functools.lru_cache(maxsize=1)
def demo_layers() -> Layers:
    """The committed demo layers of 郴州, read once per process."""
    return read_layers()


def tag_points(lon: npt.ArrayLike, lat: npt.ArrayLike, layers: Layers,
               near_m: float | None = DEFAULT_NEAR_M) -> pd.DataFrame:
    """District, township and grid code of each WGS84 point, and whether it is near a border.

    Columns ``district_code, township_code, grid_code`` (None where a point is in no
    polygon) and ``near_boundary`` (bool): the point lies within ``near_m`` metres of
    a township border (the city's outer edge included), so a dispatcher should confirm
    the township. ``near_m=None`` or 0 skips that test (all False).

    Vectorised: one lookup into the finest level (:class:`layers.lookup.PolygonIndex`,
    a lookup raster with exact tests near borders); the coarser codes follow from the
    parent links, so the three codes of a point always agree. A point on a border
    shared by several polygons gets the smallest code, so the answer is deterministic.
    The indexes are built on first use (~0.5 s for the 郴州 grids) and kept with the Layers.
    """
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon and lat differ in length: {lon_a.size} vs {lat_a.size}")
    _, districts, towns, grids = layers._finest
    chosen = layers.polygon_index.locate(lon_a, lat_a)
    near = layers.near_index(near_m).flag(lon_a, lat_a) if near_m else np.zeros(lon_a.size, dtype=bool)
    return pd.DataFrame({
        "district_code": pd.Series(districts[chosen], dtype=object),
        "township_code": pd.Series(towns[chosen], dtype=object),
        "grid_code": pd.Series(grids[chosen], dtype=object),
        "near_boundary": near,
    })
