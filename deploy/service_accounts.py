"""Issue the broker accounts of the services a deployment runs and print their passwords, once.

    docker compose -f deploy/compose.yaml run --rm --no-deps migrate python deploy/service_accounts.py --env
    cd /opt/cityops && sudo sh -c 'set -a; . /etc/cityops/migrate.env; .venv/bin/python deploy/service_accounts.py'

Each ingest worker logs in as its client id (``cityops-ingest-<n>``), each alert engine's outbox as
``cityops-alerts-<n>-outbox``; ``python -m ingest accounts issue`` issues devices, department systems and
township apps but not these, and ``python -m simulator register`` issues them only with the demo's. This
script issues them with the same registry functions (``ingest.broker_accounts.issue``, the grants of
``ingest.broker_acl.ingest`` / ``.alerts``), as the owner (``CITYOPS_DATABASE_URL``): broker-accounts then
puts them into the broker within a second. Issuing again rotates every password it prints: give the
services their new ones. ``--env`` prints them as the lines deploy/.env interpolates into the services'
``CITYOPS_MQTT_URL``; otherwise ``user password``, as ``python -m ingest accounts issue`` does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file from the source tree

import psycopg

from alerts.outbox import outbox_client_id
from cityops import settings
from ingest import broker_accounts, broker_acl


@dataclass(frozen=True, slots=True)
class Service:
    account: broker_acl.BrokerAccount
    env: str  # the deploy/.env variable that holds its password


def ingest_client_id(n: int) -> str:
    return f"cityops-ingest-{n}"


def alerts_name(n: int) -> str:
    return f"alerts-{n}"


def services(city: str, ingest_workers: int, alert_engines: int) -> list[Service]:
    return [
        *(Service(broker_acl.ingest(city, ingest_client_id(n)), f"MQTT_INGEST_{n}_PASSWORD")
          for n in range(1, ingest_workers + 1)),
        *(Service(broker_acl.alerts(city, outbox_client_id(alerts_name(n))), f"MQTT_ALERTS_{n}_PASSWORD")
          for n in range(1, alert_engines + 1)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python deploy/service_accounts.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest-workers", type=int, default=2, help="cityops-ingest-1 … -N (default 2)")
    parser.add_argument("--alert-engines", type=int, default=2, help="alerts-1 … -N (default 2)")
    parser.add_argument("--env", action="store_true", help="print deploy/.env lines (MQTT_INGEST_1_PASSWORD=…)")
    args = parser.parse_args(argv)
    cfg = settings.load()
    wanted = services(cfg.city, args.ingest_workers, args.alert_engines)
    try:
        with psycopg.connect(cfg.dsn()) as conn:
            passwords = broker_accounts.issue(conn, [s.account for s in wanted])
    except broker_accounts.BrokerAccountError as exc:
        print(f"service accounts: {exc}", file=sys.stderr)
        return 2
    for s in wanted:
        password = passwords[s.account.username]
        print(f"{s.env}={password}" if args.env else f"{s.account.username} {password}")
    print(f"issued {len(wanted)} service accounts; any earlier passwords of theirs no longer work",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
