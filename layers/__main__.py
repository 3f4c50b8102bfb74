"""Boundary layers from the command line.

    python -m layers load-demo [--dsn DSN]     make the 郴州 demo layers the active boundary version
    python -m layers active [--dsn DSN]        what the database currently tags with
    python -m layers import --districts F [--townships F] [--grids F] [--dsn DSN] [options]
                                               validate a city's own files; load them or refuse with a report
    python -m layers web-sizes                 bytes of the web GeoJSON per level and zoom (demo layers)

Files: GeoJSON, Shapefile (.shp, a .zip holding one, or a folder), GeoPackage; ``FILE::LAYER``
picks a layer of a multi-layer file. Field options take ``FIELD`` (every level) or
``LEVEL=FIELD`` (one level) and may repeat: ``--code-field XZQDM --code-field grid=WGBM``.
The report is in Chinese unless ``--lang en`` or CITYOPS_LANG=en.
Without ``--dsn`` the DSN comes from the environment (cityops.settings).
Exit status: 0 loaded (or checked clean), 2 refused, 1 other failure.
"""

from __future__ import annotations

import argparse
import logging
import sys

from cityops import settings
from layers.geo import LEVELS, Level
from layers.importer import ImportOptions, check_files, import_files, total_steps
from layers.loader import load_active_layers, load_demo_layers
from layers.progress import Progress
from layers.report import render, resolve_lang
from layers.sources import FieldMap
from layers.validate import DEFAULT_TOLERANCE_M2
from layers.web import format_sizes, web_sizes

EXIT_REFUSED = 2


def _dsn(arg: str | None) -> str:
    return arg or settings.load().dsn()


def _field_maps(args: argparse.Namespace) -> dict[Level, FieldMap]:
    chosen: dict[Level, dict[str, str]] = {lv: {} for lv in LEVELS}
    for role in ("code", "name", "parent"):
        for value in getattr(args, f"{role}_field") or []:
            level, sep, name = value.partition("=")
            if sep and level in LEVELS:
                chosen[level][role] = name
            elif sep:
                raise SystemExit(f"--{role}-field {value}: level must be one of {', '.join(LEVELS)}")
            else:
                for lv in LEVELS:
                    chosen[lv].setdefault(role, value)
    return {lv: FieldMap(**chosen[lv]) for lv in LEVELS}


def _import(args: argparse.Namespace) -> int:
    lang = resolve_lang(args.lang)
    files: dict[Level, str] = {lv: getattr(args, f"{lv}s") for lv in LEVELS if getattr(args, f"{lv}s")}
    if "grid" in files and "township" not in files:
        raise SystemExit("--grids needs --townships: a grid's parent is its township")
    options = ImportOptions(fields=_field_maps(args), assume_crs=args.assume_crs,
                            encoding=args.encoding, coords=args.coords, tolerance_m2=args.tolerance_m2)
    progress = Progress(total_steps(files, write=not args.check), lang)
    if args.check:
        result = check_files(files, options, progress)
    else:
        result = import_files(_dsn(args.dsn), files, options, progress, note=args.note or "")
    for note in result.notes:
        print(note, file=sys.stderr)
    print(render(result.problems, lang))
    if not result.ok:
        return EXIT_REFUSED
    counts = ", ".join(f"{n} {lv}" for lv, n in result.counts.items())
    if args.check:
        print(f"可以导入：{counts}" if lang == "zh" else f"ready to import: {counts}")
    else:
        print(f"边界版本 {result.version} 已启用（{counts}）" if lang == "zh"
              else f"boundary version {result.version} active ({counts})")
    return 0


def _web_sizes() -> int:
    print(format_sizes(web_sizes()))
    return 0


def _demo_or_active(args: argparse.Namespace) -> int:
    dsn = _dsn(args.dsn)
    if args.command == "load-demo":
        version = load_demo_layers(dsn)
        print(f"boundary version {version} active")
    layers = load_active_layers(dsn)
    print(f"version {layers.version} ({layers.source}): {len(layers.districts)} districts, "
          f"{len(layers.townships)} townships, {len(layers.grids)} grids")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m layers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name, text in (("load-demo", "write the demo layers as the active boundary version"),
                       ("active", "summarise the active boundary version")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--dsn", help="PostgreSQL DSN (default: from CITYOPS_* settings)")
    sub.add_parser("web-sizes", help="bytes of the web GeoJSON per level and zoom")
    p = sub.add_parser("import", help="validate a city's boundary files and load them as the active version")
    p.add_argument("--districts", required=True, metavar="FILE", help="区县 polygons (6-digit codes)")
    p.add_argument("--townships", metavar="FILE", help="乡镇街道 polygons (9-digit codes)")
    p.add_argument("--grids", metavar="FILE", help="网格 polygons (12-digit codes)")
    p.add_argument("--dsn", help="PostgreSQL DSN (default: from CITYOPS_* settings)")
    for role in ("code", "name", "parent"):
        p.add_argument(f"--{role}-field", action="append", metavar="[LEVEL=]FIELD",
                       help=f"column holding the {role} (default: detected from common names)")
    p.add_argument("--assume-crs", metavar="CRS", help="CRS of files that declare none, e.g. EPSG:4490")
    p.add_argument("--encoding", help="attribute encoding of Shapefiles without .cpg, e.g. GBK")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                   help="the files' coordinates are Amap/Tencent (gcj02) or Baidu (bd09) exports")
    p.add_argument("--tolerance-m2", type=float, default=DEFAULT_TOLERANCE_M2,
                   help=f"overlaps and gaps up to this area per piece are accepted (default {DEFAULT_TOLERANCE_M2:g})")
    p.add_argument("--check", action="store_true", help="validate only; write nothing")
    p.add_argument("--lang", choices=("zh", "en"), help="report language (default: CITYOPS_LANG or zh)")
    p.add_argument("--note", help="note stored with the boundary version")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "import":
        return _import(args)
    if args.command == "web-sizes":
        return _web_sizes()
    return _demo_or_active(args)


if __name__ == "__main__":
    raise SystemExit(main())
