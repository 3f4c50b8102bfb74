"""At least once end to end, idempotent writes: faults in the middle of 100,000 QoS-1 messages.

Each test counts rows against what was published: exactly the published set must be
stored, 0 lost and 0 doubled, after (a) kill -9 of ingest, (b) a broker restart, (c) the
database cut off for several seconds behind a TCP proxy. Every message has its own
(device, ts) key and a value derived from its number, so count and sum prove the set.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cityops.localserver import LocalMosquitto, free_port
from tests.fix_db import one
from tests.fix_proxy import CuttableProxy
from tests.fix_system import Service, ServiceFactory, wait_until
from tests.mqtt_publish import publish

N = 100_000


def _gauges(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT device_id, dept FROM devices WHERE device_type = 'rain_gauge' ORDER BY 1"
                            ).fetchall()


def _messages(devices: list[tuple[str, str]], base: datetime, n: int) -> Iterator[tuple[str, str]]:
    for i in range(n):
        device_id, dept = devices[i % len(devices)]
        ts = (base + timedelta(milliseconds=i)).isoformat()
        yield (f"city/chenzhou/telemetry/{dept}/rain_gauge/{device_id}",
               f'{{"ts": "{ts}", "values": {{"rain_1h": {(i % 4000) / 10}}}}}')


def _expected_sum(n: int) -> float:
    return round(sum((i % 4000) / 10 for i in range(n)), 1)


def _stored(dsn: str, base: datetime, n: int) -> tuple[int, float]:
    with psycopg.connect(dsn) as conn:
        count, total = one(conn,
            "SELECT count(*), coalesce(round(sum(value)::numeric, 1), 0) FROM telemetry"
            " WHERE metric = 'rain_1h' AND ts >= %s AND ts < %s",
            (base, base + timedelta(milliseconds=n)))
    return int(count), float(total)


def _metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))


def _queue_for_offline_ingest(services: ServiceFactory, dsn: str, client_id: str, port: int,
                              base: datetime) -> None:
    """Create ingest's persistent session, stop ingest, then publish N messages the broker holds for it."""
    first = services("ingest", dsn, "--client-id", client_id, "--share-group", client_id)
    first.wait_for_log("ingest subscribed")
    first.stop()
    assert publish(port, _messages(_gauges(dsn), base, N), client_id=f"pub-{client_id}") == N


def _base(hours_ago: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)


def _assert_exact(dsn: str, base: datetime, worker: Service) -> None:
    wait_until(f"all {N} rows", lambda: _stored(dsn, base, N)[0] >= N, timeout=240, logs=worker.log)
    time.sleep(1.0)  # anything redelivered late must still add nothing
    assert _stored(dsn, base, N) == (N, _expected_sum(N))


def _store_process_of(worker: Service) -> int:
    """The pid of the worker's store process (``ingest.storer``; its other child is multiprocessing's
    resource tracker)."""
    assert worker.proc is not None
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                and _parent_pid(p) == worker.proc.pid and b"spawn_main" in _cmdline(p)]
    assert len(children) == 1, f"expected one store process, found {children}"
    return children[0]


def _parent_pid(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return None


def _cmdline(proc_dir: Path) -> bytes:
    try:
        return (proc_dir / "cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize("stop", ["kill -9 mqtt", "kill -9 store", "sigterm"])
def test_a_stopped_worker_loses_nothing(stop: str, demo_dsn: str, services: ServiceFactory,
                                        broker: LocalMosquitto) -> None:
    """Either process of a worker killed (the MQTT one, or its store process), or the worker stopped cleanly."""
    base = _base({"kill -9 mqtt": 1, "kill -9 store": 6, "sigterm": 7}[stop])
    client_id = "dur-" + stop.replace(" ", "").replace("-", "")
    _queue_for_offline_ingest(services, demo_dsn, client_id, broker.port, base)
    worker = services("ingest", demo_dsn, "--client-id", client_id, "--share-group", client_id)
    wait_until("ingest to be part way", lambda: _stored(demo_dsn, base, N)[0] >= 20_000, timeout=120,
               logs=worker.log)
    assert worker.proc is not None
    proc = worker.proc
    if stop == "kill -9 mqtt":
        worker.stop(signal.SIGKILL)
    elif stop == "kill -9 store":
        os.kill(_store_process_of(worker), signal.SIGKILL)
        # Without its store the worker must end (for its supervisor to restart it), not hang holding messages.
        assert proc.wait(20) != 0
        assert "ingest store process ended" in worker.log()
    else:
        worker.stop()
        assert proc.returncode == 0, worker.log()
    at_stop = _stored(demo_dsn, base, N)[0]
    if stop == "sigterm":
        # A clean stop acks every batch it committed, the one the store was finishing included.
        said = re.search(r"ingest stopped: (\d+) messages committed and acknowledged", worker.log())
        assert said is not None and int(said.group(1)) == at_stop, worker.log()
    assert at_stop < N, "the stop must land in the middle"
    port = free_port()
    restarted = services("ingest", demo_dsn, "--client-id", client_id, "--share-group", client_id,
                         "--metrics-port", str(port))
    _assert_exact(demo_dsn, base, restarted)
    duplicates = _metric(port, "cityops_ingest_duplicate_rows_total")
    if stop == "sigterm":
        # The acks reached the broker before the connection closed: only what was never stored comes again.
        assert duplicates == 0
    print(f"\n{stop} at {at_stop} rows; redelivered duplicates absorbed: {duplicates:.0f}")


def test_broker_restart_loses_nothing(demo_dsn: str, services: ServiceFactory, broker: LocalMosquitto) -> None:
    base = _base(2)
    _queue_for_offline_ingest(services, demo_dsn, "dur-broker", broker.port, base)
    worker = services("ingest", demo_dsn, "--client-id", "dur-broker", "--share-group", "dur-broker")
    wait_until("ingest to be part way", lambda: _stored(demo_dsn, base, N)[0] >= 20_000, timeout=120,
               logs=worker.log)
    broker.stop()  # clean shutdown: mosquitto writes its persistence file
    at_stop = _stored(demo_dsn, base, N)[0]
    assert at_stop < N, "the restart must land in the middle"
    time.sleep(2.0)
    broker.start()
    _assert_exact(demo_dsn, base, worker)
    assert worker.proc is not None and worker.proc.poll() is None, "ingest rode out the broker restart"
    print(f"\nbroker restarted at {at_stop} rows")


@pytest.fixture
def proxied_dsn(demo_dsn: str) -> Iterator[tuple[str, CuttableProxy]]:
    params = conninfo_to_dict(demo_dsn)
    proxy = CuttableProxy(int(str(params["port"])))  # a conninfo value: str, int or None
    proxy.start()
    yield make_conninfo(demo_dsn, port=str(proxy.port)), proxy
    proxy.cut()


def test_database_outage_loses_nothing(demo_dsn: str, proxied_dsn: tuple[str, CuttableProxy],
                                       services: ServiceFactory, broker: LocalMosquitto) -> None:
    via_proxy, proxy = proxied_dsn
    base = _base(3)
    _queue_for_offline_ingest(services, via_proxy, "dur-db", broker.port, base)
    port = free_port()
    worker = services("ingest", via_proxy, "--client-id", "dur-db", "--share-group", "dur-db",
                      "--metrics-port", str(port))
    wait_until("ingest to be part way", lambda: _stored(demo_dsn, base, N)[0] >= 20_000, timeout=120,
               logs=worker.log)
    proxy.cut()
    at_cut = _stored(demo_dsn, base, N)[0]
    assert at_cut < N, "the outage must land in the middle"
    wait_until("ingest to report the database down", lambda: _metric(port, "cityops_ingest_database_up") == 0,
               timeout=30, logs=worker.log)
    held = _metric(port, "cityops_ingest_buffer_messages")
    time.sleep(5.0)
    assert _stored(demo_dsn, base, N)[0] == at_cut
    assert worker.proc is not None and worker.proc.poll() is None, "ingest did not crash"
    assert held <= 20_000 + 5_000, "the buffer is bounded by MQTT receive-maximum"
    proxy.restore()
    _assert_exact(demo_dsn, base, worker)
    assert "database unavailable, holding" in worker.log()
    print(f"\ndatabase cut at {at_cut} rows for 5 s, {held:.0f} messages held unacked")


def test_two_workers_share_the_load(demo_dsn: str, services: ServiceFactory, broker: LocalMosquitto) -> None:
    base = _base(4)
    ports = [free_port(), free_port()]
    workers = [services("ingest", demo_dsn, "--client-id", f"share-{i}", "--share-group", "share",
                        "--metrics-port", str(p))
               for i, p in enumerate(ports)]
    for w in workers:
        w.wait_for_log("ingest subscribed")
    n = 20_000
    threading.Thread(target=publish, args=(broker.port, _messages(_gauges(demo_dsn), base, n), "pub-share")).start()
    wait_until(f"all {n} rows", lambda: _stored(demo_dsn, base, n)[0] >= n, timeout=120)
    time.sleep(1.0)
    assert _stored(demo_dsn, base, n) == (n, _expected_sum(n))
    taken = [_metric(p, "cityops_ingest_messages_total") for p in ports]
    assert sum(taken) == n, "each message went to exactly one worker"
    assert min(taken) > 0.2 * n, f"the load is split: {taken}"
    print(f"\nshared subscription split: {taken}")


def test_a_retired_worker_hands_back_what_the_broker_held_for_it(demo_dsn: str, services: ServiceFactory,
                                                                  broker: LocalMosquitto) -> None:
    # mosquitto keeps giving an offline member of a share group its turn: a worker that is
    # just stopped strands half the messages. `--retire` stores them and ends its session.
    base, n = _base(5), 4_000
    staying = services("ingest", demo_dsn, "--client-id", "ret-a", "--share-group", "ret")
    leaving = services("ingest", demo_dsn, "--client-id", "ret-b", "--share-group", "ret")
    for w in (staying, leaving):
        w.wait_for_log("ingest subscribed")
    leaving.stop()
    assert publish(broker.port, _messages(_gauges(demo_dsn), base, n), client_id="pub-ret") == n
    wait_until("the staying worker's share", lambda: _stored(demo_dsn, base, n)[0] >= 0.2 * n, timeout=60)
    time.sleep(2.0)
    stranded = n - _stored(demo_dsn, base, n)[0]
    assert stranded > 0.2 * n, "the stopped worker's session holds its share"

    retiring = services("ingest", demo_dsn, "--client-id", "ret-b", "--share-group", "ret", "--retire")
    assert retiring.proc is not None
    assert retiring.proc.wait(timeout=90) == 0, retiring.log()
    assert "ingest retired" in retiring.log()
    assert _stored(demo_dsn, base, n) == (n, _expected_sum(n))

    # Its session is gone: every later message goes to the staying worker.
    later = base + timedelta(minutes=1)
    assert publish(broker.port, _messages(_gauges(demo_dsn), later, n), client_id="pub-ret") == n
    wait_until(f"all {n} later rows", lambda: _stored(demo_dsn, later, n)[0] >= n, timeout=60, logs=staying.log)
    print(f"\nretired worker handed back {stranded} stranded messages")
