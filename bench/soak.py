"""Soak: the whole system as `up` runs it, under steady load for a long time; memory and latency of every
process at the start and the end, and a failure when either grows.

    .venv/bin/python bench/soak.py                      # 30 minutes at 2,000 readings/s (the issue's soak)
    .venv/bin/python bench/soak.py --minutes 3 --rate 500

It starts `python -m cityops up --no-staff` in a run folder of its own on free ports (its own embedded
PostgreSQL and mosquitto), publishes telemetry through the demo's district gateway accounts at ``--rate``
messages a second (QoS 1, a window of PUBACKs), and every minute samples each process of the topology
(from its heartbeat row: pid; its children, such as an ingest worker's store process, counted with it):
resident memory, CPU seconds, and its /readyz latency and what it reports (ingest lag, evaluation lag).
The first sample is taken after ``--warmup`` minutes. It exits 1 when a process's memory grew by more
than ``--max-growth`` (fraction) plus 30 MB, when a lag or a readiness latency at the end is more than
three times the start's plus one second, or when the publisher fell behind its rate by more than 5 %.
Not a test: CI never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cityops import settings
from cityops.localserver import isolated_up_env
from cityops.mqtt import new_client
from cityops.processes import rss_and_cpu
from cityops.processes import stop as stop_process
from cityops.settings import PROJECT_ROOT, MqttAddress

WINDOW = 2000  # unacknowledged publishes at most
PROBES = {"cityops-ingest-1": 1, "cityops-ingest-2": 2, "alerts-1": 11, "alerts-2": 12}


@dataclass(frozen=True)
class Sample:
    rss_mb: float
    cpu_s: float
    ready_ms: float
    lag_s: float | None


def ready(url: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read())
    except Exception as exc:  # a failed probe is a figure of the soak, not its end
        body = {"error": str(exc)}
    return (time.perf_counter() - started) * 1000, body


class Publisher(threading.Thread):
    """Telemetry at ``rate`` messages a second, each device through its own broker account (the simulator
    holds the gateway accounts, and an account is one connection)."""

    def __init__(self, cfg: settings.Settings, rate: int, stop: threading.Event, devices: int = 60) -> None:
        super().__init__(daemon=True)
        self.rate, self.stop, self.sent = rate, stop, 0
        credentials = json.loads(cfg.mqtt_credentials.read_text())
        with psycopg.connect(cfg.dsn()) as conn:
            self.devices = conn.execute(
                "SELECT device_id, dept, device_type FROM devices WHERE device_type IN"
                " ('rain_gauge', 'water_level', 'gas_detector') ORDER BY device_id LIMIT %s", (devices,)).fetchall()
        address = cfg.mqtt()
        self.clients = {d: self._client(MqttAddress(address.host, address.port, d, credentials[d]), d)
                        for d, _, _ in self.devices}
        self.pending: deque[mqtt.MQTTMessageInfo] = deque()

    @staticmethod
    def _client(address: MqttAddress, username: str) -> mqtt.Client:
        client = new_client(address, username)
        client.max_inflight_messages_set(WINDOW)
        client.connect(address.host, address.port, keepalive=60)
        client.loop_start()
        return client

    def run(self) -> None:
        rng = random.Random(7)
        start = time.monotonic()
        while not self.stop.is_set():
            due = int((time.monotonic() - start) * self.rate)
            while self.sent < due and not self.stop.is_set():
                device_id, dept, kind = self.devices[self.sent % len(self.devices)]
                metric = {"rain_gauge": "rain_1h", "water_level": "water_level", "gas_detector": "gas_lel"}[kind]
                payload = json.dumps({"ts": datetime.now(UTC).isoformat(), "values": {metric: rng.uniform(0, 5)}})
                self.pending.append(self.clients[device_id].publish(
                    f"city/chenzhou/telemetry/{dept}/{kind}/{device_id}", payload, qos=1))
                self.sent += 1
                while len(self.pending) >= WINDOW:
                    self.pending.popleft().wait_for_publish(timeout=60)
            time.sleep(0.01)

    def close(self) -> None:
        for client in self.clients.values():
            client.loop_stop()
            client.disconnect()


def processes(cfg: settings.Settings) -> dict[str, int]:
    with psycopg.connect(cfg.dsn()) as conn:
        return {f"{c}:{p}": pid for c, p, pid in conn.execute(
            "SELECT component, process, pid FROM process_heartbeats WHERE beat_at > now() - interval '20 seconds'"
            " ORDER BY 1, 2")}


def sample(cfg: settings.Settings) -> dict[str, Sample]:
    out = {}
    for name, pid in processes(cfg).items():
        _component, process = name.split(":", 1)
        url = (f"http://127.0.0.1:{cfg.probe_port_base + PROBES[process]}/readyz" if process in PROBES
               else f"http://127.0.0.1:{cfg.dash_port}/readyz")
        ms, body = ready(url)
        lag = body.get("lag_s", body.get("evaluation_lag_s"))
        rss, cpu = rss_and_cpu(pid)
        out[name] = Sample(rss, cpu, ms, float(lag) if isinstance(lag, int | float) else None)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=2000, help="telemetry messages a second")
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes before the first sample")
    parser.add_argument("--max-growth", type=float, default=0.2, help="memory growth allowed (fraction, + 30 MB)")
    args = parser.parse_args()
    run_dir = Path(f"/tmp/cityops-soak-{os.getpid()}")
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)
    env = isolated_up_env(run_dir)
    cfg = settings.load(env)
    log = (run_dir / "up.log").open("wb")
    up = subprocess.Popen([sys.executable, "-m", "cityops", "up", "--no-staff"], cwd=PROJECT_ROOT, env=env,
                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 300
        while "cityops is running" not in (run_dir / "up.log").read_text():
            if time.monotonic() > deadline or up.poll() is not None:
                print((run_dir / "up.log").read_text()[-3000:])
                return 2
            time.sleep(1)
        publisher = Publisher(cfg, args.rate, stop)
        publisher.start()
        print(f"soak: {args.minutes:g} min at {args.rate:,} msg/s, run folder {run_dir}", flush=True)
        time.sleep(args.warmup * 60)
        first, first_sent, t0 = sample(cfg), publisher.sent, time.monotonic()
        end = t0 + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(60.0, max(0.0, end - time.monotonic())))
            now = sample(cfg)
            elapsed = time.monotonic() - t0
            rate = (publisher.sent - first_sent) / elapsed if elapsed else 0.0
            print(f"[{elapsed / 60:5.1f} min] published {rate:,.0f} msg/s; " + "; ".join(
                f"{n} {s.rss_mb:.0f} MB {s.ready_ms:.0f} ms" + (f" lag {s.lag_s:.2f} s" if s.lag_s is not None else "")
                for n, s in now.items()), flush=True)
        last = sample(cfg)
        elapsed = time.monotonic() - t0
        rate = (publisher.sent - first_sent) / elapsed
        stop.set()
        publisher.join(30)
        publisher.close()
    finally:
        stop.set()
        os.killpg(up.pid, signal.SIGINT) if up.poll() is None else None
        stop_process(up, timeout=60)
    failures = []
    print(f"\n{'process':32} {'MB start':>9} {'MB end':>8} {'CPU s':>7} {'ready ms':>15} {'lag s':>13}")
    for name in sorted(first.keys() & last.keys()):
        a, b = first[name], last[name]
        lag = f"{a.lag_s:.2f}→{b.lag_s:.2f}" if a.lag_s is not None and b.lag_s is not None else "—"
        print(f"{name:32} {a.rss_mb:9.0f} {b.rss_mb:8.0f} {b.cpu_s - a.cpu_s:7.0f} "
              f"{a.ready_ms:7.0f}→{b.ready_ms:<7.0f} {lag:>13}")
        if b.rss_mb > a.rss_mb * (1 + args.max_growth) + 30:
            failures.append(f"{name} memory {a.rss_mb:.0f} → {b.rss_mb:.0f} MB")
        if b.ready_ms > 3 * a.ready_ms + 1000:
            failures.append(f"{name} readiness {a.ready_ms:.0f} → {b.ready_ms:.0f} ms")
        if a.lag_s is not None and b.lag_s is not None and b.lag_s > 3 * a.lag_s + 1:
            failures.append(f"{name} lag {a.lag_s:.2f} → {b.lag_s:.2f} s")
    print(f"published {rate:,.0f} msg/s against {args.rate:,} asked ({rate / args.rate:.2f}×)")
    if rate < 0.95 * args.rate:
        failures.append(f"the publisher fell behind: {rate:,.0f} of {args.rate:,} msg/s")
    missing = sorted(first.keys() ^ last.keys())
    if missing:
        failures.append(f"processes that came or went: {', '.join(missing)}")
    print("soak: " + ("FAILED\n  " + "\n  ".join(failures) if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
