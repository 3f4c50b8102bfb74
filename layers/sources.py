"""Reading a city's own boundary files: GeoJSON, Shapefile (zipped or not), GeoPackage.

One level per file. GDAL (through pyogrio) reads them; this module decides which
dataset and layer to read, maps the city's column names to code/name/parent, and
brings the geometry to WGS84. Anything wrong becomes a :class:`~layers.report.Problem`:
the caller refuses the import with every problem listed, never a traceback.

Coordinate systems: a declared CRS other than WGS84 (CGCS2000 geographic EPSG:4490,
a CGCS2000 Gauss-Krüger zone such as EPSG:4547, Web Mercator, …) is reprojected to
EPSG:4326. No CRS at all is refused (``--assume-crs`` names it when the owner knows
it). GDAL silently falls back to WGS84 for a GeoJSON ``crs`` member it cannot parse,
and drops a Shapefile .prj it cannot parse, so both are checked here and refused as
unknown. A file in GCJ-02/BD-09 (Amap/Baidu exports) cannot be detected from its
content; ``coords="gcj02"|"bd09"`` converts it when the owner says so.
"""

from __future__ import annotations

import hashlib
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio.errors import CRSError, DataLayerError, DataSourceError, FieldError, GeometryError

from layers.coords import bd09_to_wgs84, gcj02_to_wgs84
from layers.densify import densify_all
from layers.geo import CRS, Level
from layers.report import Problem

Coords = Literal["wgs84", "gcj02", "bd09"]
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")
DENSIFY_M = 250.0  # before reprojecting from a plane: a 250 m chord bows ~1 mm (L² tanφ / 8R)
DENSIFY_DEG = 0.001  # before a GCJ-02/BD-09 conversion: a ~100 m chord bows < 1 mm
LAYER_SEPARATOR = "::"  # "file.gpkg::townships" picks one layer of a multi-layer file

# Column names cities use, tried in order, case-insensitively, when no field is named.
FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "code": ("code", "adcode", "gb", "pac", "xzqdm", "xzqhdm", "wgbm", "wgdm", "dm",
             "行政区划代码", "区划代码", "网格编码", "网格代码", "代码", "编码"),
    "name": ("name", "xzqmc", "wgmc", "mc", "行政区划名称", "区划名称", "网格名称", "名称"),
    # parent_cod: how a Shapefile (10-character names) stores parent_code
    "parent": ("parent_code", "parent_cod", "parent", "parentcode", "sjdm", "sjxzqdm",
               "上级代码", "上级区划代码", "所属代码"),
}


@dataclass(frozen=True, slots=True)
class FieldMap:
    """The city's column for each role; None means "detect from FIELD_CANDIDATES"."""

    code: str | None = None
    name: str | None = None
    parent: str | None = None


@dataclass(slots=True)
class LevelSource:
    """What was read for one level: a normalised frame (None when refused) and its problems."""

    level: Level
    path: str
    frame: gpd.GeoDataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not problems: what was done (reprojected, fields used)
    digest: str = ""  # sha256 of the bytes read: identifies the import for idempotence


@dataclass(frozen=True, slots=True)
class Dataset:
    """Where GDAL reads one level from."""

    gdal_path: str
    layer: str | None
    files: tuple[Path, ...]  # hashed to identify the import
    zip_path: Path | None = None  # set when reading inside a .zip
    inner: str = ""  # the member inside it


def split_layer(spec: str) -> tuple[Path, str | None]:
    path, sep, layer = spec.partition(LAYER_SEPARATOR)
    return Path(path), (layer or None) if sep else None


def _hash_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _shapefile_parts(shp: Path) -> list[Path]:
    """A .shp and its sidecars (.dbf, .shx, .prj, .cpg …): same stem, any case."""
    return [p for p in shp.parent.iterdir() if p.stem == shp.stem and p.is_file()]


def _pick(candidates: list[str], layer: str | None, what: str,
          level: Level) -> tuple[str | None, str | None, Problem | None]:
    """One dataset among several: the one ``layer`` names, or the only one (``layer`` then
    names a layer inside it). Returns (dataset, layer inside it, problem)."""
    if layer is not None:
        named = [c for c in candidates if Path(c).stem == layer or Path(c).name == layer]
        if len(named) == 1:
            return named[0], None, None
    if len(candidates) == 1:
        return candidates[0], layer, None
    if not candidates:
        return None, None, Problem("file_empty", level, detail=f"{what}: no .shp/.gpkg/.geojson inside")
    return None, None, Problem("several_layers", level, detail=f"{what}: {', '.join(candidates)}")


def locate_dataset(spec: str, level: Level) -> tuple[Dataset | None, Problem | None]:
    """The dataset a file argument names, or why there is none.

    Accepts a vector file, a .zip holding one (a zipped Shapefile with its sidecars, in a
    sub-folder or not), or a folder holding one; ``spec::name`` picks among several.
    """
    path, layer = split_layer(spec)
    if not path.exists():
        return None, Problem("file_missing", level, detail=str(path))
    if path.is_dir():
        inside = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in VECTOR_SUFFIXES)
        chosen, inner_layer, problem = _pick(inside, layer, str(path), level)
        if chosen is None:
            return None, problem
        return locate_dataset(chosen + (f"{LAYER_SEPARATOR}{inner_layer}" if inner_layer else ""), level)
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist()
                         if n.lower().endswith(VECTOR_SUFFIXES) and not n.startswith("__MACOSX")]
        except zipfile.BadZipFile as exc:
            return None, Problem("file_unreadable", level, detail=f"{path}: {exc}")
        chosen, inner_layer, problem = _pick(sorted(names), layer, str(path), level)
        if chosen is None:
            return None, problem
        # GDAL reads inside the zip directly.
        return Dataset(f"/vsizip/{path.resolve()}/{chosen}", inner_layer, (path,), path, chosen), None
    files = _shapefile_parts(path) if path.suffix.lower() == ".shp" else [path]
    return Dataset(str(path), layer, tuple(files)), None


def _declared_crs_text(ds: Dataset) -> str | None:
    """What the file itself declares, where GDAL may have dropped it: a .prj, a GeoJSON ``crs`` member."""
    name = (ds.inner or ds.gdal_path).lower()
    try:
        if ds.zip_path is not None:
            with zipfile.ZipFile(ds.zip_path) as zf:
                members = {n.lower(): n for n in zf.namelist()}
                if name.endswith(".shp"):
                    member = members.get(name[:-4] + ".prj")
                    return zf.read(member).decode("utf-8", "replace").strip() if member else None
                if name.endswith((".geojson", ".json")):
                    return _geojson_crs_name(zf.read(ds.inner)[:1 << 20].decode("utf-8", "replace"))
                return None
        if name.endswith(".shp"):
            prj = next((p for p in ds.files if p.suffix.lower() == ".prj"), None)
            return prj.read_text("utf-8", "replace").strip() if prj else None
        if name.endswith((".geojson", ".json")):
            with Path(ds.gdal_path).open("rb") as f:
                return _geojson_crs_name(f.read(1 << 20).decode("utf-8", "replace"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return None


def _geojson_crs_name(head: str) -> str | None:
    # The (2008) GeoJSON "crs" member comes before the features in every writer seen.
    m = re.search(r'"crs"\s*:\s*\{.*?"name"\s*:\s*"([^"]+)"', head, re.S)
    return m.group(1) if m else None


def _crs_problem(crs: pyproj.CRS, level: Level, path: str) -> Problem | None:
    """An engineering/local CRS (a .prj with LOCAL_CS, "unknown" metres) has no way to WGS84.

    Whether a geographic or projected CRS really converts shows when converting (``_to_wgs84``).
    """
    if not (crs.is_geographic or crs.is_projected):
        return Problem("crs_unknown", level, detail=f"{path}: {crs.name} ({crs.type_name})")
    return None


def _resolve_crs(frame: gpd.GeoDataFrame, ds: Dataset, level: Level,
                 assume_crs: str | None) -> tuple[pyproj.CRS | None, Problem | None]:
    declared = _declared_crs_text(ds)
    gdal_path = ds.gdal_path
    if frame.crs is not None:
        if declared and (ds.inner or gdal_path).lower().endswith((".geojson", ".json")):
            try:
                pyproj.CRS.from_user_input(declared)
            except pyproj.exceptions.CRSError:
                # GDAL replaced the unparseable name by WGS84: do not believe it.
                return None, Problem("crs_unknown", level, detail=f"{gdal_path}: {declared}")
        return frame.crs, _crs_problem(frame.crs, level, gdal_path)
    if declared:  # a .prj GDAL could not parse
        return None, Problem("crs_unknown", level, detail=f"{gdal_path}: {declared[:120]}")
    if assume_crs:
        try:
            crs = pyproj.CRS.from_user_input(assume_crs)
        except pyproj.exceptions.CRSError as exc:
            return None, Problem("crs_unknown", level, detail=f"--assume-crs {assume_crs}: {exc}")
        return crs, _crs_problem(crs, level, gdal_path)
    return None, Problem("crs_missing", level, detail=gdal_path)


def _to_wgs84(frame: gpd.GeoDataFrame, crs: pyproj.CRS, coords: Coords, level: Level,
              path: str) -> tuple[gpd.GeoDataFrame | None, Problem | None, str]:
    note = ""
    frame = frame.set_crs(crs, allow_override=True)
    if not crs.equals(pyproj.CRS.from_user_input(CRS), ignore_axis_order=True):
        if crs.is_projected:
            # Edges are straight in the file's plane and become curves in lon/lat. Reprojecting
            # only the vertices would cut each long edge short by its bow (~1 m on 10 km), and a
            # neighbour's vertex lying on that edge would then open a sliver: densify first.
            unit_m = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
            frame = frame.set_geometry(densify_all(frame.geometry.values, DENSIFY_M / unit_m))
        try:
            frame = frame.to_crs(CRS)
        except (pyproj.exceptions.ProjError, pyproj.exceptions.CRSError) as exc:
            return None, Problem("crs_unknown", level, detail=f"{path}: {crs.name}: {exc}"), note
        note = f"{crs.to_string()} → EPSG:4326"
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        xy = shapely.get_coordinates(geoms[present])
        if not (np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()):
            x0, y0 = np.nanmin(xy, axis=0)
            x1, y1 = np.nanmax(xy, axis=0)
            return None, Problem("coords_out_of_range", level,
                                 detail=f"{path}: {crs.to_string()}, x {x0:.6g}…{x1:.6g}, y {y0:.6g}…{y1:.6g}"), note
    if coords != "wgs84":
        convert = gcj02_to_wgs84 if coords == "gcj02" else bd09_to_wgs84
        # The offsets vary by tens of metres over a few km (sine terms), so a long edge would bow
        # by metres between its converted ends: densify first, as for a projection.
        dense = densify_all(frame.geometry.values, DENSIFY_DEG)
        frame = frame.set_geometry(shapely.transform(dense, lambda c: np.column_stack(convert(c[:, 0], c[:, 1]))))
        note = f"{note}; {coords.upper()} → WGS84".lstrip("; ")
    return frame, None, note


def _find_field(columns: list[str], role: str, named: str | None) -> str | None:
    if named is not None:
        return named if named in columns else next((c for c in columns if c.lower() == named.lower()), None)
    lower = {c.lower(): c for c in columns}
    return next((lower[c] for c in FIELD_CANDIDATES[role] if c in lower), None)


def normalise_codes(values: pd.Series) -> npt.NDArray[np.object_]:
    """Codes as text: 431002, 431002.0 and " 431002 " all become "431002"; missing becomes None."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if v is None or pd.isna(v):
            out[i] = None
        elif isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
            out[i] = str(int(v))  # a numeric column (DBF N, GPKG INTEGER): codes never start with 0
        else:
            out[i] = str(v).strip() or None
    return out


def _names(values: pd.Series) -> npt.NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values.to_numpy(dtype=object)):
        out[i] = None if v is None or pd.isna(v) else (str(v).strip() or None)
    return out


def _map_fields(raw: gpd.GeoDataFrame, level: Level, fields: FieldMap,
                src: LevelSource) -> gpd.GeoDataFrame | None:
    columns = [c for c in raw.columns if c != raw.geometry.name]
    chosen: dict[str, str | None] = {}
    for role in ("code", "name", "parent"):
        chosen[role] = _find_field(columns, role, getattr(fields, role))
        required = role != "parent" or getattr(fields, role) is not None  # a named parent field must exist
        if chosen[role] is None and required:
            src.problems.append(Problem("field_missing", level, code=role, detail=", ".join(columns) or "—"))
    if src.problems:
        return None
    codes = normalise_codes(raw[chosen["code"]])
    parent_field = chosen["parent"]
    parents = normalise_codes(raw[parent_field]) if parent_field else np.full(len(raw), None, dtype=object)
    src.notes.append("fields: " + ", ".join(f"{role}={col}" for role, col in chosen.items() if col))
    geoms = shapely.force_2d(np.asarray(raw.geometry.values, dtype=object))
    # object columns: pandas 3 would infer its string dtype and turn None into NaN.
    columns_out = {"code": codes, "name": _names(raw[chosen["name"]]), "parent_code": parents}
    data = {k: pd.Series(v, dtype=object) for k, v in columns_out.items()}
    return gpd.GeoDataFrame({**data, "illustrative": False}, geometry=geoms, crs=CRS)


def read_level(spec: str, level: Level, fields: FieldMap = FieldMap(), *, assume_crs: str | None = None,
               encoding: str | None = None, coords: Coords = "wgs84") -> LevelSource:
    """Read one level's file into ``code, name, parent_code, illustrative, geometry`` (WGS84).

    ``parent_code`` stays None where the file has no parent column; the validator then
    takes the parent from the code prefix, which is what GB/T 2260 codes encode.
    """
    src = LevelSource(level, spec)
    ds, problem = locate_dataset(spec, level)
    if problem is not None or ds is None:
        src.problems.append(problem or Problem("file_unreadable", level, detail=spec))
        return src
    gdal_path, layer = ds.gdal_path, ds.layer
    try:
        src.digest = _hash_files(ds.files)
        listed = pyogrio.list_layers(gdal_path)
        names = [str(n) for n in listed[:, 0]]
        if layer is None and len(names) > 1:
            src.problems.append(Problem("several_layers", level, detail=f"{spec}: {', '.join(names)}"))
            return src
        if layer is not None and layer not in names:
            src.problems.append(Problem("several_layers", level, detail=f"{spec}: {', '.join(names)}"))
            return src
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = pyogrio.read_dataframe(gdal_path, layer=layer or names[0], encoding=encoding)
        src.notes.extend(f"GDAL: {w.message}" for w in caught)
    except (DataSourceError, DataLayerError, FieldError, GeometryError, CRSError, OSError, UnicodeDecodeError) as exc:
        src.problems.append(Problem("file_unreadable", level, detail=f"{spec}: {exc}"))
        return src
    if len(raw) == 0:
        src.problems.append(Problem("file_empty", level, detail=spec))
        return src
    crs, problem = _resolve_crs(raw, ds, level, assume_crs)
    if problem is not None or crs is None:
        src.problems.append(problem or Problem("crs_missing", level, detail=spec))
        return src
    frame, problem, note = _to_wgs84(raw, crs, coords, level, spec)
    if note:
        src.notes.append(note)
    if problem is not None or frame is None:
        src.problems.append(problem or Problem("coords_out_of_range", level, detail=spec))
        return src
    src.frame = _map_fields(frame, level, fields, src)
    return src
