"""The leader cockpit, 考核 and 数据质量 on a city's week (issue 15): 100,000 devices with 7 days of history at the
aggregate level, a city's incidents and 12345 tickets, the dashboard's reads timed as its users make them.

    scripts/timescale_server.sh start
    .venv/bin/python bench/bench_history.py --dsn "$(scripts/timescale_server.sh url)"   # on a real TimescaleDB
    .venv/bin/python bench/bench_history.py                                            # its own plain PostgreSQL

1. A database of its own: with ``--dsn`` a new one on that server (its user must be allowed to CREATE DATABASE;
   the timescaledb extension is used when the server has it; dropped afterwards unless ``--keep``), else a
   project-local PostgreSQL in a temp folder. Migrated, with the demo layers and the demo accounts.
2. ``--devices`` devices over the city's 162 townships (bench_city's mix), registered and region-tagged.
3. ``--days`` days of their history at the aggregate level: one reading an hour per device and metric (7 days
   of every device every 10 s would be 6 billion rows: not this disk), generated server-side
   (``INSERT … SELECT generate_series``); on TimescaleDB the continuous aggregates are refreshed over it.
   ``--hotline-per-day`` 12345 tickets a day and ``--incidents-per-day`` incidents with their logs (most
   closed on time, some late, reworked, returned: bench_dashboard's loader), over the same days.
4. The dashboard (``create_app`` on the ``cityops_dashboard`` role's own login, as a worker connects) and its
   callbacks called in-process inside a request of a logged-in user, ``--samples`` times each:
   the cockpit opening, its panels and incident list under filters, the 考核 ranking of every period and kind,
   数据质量. The first call of each (the per-process 考核 cache filling) is reported apart; target p95 < 300 ms.
   Baseline, in the same run: the cockpit's panels with the 考核 cache emptied before every call (the log read
   and replayed whole each time, what the cockpit did before the cache).

Not a test: CI never runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_city import city_devices  # noqa: E402
from bench_dashboard import (  # noqa: E402
    as_user,
    load_hotline,
    load_incidents,
    load_telemetry,
    load_warnings,
    mark_devices_seen,
    payload_bytes,
    pct,
    say,
)

from cityops.localserver import LocalPostgres, free_port  # noqa: E402
from cityops.settings import runtime_role  # noqa: E402
from store.migrate import migrate  # noqa: E402

TARGET_MS = 300.0
HOURLY = 3600  # the history's readings: one an hour per device and metric


@contextlib.contextmanager
def bench_database(admin_dsn: str | None, keep: Path | None, name: str | None) -> Iterator[tuple[str, str, str]]:
    """(owner URL, dashboard role URL, flavour) of a new database: on ``admin_dsn``'s server (``name``: that
    database, kept, and reused when it exists), or a local one."""
    if admin_dsn is None:
        folder = keep or Path(tempfile.mkdtemp(prefix="cityops-bench-history-"))
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        server = LocalPostgres(folder / "pg", free_port())
        server.start()
        try:
            yield server.dsn, server.role_dsn(runtime_role("dashboard")), "plain PostgreSQL (project-local)"
        finally:
            server.stop()
            if keep is None:
                shutil.rmtree(folder, ignore_errors=True)
        return
    kept = name is not None
    name = name or f"cityops_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        has_tsdb = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    dsn = make_conninfo(admin_dsn, dbname=name)
    try:
        if has_tsdb:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        migrate(dsn, "require" if has_tsdb else "auto")
        role, password = runtime_role("dashboard"), secrets.token_urlsafe(18)
        with psycopg.connect(dsn, autocommit=True) as conn:  # what an administrator does for the dashboard's login
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        yield dsn, make_conninfo(dsn, user=role, password=password), \
            "TimescaleDB" if has_tsdb else "PostgreSQL without timescaledb"
    finally:
        if not kept:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            say(f"kept database {name} on {conninfo_to_dict(admin_dsn).get('host')} (--database {name} reuses it)")


def load_city(dsn: str, flavour: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """The city's week into ``dsn`` (migrated); returns row counts and load seconds."""
    from dashboard.auth import seed_demo_users
    from ingest.devices import register_devices
    from ingest.tagging import layer_tagger
    from layers.loader import load_active_layers, load_demo_layers
    from layers.near import DEFAULT_NEAR_M
    from simulator.history import refresh_aggregates

    took: dict[str, float] = {}
    t0 = time.perf_counter()
    load_demo_layers(dsn)
    with psycopg.connect(dsn) as conn:
        seed_demo_users(conn)
    took["layers and accounts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    specs = [replace(d, expected_interval_s=HOURLY, gateway=None) for d in city_devices(dsn, args.devices)]
    layers = load_active_layers(dsn)
    with psycopg.connect(dsn) as conn:
        register_devices(conn, specs, layer_tagger(layers, DEFAULT_NEAR_M), layers.version)
    took["devices registered"] = time.perf_counter() - t0
    say(f"{len(specs):,} devices registered in {took['devices registered']:.1f} s")
    start = (now - timedelta(days=args.days)).replace(minute=0, second=0, microsecond=0)
    hour = now.replace(minute=0, second=0, microsecond=0)
    t0 = time.perf_counter()
    load_telemetry(dsn, start, hour, device_prefix="", step=timedelta(seconds=HOURLY))
    took["telemetry (hourly)"] = time.perf_counter() - t0
    if flavour == "TimescaleDB":
        t0 = time.perf_counter()
        refresh_aggregates(dsn, start, hour)
        took["continuous aggregates refreshed"] = time.perf_counter() - t0
        say(f"continuous aggregates refreshed in {took['continuous aggregates refreshed']:.0f} s")
    rng = np.random.default_rng(20261207)
    t0 = time.perf_counter()
    load_hotline(dsn, start, now, args.hotline_per_day, None)
    load_incidents(dsn, args.incidents_per_day * args.days, start, now, rng, None)
    load_warnings(dsn, now, rng)
    mark_devices_seen(dsn, now)
    took["tickets, incidents and logs"] = time.perf_counter() - t0
    with psycopg.connect(dsn) as conn:
        conn.execute("ANALYZE")
        counts = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
                  for t in ("devices", "telemetry", "telemetry_1h", "events", "incidents", "incident_log")}
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
    say("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; database {size[0] if size else '?'}")
    return {"rows": counts, "load_s": {k: round(v, 1) for k, v in took.items()}}


Call = Callable[[], Any]


def measure(name: str, fn: Call, samples: int, rows: list[dict[str, Any]], baseline: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """The first call apart, then ``samples`` more: server time (the callback and serialising its outputs)."""
    t0 = time.perf_counter()
    out = fn()
    first = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        out = fn()
        payload_bytes(out)
        times.append((time.perf_counter() - t0) * 1000)
    size = payload_bytes(out)[0]
    row = {"name": name, "first_ms": round(first), "p50_ms": round(pct(times, 0.5), 1),
           "p95_ms": round(pct(times, 0.95), 1), "bytes": size, "target_ratio": round(pct(times, 0.95) / TARGET_MS, 2)}
    extra = ""
    if baseline:
        row["vs_baseline"] = round(baseline["p95_ms"] / row["p95_ms"], 1)
        extra = f"  {row['vs_baseline']}× faster than the baseline (p95)"
    say(f"  {name:<52} first {first:7.0f} ms  p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f} ms"
        f" ({row['target_ratio']:.2f}× target)  {size:,} B{extra}")
    rows.append(row)
    return row


def measure_reads(dashboard_dsn: str, samples: int, now: datetime) -> list[dict[str, Any]]:
    from dashboard.app import create_app
    from dashboard.reads_assessment import _CACHES
    from i18n.timefmt import SHANGHAI

    app = create_app(dashboard_dsn, secret_key="bench", pool_size=4)
    leader = sys.modules["dashboard.pages.leader"]
    assessment = sys.modules["dashboard.pages.assessment"]
    quality = sys.modules["dashboard.pages.quality"]
    data = app.server.extensions["cityops_data"]
    today = now.astimezone(SHANGHAI).date()
    month_ago, week_ago = (today - timedelta(days=29)).isoformat(), (today - timedelta(days=6)).isoformat()
    rows: list[dict[str, Any]] = []
    try:
        with as_user(app, "lingdao"):
            say("leader cockpit (as 领导):")

            def emptied_then_panels() -> Any:
                _CACHES.pop(data.pool, None)  # the baseline: every call reads and replays the window's log
                return leader.callbacks.update(month_ago, today.isoformat(), None, None, None, None)

            base = measure("baseline: panels, 30 days, 考核 cache emptied each call", emptied_then_panels,
                           max(3, samples // 4), rows)
            measure("open the cockpit (layout)", lambda: leader.layout(), samples, rows)
            measure("panels, 30 days, whole city", lambda: leader.callbacks.update(
                month_ago, today.isoformat(), None, None, None, None), samples, rows, base)
            measure("panels, 7 days, one district, flood", lambda: leader.callbacks.update(
                week_ago, today.isoformat(), "431002", None, "flood", None), samples, rows)
            measure("incident list, 30 days, search '积水'", lambda: leader.callbacks.update_list(
                month_ago, today.isoformat(), None, None, None, None, "积水"), samples, rows)
            say("考核 (as 领导):")
            periods = [key for key, _ in assessment.load.periods(now)][:2]  # the last 30 days, this month
            for period in periods:
                for kind in ("township", "district", "department"):
                    measure(f"ranking {period} · {kind}", lambda p=period, k=kind: assessment.callbacks.update(
                        p, k, None, None), samples, rows)
            say("数据质量 (as 领导):")
            measure("data quality page refresh", lambda: quality.callbacks.refresh(1), samples, rows)
    finally:
        data.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", help="an administrator's URL of the server to make the bench database on")
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--incidents-per-day", type=int, default=3000)
    ap.add_argument("--hotline-per-day", type=int, default=20_000)
    ap.add_argument("--samples", type=int, default=20, help="calls of each read after the first")
    ap.add_argument("--keep", type=Path, help="without --dsn: keep the local server's folder (and reuse it)")
    ap.add_argument("--database", help="with --dsn: this database, kept afterwards and reused when loaded")
    args = ap.parse_args(argv)
    now = datetime.now(UTC)
    with bench_database(args.dsn, args.keep, args.database) as (dsn, dashboard_dsn, flavour):
        say(f"database: {flavour}")
        with psycopg.connect(dsn) as conn:
            loaded_before = conn.execute("SELECT count(*) FROM devices").fetchone()
        if loaded_before and loaded_before[0]:
            say(f"reusing the loaded city ({loaded_before[0]:,} devices): its incidents are as old as that load")
            now = datetime.now(UTC)
            loaded: dict[str, Any] = {"reused": True}
        else:
            loaded = load_city(dsn, flavour, args, now)
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        wall_before = time.perf_counter()
        rows = measure_reads(dashboard_dsn, args.samples, now)
        busy = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    # the figures are server time in this process: on a shared machine they say how busy the rest of it was
    say(f"while measuring: this process {busy:.2f} cores; machine load average {load_before[0]:.1f} before,"
        f" {os.getloadavg()[0]:.1f} after (2 cores)")
    missed = [r["name"] for r in rows if r["p95_ms"] > TARGET_MS and not r["name"].startswith("baseline")]
    say(f"{len(rows) - 1 - len(missed)} of {len(rows) - 1} reads within the {TARGET_MS:.0f} ms p95 target"
        + (f"; missed: {', '.join(missed)}" if missed else ""))
    figures = {"flavour": flavour, **loaded, "reads": rows, "process_cores": round(busy, 2)}
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
