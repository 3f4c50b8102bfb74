"""Broker accounts at city scale: issuing, rebuilding and reloading 100,000 device accounts.

    .venv/bin/python bench/bench_broker.py [--devices 100000]

Starts its own PostgreSQL and mosquitto (cityops.localserver) in a temp folder, then measures:
issuing the accounts (passwords hashed, COPY, upsert) into broker_accounts; rebuilding mosquitto's
files from the table and SIGHUP; SIGHUP until the last account is accepted; and one more device on
top of them, as a registration while the system runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cityops.localserver import LocalMosquitto, LocalPostgres, free_port  # noqa: E402
from cityops.mqtt import wait_until_accepted  # noqa: E402
from cityops.settings import MqttAddress  # noqa: E402
from ingest import broker_accounts, broker_acl  # noqa: E402
from ingest.broker_sync import rebuild  # noqa: E402
from store.migrate import migrate  # noqa: E402

CITY = "chenzhou"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-broker-"))
    work.chmod(0o755)  # as root PostgreSQL runs as the postgres user and must reach its folder
    pg, broker = LocalPostgres(work / "pg", free_port()), LocalMosquitto(work / "mqtt", free_port())
    try:
        pg.start()
        broker.start()
        migrate(pg.dsn)
        with psycopg.connect(pg.dsn) as conn:
            start = time.perf_counter()
            passwords = broker_accounts.issue(conn, [broker_acl.device(CITY, f"gas-{i}") for i in range(args.devices)])
            print(f"issued {args.devices:,} device accounts: {time.perf_counter() - start:.1f} s")
            done = rebuild(conn, broker, CITY)
            print(f"rebuilt the broker's files from the table and signalled: {done.seconds:.2f} s")
            last = f"gas-{args.devices - 1}"
            waited = wait_until_accepted(MqttAddress("127.0.0.1", broker.port, last, passwords[last]))
            print(f"SIGHUP → the last account accepted: {waited:.2f} s")
            start = time.perf_counter()
            extra = broker_accounts.issue(conn, [broker_acl.device(CITY, "gas-extra")])["gas-extra"]
            rebuild(conn, broker, CITY)
            issued = time.perf_counter() - start
            waited = wait_until_accepted(MqttAddress("127.0.0.1", broker.port, "gas-extra", extra))
            print(f"one more device on top: issued and rebuilt {issued:.2f} s, accepted {waited:.2f} s later")
    finally:
        broker.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
