"""python -m ingest: run one ingest worker (more workers share the load via $share/ingest).

python -m ingest policies [--compress-after 7d] [--retain 365d]: show or change telemetry's
compression and retention on TimescaleDB (on plain PostgreSQL it says there are none).

python -m ingest devices register FILE.csv: a city's devices, checked whole (ingest/device_import.py).

python -m ingest accounts issue {device,system,township,ingest,alerts} NAME... | retire USER... | sync: the broker's
accounts (ingest/broker_accounts.py). ``issue`` prints each new ``user password`` once; ``sync`` keeps
the embedded broker's files equal to the registry (``up`` runs it).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading

import numpy as np
import psycopg

from cityops import probe, settings
from cityops.heartbeat import Heartbeat
from cityops.runtime import on_stop, setup_logging
from ingest import broker_accounts, broker_acl, policies
from ingest.broker_accounts import BrokerAccountError


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
                        help="serve /healthz, /readyz and Prometheus /metrics on this port (0: off)")
    sub = parser.add_subparsers(dest="command")
    pol = sub.add_parser("policies", help="show or change telemetry compression and retention (TimescaleDB)")
    pol.add_argument("--compress-after", help="compress telemetry chunks older than this, e.g. 7d (default 7d)")
    pol.add_argument("--retain", help="drop telemetry chunks older than this, e.g. 365d (default 365d)")
    acc = sub.add_parser("accounts", help="broker accounts: issue, retire, keep the embedded broker in sync")
    acc_sub = acc.add_subparsers(dest="action", required=True)
    issue = acc_sub.add_parser("issue", help="a new password for each (printed once): device ids, dept/system, "
                                             "township codes")
    issue.add_argument("kind", choices=("device", "system", "township", "ingest", "alerts"),
                       help="ingest: a worker's client id (cityops-ingest-3); alerts: an engine's outbox client id"
                            " (cityops-alerts-3-outbox)")
    issue.add_argument("names", nargs="+")
    acc_sub.add_parser("retire").add_argument("usernames", nargs="+")
    acc_sub.add_parser("sync", help="rebuild the embedded broker's password and ACL files now and on every change")
    dev = sub.add_parser("devices", help="register a city's devices from a CSV file (checked whole first)")
    dev_sub = dev.add_subparsers(dest="action", required=True)
    reg = dev_sub.add_parser("register", help="device_id,device_type,dept,name,lon,lat,expected_interval_s"
                                              "[,warning,guarantee,flood_limit]; any problem registers nothing")
    reg.add_argument("file", type=argparse.FileType("r", encoding="utf-8"))
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
    setup_logging("ingest", args.client_id)
    cfg = settings.load()
    if args.command == "policies":
        sys.exit(run_policies(cfg.dsn(), args.compress_after, args.retain))
    if args.command == "accounts":
        sys.exit(run_accounts(cfg, args))
    if args.command == "devices":
        sys.exit(register_file(cfg, args.file.read()))
    run_worker(cfg, args)


def _accounts_to_issue(conn: psycopg.Connection, city: str, kind: str,
                       names: list[str]) -> list[broker_acl.BrokerAccount]:
    if kind == "device":
        known = {device_id for (device_id,) in conn.execute("SELECT device_id FROM devices WHERE device_id = ANY(%s)",
                                                            (names,))}
        if missing := [n for n in names if n not in known]:
            raise BrokerAccountError(f"devices not registered: {', '.join(missing)}")
        return [broker_acl.device(city, n) for n in names]
    if kind == "system":
        if bad := [n for n in names if n.count("/") != 1]:
            raise BrokerAccountError(f"a system is named dept/system, got {', '.join(bad)}")
        return [broker_acl.system(city, *n.split("/")) for n in names]
    if kind == "ingest":
        return [broker_acl.ingest(city, n) for n in names]
    if kind == "alerts":
        return [broker_acl.alerts(city, n) for n in names]
    return [broker_acl.township(city, n) for n in names]


def register_file(cfg: settings.Settings, text: str) -> int:
    """Register every device of a CSV file, tagged with the active layers, or none when any row is wrong."""
    from ingest.device_import import BadDeviceFile, outside, read_devices
    from ingest.devices import register_devices
    from ingest.tagging import active_layer_tagger

    try:
        devices = read_devices(text)
        tagger, version = active_layer_tagger(cfg.dsn(), cfg.near_boundary_m)
        codes = tagger(np.array([d.lon for d in devices]), np.array([d.lat for d in devices]))
        if problems := outside(devices, [c[1] for c in codes]):
            raise BadDeviceFile(problems)
    except BadDeviceFile as exc:
        for problem in exc.problems:
            print(problem.text(cfg.language), file=sys.stderr)
        print("没有登记任何设备" if cfg.language == "zh" else "no device was registered", file=sys.stderr)
        return 2
    with psycopg.connect(cfg.dsn()) as conn:  # tagged once: the codes just checked are the ones stored
        count = register_devices(conn, devices, lambda _lon, _lat: codes, version)
    print(f"registered {count} devices (boundary version {version}); issue their broker accounts with"
          " python -m ingest accounts issue device <id>...")
    return 0


def run_accounts(cfg: settings.Settings, args: argparse.Namespace) -> int:
    from cityops.localserver import LocalMosquitto
    from ingest.broker_sync import keep_in_sync

    if args.action == "sync":
        stop = threading.Event()
        on_stop(stop.set)
        keep_in_sync(cfg.dsn("ingest"), LocalMosquitto(cfg.run_dir / "mqtt", cfg.mqtt_port), cfg.city, stop)
        return 0
    try:
        with psycopg.connect(cfg.dsn()) as conn:
            if args.action == "retire":
                retired = broker_accounts.retire(conn, args.usernames)
                print(f"retired: {', '.join(retired) or 'none (unknown or retired already)'}")
                return 0
            passwords = broker_accounts.issue(conn, _accounts_to_issue(conn, cfg.city, args.kind, args.names))
    except (BrokerAccountError, broker_acl.AclError) as exc:
        print(f"ingest accounts: {exc}", file=sys.stderr)
        return 2
    for username, password in passwords.items():
        print(username, password)
    return 0


def run_worker(cfg: settings.Settings, args: argparse.Namespace) -> None:
    # Imported here: the policies command needs none of this.
    from ingest.consumer import IngestConfig, Ingestor

    try:
        config = IngestConfig(city=cfg.city, client_id=args.client_id, share_group=args.share_group,
                              max_batch=args.max_batch, max_wait_s=args.max_wait, max_buffer=args.max_buffer,
                              retire=args.retire)
    except ValueError as exc:
        sys.exit(f"ingest: {exc}")
    ingestor = Ingestor(config, cfg.mqtt(args.client_id), dsn=cfg.dsn("ingest"), near_boundary_m=cfg.near_boundary_m)
    if args.metrics_port:
        probe.serve(args.metrics_port, ingestor.readiness, ingestor.metrics.registry, host=cfg.probe_host)
    heartbeat = Heartbeat(cfg.dsn("ingest"), "ingest", args.client_id, ingestor.readiness).start()
    on_stop(ingestor.stop)
    try:
        ingestor.run()
    finally:
        heartbeat.stop()


if __name__ == "__main__":
    main()
