"""Import a city's own boundary files as a new, active boundary version — or refuse them.

``check_files`` reads every level (:mod:`layers.sources`) and validates them together
(:mod:`layers.validate`); ``import_files`` then writes the layers with
:func:`layers.loader.write_version`, one transaction that also switches the active
version, so ingest and the dashboard see the old layers or the new ones, never a mix.
Nothing is written when any problem is found. Re-importing the same files with the
same options is recognised (same source) and only re-activates that version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import geopandas as gpd

from layers.geo import COLUMNS, CRS, LEVELS, Layers, Level, make_layers
from layers.loader import ConnOrDsn, write_version
from layers.progress import Progress
from layers.report import Problem
from layers.sources import Coords, FieldMap, read_level
from layers.validate import DEFAULT_TOLERANCE_M2, fill_parents, validate, validation_steps


@dataclass(frozen=True, slots=True)
class ImportOptions:
    fields: dict[Level, FieldMap] = field(default_factory=dict)  # per level; missing levels detect
    assume_crs: str | None = None  # only for files that declare no CRS at all
    encoding: str | None = None  # e.g. GBK for a Shapefile without .cpg
    coords: Coords = "wgs84"  # gcj02/bd09: the files are Amap/Baidu exports
    tolerance_m2: float = DEFAULT_TOLERANCE_M2


@dataclass(slots=True)
class ImportResult:
    problems: list[Problem]
    notes: list[str]
    source: str
    layers: Layers | None = None
    version: int | None = None
    counts: dict[Level, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def total_steps(files: dict[Level, str], write: bool) -> int:
    levels = [lv for lv in LEVELS if lv in files]
    return len(levels) + validation_steps(levels) + (1 if write else 0)


def _source_id(digests: dict[Level, str], options: ImportOptions) -> str:
    """Same bytes read the same way → same source, so write_version recognises a re-import."""
    h = hashlib.sha256()
    for level in LEVELS:
        h.update(f"{level}:{digests.get(level, '')};".encode())
    h.update(repr((sorted(options.fields.items()), options.assume_crs, options.encoding, options.coords)).encode())
    return f"import:{h.hexdigest()[:16]}"


def _empty_level() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in COLUMNS if c != "geometry"}, geometry=[], crs=CRS)


def check_files(files: dict[Level, str], options: ImportOptions = ImportOptions(),
                progress: Progress | None = None) -> ImportResult:
    """Read and validate; ``layers`` is set only when there is no problem."""
    problems: list[Problem] = []
    notes: list[str] = []
    frames: dict[Level, gpd.GeoDataFrame] = {}
    digests: dict[Level, str] = {}
    for level in LEVELS:
        if level not in files:
            continue
        src = read_level(files[level], level, options.fields.get(level, FieldMap()), assume_crs=options.assume_crs,
                         encoding=options.encoding, coords=options.coords)
        if progress:
            progress.step("read", level, f"{files[level]}" + (f": {len(src.frame):,}" if src.frame is not None else ""))
        problems += src.problems
        notes += [f"{level}: {n}" for n in src.notes]
        digests[level] = src.digest
        if src.frame is not None:
            frames[level] = src.frame
    source = _source_id(digests, options)
    if problems:  # a level that could not be read would make the others' checks misleading
        return ImportResult(problems, notes, source)
    fill_parents(frames)
    problems = validate(frames, options.tolerance_m2, progress.step if progress else lambda _p, _l: None)
    counts = {lv: len(frames[lv]) for lv in frames}
    if problems:
        return ImportResult(problems, notes, source, counts=counts)
    full = {lv: frames.get(lv, _empty_level()) for lv in LEVELS}
    return ImportResult([], notes, source, layers=make_layers(full, source=source), counts=counts)


def import_files(conn_or_dsn: ConnOrDsn, files: dict[Level, str], options: ImportOptions = ImportOptions(),
                 progress: Progress | None = None, note: str = "") -> ImportResult:
    """Check, then write as the active boundary version (atomically); nothing is written on any problem."""
    result = check_files(files, options, progress)
    if not result.ok or result.layers is None:
        return result
    if progress:
        progress.step("write")
    text = note or "import: " + "; ".join(f"{lv}={files[lv]}" for lv in LEVELS if lv in files)
    result.version = write_version(conn_or_dsn, result.layers, result.source, text,
                                   progress=progress.rows if progress else None)
    return result
