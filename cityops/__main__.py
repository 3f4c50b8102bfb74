"""python -m cityops up: the whole system on embedded defaults, one command, Ctrl-C stops it.

Starts (unless the environment points elsewhere) a project-local PostgreSQL and mosquitto,
applies migrations, loads the demo city's layers, registers the demo devices and users,
then supervises ingest, the alert engine, the simulator, simulated township staff (``--no-staff``
leaves incidents to people at the township desks) and the dashboard, restarting any that dies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import psycopg

from cityops import settings
from cityops.healthcheck import ask
from cityops.localserver import LocalMosquitto, LocalPostgres, LocalServerError
from cityops.processes import stop_all
from cityops.runtime import on_stop, setup_logging

log = logging.getLogger("cityops.up")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # its own settings over the shared ones (its MQTT login)
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0


def prepare(cfg: settings.Settings) -> tuple[LocalPostgres | None, LocalMosquitto | None]:
    """Servers up, schema current, demo data present. Idempotent."""
    from dashboard.auth import seed_demo_users
    from layers.loader import load_demo_layers
    from simulator.__main__ import register
    from store.migrate import migrate

    pg = mq = None
    if cfg.embedded_db:
        pg = LocalPostgres(cfg.run_dir / "pg", cfg.pg_port)
        log.info("starting project-local PostgreSQL on 127.0.0.1:%d (%s)", cfg.pg_port, pg.data_dir)
        pg.start()
    if cfg.embedded_broker:
        mq = LocalMosquitto(cfg.run_dir / "mqtt", cfg.mqtt_port, cfg.mqtt_tls_port)
        log.info("starting project-local mosquitto on 127.0.0.1:%d (TLS %d)", cfg.mqtt_port, cfg.mqtt_tls_port)
        mq.start()
    applied = migrate(cfg.dsn(), cfg.timescale)
    log.info("migrations applied: %s", applied or "none (up to date)")
    load_demo_layers(cfg.dsn())
    log.info("demo devices registered: %d", register(cfg.dsn(), seed=20261122, near_m=cfg.near_boundary_m,
                                                      city=cfg.city, credentials=cfg.mqtt_credentials if mq else None))
    if mq:  # the accounts just issued, before any child connects; `ingest accounts sync` keeps it so
        from ingest.broker_sync import rebuild

        with psycopg.connect(cfg.dsn("ingest")) as conn:
            log.info("broker accounts installed: %d", rebuild(conn, mq, cfg.city).accounts)
    with psycopg.connect(cfg.dsn()) as conn:
        seed_demo_users(conn)
    if cfg.history_days:  # once per database: the leader, 考核 and data-quality pages open on a month
        from simulator.history import write_history

        write_history(cfg.dsn(), datetime.now(UTC), cfg.history_days, 20261122, near_m=cfg.near_boundary_m,
                      city=cfg.city)
    return pg, mq


class Server(Protocol):
    """An embedded server ``up`` started (PostgreSQL, mosquitto): started again when it dies."""

    def alive(self) -> bool: ...

    def start(self) -> None: ...


@dataclass
class GatedBroker:
    """The embedded mosquitto, started again with only the services let in until every ingest worker has
    subscribed (``LocalMosquitto.start_gated`` says why), then everyone; at most ``gate_s`` seconds."""

    broker: LocalMosquitto
    services: tuple[str, ...]  # the accounts let in first: ingest workers, alert engines
    subscribed_urls: tuple[str, ...]  # each ingest worker's /readyz
    gate_s: float = 30.0

    def alive(self) -> bool:
        return self.broker.alive()

    def start(self) -> None:
        self.broker.start_gated(self.services)
        deadline = time.monotonic() + self.gate_s
        while time.monotonic() < deadline and not all(_subscribed(url) for url in self.subscribed_urls):
            time.sleep(0.2)
        self.broker.open_gate()


def _subscribed(readyz: str) -> bool:
    """Whether an ingest worker's /readyz says its broker check passes (whatever its database says: a 503
    carries its checks too)."""
    reply = ask(readyz, timeout=2)
    try:
        return reply.status is not None and bool(json.loads(reply.text)["checks"]["broker"])
    except (ValueError, KeyError, TypeError):
        return False


def supervise(children: list[Child], stop: threading.Event, env: dict[str, str], logdir: str,
              servers: dict[str, Server] | None = None) -> None:
    """Start the children and keep them running, the servers they need first, until ``stop`` is set."""
    servers = servers or {}

    def start(child: Child) -> None:
        out = open(os.path.join(logdir, f"{child.name}.log"), "ab")  # noqa: SIM115 - the child owns it
        child.proc = subprocess.Popen(child.argv, env=env | child.env, stdout=out, stderr=subprocess.STDOUT)

    for child in children:
        start(child)
    while not stop.wait(1.0):
        for name, server in servers.items():
            if not server.alive():
                log.warning("embedded %s is not answering; starting it again", name)
                try:
                    server.start()
                except LocalServerError as exc:  # e.g. the killed one's backends still hold its memory
                    log.warning("embedded %s did not start yet (%s); trying again", name, exc)
                    continue
                log.info("embedded %s is back", name)
        for child in children:
            if child.proc and child.proc.poll() is not None:
                child.restarts += 1
                log.warning("%s exited with %s; restarting (restart %d), log: %s/%s.log", child.name,
                            child.proc.returncode, child.restarts, logdir, child.name)
                start(child)
    stop_all([child.proc for child in children if child.proc])


def up(cfg: settings.Settings, storm: str | None, staff: bool) -> None:
    from alerts.outbox import outbox_client_id
    from cityops import mqtt
    from simulator import accounts

    pg, mq = prepare(cfg)
    env = dict(os.environ, CITYOPS_DEMO="1", CITYOPS_DATABASE_URL=cfg.dsn(),
               **{f"CITYOPS_{role.upper()}_DATABASE_URL": cfg.dsn(role) for role in settings.DB_ROLES},
               CITYOPS_MQTT_URL=f"mqtt://{cfg.mqtt().host}:{cfg.mqtt().port}",
               CITYOPS_MQTT_CREDENTIALS=str(cfg.mqtt_credentials))  # the simulator's gateways and systems
    py = sys.executable
    sim = [py, "-m", "simulator", "run"] + (["--storm", storm] if storm else [])

    def login(account: str) -> dict[str, str]:  # each service its own account, as production runs them
        return {"CITYOPS_MQTT_URL": mqtt.url(cfg.mqtt(account))}

    # The topology a city runs: two ingest workers sharing one subscription, an active and a standby alert
    # engine, the dashboard under gunicorn with several workers; each with its health and metrics endpoints.
    probes = {}
    children = [*([Child("broker-accounts", [py, "-m", "ingest", "accounts", "sync"])] if mq else [])]
    for i, worker in enumerate(accounts.INGEST_WORKERS, start=1):
        probes[worker] = port = cfg.probe_port_base + i
        children.append(Child(worker.removeprefix("cityops-"),
                              [py, "-m", "ingest", "--client-id", worker, "--metrics-port", str(port)], login(worker)))
    for i, engine in enumerate(accounts.ALERT_ENGINES, start=1):
        probes[engine] = port = cfg.probe_port_base + 10 + i
        children.append(Child(engine, [py, "-m", "alerts", "--name", engine, "--metrics-port", str(port)],
                              login(outbox_client_id(engine))))
    children += [
        Child("simulator", sim),
        *([Child("staff", [py, "-m", "simulator", "staff"])] if staff else []),
        Child("dashboard", [py, "-m", "gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.wsgi:server"]),
    ]
    logdir = cfg.run_dir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    on_stop(stop.set)
    url = f"http://{cfg.dash_host}:{cfg.dash_port}/"
    health = ", ".join(f"{name} :{port}" for name, port in probes.items())
    print(f"\ncityops is running: {url}\n  logs: {logdir}\n  demo users: zhihui/zhihui123 (指挥中心), "
          "lingdao/lingdao123 (领导), qx<区县代码>/qx123456 (区县), zj<镇街代码>/zj123456 (镇街)\n"
          f"  health: {url}readyz, {url}metrics; {health} (/healthz /readyz /metrics)\n"
          "  Ctrl-C stops everything.\n", flush=True)
    try:
        servers: dict[str, Server] = {"PostgreSQL": pg} if pg else {}
        if mq:
            services = (*accounts.INGEST_WORKERS, *(outbox_client_id(e) for e in accounts.ALERT_ENGINES))
            servers["mosquitto"] = GatedBroker(mq, services, tuple(
                f"http://{cfg.probe_host}:{probes[w]}/readyz" for w in accounts.INGEST_WORKERS))
        supervise(children, stop, env, str(logdir), servers)
    finally:
        if mq:
            mq.stop()
        if pg:
            pg.stop()
        log.info("stopped")


def start_over(cfg: settings.Settings) -> None:
    """``up --fresh``: the run folder's embedded servers stopped and their data deleted (a database of one's
    own, given by URL, is never touched)."""
    if cfg.embedded_db:
        pg = LocalPostgres(cfg.run_dir / "pg", cfg.pg_port)
        if pg.running():
            pg.stop()
        shutil.rmtree(pg.data_dir, ignore_errors=True)
    if cfg.embedded_broker:
        mq = LocalMosquitto(cfg.run_dir / "mqtt", cfg.mqtt_port, cfg.mqtt_tls_port)
        mq.stop()
        (mq.data_dir / "mosquitto.db").unlink(missing_ok=True)
    log.info("starting over: the embedded database and the broker's sessions of %s are gone", cfg.run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description="cityops: start the whole system")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start everything and print the dashboard URL")
    p_up.add_argument("--storm", default="431002", help="district with a simulated rainstorm ('' for none)")
    p_up.add_argument("--no-staff", action="store_true",
                      help="no simulated township staff: incidents wait for people at the township desks")
    p_up.add_argument("--fresh", action="store_true",
                      help="start over: the embedded database and broker of the run folder are deleted first")
    sub.add_parser("prepare", help="start servers, migrate, load demo data, then exit (servers keep running)")
    p_backup = sub.add_parser("backup", help="dump the database (pg_dump, custom format) while the system runs")
    p_backup.add_argument("--out", type=Path, help="archive to write (default: <run dir>/backups/cityops-<time>.dump)")
    p_restore = sub.add_parser("restore", help="restore an archive into an empty database")
    p_restore.add_argument("archive", type=Path)
    p_restore.add_argument("--into", help="the empty database's owner URL (default: CITYOPS_DATABASE_URL)")
    args = parser.parse_args()
    setup_logging("cityops")
    cfg = settings.load()
    if args.command == "up":
        if args.fresh:
            start_over(cfg)
        up(cfg, args.storm or None, staff=not args.no_staff)
    elif args.command == "prepare":
        prepare(cfg)
    else:
        sys.exit(run_backup(cfg, args))


def run_backup(cfg: settings.Settings, args: argparse.Namespace) -> int:
    from cityops import backup

    try:
        if args.command == "backup":
            out = args.out or cfg.run_dir / "backups" / f"cityops-{datetime.now(UTC):%Y%m%d-%H%M%S}.dump"
            held = backup.backup(cfg.dsn(), out)
            print(f"backup written: {out} ({out.stat().st_size:,} bytes)")
        else:
            held = backup.restore(args.archive, args.into or cfg.dsn(), progress=lambda step: print(step, flush=True))
            print(f"restored {args.archive}")
    except backup.BackupError as exc:
        print(f"cityops {args.command}: {exc}", file=sys.stderr)
        return 2
    print(f"  migrations {', '.join(held.migrations)}")
    print("  " + ", ".join(f"{table} {n:,}" for table, n in held.rows.items()))
    return 0


if __name__ == "__main__":
    main()
