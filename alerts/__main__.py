"""python -m alerts: run the alert engine (active, or standby behind another one)."""

from __future__ import annotations

import argparse
from pathlib import Path

from alerts.engine import AlertEngine
from alerts.outbox import MqttPublisher
from alerts.rules import DEFAULT_RULES, load_rules
from cityops import settings
from cityops.runtime import on_stop, setup_logging
from store.db import make_pool


def main() -> None:
    parser = argparse.ArgumentParser(description="cityops alert engine")
    parser.add_argument("--rules", default=str(DEFAULT_RULES), help="rule file (TOML)")
    parser.add_argument("--tick", type=float, default=10.0, help="seconds between timer rounds")
    parser.add_argument("--name", default="alerts", help="names this instance in logs and MQTT client ids")
    parser.add_argument("--poll-only", action="store_true",
                        help="do not LISTEN for committed data; poll every second (a benchmark baseline)")
    args = parser.parse_args()
    setup_logging()
    cfg = settings.load()
    rules = load_rules(Path(args.rules))  # refuse to start on a broken rule file
    dsn = cfg.dsn("alerts")
    pool = make_pool(dsn, "alerts", max_size=2)
    publisher = MqttPublisher(cfg.mqtt(), cfg.city, client_id=f"cityops-{args.name}-outbox")
    engine = AlertEngine(dsn, pool, rules, publisher=publisher, tick_s=args.tick, listen=not args.poll_only)
    on_stop(engine.stop)
    try:
        engine.run()
    finally:
        publisher.close()
        pool.close()


if __name__ == "__main__":
    main()
