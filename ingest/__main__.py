"""python -m ingest: run one ingest worker (more workers share the load via $share/ingest).

python -m ingest policies [--compress-after 7d] [--retain 365d]: show or change telemetry's
compression and retention on TimescaleDB (on plain PostgreSQL it says there are none).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import psycopg

from cityops import settings
from cityops.runtime import on_stop, setup_logging
from ingest import policies


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="cityops ingest worker")
    parser.add_argument("--client-id", default=os.environ.get("CITYOPS_INGEST_CLIENT_ID")
                        or f"cityops-ingest-{socket.gethostname()}",
                        help="MQTT client id; keep it stable so the persistent session survives restarts")
    parser.add_argument("--share-group", default=os.environ.get("CITYOPS_INGEST_SHARE_GROUP", "ingest"),
                        help="MQTT 5 shared-subscription group; workers of one group split the load")
    parser.add_argument("--max-batch", type=int, default=5000)
    parser.add_argument("--max-wait", type=float, default=0.2, help="seconds to wait to fill a batch")
    parser.add_argument("--max-buffer", type=int, default=20000,
                        help="messages received and not yet committed, at most (≥ 3 × --max-batch)")
    parser.add_argument("--retire", action="store_true",
                        help="retire this client id: store what the broker holds for it, end its session, exit")
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("CITYOPS_INGEST_METRICS_PORT", "0")),
                        help="serve Prometheus metrics on this port (0: off)")
    sub = parser.add_subparsers(dest="command")
    pol = sub.add_parser("policies", help="show or change telemetry compression and retention (TimescaleDB)")
    pol.add_argument("--compress-after", help="compress telemetry chunks older than this, e.g. 7d (default 7d)")
    pol.add_argument("--retain", help="drop telemetry chunks older than this, e.g. 365d (default 365d)")
    return parser


def run_policies(dsn: str, compress_after: str | None, retain: str | None) -> int:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if compress_after is None and retain is None:
                found = policies.current(conn)
                print("TimescaleDB: " + policies.describe(found) if found else
                      "no compression or retention policies on telemetry (plain PostgreSQL or removed)")
                return 0
            now = policies.current(conn) or policies.Policies(policies.DEFAULT_COMPRESS_AFTER,
                                                              policies.DEFAULT_RETAIN)
            wanted = policies.Policies(
                policies.parse_interval(compress_after, "--compress-after") if compress_after else now.compress_after,
                policies.parse_interval(retain, "--retain") if retain else now.retain)
            print(policies.apply(conn, wanted))
            return 0
    except policies.PolicyError as exc:
        print(f"ingest policies: {exc}", file=sys.stderr)
        return 2


def main() -> None:
    args = _parser().parse_args()
    setup_logging()
    cfg = settings.load()
    if args.command == "policies":
        sys.exit(run_policies(cfg.dsn(), args.compress_after, args.retain))
    run_worker(cfg, args)


def run_worker(cfg: settings.Settings, args: argparse.Namespace) -> None:
    # Imported here: the policies command needs none of this.
    from ingest.consumer import IngestConfig, Ingestor

    try:
        config = IngestConfig(city=cfg.city, client_id=args.client_id, share_group=args.share_group,
                              max_batch=args.max_batch, max_wait_s=args.max_wait, max_buffer=args.max_buffer,
                              retire=args.retire)
    except ValueError as exc:
        sys.exit(f"ingest: {exc}")
    ingestor = Ingestor(config, cfg.mqtt(), dsn=cfg.dsn("ingest"), near_boundary_m=cfg.near_boundary_m)
    if args.metrics_port:
        ingestor.metrics.serve(args.metrics_port)
    on_stop(ingestor.stop)
    ingestor.run()


if __name__ == "__main__":
    main()
