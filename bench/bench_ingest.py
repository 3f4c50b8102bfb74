"""Ingest throughput, latency and memory, against a real PostgreSQL and mosquitto, in one run.

    .venv/bin/python bench/bench_ingest.py [--messages 100000] [--batch-readings 100] [--quick]

Starts its own PostgreSQL and mosquitto (cityops.localserver) in a temp folder, migrates,
loads the demo layers and registers ~1,000 rain gauges at random points of the 郴州 bbox,
then measures:

1. a counting paho subscriber (MQTT 5, manual ack at once) draining a backlog: the ceiling;
2. ``python -m ingest`` draining a backlog of single-reading messages;
3. ``python -m ingest`` draining messages that carry ``--batch-readings`` readings each;
4. bare ``cursor.copy()`` of the same rows as 3, 5,000 rows per transaction;
5. a naive bridge (one autocommit INSERT per message, as tutorials do) on a smaller backlog;
6. publish→row latency with ingest live at a fixed publish rate;
7. peak memory (VmHWM) of the ingest worker in 2, 3 and 6, summed over its MQTT and store processes.

Backlogs are pre-queued the way tests/ingest/test_durability.py does it: the subscriber's
persistent session is created, the subscriber goes offline, a separate publisher process
(this script with ``--publish``) publishes, then the subscriber comes back and drains.
Each phase has its own client id and share group, and its session is discarded afterwards
(mosquitto also hands shared messages to offline persistent sessions). The telemetry table
is truncated before each database phase, so every phase writes into an empty table.
Every message has its own (device, metric, ts) and a value derived from its number, so
count and sum of the stored rows prove the exact set. Figures vary ±50 % between runs on
shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt import __version__ as PAHO_VERSION
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cityops.localserver import free_port  # noqa: E402
from cityops.mqtt import new_client, read_credentials, url  # noqa: E402
from cityops.processes import stop as stop_process  # noqa: E402
from cityops.processes import stop_all  # noqa: E402
from cityops.settings import MqttAddress  # noqa: E402
from ingest import broker_acl  # noqa: E402
from ingest.broker_sync import LocalAccounts  # noqa: E402
from tests.fix_db import one  # noqa: E402

CITY = "chenzhou"
DEPT = "qx"
DEVICE_TYPE = "rain_gauge"
WINDOW = 20_000  # QoS-1 publishes awaiting PUBACK (paho's message ids are 16-bit: stay well below 65,535)
COPY_BATCH = 5_000
POLL_S = 0.05
PROGRESS_S = 2.0
TOPIC_FILTER = f"city/{CITY}/telemetry/+/+/+"


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def value_of(k: int) -> float:
    return (k % 4000) / 10


def expected_value_sum10(n: int) -> int:
    """sum(round(value * 10)) of readings 0..n-1: an exact integer to compare with the database."""
    full, rest = divmod(n, 4000)
    return full * (3999 * 4000 // 2) + rest * (rest - 1) // 2


def telemetry_topic(device_id: str, dept: str) -> str:
    return f"city/{CITY}/telemetry/{dept}/{DEVICE_TYPE}/{device_id}"


# --------------------------------------------------------------------------------------------
# Publisher mode: a separate process, so publishing never shares a GIL with what is measured.
# --------------------------------------------------------------------------------------------

def _iso(base: datetime, k: int) -> str:
    return (base + timedelta(milliseconds=k)).isoformat(timespec="milliseconds")


def backlog_messages(kind: str, devices: list[list[str]], base: datetime, count: int,
                     per_message: int) -> Iterator[tuple[str, str]]:
    """Message j of a backlog. Reading k has ts = base + k ms and value value_of(k)."""
    for j in range(count):
        device_id, dept = devices[j % len(devices)]
        if kind == "single":
            body = f'{{"ts": "{_iso(base, j)}", "values": {{"rain_1h": {value_of(j)}}}}}'
        else:
            first = j * per_message
            body = "[" + ", ".join(f'{{"ts": "{_iso(base, k)}", "values": {{"rain_1h": {value_of(k)}}}}}'
                                   for k in range(first, first + per_message)) + "]"
        yield telemetry_topic(device_id, dept), body


class WindowedPublisher:
    def __init__(self, address: MqttAddress, client_id: str) -> None:
        self.client = new_client(address, client_id)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(address.host, address.port, keepalive=60)
        self.client.loop_start()
        self.pending: deque[mqtt.MQTTMessageInfo] = deque()

    def send(self, topic: str, payload: str) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        self.pending.append(info)
        while len(self.pending) >= WINDOW:
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        info = self.pending.popleft()
        info.wait_for_publish(timeout=120)
        if not info.is_published():
            raise RuntimeError("no PUBACK within 120 s")

    def close(self) -> None:
        try:
            while self.pending:
                self._settle_oldest()
        finally:
            self.client.disconnect()
            self.client.loop_stop()


def publisher_main(args: argparse.Namespace) -> None:
    devices = json.loads(Path(args.devices_file).read_text())
    label = f"  publisher ({args.publish})"
    password = read_credentials(Path(args.credentials))[args.client_id]
    pub = WindowedPublisher(MqttAddress("127.0.0.1", args.port, args.client_id, password), args.client_id)
    started = last_report = time.monotonic()
    sent = 0
    result: dict[str, object] = {}
    try:
        if args.publish in ("single", "batched"):
            base = datetime.fromtimestamp(args.base_ms / 1000, UTC)
            per = 1 if args.publish == "single" else args.batch_readings
            for topic, body in backlog_messages(args.publish, devices, base, args.count, per):
                pub.send(topic, body)
                sent += 1
                if time.monotonic() - last_report >= PROGRESS_S:
                    last_report = time.monotonic()
                    print(f"{label}: {sent:,}/{args.count:,} messages, "
                          f"{sent / (last_report - started):,.0f} msg/s", flush=True)
        else:  # rate: a fixed offered rate, ts = send time in epoch ms
            total = int(args.rate * args.duration)
            last_ts: dict[str, int] = {}
            while sent < total:
                due = min(total, int((time.monotonic() - started) * args.rate) + 1)
                while sent < due:
                    device_id, dept = devices[sent % len(devices)]
                    ts = max(int(time.time() * 1000), last_ts.get(device_id, 0) + 1)  # unique per device
                    last_ts[device_id] = ts
                    pub.send(telemetry_topic(device_id, dept),
                             f'{{"ts": {ts}, "values": {{"rain_1h": {value_of(sent)}}}}}')
                    sent += 1
                now = time.monotonic()
                if now - last_report >= PROGRESS_S:
                    last_report = now
                    print(f"{label}: {sent:,}/{total:,} messages, {sent / (now - started):,.0f} msg/s offered",
                          flush=True)
                time.sleep(0.002)
            result["send_seconds"] = time.monotonic() - started
    finally:
        pub.close()
    elapsed = time.monotonic() - started
    result.update(count=sent, seconds=elapsed)
    Path(args.result).write_text(json.dumps(result))
    print(f"{label}: done, {sent:,} messages acknowledged by the broker in {elapsed:.1f} s "
          f"({sent / elapsed:,.0f} msg/s)", flush=True)


# --------------------------------------------------------------------------------------------
# Measuring side
# --------------------------------------------------------------------------------------------

@dataclass
class Row:
    phase: str
    amount: str
    seconds: str
    rate: str
    ratio: str = ""
    target: str = ""
    check: str = ""
    memory: str = ""
    others: str = ""


@dataclass
class Env:
    tmp: Path
    dsn: str
    mqtt_port: int
    devices_file: Path
    devices: list[tuple[str, str, str | None, str | None, str | None]]  # id, dept, district, township, grid
    accounts: LocalAccounts  # the broker's: every client logs in as its own account
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)


def connect_props(expiry: int, receive_maximum: int | None = None) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    return props


def subscriber_login(env: Env, client_id: str) -> MqttAddress:
    """A subscriber's own account (one that reads what ingest reads): the broker keys sessions by account."""
    return env.accounts.login(broker_acl.ingest(CITY, client_id))


def retire_session(address: MqttAddress, client_id: str) -> None:
    """Discard a persistent session (clean start, expiry 0) so it takes no copies of later messages."""
    done = threading.Event()
    client = new_client(address, client_id)
    client.on_connect = lambda *_a: done.set()
    client.connect(address.host, address.port, clean_start=True, properties=connect_props(0))
    client.loop_start()
    try:
        if not done.wait(10):
            raise RuntimeError(f"could not reconnect as {client_id} to discard its session")
    finally:
        client.disconnect()
        client.loop_stop()


class Subscriber:
    """A paho MQTT 5 subscriber with the same persistent-session pattern as ingest."""

    def __init__(self, address: MqttAddress, client_id: str, group: str, on_message: Callable[..., None],
                 manual_ack: bool) -> None:
        self.address, self.client_id, self.group = address, client_id, group
        self.on_message, self.manual_ack = on_message, manual_ack
        self.client: mqtt.Client | None = None

    def online(self, wait_suback: bool = True) -> None:
        """Connect (persistent session) and subscribe; on a drain the SUBACK queues behind the backlog."""
        subscribed = threading.Event()
        client = new_client(self.address, self.client_id, manual_ack=self.manual_ack)
        client.on_connect = lambda c, *_a: c.subscribe(f"$share/{self.group}/{TOPIC_FILTER}", qos=1)
        client.on_subscribe = lambda *_a: subscribed.set()
        client.on_message = self.on_message
        client.connect(self.address.host, self.address.port, keepalive=30, clean_start=False,
                       properties=connect_props(3600, 20_000))
        client.loop_start()
        self.client = client
        if wait_suback and not subscribed.wait(10):
            raise RuntimeError(f"{self.client_id} did not get its SUBACK")

    def offline(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None


def publish(env: Env, kind: str, tag: str, *, count: int = 0, base: datetime | None = None,
            per_message: int = 1, rate: int = 0, duration: float = 0.0) -> dict[str, float]:
    """Run the publisher as a child process; its progress lines go straight to the terminal."""
    result = env.tmp / f"publish-{tag}.json"
    env.accounts.login(broker_acl.bridge(CITY, f"bench-pub-{tag}"))  # its password goes to the credentials file
    cmd = [sys.executable, str(Path(__file__).resolve()), "--publish", kind, "--port", str(env.mqtt_port),
           "--credentials", str(env.accounts.credentials),
           "--devices-file", str(env.devices_file), "--result", str(result), "--client-id", f"bench-pub-{tag}",
           "--count", str(count), "--batch-readings", str(per_message), "--rate", str(rate),
           "--duration", str(duration),
           "--base-ms", str(int(base.timestamp() * 1000) if base else 0)]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    env.started.append(proc)
    if proc.wait() != 0:
        raise RuntimeError(f"publisher ({kind}) exited with {proc.returncode}")
    return json.loads(result.read_text())


def wait_progress(label: str, unit: str, total: int, current: Callable[[], int], done: threading.Event,
                  stall_s: float = 60.0) -> None:
    last_n, last_change, last_report = -1, time.monotonic(), time.monotonic()
    while not done.wait(0.1):
        n = current()
        now = time.monotonic()
        if n != last_n:
            last_n, last_change = n, now
        elif now - last_change > stall_s:
            raise RuntimeError(f"{label}: stuck at {n:,}/{total:,} {unit} for {stall_s:.0f} s")
        if now - last_report >= PROGRESS_S:
            last_report = now
            log(f"  {label}: {n:,}/{total:,} {unit}")


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


class IngestProcess:
    """``python -m ingest`` as a child process with the benchmark's settings."""

    def __init__(self, env: Env, name: str, extra_args: tuple[str, ...] = ()) -> None:
        self.env, self.name, self.extra_args = env, name, extra_args
        self.client_id = self.group = f"bench-{name}"
        self.metrics_port = free_port()
        self.log_path = env.tmp / f"ingest-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._subscribed_before = 0

    def start(self) -> None:
        child_env = dict(os.environ, CITYOPS_DATABASE_URL=self.env.dsn,
                         CITYOPS_MQTT_URL=url(subscriber_login(self.env, self.client_id)), CITYOPS_CITY=CITY,
                         PYTHONUNBUFFERED="1")
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ingest", "--client-id", self.client_id, "--share-group", self.group,
                 "--metrics-port", str(self.metrics_port), *self.extra_args],
                cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT)
        self.env.started.append(self.proc)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"ingest {self.name} is not running; log tail:\n{self.log_text()[-3000:]}")

    def wait_subscribed(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.log_text().count("ingest subscribed") < self._subscribed_before + 1:
            self.alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest {self.name} did not subscribe; log:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)

    def start_and_wait_subscribed(self) -> None:
        self._subscribed_before = self.log_text().count("ingest subscribed")
        self.start()
        self.wait_subscribed()

    def pids(self) -> list[int]:
        """The worker and its children: the store process (``ingest.storer``), which decodes and writes, and
        multiprocessing's resource tracker."""
        assert self.proc is not None
        found = [self.proc.pid]
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and int(_stat_fields(int(entry))[1]) == self.proc.pid:
                    found.append(int(entry))
            except (OSError, IndexError):
                continue
        return found

    def status_kb(self, key: str = "VmHWM") -> int:
        """Summed over the worker's processes (for VmHWM: an upper bound of their joint peak)."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        return total

    def cpu_seconds(self) -> float:
        ticks = 0
        for pid in self.pids():
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def metrics(self) -> dict[str, float]:
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name = line.split("{", 1)[0].split(" ", 1)[0]
                out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
        return out

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc, timeout=20)
        self.proc = None


def truncate(env: Env) -> None:
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE telemetry, device_status, alert_inbox, dead_letters")


def stored(env: Env, since: datetime, until: datetime) -> tuple[int, int]:
    """Rows and sum(round(value*10)) in [since, until)."""
    with psycopg.connect(env.dsn) as conn:
        n, s = one(conn,
            "SELECT count(*), coalesce(sum(round(value * 10)::bigint), 0) FROM telemetry"
            " WHERE metric = 'rain_1h' AND ts >= %s AND ts < %s", (since, until))
    return int(n), int(s)


def dead_letters(env: Env) -> int:
    with psycopg.connect(env.dsn) as conn:
        return int(one(conn, "SELECT count(*) FROM dead_letters")[0])


def check_text(expected: int, got: int, dups: int, sum_ok: bool, extra: str = "") -> tuple[str, bool]:
    lost = max(0, expected - got)
    surplus = max(0, got - expected)
    ok = lost == 0 and surplus == 0 and dups == 0 and sum_ok
    text = (f"{got:,}/{expected:,} stored, {lost} lost, {dups + surplus} dup"
            + ("" if sum_ok else ", VALUE SUM WRONG") + extra)
    return text, ok


@dataclass
class Drain:
    """What polling saw while ingest drained a backlog."""

    first_t: float
    first_n: int
    done_t: float
    done_wall: float  # time.time() at the poll that saw the target, to compare with ingest's log times
    polls: int
    poll_query_s: float
    cpu_s: float  # ingest process CPU seconds in the timed window
    cpu: CpuUse  # the machine during the timed window

    @property
    def seconds(self) -> float:
        return self.done_t - self.first_t


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True)
class CpuSnap:
    busy: int
    total: int
    own: int


@dataclass(frozen=True)
class CpuUse:
    busy_cores: float  # whole machine, in cores
    own_cores: float  # this benchmark's processes: itself, its children, PostgreSQL, mosquitto
    other_cores: float  # everything else on the (shared) machine


class CpuMeter:
    """Splits the machine's CPU use into this benchmark's process trees and everything else."""

    def __init__(self) -> None:
        self.roots: set[int] = {os.getpid()}

    def snap(self) -> CpuSnap:
        table: dict[int, tuple[int, int]] = {}  # pid -> (ppid, utime+stime+cutime+cstime)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                rest = _stat_fields(int(entry))
            except (OSError, IndexError):
                continue
            table[int(entry)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
        children: dict[int, list[int]] = {}
        for pid, (ppid, _t) in table.items():
            children.setdefault(ppid, []).append(pid)
        own, todo, seen = 0, [r for r in self.roots if r in table], set()
        while todo:  # a reaped child's time is in its parent's cutime/cstime, so nothing counts twice
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            own += table[pid][1]
            todo += children.get(pid, [])
        busy, total = machine_cpu()
        return CpuSnap(busy, total, own)

    @staticmethod
    def use(a: CpuSnap, b: CpuSnap) -> CpuUse:
        cpus = os.cpu_count() or 1
        span = max(1, b.total - a.total) / cpus  # jiffies of one CPU
        busy, own = (b.busy - a.busy) / span, (b.own - a.own) / span
        return CpuUse(busy, own, max(0.0, busy - own))


METER = CpuMeter()


def cpu_text(use: CpuUse | None) -> str:
    return f"{use.other_cores:.2f} cores" if use else ""


def watch_rows(env: Env, ingest: IngestProcess, target: int, label: str, poll: str = "lastrow",
               last_key: tuple[str, datetime] | None = None, stall_s: float = 60.0) -> Drain:
    """Poll every ~50 ms: when the first row is committed, and when the target is reached.

    ``count``: SELECT count(*) FROM telemetry every time (the table is truncated before each phase).
    ``lastrow``: cheap polls: "any row yet?", then a primary-key lookup of the phase's last reading;
    count(*) only every 2 s for progress and to confirm the target once the last reading is there
    (if the count falls short, it falls back to count(*) every poll, so the end time is never early).
    ``metrics``: ingest's own rows-committed counter (Prometheus), incremented right after each commit.
    """
    mode = "count" if poll == "lastrow" and last_key is None else poll
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")  # keep the poller on one core

        def count() -> int:
            return int(one(conn, "SELECT count(*) FROM telemetry")[0])

        def exists(sql: str, params: tuple[object, ...] = ()) -> bool:
            return bool(one(conn, sql, params)[0])

        first_t = 0.0
        first_n = polls = 0
        query_s = cpu_first = 0.0
        machine_first = CpuSnap(0, 0, 0)
        n = 0
        last_n, last_change, last_report, last_count = -1, time.monotonic(), time.monotonic(), time.monotonic()
        while True:
            ingest.alive()
            q0 = time.monotonic()
            if mode == "metrics":
                try:
                    n = int(ingest.metrics().get("cityops_ingest_rows_total", 0))
                except OSError:  # metrics endpoint not up yet
                    n = 0
            elif mode == "count":
                n = count()
            elif not first_t:
                n = count() if exists("SELECT EXISTS (SELECT 1 FROM telemetry)") else 0
            elif last_key and exists("SELECT EXISTS (SELECT 1 FROM telemetry WHERE device_id = %s"
                                     " AND metric = 'rain_1h' AND ts = %s)", last_key):
                n = count()
            elif q0 - last_count >= PROGRESS_S:
                n, last_count = count(), q0
            now = time.monotonic()
            if first_t:  # the poller's own cost, counted over the timed window only
                query_s += now - q0
                polls += 1
            if n and not first_t:
                first_t, first_n, cpu_first, machine_first = now, n, ingest.cpu_seconds(), METER.snap()
                last_count = now
            if n >= target:
                return Drain(first_t, first_n, now, time.time(), polls, query_s, ingest.cpu_seconds() - cpu_first,
                             CpuMeter.use(machine_first, METER.snap()))
            if n != last_n:
                last_n, last_change = n, now
            elif now - last_change > stall_s:
                raise RuntimeError(f"{label}: stuck at {n:,}/{target:,} rows; log tail:\n"
                                   f"{ingest.log_text()[-3000:]}")
            if now - last_report >= PROGRESS_S:
                last_report = now
                log(f"  {label}: {n:,}/{target:,} rows committed")
            time.sleep(max(0.0, POLL_S - (time.monotonic() - q0)))


def connected_wall(ingest: IngestProcess) -> float | None:
    """time.time() of ingest's last 'connected to broker' log line (logging's asctime, ms resolution)."""
    lines = [line for line in ingest.log_text().splitlines() if "ingest connected to broker" in line]
    if not lines:
        return None
    stamp = lines[-1][:23]  # 2026-01-01 12:00:00,123
    try:
        return time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:23]) / 1000
    except ValueError:
        return None


def ingested_at_span(env: Env, since: datetime, until: datetime) -> tuple[float, int]:
    """Seconds between the first and last batch's INSERT, and the rows of the first batch."""
    with psycopg.connect(env.dsn) as conn:
        row = conn.execute(
            "WITH r AS (SELECT ingested_at FROM telemetry WHERE ts >= %s AND ts < %s)"
            " SELECT extract(epoch FROM max(ingested_at) - min(ingested_at)),"
            " (SELECT count(*) FROM r WHERE ingested_at = (SELECT min(ingested_at) FROM r)) FROM r",
            (since, until)).fetchone()
    assert row is not None
    return float(row[0] or 0.0), int(row[1])


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def rate_text(n: float, seconds: float, unit: str) -> tuple[str, float | None]:
    if seconds <= 0:
        return "n/a (too fast to time: raise N)", None
    r = n / seconds
    return f"{r:,.0f} {unit}", r


def target_text(value: float | None, limit: float, kind: str = "≥") -> str:
    if value is None:
        return f"{kind} {limit:g}: n/a"
    met = value >= limit if kind == "≥" else value < limit
    return f"{kind} {limit:g}: {'met' if met else 'MISSED'}"


# --- phases ----------------------------------------------------------------------------------

def phase_counting(env: Env, n: int) -> tuple[Row, float | None, bool]:
    log(f"phase 1/6: counting subscriber draining a backlog of {n:,} single-reading messages")
    seen: set[bytes | bytearray] = set()
    state = {"received": 0, "first": 0.0, "last": 0.0}
    done = threading.Event()

    def on_message(client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if not state["received"]:
            state["first"] = now
        state["received"] += 1
        state["last"] = now
        seen.add(msg.payload)
        client.ack(msg.mid, msg.qos)
        if len(seen) >= n:
            done.set()

    sub = Subscriber(subscriber_login(env, "bench-count"), "bench-count", "bench-count", on_message, manual_ack=True)
    sub.online()
    sub.offline()
    publish(env, "single", "count", count=n, base=datetime.now(UTC) - timedelta(hours=6))
    log("  backlog queued; subscriber comes back online")
    cpu_start = METER.snap()
    sub.online(wait_suback=False)
    try:
        wait_progress("counting subscriber", "messages", n, lambda: len(seen), done)
        cpu = CpuMeter.use(cpu_start, METER.snap())
        time.sleep(1.0)  # anything redelivered late would show as a duplicate
    finally:
        sub.offline()
        retire_session(subscriber_login(env, "bench-count"), "bench-count")
    received = int(state["received"])
    seconds = state["last"] - state["first"]
    rate, value = rate_text(received - 1, seconds, "msg/s")
    check, ok = check_text(n, len(seen), received - len(seen), True)
    return Row("1 counting subscriber (ceiling), 1 reading/msg", f"{n:,} msgs", f"{seconds:.2f}", rate,
               check=check.replace("stored", "received"), others=cpu_text(cpu)), value, ok


def phase_ingest_backlog(env: Env, name: str, kind: str, messages: int, per_message: int, base: datetime,
                         notes: list[str], poll: str, extra_args: tuple[str, ...] = ()
                         ) -> tuple[Drain, dict[str, float], int, str, bool, float]:
    readings = messages * per_message
    truncate(env)
    ingest = IngestProcess(env, name, extra_args)
    try:
        ingest.start_and_wait_subscribed()  # creates the persistent session and its subscription
        ingest.stop()
        publish(env, kind, name, count=messages, base=base, per_message=per_message)
        log(f"  backlog queued; ingest {name} starts and drains it")
        ingest.start()
        last = messages - 1
        last_key = (env.devices[last % len(env.devices)][0], base + timedelta(milliseconds=readings - 1))
        drain = watch_rows(env, ingest, readings, f"ingest {name}", poll, last_key)
        time.sleep(1.0)  # anything redelivered late must still add nothing
        metrics = ingest.metrics()
        hwm = ingest.status_kb("VmHWM")
        connected = connected_wall(ingest)
    finally:
        ingest.stop()
        retire_session(subscriber_login(env, ingest.client_id), ingest.client_id)
    until = base + timedelta(milliseconds=readings)
    got, total = stored(env, base, until)
    dl = dead_letters(env)
    dups = int(metrics.get("cityops_ingest_duplicate_rows_total", 0))
    check, ok = check_text(readings, got, 0, total == expected_value_sum10(readings))
    ok = ok and dl == 0
    span, first_batch = ingested_at_span(env, base, until)
    xcheck = f"{(readings - first_batch) / span:,.0f} readings/s" if span > 0 else "n/a"
    batches = metrics.get("cityops_ingest_batch_messages_count", 0.0)
    mean_batch = metrics.get("cityops_ingest_batch_messages_sum", 0.0) / batches if batches else 0.0
    timed = drain.seconds
    shares = (f"{drain.poll_query_s / timed:.0%}", f"{drain.cpu_s / timed:.0%}") if timed > 0 else ("n/a", "n/a")
    whole = (f"{readings / (drain.done_wall - connected):,.0f} readings/s" if connected
             and drain.done_wall > connected else "n/a")
    notes.append(
        f"ingest {name}: first poll with rows saw {drain.first_n:,} rows; {drain.polls} {poll} polls took "
        f"{drain.poll_query_s:.2f} s of the {drain.seconds:.2f} s timed ({shares[0]}); "
        f"ingest CPU (both processes) {drain.cpu_s:.1f} s ({shares[1]} of one core), "
        f"whole machine {drain.cpu.busy_cores:.2f} of "
        f"{os.cpu_count()} cores busy ({drain.cpu.own_cores:.2f} by this benchmark's processes); "
        f"{batches:.0f} batches, mean {mean_batch:,.0f} msgs/batch; "
        f"{dups} redelivered rows absorbed, {dl} dead letters. Cross-checks: first..last batch's ingested_at "
        f"{xcheck}; all {readings:,} from ingest's CONNACK log line to the last poll {whole}")
    return drain, metrics, hwm, check, ok, readings


def phase_bare_copy(env: Env, messages: int, per_message: int, base: datetime) -> tuple[Row, float | None, bool]:
    readings = messages * per_message
    log(f"phase 4/6: bare COPY of the same {readings:,} rows, {COPY_BATCH:,} rows per transaction")
    truncate(env)
    devices = env.devices
    rows = []
    for k in range(readings):
        device_id, _dept, district, township, grid = devices[(k // per_message) % len(devices)]
        rows.append((base + timedelta(milliseconds=k), device_id, "rain_1h", value_of(k), district, township, grid))
    with psycopg.connect(env.dsn) as conn, conn.cursor() as cur:
        cpu_start = METER.snap()
        started = last_report = time.monotonic()
        for i in range(0, readings, COPY_BATCH):
            with conn.transaction(), cur.copy(
                "COPY telemetry (ts, device_id, metric, value, district_code, township_code, grid_code)"
                " FROM STDIN"
            ) as copy:
                for row in rows[i:i + COPY_BATCH]:
                    copy.write_row(row)
            if time.monotonic() - last_report >= PROGRESS_S:
                last_report = time.monotonic()
                log(f"  bare COPY: {min(readings, i + COPY_BATCH):,}/{readings:,} rows committed")
        seconds = time.monotonic() - started
        cpu = CpuMeter.use(cpu_start, METER.snap())
    got, total = stored(env, base, base + timedelta(milliseconds=readings))
    check, ok = check_text(readings, got, 0, total == expected_value_sum10(readings))
    rate, value = rate_text(readings, seconds, "rows/s")
    return Row(f"4 bare COPY, {COPY_BATCH:,} rows/transaction", f"{readings:,} rows", f"{seconds:.2f}", rate,
               check=check, others=cpu_text(cpu)), value, ok


def phase_naive(env: Env, n: int, base: datetime) -> tuple[Row, float | None, bool]:
    log(f"phase 5/6: naive bridge (one autocommit INSERT per message) draining {n:,} messages")
    truncate(env)
    codes = {d[0]: d[2:] for d in env.devices}
    conn = psycopg.connect(env.dsn, autocommit=True)
    state = {"done": 0, "errors": 0, "first": 0.0, "last": 0.0}
    done = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if not state["first"]:
            state["first"] = time.monotonic()
        device_id = msg.topic.rsplit("/", 1)[1]
        doc = json.loads(msg.payload)
        for item in doc if isinstance(doc, list) else [doc]:
            ts = datetime.fromisoformat(item["ts"])
            for metric, value in item["values"].items():
                try:
                    conn.execute(
                        "INSERT INTO telemetry (ts, device_id, metric, value, district_code, township_code,"
                        " grid_code) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (ts, device_id, metric, value, *codes[device_id]))
                except psycopg.errors.UniqueViolation:
                    state["errors"] += 1
        state["done"] += 1
        state["last"] = time.monotonic()
        if state["done"] >= n:
            done.set()

    sub = Subscriber(subscriber_login(env, "bench-naive"), "bench-naive", "bench-naive", on_message, manual_ack=False)
    try:
        sub.online()
        sub.offline()
        publish(env, "single", "naive", count=n, base=base)
        log("  backlog queued; naive bridge comes back online")
        cpu_start = METER.snap()
        sub.online(wait_suback=False)
        wait_progress("naive bridge", "messages", n, lambda: int(state["done"]), done)
        cpu = CpuMeter.use(cpu_start, METER.snap())
        time.sleep(1.0)
    finally:
        sub.offline()
        retire_session(subscriber_login(env, "bench-naive"), "bench-naive")
        conn.close()
    seconds = state["last"] - state["first"]
    got, total = stored(env, base, base + timedelta(milliseconds=n))
    check, ok = check_text(n, got, int(state["errors"]), total == expected_value_sum10(n))
    rate, value = rate_text(n, seconds, "rows/s")
    return Row("5 naive bridge, INSERT per msg, autocommit", f"{n:,} rows", f"{seconds:.2f}", rate,
               check=check, others=cpu_text(cpu)), value, ok


def phase_latency(env: Env, rate: int, duration: float, notes: list[str], poll: str) -> tuple[Row, bool]:
    log(f"phase 6/6: latency, ingest live, {rate:,} msg/s offered for {duration:g} s")
    truncate(env)
    ingest = IngestProcess(env, "live")
    since = datetime.now(UTC) - timedelta(minutes=1)
    try:
        ingest.start_and_wait_subscribed()
        time.sleep(1.0)
        cpu_start = METER.snap()
        result = publish(env, "rate", "live", rate=rate, duration=duration)
        cpu = CpuMeter.use(cpu_start, METER.snap())
        sent = int(result["count"])
        watch_rows(env, ingest, sent, "ingest live", poll, stall_s=30)  # publishing is over: cost irrelevant
        time.sleep(1.0)
        metrics = ingest.metrics()
        hwm = ingest.status_kb("VmHWM")
    finally:
        ingest.stop()
        retire_session(subscriber_login(env, ingest.client_id), ingest.client_id)
    until = datetime.now(UTC) + timedelta(minutes=1)
    got, total = stored(env, since, until)
    check, ok = check_text(sent, got, 0, total == expected_value_sum10(sent))
    with psycopg.connect(env.dsn) as conn:
        p50, p99, worst = one(conn,
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP"
            " (ORDER BY ms), max(ms) FROM (SELECT extract(epoch FROM ingested_at - ts) * 1000 AS ms"
            " FROM telemetry WHERE ts >= %s AND ts < %s) s", (since, until))
    commits = metrics.get("cityops_ingest_commit_seconds_count", 0.0)
    mean_commit = 1000 * metrics.get("cityops_ingest_commit_seconds_sum", 0.0) / commits if commits else 0.0
    offered = sent / float(result["send_seconds"])
    row = Row(f"6 latency, ingest live, {offered:,.0f} msg/s offered", f"{sent:,} msgs",
              f"{float(result['send_seconds']):.1f}",
              f"p50 {p50:.0f} / p99 {p99:.0f} / max {worst:.0f} ms", "",
              target_text(float(p99), 500, "<").replace("< 500", "p99 < 500 ms"), check, mb(hwm), cpu_text(cpu))
    batches = metrics.get("cityops_ingest_batch_messages_count", 0.0)
    notes.append(f"ingest live: {batches:.0f} batches, mean write+commit {mean_commit:.0f} ms per batch; "
                 f"{int(metrics.get('cityops_ingest_duplicate_rows_total', 0))} redelivered rows absorbed")
    return row, ok


# --- setup -----------------------------------------------------------------------------------

def register_gauges(dsn: str, count: int, seed: int) -> None:
    import numpy as np

    from ingest.devices import DeviceSpec, register_devices
    from ingest.tagging import active_layer_tagger
    from layers.loader import load_active_layers

    x0, y0, x1, y1 = load_active_layers(dsn).districts.total_bounds
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)
    specs = [DeviceSpec(f"bench-rg-{i:04d}", DEVICE_TYPE, DEPT, f"bench rain gauge {i}", float(lon[i]), float(lat[i]))
             for i in range(count)]
    tagger, version = active_layer_tagger(dsn)
    with psycopg.connect(dsn) as conn:
        register_devices(conn, specs, tagger, version)


def versions(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        pg = one(conn, "SHOW server_version")[0]
    mosq = subprocess.run([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-h"], capture_output=True,
                          text=True, check=False).stdout.splitlines()
    return (f"PostgreSQL {pg}, {mosq[0] if mosq else 'mosquitto ?'}, paho-mqtt {PAHO_VERSION}, "
            f"psycopg {psycopg.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs")


def print_table(rows: list[Row], title: str) -> None:
    headers = Row("phase", "amount", "time s", "rate", "ratio", "target", "check", "ingest VmHWM",
                  "other procs' CPU")
    cols = list(headers.__dataclass_fields__)
    table = [[getattr(r, c) for c in cols] for r in [headers, *rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    print()
    print(title)
    for i, line in enumerate(table):
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def bench(args: argparse.Namespace) -> int:
    from cityops.localserver import LocalMosquitto, LocalPostgres
    from layers.loader import load_demo_layers
    from store.migrate import migrate

    n = args.messages
    per = args.batch_readings
    batched_msgs = max(1, (5 * n) // per)
    tmp = Path(tempfile.mkdtemp(prefix="cityops-bench-"))
    tmp.chmod(0o755)  # as root PostgreSQL runs as the postgres user and must reach its folder
    pg = LocalPostgres(tmp / "pg", free_port())
    broker = LocalMosquitto(tmp / "mqtt", free_port())
    env: Env | None = None
    run_started = time.monotonic()
    try:
        log(f"setup: PostgreSQL and mosquitto in {tmp}")
        pg.start()
        broker.start()
        migrate(pg.dsn, "auto")
        load_demo_layers(pg.dsn)
        register_gauges(pg.dsn, args.devices, args.seed)
        with psycopg.connect(pg.dsn) as conn:
            devices = conn.execute(
                "SELECT device_id, dept, district_code, township_code, grid_code FROM devices"
                " WHERE device_id LIKE 'bench-rg-%' ORDER BY device_id").fetchall()
        devices_file = tmp / "devices.json"
        devices_file.write_text(json.dumps([[d[0], d[1]] for d in devices]))
        env = Env(tmp, pg.dsn, broker.port, devices_file, devices,
                  LocalAccounts(broker, CITY, tmp / "credentials.json"))
        METER.roots.add(int((pg.data_dir / "postmaster.pid").read_text().split()[0]))  # daemonised by pg_ctl
        inside = sum(1 for d in devices if d[2] is not None)
        log(f"setup: {len(devices):,} rain gauges registered ({inside:,} inside a district, the rest in the bbox "
            f"only); {versions(pg.dsn)}")

        rows: list[Row] = []
        notes: list[str] = []
        all_ok = True
        now = datetime.now(UTC).replace(microsecond=0)

        row1, ceiling, ok = phase_counting(env, n)
        rows.append(row1)
        all_ok &= ok

        log(f"phase 2/6: python -m ingest draining a backlog of {n:,} single-reading messages")
        drain2, _m2, hwm2, check2, ok, readings2 = phase_ingest_backlog(
            env, "single", "single", n, 1, now - timedelta(hours=5), notes, args.poll)
        all_ok &= ok
        rate2, single = rate_text(readings2 - drain2.first_n, drain2.seconds, "readings/s")
        ratio2 = single / ceiling if single and ceiling else None
        rows.append(Row("2 python -m ingest, 1 reading/msg", f"{readings2:,} readings", f"{drain2.seconds:.2f}",
                        rate2, f"{ratio2:.2f} × (1)" if ratio2 is not None else "n/a",
                        target_text(ratio2, 0.8), check2, mb(hwm2), cpu_text(drain2.cpu)))

        batched_args = ("--max-batch", str(args.batched_max_batch)) if args.batched_max_batch else ()
        log(f"phase 3/6: {' '.join(('python -m ingest', *batched_args))} draining {batched_msgs:,} messages "
            f"of {per} readings each")
        batched_base = now - timedelta(hours=4)
        drain3, _m3, hwm3, check3, ok, readings3 = phase_ingest_backlog(
            env, "batched", "batched", batched_msgs, per, batched_base, notes, args.poll, batched_args)
        all_ok &= ok
        rate3, batched = rate_text(readings3 - drain3.first_n, drain3.seconds, "readings/s")

        row4, copy_rate, ok = phase_bare_copy(env, batched_msgs, per, batched_base)
        all_ok &= ok
        ratio3 = batched / copy_rate if batched and copy_rate else None
        rows.append(Row(f"3 python -m ingest, {per} readings/msg", f"{readings3:,} readings",
                        f"{drain3.seconds:.2f}", rate3, f"{ratio3:.2f} × (4)" if ratio3 is not None else "n/a",
                        target_text(ratio3, 0.5), check3, mb(hwm3), cpu_text(drain3.cpu)))
        rows.append(row4)

        row5, naive, ok = phase_naive(env, args.naive_messages, now - timedelta(hours=3))
        all_ok &= ok
        # Rows per second against rows per second: a gateway's batched readings (3), and single
        # readings (2), which no subscriber can take faster than the ceiling (1) allows.
        ratio5 = batched / naive if batched and naive else None
        single5 = single / naive if single and naive else None
        ceiling5 = ceiling / naive if ceiling and naive else None
        row5.ratio = (f"(3) = {ratio5:.1f} × (5)" if ratio5 is not None else "n/a")
        row5.target = target_text(ratio5, 20)
        rows.append(row5)
        if single5 is not None and ceiling5 is not None:
            notes.append(f"naive bridge vs single-reading ingest: (2) = {single5:.1f} × (5); a subscriber that only "
                         f"counts (1) is {ceiling5:.1f} × (5), so with one reading per message no subscriber "
                         "reaches 20 × here: paho's receive rate, not the database, is the limit")

        row6, ok = phase_latency(env, args.rate, args.duration, notes, args.poll)
        all_ok &= ok
        rows.append(row6)

        dropped = (broker.data_dir / "mosquitto.log").read_text(errors="replace").count("being dropped")
        notes.append(f"mosquitto log lines about dropped messages: {dropped}")
        print_table(rows, f"cityops ingest benchmark: N={n:,}, batch-readings={per}, {len(devices):,} devices, "
                          f"phase 3 ingest --max-batch {args.batched_max_batch or '(default)'}, poll {args.poll}, "
                          f"total run {time.monotonic() - run_started:.0f} s\n{versions(pg.dsn)}")
        print()
        print("Notes:")
        how = {"lastrow": "database", "count": "count(*)", "metrics": "Prometheus rows-committed counter"}[args.poll]
        print(f"- rates of 2 and 3 run from the first {how} poll (every ~50 ms) that saw committed rows to the "
              "poll that saw all of them: (rows − rows at first poll) / time; ingest start-up is not included.")
        if args.poll == "lastrow":
            print("  The poller asks 'any row yet?', then looks up the phase's last reading by primary key; "
                  "count(*) runs every 2 s and confirms the total when that reading is there (--poll count "
                  "polls count(*) every time, which on 2 cores takes CPU from ingest).")
        print("- 1 and 5 are timed in the subscriber's own callbacks, first to last message; 4 from the first COPY "
              "to the last commit (row building not included).")
        print("- 6: latency = ingested_at − ts, where ts is the publisher's send time (epoch ms) and ingested_at "
              "is now() of the batch's transaction, which starts as its COPY starts: that batch's write+commit "
              "time (mean below) comes on top of the figure.")
        print("- other procs' CPU: cores busy on the machine during the timed window minus what this benchmark's "
              "own processes (itself, its children, its PostgreSQL and mosquitto) used: the machine is shared, so "
              "compare rows with that in mind. Load average at the end: "
              + " ".join(Path("/proc/loadavg").read_text().split()[:3]) + ".")
        print("- ingest VmHWM: peak resident memory of the python -m ingest process, read from /proc/<pid>/status "
              "just before stopping it.")
        print("- dup: rows or messages seen more than once (the primary key makes duplicate rows impossible; "
              "redelivered rows absorbed by ON CONFLICT are counted separately).")
        for note in notes:
            print(f"- {note}")
        print(f"- every phase exact (0 lost, 0 duplicates): {'yes' if all_ok else 'NO'}")
        return 0 if all_ok else 1
    finally:
        if env is not None:
            stop_all(env.started, timeout=0, sig=signal.SIGKILL)
        broker.stop()
        pg.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="N: single-reading backlog of phases 1 and 2")
    ap.add_argument("--batch-readings", type=int, default=100, help="readings per message in phase 3 (5×N total)")
    ap.add_argument("--naive-messages", type=int, default=10_000, help="backlog of the naive bridge (phase 5)")
    ap.add_argument("--rate", type=int, default=2_000, help="msg/s offered in the latency phase")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of the latency phase")
    ap.add_argument("--devices", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--poll", choices=["lastrow", "count", "metrics"], default="lastrow",
                    help="how 2 and 3 see committed rows every ~50 ms: lastrow (default: cheap queries, count(*)"
                    " every 2 s and to confirm), count (count(*) every poll: on 2 cores it competes with ingest),"
                    " metrics (ingest's Prometheus counter: its HTTP thread shares ingest's GIL and slows it)")
    ap.add_argument("--batched-max-batch", type=int,
                    help="pass --max-batch (messages per transaction) to the ingest of phase 3; default: ingest's own")
    ap.add_argument("--quick", action="store_true", help="small N for a smoke run")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs, data) afterwards")
    # publisher mode (internal: the benchmark runs itself as a separate publisher process)
    ap.add_argument("--publish", choices=["single", "batched", "rate"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--devices-file", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--client-id", help=argparse.SUPPRESS)
    ap.add_argument("--credentials", help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--base-ms", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.publish:
        publisher_main(args)
        return
    if args.quick:
        args.messages, args.naive_messages, args.duration = 5_000, 1_000, 3.0
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))  # run the finally blocks: stop every server
    sys.exit(bench(args))


if __name__ == "__main__":
    main()
