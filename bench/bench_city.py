"""A whole city on one machine (issue 15): 100,000 devices, 10,000 readings a second from gateways, through
the real ingest and the real alert engine.

    .venv/bin/python bench/bench_city.py                 # 10 minutes of load
    .venv/bin/python bench/bench_city.py --minutes 2     # a short run

Starts its own PostgreSQL and mosquitto (cityops.localserver, in a temp folder) and the demo layers, then:

1. registration: 100,000 devices placed in the 162 townships (rain and river gauges, gas and smoke
   detectors, hazmat vehicles), registered and region-tagged (ingest.devices.register_devices), each
   behind one of the city's gateways (500 devices each), and every device, gateway and service given a
   broker account (broker_accounts.issue, the broker's files rebuilt and reloaded); target < 60 s.
2. load: ``python -m ingest`` and ``python -m alerts`` as processes with accounts of their own; publisher
   processes play the gateways (each uploads what its devices measured every 5 s: ~250 readings a
   message, every device every 10 s: 10,000 readings/s) on ``city/<city>/gateway/<gateway>``, QoS 1.
   In the middle of the load, gas detectors read 60 %LEL (a breach, in their gateway's ordinary batch):
   the time until each one's incident is dispatched (target p99 < 2 s).
   Every minute: readings stored per second, ingest lag (the age of the newest stored reading, sampled
   every second), evaluation lag (the oldest committed batch not yet evaluated; target p99 < 1 s), and the
   CPU share of every process and of the rest of the machine (it is shared); memory of every process at the start
   and the end. The city is running when the load begins: every device has just reported (device_status), so
   silence is judged as in a running city, not from a fleet registered a minute ago that has not reported yet.
   After the load: the big screen as it is (bench_dashboard's refresh callbacks and first render) on the city's
   data. In the last minute the
   ingest store process and the engine are sampled with py-spy (if installed) and their hottest frames
   printed, so a missed target names its limit.

Not a test: CI never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # bench_dashboard's big-screen measurements

from alerts.observe import evaluation_lag_s  # noqa: E402
from alerts.outbox import outbox_client_id  # noqa: E402
from cityops.localserver import LocalMosquitto, LocalPostgres, free_port  # noqa: E402
from cityops.mqtt import new_client, url  # noqa: E402
from cityops.processes import PAGE, TICKS, rss_and_cpu, stop_all, tree  # noqa: E402
from cityops.settings import MqttAddress  # noqa: E402
from ingest import broker_accounts, broker_acl  # noqa: E402
from ingest.broker_sync import rebuild  # noqa: E402
from ingest.devices import DeviceSpec, StationLines  # noqa: E402
from store.migrate import migrate  # noqa: E402

CITY = "chenzhou"
# Per township (162 of them, ~617 devices each): (type, dept, metric, quiet value, count).
MIX = (("rain_gauge", "qx", "rain_1h", 0.0, 10), ("river_gauge", "sl", "water_level", 1.2, 2),
       ("gas_detector", "yj", "gas_lel", 2.0, 204), ("smoke_detector", "xf", "smoke", 0.0, 400),
       ("hazmat_vehicle", "jt", "speed_kmh", 40.0, 1))
PER_GATEWAY = 500
REPORT_EVERY_S = 10  # every device
UPLOAD_EVERY_S = 5  # every gateway: what its devices measured since the last upload
TARGETS = {"registration_s": 60.0, "evaluation_lag_p99_s": 1.0, "breach_p99_s": 2.0}


def log(text: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {text}", flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


# --- the city's devices -------------------------------------------------------------------------------

def city_devices(dsn: str, total: int) -> list[DeviceSpec]:
    """``total`` devices in the MIX's proportions, at seeded points inside every township, 500 to a gateway."""
    from layers.loader import load_active_layers

    townships = load_active_layers(dsn).townships.sort_values("code").reset_index(drop=True)
    per_township = sum(n for *_, n in MIX)
    scale = total / (per_township * len(townships))
    rng = np.random.default_rng(20261207)
    devices: list[DeviceSpec] = []
    for kind, dept, _metric, _quiet, n in MIX:
        count = max(1, round(n * scale))
        points = townships.geometry.sample_points(count, rng=rng)
        for row, multipoint in zip(townships.itertuples(), points, strict=True):
            for i, pt in enumerate(getattr(multipoint, "geoms", [multipoint]), start=1):
                lines = (StationLines(warning=round(2.3 + rng.uniform(0, 0.8), 2),
                                      guarantee=round(3.5 + rng.uniform(0, 0.8), 2)) if kind == "river_gauge" else None)
                devices.append(DeviceSpec(f"{kind.split('_')[0]}-{row.code}-{i}", kind, dept, f"{row.name}{kind}{i}",
                                          round(pt.x, 6), round(pt.y, 6), REPORT_EVERY_S, lines))
    devices = devices[:total]
    devices.sort(key=lambda d: (d.device_id.split("-")[1], d.device_id))  # a gateway serves one area
    return [DeviceSpec(d.device_id, d.device_type, d.dept, d.name, d.lon, d.lat, d.expected_interval_s, d.lines,
                       gateway=f"gw-{k // PER_GATEWAY:04d}") for k, d in enumerate(devices)]


@dataclass
class Registered:
    devices: list[DeviceSpec]
    passwords: dict[str, str]
    seconds: dict[str, float]


def register(dsn: str, broker: LocalMosquitto, devices: list[DeviceSpec], services: list[broker_acl.BrokerAccount]
             ) -> Registered:
    from ingest.devices import register_devices
    from ingest.tagging import layer_tagger
    from layers.loader import load_active_layers
    from layers.near import DEFAULT_NEAR_M

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    layers = load_active_layers(dsn)
    with psycopg.connect(dsn) as conn:
        register_devices(conn, devices, layer_tagger(layers, DEFAULT_NEAR_M), layers.version)
        seconds["registered and region-tagged"] = time.perf_counter() - start
        t = time.perf_counter()
        gateways = sorted({d.gateway for d in devices if d.gateway})
        accounts = [*(broker_acl.device(CITY, d.device_id) for d in devices),
                    *(broker_acl.gateway(CITY, g) for g in gateways), *services]
        passwords = broker_accounts.issue(conn, accounts)
        seconds["broker accounts issued"] = time.perf_counter() - t
        t = time.perf_counter()
        rebuild(conn, broker, CITY)
        seconds["broker files rebuilt, reloaded"] = time.perf_counter() - t
        untagged = conn.execute("SELECT count(*) FROM devices WHERE township_code IS NULL").fetchone()
    seconds["total"] = time.perf_counter() - start
    if untagged and untagged[0]:
        log(f"  {untagged[0]} devices in no township")
    return Registered(devices, passwords, seconds)


# --- the gateways (a publisher process each holds some) -------------------------------------------------

def gateways_process(spec_path: str) -> None:
    """Play the gateways in the spec: every UPLOAD_EVERY_S, each sends the readings its devices took since its
    last upload (each device every REPORT_EVERY_S), stamped when taken; probes are gas breaches at set times."""
    spec = json.loads(Path(spec_path).read_text())
    address = spec["broker"]
    clients = {}
    for name, password in spec["logins"].items():
        login = MqttAddress(address[0], address[1], name, password)
        c = new_client(login, name)
        c.max_inflight_messages_set(100)
        c.connect(login.host, login.port, keepalive=60)
        c.loop_start()
        clients[name] = c
    quiet = {kind: (metric, value) for kind, _d, metric, value, _n in MIX}
    members: dict[str, list[tuple[str, str]]] = spec["members"]
    start = spec["start_at"]
    end = start + spec["seconds"]
    probes = {d: start + at for d, at in spec["probes"]}
    probe_sent: dict[str, float] = {}
    sent = messages = 0
    # The gateways' uploads spread over the 5 s; each upload carries the next share of its devices, so each
    # device reports every REPORT_EVERY_S.
    due_at = {g: start + UPLOAD_EVERY_S * k / len(members) for k, g in enumerate(sorted(members))}
    uploads = dict.fromkeys(members, 0)
    while time.time() < start:
        time.sleep(0.01)
    while (now := time.time()) < end:
        for gateway, devices in members.items():
            if now < due_at[gateway]:
                continue
            due_at[gateway] += UPLOAD_EVERY_S
            count = -(-len(devices) * UPLOAD_EVERY_S // REPORT_EVERY_S)
            first = uploads[gateway] * count
            uploads[gateway] += 1
            body = []
            for k in range(count):
                device_id, kind = devices[(first + k) % len(devices)]
                metric, value = quiet[kind]
                due = probes.get(device_id)
                if due is not None and due <= now and device_id not in probe_sent:
                    value = 60.0
                    probe_sent[device_id] = now
                body.append({"device_id": device_id, "ts": int(now * 1000), "values": {metric: value}})
            info = clients[gateway].publish(f"city/{CITY}/gateway/{gateway}", json.dumps(body), qos=1)
            if info.rc == 0:
                sent += len(body)
                messages += 1
        time.sleep(0.02)
    for c in clients.values():
        c.loop_stop()
        c.disconnect()
    print(json.dumps({"sent": sent, "messages": messages, "probes": probe_sent}), flush=True)


# --- sampling -----------------------------------------------------------------------------------------

@dataclass
class Minute:
    ingest_lag: list[float] = field(default_factory=list)
    eval_lag: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds at the minute's start


class Sampler(threading.Thread):
    """Every second: ingest lag and evaluation lag; every minute a new bucket with each process's CPU."""

    def __init__(self, dsn: str, procs: dict[str, int], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.dsn, self.procs, self.stop = dsn, procs, stop
        self.minutes: list[Minute] = []
        self.cpu_marks: list[tuple[float, dict[str, float]]] = []

    def mark(self) -> None:
        self.cpu_marks.append((time.monotonic(), {n: cpu_of(p) for n, p in self.procs.items()}
                               | {MACHINE: machine_busy_s()}))

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            started = time.monotonic()
            self.mark()
            self.minutes.append(Minute())
            while not self.stop.is_set():
                if time.monotonic() - started >= 60 * len(self.minutes):
                    self.mark()
                    self.minutes.append(Minute())
                row = conn.execute("SELECT EXTRACT(EPOCH FROM now() - max(last_seen)) FROM device_status").fetchone()
                if row and row[0] is not None:
                    self.minutes[-1].ingest_lag.append(float(row[0]))
                self.minutes[-1].eval_lag.append(evaluation_lag_s(conn))
                self.stop.wait(1.0)
            self.mark()


MACHINE = "(the whole machine)"


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (/proc/stat: all but idle and iowait), every process's."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, irq, softirq, steal = fields[0], fields[1], fields[2], *fields[5:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def cpu_of(pid: int) -> float:
    """CPU seconds of ``pid``'s tree; the bench's own process alone (its children are listed apart)."""
    return own_rss_and_cpu()[1] if pid == os.getpid() else rss_and_cpu(pid)[1]


def own_rss_and_cpu() -> tuple[float, float]:
    stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[21]) * PAGE / 2**20, (int(stat[11]) + int(stat[12])) / TICKS


def memory_of(pid: int) -> float:
    return own_rss_and_cpu()[0] if pid == os.getpid() else rss_and_cpu(pid)[0]


def watch_probes(dsn: str, subjects: list[str], seen: dict[str, float], stop: threading.Event) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set() and len(seen) < len(subjects):
            rows = conn.execute("SELECT w.subject FROM warnings w JOIN incidents i ON i.id = w.incident_id"
                                " WHERE w.subject = ANY(%s) AND i.status = 'dispatched'",
                                ([s for s in subjects if s not in seen],)).fetchall()
            at = time.time()
            for (subject,) in rows:
                seen.setdefault(subject, at)
            time.sleep(0.02)


def profile(pyspy: str | None, pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    if pyspy is None:
        return None
    return subprocess.Popen([pyspy, "record", "-p", str(pid), "-d", str(seconds), "-r", "50", "-f", "raw",
                             "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hottest(raw: Path, n: int = 8) -> list[tuple[str, float]]:
    """The frames where a sampled process spent its time (own and below, share of samples), project code first."""
    if not raw.exists():
        return []
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = stack.split(";")
        for frame in dict.fromkeys(f for f in frames if "/work/" in f or "cityops" in f or "ingest" in f
                                   or "alerts" in f):
            inclusive[frame] += int(count)
        inclusive["(leaf) " + frames[-1]] += int(count)
    ranked = [(f, c / total) for f, c in inclusive.most_common() if total]
    mine = [r for r in ranked if not r[0].startswith("(leaf)")][:n]
    leaves = [r for r in ranked if r[0].startswith("(leaf)")][:3]
    return mine + leaves


DISTRICT_SCREEN = "431002"  # 北湖区: a district desk's screen, the district case the city's first render is held to


def big_screen(dsn: str, samples: int) -> None:
    """The big screen as it is, on the city's data after the load: bench_dashboard's refresh callbacks in-process as
    the command desk (server time, payload), and its first render in headless Chromium."""
    from bench_dashboard import dashboard_server, measure_callbacks, measure_first_render

    from dashboard.auth import DISTRICT_PASSWORD, seed_demo_users
    from store.users import district_username

    with psycopg.connect(dsn) as conn:
        seed_demo_users(conn)
        n = conn.execute("SELECT count(*) FROM devices").fetchone()
    print(f"\nbig screen on the city's {n[0] if n else 0:,} devices (as it is; server time in-process, as the command"
          " desk; refresh target p95 < 150 ms, payload < 100 KB):", flush=True)
    measure_callbacks(dsn, samples, "431002")
    os.environ.setdefault("CITYOPS_DEMO", "1")  # the bench's city keeps the demo accounts: a demo start
    try:
        with dashboard_server(dsn) as url:
            city = measure_first_render(url, runs=2)
            district = measure_first_render(url, runs=2, user=(district_username(DISTRICT_SCREEN), DISTRICT_PASSWORD))
        print("first render (headless Chromium, software WebGL), map with its data: city "
              + ", ".join(f"{r['map_s']:.2f} s" for r in city) + f"; a district's screen ({DISTRICT_SCREEN}) "
              + ", ".join(f"{r['map_s']:.2f} s" for r in district)
              + f"; city / district (cold): {city[0]['map_s'] / district[0]['map_s']:.2f} (target ≤ 1)", flush=True)
    except Exception as exc:  # a browser that cannot start is a figure missing, not the run lost
        print(f"first render not measured: {type(exc).__name__}: {exc}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=100, help="breaches published in the middle of the load")
    parser.add_argument("--publishers", type=int, default=2, help="gateway processes")
    parser.add_argument("--engine-from", metavar="REV", help="run the alert engine of this commit (git archive)")
    parser.add_argument("--big-screen", type=int, default=20, metavar="N",
                        help="after the load, N calls of each big-screen refresh case on the city's data (0: none)")
    parser.add_argument("--gateways", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gateways:
        gateways_process(args.gateways)
        return
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-city-"))
    work.chmod(0o755)
    pg, broker = LocalPostgres(work / "pg", free_port()), LocalMosquitto(work / "mqtt", free_port())
    procs: list[subprocess.Popen[bytes]] = []
    pyspy = shutil.which("py-spy") or next((str(p) for p in (Path(sys.executable).parent / "py-spy",
                                                               Path("/tmp/me/pyspy/bin/py-spy")) if p.exists()), None)
    try:
        log("starting PostgreSQL and mosquitto, loading the demo layers")
        pg.start()
        broker.start()
        migrate(pg.dsn)
        from layers.loader import load_demo_layers

        load_demo_layers(pg.dsn)
        services = [broker_acl.ingest(CITY, "city-ingest"), broker_acl.alerts(CITY, outbox_client_id("city-alerts"))]
        devices = city_devices(pg.dsn, args.devices)
        log(f"registering {len(devices):,} devices behind {len({d.gateway for d in devices})} gateways")
        reg = register(pg.dsn, broker, devices, services)
        for what, s in reg.seconds.items():
            log(f"  {what}: {s:.1f} s")
        env = dict(os.environ, CITYOPS_DATABASE_URL=pg.dsn, CITYOPS_CITY=CITY, PYTHONPATH=str(ROOT))

        def login(name: str) -> str:
            return url(MqttAddress("127.0.0.1", broker.port, name, reg.passwords[name]))

        logs = {n: (work / f"{n}.log").open("wb") for n in ("ingest", "alerts")}
        ingest = subprocess.Popen([sys.executable, "-m", "ingest", "--client-id", "city-ingest"],
                                  env=env | {"CITYOPS_MQTT_URL": login("city-ingest")}, cwd=ROOT,
                                  stdout=logs["ingest"], stderr=subprocess.STDOUT)
        engine_tree = ROOT
        if args.engine_from:  # an earlier commit's engine, for a before/after at city rate
            engine_tree = work / "engine"
            engine_tree.mkdir()
            archive = subprocess.run(["git", "archive", args.engine_from], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(engine_tree)], input=archive, check=True)
            log(f"the alert engine from {args.engine_from}")
        alerts = subprocess.Popen([sys.executable, "-m", "alerts", "--name", "city-alerts", "--tick", "10"],
                                  env=env | {"CITYOPS_MQTT_URL": login(outbox_client_id("city-alerts")),
                                             "PYTHONPATH": str(engine_tree)}, cwd=engine_tree,
                                  stdout=logs["alerts"], stderr=subprocess.STDOUT)
        procs += [ingest, alerts]
        time.sleep(5)
        members: dict[str, list[tuple[str, str]]] = {}
        for d in devices:
            assert d.gateway is not None
            members.setdefault(d.gateway, []).append((d.device_id, d.device_type))
        seconds = args.minutes * 60
        detectors = [d.device_id for d in devices if d.device_type == "gas_detector"]
        chosen = [detectors[int(k)] for k in np.linspace(0, len(detectors) - 1, args.probes)]
        window = min(120.0, seconds / 3)  # probes spread over the middle of the load
        probes = [(dev, seconds / 2 - window / 2 + window * k / max(1, len(chosen) - 1))
                  for k, dev in enumerate(chosen)]
        start_at = time.time() + 3
        with psycopg.connect(pg.dsn) as conn:  # a running city: every device reported just before the load began
            conn.execute("INSERT INTO device_status (device_id, last_seen) SELECT device_id, to_timestamp(%s)"
                         " FROM devices ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen",
                         (start_at,))
        names = sorted(members)
        publishers = []
        for k in range(args.publishers):
            mine = names[k::args.publishers]
            spec = work / f"gateways-{k}.json"
            spec.write_text(json.dumps({
                "broker": ["127.0.0.1", broker.port], "logins": {g: reg.passwords[g] for g in mine},
                "members": {g: members[g] for g in mine}, "start_at": start_at, "seconds": seconds,
                "probes": [(d, at) for d, at in probes if any(d == m for g in mine for m, _ in members[g])]}))
            publishers.append(subprocess.Popen([sys.executable, __file__, "--gateways", str(spec)], cwd=ROOT, env=env,
                                               stdout=subprocess.PIPE))
        procs += publishers
        pg_pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])  # the postmaster: its tree is all
        watched = {"postgres (all)": pg_pid, "mosquitto": broker.running_pid() or 0,
                   "ingest (mqtt + store)": ingest.pid, "alerts engine": alerts.pid,
                   **{f"gateways {k + 1}": p.pid for k, p in enumerate(publishers)},
                   "this bench": os.getpid()}
        start_mem = {n: memory_of(p) for n, p in watched.items()}
        stop = threading.Event()
        sampler = Sampler(pg.dsn, watched, stop)
        seen: dict[str, float] = {}
        caught = threading.Event()  # every batch evaluated after the load: the probes' watch ends
        watcher = threading.Thread(target=watch_probes, args=(pg.dsn, chosen, seen, caught), daemon=True)
        while time.time() < start_at:
            time.sleep(0.05)
        log(f"load: {len(devices):,} devices every {REPORT_EVERY_S} s through {len(members)} gateways for"
            f" {args.minutes:g} min; {len(chosen)} breaches in the middle")
        sampler.start()
        watcher.start()
        spies: list[tuple[str, subprocess.Popen[bytes] | None, Path]] = []
        profile_s = int(min(30, seconds / 3))
        profiled = False
        while time.time() < start_at + seconds:
            left = start_at + seconds - time.time()
            if not profiled and left <= profile_s + 5:
                store_pid = next((p for p in tree(ingest.pid) if p != ingest.pid), ingest.pid)
                for name, pid in (("ingest store process", store_pid), ("ingest mqtt process", ingest.pid),
                                  ("alerts engine", alerts.pid)):
                    out = work / f"spy-{pid}.txt"
                    spies.append((name, profile(pyspy, pid, profile_s, out), out))
                profiled = True
            time.sleep(1)
        end_mem = {n: memory_of(p) for n, p in watched.items()}  # the gateways still run
        stop.set()
        sampler.join()
        reports = [json.loads(p.communicate(timeout=120)[0].decode().strip().splitlines()[-1]) for p in publishers]
        caught_up = time.monotonic()
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            while (behind := evaluation_lag_s(conn)) > 0 and time.monotonic() - caught_up < 180:
                time.sleep(0.5)
        log(f"after the load: the engine had evaluated every stored batch {time.monotonic() - caught_up:.1f} s later"
            if behind == 0 else f"after the load: 180 s on, the oldest batch not evaluated was {behind:.0f} s old")
        time.sleep(1)
        caught.set()
        watcher.join(timeout=5)
        for _, spy, _ in spies:
            if spy is not None:
                spy.wait(timeout=60)
        with psycopg.connect(pg.dsn) as conn:
            per_minute: dict[int, int] = dict(conn.execute(
                "SELECT floor(EXTRACT(EPOCH FROM ts - to_timestamp(%s)) / 60)::int AS m, count(*) FROM telemetry"
                " GROUP BY 1 ORDER BY 1", (start_at,)).fetchall())
            dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
        sent = sum(r["sent"] for r in reports)
        sent_at = {d: t for r in reports for d, t in r["probes"].items()}
        breach = sorted(seen[d] - sent_at[d] for d in sent_at if d in seen)

        print()
        took = reg.seconds["total"]
        print(f"registration of {len(devices):,} devices: {took:.1f} s "
              f"(target < {TARGETS['registration_s']:.0f} s: ratio {took / TARGETS['registration_s']:.2f})"
              + "".join(f"; {k} {v:.1f} s" for k, v in reg.seconds.items() if k != "total"))
        messages = sum(r["messages"] for r in reports)
        print(f"published {sent:,} readings in {messages:,} gateway messages"
              f" ({sent / seconds:,.0f} readings/s = {sent / seconds / 10_000:.2f} × 10,000; "
              f"{sent / max(1, messages):.0f} a message); dead letters {dead[0] if dead else 0}")
        print(f"\n(CPU share in cores of {os.cpu_count()}; 'others' is every process outside this run: the machine is"
              " shared)")
        print(f"{'minute':>6} {'stored/s':>9} {'ingest lag p50':>15} {'p99':>6} {'max':>6} {'eval lag p50':>13} "
              f"{'p99':>6} {'max':>6}  CPU share (cores)")
        marks = sampler.cpu_marks
        for m, minute in enumerate(sampler.minutes):
            if m + 1 >= len(marks):
                break
            (t0, c0), (t1, c1) = marks[m], marks[m + 1]
            ours = sum(c1[n] - c0[n] for n in watched)
            others = (c1[MACHINE] - c0[MACHINE] - ours) / (t1 - t0)
            share = ", ".join(f"{n} {(c1[n] - c0[n]) / (t1 - t0):.2f}" for n in watched) + f"; others {others:.2f}"
            print(f"{m + 1:>6} {per_minute.get(m, 0) / 60:>9,.0f} {pct(minute.ingest_lag, 50):>14.2f}s "
                  f"{pct(minute.ingest_lag, 99):>5.2f}s {max(minute.ingest_lag, default=float('nan')):>5.2f}s "
                  f"{pct(minute.eval_lag, 50):>12.2f}s {pct(minute.eval_lag, 99):>5.2f}s "
                  f"{max(minute.eval_lag, default=float('nan')):>5.2f}s  {share}")
        all_eval = [x for m in sampler.minutes for x in m.eval_lag]
        eval_p99 = pct(all_eval, 99)
        print(f"\nevaluation lag p99 over the run: {eval_p99:.2f} s (target < {TARGETS['evaluation_lag_p99_s']:.0f} s:"
              f" ratio {eval_p99 / TARGETS['evaluation_lag_p99_s']:.2f})")
        if breach:
            p99 = pct(breach, 99)
            print(f"breach → incident dispatched: {len(breach)}/{len(sent_at)} probes, p50 {pct(breach, 50):.2f} s,"
                  f" p99 {p99:.2f} s, max {breach[-1]:.2f} s (target p99 < {TARGETS['breach_p99_s']:.0f} s: ratio"
                  f" {p99 / TARGETS['breach_p99_s']:.2f})")
        else:
            print(f"breach → incident dispatched: none of {len(sent_at)} probes became a dispatched incident")
        print("\nmemory (RSS MB) start → end, CPU seconds over the run:")
        for n in watched:
            cpu = marks[-1][1][n] - marks[0][1][n]
            print(f"  {n:<24} {start_mem[n]:>7.0f} → {end_mem[n]:>7.0f} MB   {cpu:>7.1f} CPU s"
                  f" ({cpu / (marks[-1][0] - marks[0][0]):.2f} cores)")
        for name, spy, out in spies:
            if spy is None:
                print(f"\n{name}: py-spy not installed (pip install py-spy), not profiled")
                continue
            print(f"\n{name}, py-spy over the last {profile_s} s (share of samples in the frame or below it):")
            for frame, part in hottest(out):
                print(f"  {part * 100:5.1f} %  {frame[:150]}")
        if args.big_screen:
            try:
                big_screen(pg.dsn, args.big_screen)
            except Exception as exc:  # the figures above stand without it
                print(f"big screen not measured: {type(exc).__name__}: {exc}", flush=True)
    finally:
        stop_all(procs, timeout=20)
        broker.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
