"""python -m simulator {register,run,inject,staff,history}: the demo city's devices over MQTT, its township staff,
and a month of past incidents (``simulator.history``)."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from cityops import settings
from cityops.mqtt import PublishAcks, new_client, write_credentials
from cityops.runtime import on_stop, setup_logging
from ingest import broker_accounts
from ingest.broker_acl import simulator_control_topic
from ingest.devices import register_devices
from ingest.tagging import layer_tagger
from layers.loader import load_active_layers
from layers.near import DEFAULT_NEAR_M
from simulator.accounts import INJECT, SIMULATOR, demo_accounts, publisher_of, publishing_accounts
from simulator.catalogue import CatalogueDevice, build_catalogue
from simulator.world import SCENARIOS, World

log = logging.getLogger("cityops.simulator")


def _catalogue(dsn: str, seed: int) -> list[CatalogueDevice]:
    return build_catalogue(load_active_layers(dsn).townships, seed)


def register(dsn: str, seed: int, near_m: float = DEFAULT_NEAR_M, city: str = "chenzhou",
             credentials: Path | None = None) -> int:
    """Register the demo devices and issue every demo broker account (new passwords each time), in one
    transaction; the passwords go to ``credentials`` (the run folder's file) when given."""
    layers = load_active_layers(dsn)  # read once: it places the devices and tags them
    devices = build_catalogue(layers.townships, seed)
    with psycopg.connect(dsn) as conn, conn.transaction():
        count = register_devices(conn, devices, layer_tagger(layers, near_m), layers.version)
        passwords = broker_accounts.issue(conn, demo_accounts(city, devices, sorted(layers.townships["code"])))
    if credentials is not None:
        write_credentials(credentials, passwords)
    return count


def _client(cfg: settings.Settings, account: str) -> mqtt.Client:
    address = cfg.mqtt(account)
    client = new_client(address, account)
    client.connect(address.host, address.port, keepalive=30)
    return client


def run(cfg: settings.Settings, seed: int, interval: float, storm: str | None) -> None:
    world = World(_catalogue(cfg.dsn(), seed), cfg.city, seed)
    if storm:
        world.inject("rainstorm", district_code=storm, steps=360)
    lock = threading.Lock()
    stop = threading.Event()

    def on_control(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            order = json.loads(msg.payload)
            with lock:
                s = world.inject(order["scenario"], district_code=order.get("district"),
                                 device_id=order.get("device_id"), steps=int(order.get("steps", 90)),
                                 path=[str(p) for p in order.get("path") or []],
                                 minutes=float(order.get("minutes", 90)))
            log.info("scenario injected: %s", s)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("bad scenario order %r: %s", msg.payload[:200], exc)

    control = _client(cfg, SIMULATOR)
    control.on_message = on_control
    control.subscribe(simulator_control_topic(cfg.city), qos=1)
    account_of = publisher_of(cfg.city, world.devices)
    publishers = {name: _client(cfg, name) for name in publishing_accounts(world.devices)}
    acks = {name: PublishAcks(c) for name, c in publishers.items()}
    for c in (control, *publishers.values()):
        c.loop_start()
    on_stop(stop.set)
    log.info("simulating %d devices every %.0f s through %d accounts", len(world.devices), interval,
             len(publishers))
    try:
        while not stop.is_set():
            with lock:
                messages = world.messages(datetime.now(UTC))
            sent = [(t, account_of(t), publishers[account_of(t)].publish(t, payload, qos=1)) for t, payload in messages]
            for topic, name, info in sent:
                info.wait_for_publish(timeout=30)
                if (refused := acks[name].refusal(info)) is not None:
                    log.warning("the broker refused %s from %s: %s", topic, name, refused)
            stop.wait(interval)
    finally:
        for c in (control, *publishers.values()):
            c.loop_stop()
            c.disconnect()


def path_items(given: list[str] | None) -> list[str]:
    """``--path 431021 431002`` or ``--path "112.7,25.7;113.0,25.8"``: county (6 digits) or township (9 digits)
    codes and lon,lat points, in order; refused here when one is neither (the simulator places the codes)."""
    items = [part.strip() for arg in given or [] for part in arg.split(";") if part.strip()]
    for item in items:
        if "," in item:
            try:
                lon, lat = (float(x) for x in item.split(","))
            except ValueError:
                raise ValueError(f"not a lon,lat point: {item!r}") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"not a lon,lat point: {item!r}")
        elif not (item.isdigit() and len(item) in (6, 9)):
            raise ValueError(f"not a county (6 digits) or township (9 digits) code, nor lon,lat: {item!r}")
    return items


def inject(cfg: settings.Settings, scenario: str, district: str | None, steps: int,
           path: list[str] | None = None, minutes: float = 90.0) -> None:
    client = _client(cfg, INJECT)
    client.loop_start()
    order: dict[str, object] = {"scenario": scenario, "district": district, "steps": steps}
    if path:
        order |= {"path": path, "minutes": minutes}
    client.publish(simulator_control_topic(cfg.city), json.dumps(order), qos=1).wait_for_publish(timeout=10)
    client.loop_stop()
    client.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description="cityops demo-city simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    p_reg = sub.add_parser("register", help="register the demo devices in the database")
    p_run = sub.add_parser("run", help="publish readings and events until stopped")
    p_inj = sub.add_parser("inject", help="ask the running simulator to start a scenario")
    p_staff = sub.add_parser("staff", help="township staff who sign for, work on and report back incidents")
    p_hist = sub.add_parser("history", help="write the last days' incidents through the lifecycle (once)")
    for p in (p_reg, p_run, p_staff, p_hist):
        p.add_argument("--seed", type=int, default=20261122)
    p_hist.add_argument("--days", type=int, default=30, help="days of history ending now")
    p_staff.add_argument("--interval", type=float, default=15.0, help="seconds between rounds")
    p_staff.add_argument("--per-round", type=int, default=4, help="at most this many moves a round")
    p_run.add_argument("--interval", type=float, default=10.0, help="seconds between readings")
    p_run.add_argument("--storm", help="start with a rainstorm over this district code")
    p_inj.add_argument("scenario", choices=SCENARIOS)
    p_inj.add_argument("--district", help="district code (6 digits)")
    p_inj.add_argument("--steps", type=int, default=90)
    p_inj.add_argument("--path", nargs="+", metavar="CODE|LON,LAT",
                       help="a rainstorm that walks: county or township codes and lon,lat points, in order")
    p_inj.add_argument("--minutes", type=float, default=90.0, help="how long the walk takes (with --path)")
    args = parser.parse_args()
    setup_logging("simulator")
    cfg = settings.load()
    if args.command == "register":
        credentials = cfg.mqtt_credentials if cfg.embedded_broker else None
        log.info("registered %d devices and the demo's broker accounts%s", register(
            cfg.dsn(), args.seed, cfg.near_boundary_m, cfg.city, credentials),
            f" (passwords in {credentials})" if credentials else "")
    elif args.command == "run":
        run(cfg, args.seed, args.interval, args.storm)
    elif args.command == "staff":
        from simulator import staff_run

        stop = threading.Event()
        on_stop(stop.set)
        staff_run.run(cfg.dsn("dashboard"), args.seed, args.interval, args.per_round, stop)
    elif args.command == "history":
        from simulator.history import write_history

        write_history(cfg.dsn(), datetime.now(UTC), args.days, args.seed, near_m=cfg.near_boundary_m)
    else:
        try:
            path = path_items(args.path)
        except ValueError as exc:
            parser.error(str(exc))
        if path and args.scenario != "rainstorm":
            parser.error("only a rainstorm walks a --path")
        if path and not 1 <= args.minutes <= 24 * 60:
            parser.error("--minutes: 1 to 1440")
        inject(cfg, args.scenario, args.district, args.steps, path, args.minutes)


if __name__ == "__main__":
    main()
