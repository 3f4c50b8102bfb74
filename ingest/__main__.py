"""python -m ingest: run one ingest worker (more workers share the load via $share/ingest)."""

from __future__ import annotations

import argparse
import os
import socket

from cityops import settings
from cityops.runtime import on_stop, setup_logging
from ingest.consumer import IngestConfig, Ingestor
from ingest.registry import DeviceRegistry
from ingest.tagging import active_layer_tagger
from ingest.writer import prepare_connection
from store.db import make_pool


def main() -> None:
    parser = argparse.ArgumentParser(description="cityops ingest worker")
    parser.add_argument("--client-id", default=os.environ.get("CITYOPS_INGEST_CLIENT_ID")
                        or f"cityops-ingest-{socket.gethostname()}",
                        help="MQTT client id; keep it stable so the persistent session survives restarts")
    parser.add_argument("--share-group", default=os.environ.get("CITYOPS_INGEST_SHARE_GROUP", "ingest"),
                        help="MQTT 5 shared-subscription group; workers of one group split the load")
    parser.add_argument("--max-batch", type=int, default=5000)
    parser.add_argument("--max-wait", type=float, default=0.2, help="seconds to wait to fill a batch")
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("CITYOPS_INGEST_METRICS_PORT", "0")),
                        help="serve Prometheus metrics on this port (0: off)")
    args = parser.parse_args()
    setup_logging()
    cfg = settings.load()
    pool = make_pool(cfg.dsn(), "ingest", max_size=2, configure=prepare_connection)
    registry = DeviceRegistry(pool)
    registry.refresh()
    tagger, _version = active_layer_tagger(cfg.dsn())
    ingestor = Ingestor(IngestConfig(city=cfg.city, client_id=args.client_id, share_group=args.share_group,
                                     max_batch=args.max_batch,
                                     max_wait_s=args.max_wait), cfg.mqtt(), pool, registry, tagger)
    if args.metrics_port:
        ingestor.metrics.serve(args.metrics_port)
    on_stop(ingestor.stop)
    try:
        ingestor.run()
    finally:
        pool.close()


if __name__ == "__main__":
    main()
