"""The demo's history (simulator.history): a week written through the lifecycle on real PostgreSQL, then what a
leader would check on it: the mix of stories is there, every log replays to its row, nothing is in the future,
the same seed tells the same story, and a second run adds nothing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest

from alerts.assessment import assignments
from alerts.deadlines import overdue_sql
from alerts.incidents import read_logs
from alerts.lifecycle import Action
from alerts.status import Status
from layers.geo import demo_layers
from reports.month import Month
from reports.quality_figures import device_reporting, reporting_totals
from reports.quality_reads import read_quality
from simulator.__main__ import register
from simulator.history import draw, place, plan, townships_of, write_history
from simulator.history_readings import DeviceReadings, HistoryData, write_readings
from tests.fix_db import log_disagreements, one

SEED = 7
NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
DAYS = 7


@pytest.fixture(scope="module")
def history(demo_db: Callable[[], str]) -> tuple[str, int]:
    dsn = demo_db()
    started = time.monotonic()
    written = write_history(dsn, NOW, DAYS, SEED, progress=None)
    print(f"\nhistory: {written} incidents over {DAYS} days in {time.monotonic() - started:.1f} s")
    return dsn, written


def _story(conn: psycopg.Connection) -> list[tuple[str, str, str, datetime]]:
    return sorted(conn.execute("SELECT title, status, township_code, created_at FROM incidents").fetchall())


def test_a_week_of_incidents_in_every_township(history: tuple[str, int]) -> None:
    dsn, written = history
    with psycopg.connect(dsn) as conn:
        count, towns, first, last = one(conn, "SELECT count(*), count(DISTINCT district_code || township_code),"
                                              " min(created_at), max(created_at) FROM incidents")
        active = one(conn, "SELECT count(*) FROM regions r JOIN boundary_versions v USING (version)"
                           " WHERE v.active AND r.level = 'township'")[0]
        refs = one(conn, "SELECT count(*) FROM incidents WHERE source_ref LIKE %s", (f"history:{SEED}:%",))[0]
    assert count == written == refs and written > 100 * DAYS
    assert towns >= 0.95 * active  # a few a township a day: nearly every township has some in a week
    assert NOW - timedelta(days=DAYS) <= first and last < NOW


def test_the_mix_a_leader_ranks_on_is_there(history: tuple[str, int]) -> None:
    dsn, _ = history
    with psycopg.connect(dsn) as conn:
        logs = read_logs(conn)
        overdue_unsigned = one(conn, f"SELECT count(*) FROM incidents i WHERE i.status = 'dispatched'"
                                     f" AND {overdue_sql('i')}", {"now": NOW})[0]
        statuses = Counter(dict(conn.execute("SELECT status, count(*) FROM incidents GROUP BY status").fetchall()))
    stretches = [s for incident_id, entries in logs.items() for s in assignments(incident_id, entries)]
    actions = Counter(e.action for entries in logs.values() for e in entries)
    mix = {
        "reworked": sum(s.reworks >= 1 for s in stretches),
        "reworked three times": sum(s.reworks >= 3 for s in stretches),
        "postponed and resumed": sum(Action.POSTPONE in {e.action for e in es} and Action.RESUME in
                                     {e.action for e in es} for es in logs.values()),
        "returned, re-dispatched elsewhere": sum(s.returned_at is not None and not s.returned_wrongly
                                                 for s in stretches),
        "returned, found wrong": sum(s.returned_wrongly for s in stretches),
        "transferred": sum(s.transferred_at is not None for s in stretches),
        "signed late": sum(s.signed_at is not None and not s.sign_on_time for s in stretches),
        "finished late": sum(s.handled_at is not None and not s.handled_on_time for s in stretches),
        "never signed, overdue": overdue_unsigned,
        "reminded": actions[Action.REMIND],
        "escalated": actions[Action.ESCALATE],
        "area confirmed": actions[Action.CONFIRM_AREA],
    }
    print("\n" + ", ".join(f"{k}: {v}" for k, v in mix.items()), dict(statuses))
    assert all(v > 0 for v in mix.values()), mix
    # Most close on time; the recent ones are still being worked, as a real desk's would be.
    closed = [s for s in stretches if s.closed_at is not None]
    assert sum(s.sign_on_time and s.handled_on_time for s in closed) > 0.7 * len(closed)
    assert statuses[Status.CLOSED] > 0.6 * sum(statuses.values()) and statuses[Status.IN_PROGRESS] > 0


def test_every_log_replays_to_its_row_and_nothing_is_in_the_future(history: tuple[str, int]) -> None:
    dsn, _ = history
    with psycopg.connect(dsn) as conn:
        assert log_disagreements(conn) == []
        assert one(conn, "SELECT max(at) FROM incident_log")[0] < NOW
        assert one(conn, "SELECT count(*) FROM (SELECT at < lag(at) OVER (PARTITION BY incident_id ORDER BY id)"
                         " AS back FROM incident_log) t WHERE back")[0] == 0
        # The moves' dispatch messages are the past's: no township app is sent a week of them now.
        assert one(conn, "SELECT count(*) FROM mqtt_outbox WHERE published_at IS NULL")[0] == 0
        staff = one(conn, "SELECT count(*) FILTER (WHERE role IN ('township', 'department') AND source = 'api'"
                          " AND (details->>'simulated')::boolean), count(*) FILTER (WHERE role IN"
                          " ('township', 'department')) FROM incident_log")
        assert staff[0] == staff[1] > 0


def test_a_second_run_writes_nothing(history: tuple[str, int]) -> None:
    dsn, written = history
    with psycopg.connect(dsn) as conn:
        before = _story(conn), one(conn, "SELECT count(*) FROM incident_log")[0]
    said: list[str] = []
    assert write_history(dsn, NOW + timedelta(hours=3), DAYS, SEED + 1, progress=said.append) == 0
    assert said and "already" in said[0]
    with psycopg.connect(dsn) as conn:
        assert (_story(conn), one(conn, "SELECT count(*) FROM incident_log")[0]) == before
        assert len(before[0]) == written


def test_the_same_seed_tells_the_same_story(history: tuple[str, int], demo_db: Callable[[], str]) -> None:
    dsn, _ = history
    again = demo_db()
    said: list[str] = []
    write_history(again, NOW, DAYS, SEED, progress=said.append)
    assert said[0].startswith("history: day 1/7, ") and said[DAYS - 1].startswith("history: day 7/7, ")
    with psycopg.connect(dsn) as a, psycopg.connect(again) as b:
        assert _story(a) == _story(b)
        moves = "SELECT i.source_ref, l.at, l.action, l.actor FROM incident_log l JOIN incidents i ON" \
                " i.id = l.incident_id ORDER BY 1, 2, l.id"
        assert a.execute(moves).fetchall() == b.execute(moves).fetchall()


def test_planning_is_pure_and_seeded() -> None:
    layers = demo_layers()
    towns = townships_of(layers)
    drafts = draw(towns, NOW, 3, SEED)
    assert drafts == draw(towns, NOW, 3, SEED) and drafts != draw(towns, NOW, 3, SEED + 1)
    locations = place(drafts, layers, SEED)
    assert [loc.township_code for loc in locations] == [d.township.code for d in drafts]
    plans = [plan(d, loc, towns, [], NOW, SEED) for d, loc in zip(drafts, locations, strict=True)]
    assert all(s.at < NOW for p in plans for s in p.steps)
    assert all(p.draft.created_at <= (p.steps[0].at if p.steps else NOW) for p in plans)


def test_a_month_with_its_readings_well_under_a_minute(demo_db: Callable[[], str]) -> None:
    """30 days with the demo's devices registered: the incidents, and the readings, counters and dead letters
    the data-quality report reads; rows read back as COPY wrote them, and none from after the first reading
    the system stored itself."""
    dsn = demo_db()
    register(dsn, SEED)
    live = NOW - timedelta(hours=6)  # as if the demo had already run for its last hours without a history
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'rain-431002001-1',"
                     " 'rain_1h', 0)", (live,))
    started = time.monotonic()
    written = write_history(dsn, NOW, 30, SEED, progress=None)
    took = time.monotonic() - started
    with psycopg.connect(dsn) as conn:
        rows, first, last = one(conn, "SELECT count(*), min(ts), max(ts) FROM telemetry WHERE ts <> %s", (live,))
        print(f"\nhistory: {written} incidents and {rows:,} readings over 30 days in {took:.1f} s")
        assert written > 3000 and rows > 4_000_000
        assert NOW - timedelta(days=30) <= first and last < live
        stored, rejected = one(conn, "SELECT sum(stored), sum((SELECT coalesce(sum(value::int), 0) FROM"
                                     " jsonb_each_text(rejected))) FROM ingest_counters")
        assert stored == rows and rejected == one(conn, "SELECT count(*) FROM dead_letters")[0] > 0
        # the fixed devices were in the fleet from the history's start; the vehicles joined when registered
        since = dict(conn.execute("SELECT device_type = 'hazmat_vehicle', min(registered_at) FROM devices"
                                  " GROUP BY 1").fetchall())
        assert since[False] == NOW - timedelta(days=30) and since[True] > NOW
        hourly = one(conn, "SELECT sum(n) FROM telemetry_1h WHERE device_id = 'rain-431002001-1'")[0]
        assert hourly == one(conn, "SELECT count(*) FROM telemetry WHERE device_id = 'rain-431002001-1'")[0]
        report = read_quality(conn, Month.parse("2026-11"), NOW)
    completeness = reporting_totals(device_reporting(report.devices)).completeness
    assert completeness is not None and 95 < completeness < 100  # per cent
    before = report.previous_fleet  # online on November 1st: a reading within 3 intervals of it
    assert 0.95 * before.devices < before.online <= before.devices


def test_readings_copy_back_as_written(demo_db: Callable[[], str]) -> None:
    """The binary COPY's rows read back field for field, a NULL tag (a device outside every grid) too."""
    dsn = demo_db()
    ts = np.array(["2026-11-19T23:59:59.250", "2026-11-20T00:00:00"], dtype="datetime64[us]")
    one_device = DeviceReadings("rain-x", "rain_1h", "431002", "431002001", None, ts, np.array([0.5, 12.25]),
                                ts + np.timedelta64(1500, "ms"), np.array([False, False]))
    data = HistoryData([one_device], [], pd.DataFrame(columns=["day", "source", "kind", "received", "stored",
                                                               "duplicates", "late", "rejected"]))
    with psycopg.connect(dsn) as conn:
        assert write_readings(conn, data, NOW) == 2
        got = conn.execute("SELECT ts, device_id, metric, value, district_code, township_code, grid_code,"
                           " ingested_at FROM telemetry ORDER BY ts").fetchall()
    utc = [datetime(2026, 11, 19, 23, 59, 59, 250000, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)]
    assert got == [(utc[0], "rain-x", "rain_1h", 0.5, "431002", "431002001", None, utc[0] + timedelta(seconds=1.5)),
                   (utc[1], "rain-x", "rain_1h", 12.25, "431002", "431002001", None, utc[1] + timedelta(seconds=1.5))]
