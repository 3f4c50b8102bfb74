"""``python -m layers load-demo [--dsn DSN]``: make the 郴州 demo layers the active boundary version.

``python -m layers active [--dsn DSN]`` prints what the database currently tags with.
Without ``--dsn`` the DSN comes from the environment (cityops.settings).
"""

from __future__ import annotations

import argparse
import logging

from cityops import settings
from layers.loader import load_active_layers, load_demo_layers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m layers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name, text in (("load-demo", "write the demo layers as the active boundary version"),
                       ("active", "summarise the active boundary version")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--dsn", help="PostgreSQL DSN (default: from CITYOPS_* settings)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    dsn = args.dsn or settings.load().dsn()
    if args.command == "load-demo":
        version = load_demo_layers(dsn)
        print(f"boundary version {version} active")
    layers = load_active_layers(dsn)
    print(f"version {layers.version} ({layers.source}): {len(layers.districts)} districts, "
          f"{len(layers.townships)} townships, {len(layers.grids)} grids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
