"""python -m alerts: run the alert engine (active, or standby behind another one)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from alerts.engine import AlertEngine
from alerts.observe import AlertMetrics, readiness
from alerts.outbox import MqttPublisher, outbox_client_id
from alerts.rules import DEFAULT_RULES, load_rules
from cityops import probe, settings
from cityops.heartbeat import Heartbeat
from cityops.runtime import on_stop, setup_logging
from store.db import make_pool


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="cityops alert engine")
    parser.add_argument("--rules", default=str(DEFAULT_RULES), help="rule file (TOML)")
    parser.add_argument("--tick", type=float, default=10.0, help="seconds between timer rounds")
    parser.add_argument("--name", default=os.environ.get("CITYOPS_ALERTS_NAME", "alerts"),
                        help="names this instance in logs, heartbeats and its MQTT client id cityops-<name>-outbox")
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("CITYOPS_ALERTS_METRICS_PORT", "0")),
                        help="serve /healthz, /readyz and Prometheus /metrics on this port (0: off)")
    parser.add_argument("--poll-only", action="store_true",
                        help="do not LISTEN for committed data; poll every second (a benchmark baseline)")
    return parser


def main() -> None:
    args = _parser().parse_args()
    setup_logging("alerts", args.name)
    cfg = settings.load()
    rules = load_rules(Path(args.rules))  # refuse to start on a broken rule file
    dsn = cfg.dsn("alerts")
    pool = make_pool(dsn, "alerts", max_size=3)  # evaluation, the outbox, and a scrape or probe
    client_id = outbox_client_id(args.name)
    publisher = MqttPublisher(cfg.mqtt(client_id), cfg.city, client_id=client_id)
    metrics = AlertMetrics(pool.connection)
    engine = AlertEngine(dsn, pool, rules, publisher=publisher, tick_s=args.tick, listen=not args.poll_only,
                         metrics=metrics)

    def ready() -> probe.Readiness:
        return readiness(lambda: pool.connection(timeout=2.0), engine.active, publisher.connected)

    if args.metrics_port:
        probe.serve(args.metrics_port, ready, metrics.registry, host=cfg.probe_host)
    heartbeat = Heartbeat(dsn, "alerts", args.name, ready).start()
    on_stop(engine.stop)
    try:
        engine.run()
    finally:
        heartbeat.stop()
        publisher.close()
        pool.close()


if __name__ == "__main__":
    main()
