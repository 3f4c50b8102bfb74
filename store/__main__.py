"""The database from the command line.

``python -m store migrate`` applies the migrations as the owner (CITYOPS_DATABASE_URL);
``python -m store url [--role dashboard]`` prints a URL for psql; ``python -m store roles`` prints
the SQL that sets up the owner and the runtime logins of a production database (run it with
psql -v owner_password=… -v ingest_password=… …)."""

from __future__ import annotations

import argparse
import sys

from cityops import settings
from store.migrate import migrate
from store.roles import production_sql


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the migrations (as the owner)")
    roles = sub.add_parser("roles", help="print the SQL for the owner and the runtime logins")
    roles.add_argument("--database", default="cityops")
    url = sub.add_parser("url", help="print the database URL of the owner, or of a runtime role (for psql)")
    url.add_argument("--role", choices=settings.DB_ROLES)
    args = parser.parse_args(argv)
    if args.command == "roles":
        sys.stdout.write(production_sql(args.database))
        return 0
    cfg = settings.load()
    if args.command == "url":
        print(cfg.dsn(args.role))
        return 0
    applied = migrate(cfg.dsn(), cfg.timescale)
    print("applied:", ", ".join(applied) if applied else "nothing (up to date)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
