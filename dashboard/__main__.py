"""``python -m dashboard --dsn ... --port ...``: run the dashboard on Flask's threaded server."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from datetime import timedelta

import psycopg

from cityops import settings as cityops_settings
from dashboard.app import create_app, run
from dashboard.auth import SessionPolicy, seed_demo_users
from dashboard.observe import start_heartbeat
from dashboard.production import demo_secrets

log = logging.getLogger("cityops.dashboard")


def main(argv: list[str] | None = None) -> None:
    conf = cityops_settings.load()
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--dsn", default=conf.dsn("dashboard"),
                        help="PostgreSQL URL (default: CITYOPS_DASHBOARD_DATABASE_URL)")
    parser.add_argument("--read-dsn", default=conf.dashboard_read_url,
                        help="a read replica for the pages that only read (default: CITYOPS_DASHBOARD_READ_URL)")
    parser.add_argument("--host", default=conf.dash_host, help="listen address (default: loopback)")
    parser.add_argument("--port", type=int, default=conf.dash_port)
    parser.add_argument("--secret-key", default=conf.secret_key, help="signs sessions (CITYOPS_SECRET_KEY)")
    parser.add_argument("--seed-demo-users", action="store_true",
                        help="create the demo accounts (zhihui, lingdao, admin, zj<township code>) first")
    parser.add_argument("--debug", action="store_true", help="Dash dev tools (never the outside version check)")
    parser.add_argument("--create-admin", metavar="USERNAME",
                        help="create the first administrator, then exit (the password from CITYOPS_ADMIN_PASSWORD,"
                             " else asked twice); refused once an enabled administrator exists")
    parser.add_argument("--display-name", default="系统管理员", help="the new administrator's display name")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.create_admin:
        sys.exit(first_admin(args, conf))
    if args.seed_demo_users:
        with psycopg.connect(args.dsn) as conn:
            log.info("dashboard: %d demo users created", seed_demo_users(conn))
    if not conf.demo:
        refuse_demo_secrets(args.dsn, args.secret_key)
    app = create_app(args.dsn, secret_key=args.secret_key, sessions=session_policy(conf), read_dsn=args.read_dsn)
    start_heartbeat(app, args.dsn)
    run(app, args.host, args.port, debug=args.debug)


def first_admin(args: argparse.Namespace, conf: cityops_settings.Settings) -> int:
    from dashboard.first_admin import Refused, create_admin

    password = os.environ.get("CITYOPS_ADMIN_PASSWORD")
    again = password
    if password is None:
        password, again = getpass.getpass("密码 / password: "), getpass.getpass("再次输入 / again: ")
    try:
        create_admin(args.dsn, args.secret_key, args.create_admin, args.display_name, password, again or "",
                     "en" if conf.language == "en" else "zh")
    except Refused as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2
    print(f"dashboard: administrator {args.create_admin} created; the password is changed at the first login")
    return 0


def session_policy(conf: cityops_settings.Settings) -> SessionPolicy:
    return SessionPolicy(idle=timedelta(minutes=conf.session_idle_min),
                         absolute=timedelta(hours=conf.session_max_hours))


def refuse_demo_secrets(dsn: str, secret_key: str) -> None:
    """Exit (status 2) with the reasons when a production start would run on the demo's secrets."""
    with psycopg.connect(dsn) as conn:
        found = demo_secrets(secret_key, conn)
    if found:
        sys.exit("dashboard: refusing a production start (set CITYOPS_DEMO=1 for a demo):\n  - "
                 + "\n  - ".join(found))


if __name__ == "__main__":
    main()
