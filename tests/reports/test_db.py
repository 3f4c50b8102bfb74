"""The data-quality report's reads against a real database in both schema flavours: two months of
counters, dead letters and readings with rows on both sides of midnight in Shanghai, and ``python -m
reports`` writing the file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from docx import Document
from psycopg.types.json import Jsonb

from cityops.settings import PROJECT_ROOT
from reports.__main__ import main
from reports.month import Month
from reports.quality_figures import compute
from reports.quality_reads import Fleet, read_quality
from tests.fix_db import migrated_timescale
from tests.fix_system import new_database

NOVEMBER = Month(2026, 11)
LATER = datetime(2026, 12, 5, tzinfo=UTC)  # both months are over
# (day, source, kind, received, stored, duplicates, rejected, late): 31 Oct and 1 Dec lie outside November
COUNTERS = [
    (date(2026, 10, 31), "qx/rain_gauge", "telemetry", 100, 95, 2, {"out_of_range": 3}, 1),
    (date(2026, 11, 1), "qx/rain_gauge", "telemetry", 200, 190, 4, {"out_of_range": 4, "not_json": 2}, 5),
    (date(2026, 11, 30), "qx/rain_gauge", "telemetry", 300, 300, 0, {}, 0),
    (date(2026, 11, 15), "hotline12345", "event", 50, 49, 1, {"bad_schema": 1}, 0),
    (date(2026, 11, 20), "(bad_topic)", "bad_topic", 7, 0, 0, {"bad_topic": 7}, 0),
    (date(2026, 12, 1), "qx/rain_gauge", "telemetry", 999, 999, 0, {}, 0),
]
# (received_at UTC, reason): Shanghai is UTC+8, so 16:00 UTC is the next day's midnight there
DEAD_LETTERS = [
    (datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), "bad_schema", "October's last second"),
    (datetime(2026, 10, 31, 16, 0, 0, tzinfo=UTC), "not_json", "November's first second"),
    (datetime(2026, 11, 10, 4, 0, 0, tzinfo=UTC), "out_of_range", "rain_mm=-5"),
    (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "not_json", "November's last second"),
    (datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC), "too_large", "December's first second"),
]
# (device, type, dept, registered (Shanghai)): gas-c never reports in November, dev-d comes in December
DEVICES = [
    ("rain-a", "rain_gauge", "qx", "2026-10-01 00:00+08"),
    ("smoke-b", "smoke_detector", "xf", "2026-11-16 00:00+08"),
    ("gas-c", "gas_detector", "yj", "2026-10-01 00:00+08"),
    ("dev-d", "rain_gauge", "qx", "2026-12-02 00:00+08"),
]
# rain-a: every minute of November but 10 Nov (two metrics, one only hourly), and 23:59 on 31 Oct;
# smoke-b: every two minutes from its registration; gas-c: only at 00:00:30 on 1 Dec (after the month).
READINGS = """
INSERT INTO telemetry (ts, device_id, metric, value)
SELECT ts, 'rain-a', metric, 0 FROM (
    SELECT ts, 'rain_mm' AS metric
    FROM generate_series(timestamptz '2026-11-01 00:00+08', '2026-11-30 23:59+08', interval '1 minute') AS ts
    UNION ALL
    SELECT ts, 'battery_v'
    FROM generate_series(timestamptz '2026-11-01 00:00+08', '2026-11-30 23:00+08', interval '1 hour') AS ts
) AS rain WHERE NOT (ts >= '2026-11-10 00:00+08' AND ts < '2026-11-11 00:00+08')
UNION ALL SELECT timestamptz '2026-10-31 23:59+08', 'rain-a', 'rain_mm', 0
UNION ALL SELECT ts, 'smoke-b', 'smoke', 0 FROM generate_series(timestamptz '2026-11-16 00:00+08',
                                                                timestamptz '2026-11-30 23:58+08', '2 minutes') AS ts
UNION ALL SELECT timestamptz '2026-12-01 00:00:30+08', 'gas-c', 'gas_lel', 0
"""


def fill(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        for day, source, kind, received, stored, duplicates, rejected, late in COUNTERS:
            conn.execute("INSERT INTO ingest_counters (day, source, kind, received, stored, duplicates, rejected, late)"
                         " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (day, source, kind, received, stored, duplicates, Jsonb(rejected), late))
        conn.execute("INSERT INTO events (ts, source_system, event_id, dept, category, title, payload)"
                     " VALUES ('2026-11-15 10:00+08', 'hotline12345', 'e1', 'zw', 'noise', '噪音扰民', '{}')")
        for at, reason, detail in DEAD_LETTERS:
            conn.execute("INSERT INTO dead_letters (received_at, topic, payload, reason, detail)"
                         " VALUES (%s, 'city/chenzhou/telemetry/qx/rain_gauge/rain-a', %s, %s, %s)",
                         (at, b"\x00" + detail.encode(), reason, detail))
        for device_id, device_type, dept, registered in DEVICES:
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, expected_interval_s,"
                         " registered_at) VALUES (%s, %s, %s, %s, 113.0, 25.8, 60, %s)",
                         (device_id, device_type, dept, f"测试{device_id}", registered))
        conn.execute(READINGS)


@pytest.fixture(scope="module", params=["plain", "timescale"])
def dsn(request: pytest.FixtureRequest, pg_dsn: str) -> Iterator[str]:
    """The same months in both schema flavours: plain PostgreSQL, and TimescaleDB 2.23 (in PGlite), where
    ``telemetry_1h`` is a continuous aggregate. PGlite takes one connection at a time, as every test here uses."""
    if request.param == "plain":
        dsn = new_database(pg_dsn)
        fill(dsn)
        yield dsn
        return
    with migrated_timescale() as dsn:
        fill(dsn)
        yield dsn


def test_a_month_is_read_within_its_shanghai_bounds(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        figures = read_quality(conn, NOVEMBER, LATER)
    assert figures.as_of == NOVEMBER.end
    assert sorted(set(figures.counters["day"])) == [date(2026, 11, 1), date(2026, 11, 15), date(2026, 11, 20),
                                                    date(2026, 11, 30)]
    assert list(figures.previous_counters["day"]) == [date(2026, 10, 31)]
    hotline = figures.counters[figures.counters["source"] == "hotline12345"].iloc[0]
    assert (hotline["dept"], hotline["rejected_n"]) == ("zw", 1)  # an event source's department, from its events
    # newest of each reason within [1 Nov 00:00, 1 Dec 00:00) Shanghai: not the October or December seconds
    dead = figures.dead_letters.set_index("reason")["detail"].to_dict()
    assert dead == {"not_json": "November's last second", "out_of_range": "rain_mm=-5"}
    # at 1 Dec 00:00 Shanghai: rain-a (23:59) and smoke-b (23:58) within 3 × 60 s; gas-c's reading comes after
    assert figures.fleet == Fleet(devices=3, online=2)
    assert figures.previous_fleet == Fleet(devices=2, online=1)  # at 1 Nov: rain-a (23:59 on 31 Oct), gas-c
    devices = figures.devices.set_index("device_id")
    assert "dev-d" not in devices.index
    assert tuple(devices.loc["rain-a", ["active_s", "reports", "hours"]]) == (30 * 86_400, 41_760, 696)
    assert tuple(devices.loc["smoke-b", ["active_s", "reports", "hours"]]) == (15 * 86_400, 10_800, 360)
    assert tuple(devices.loc["gas-c", ["reports", "hours"]]) == (0, 0)


def test_the_months_numbers(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        report = compute(read_quality(conn, NOVEMBER, LATER))
    t = report.totals
    assert (t.received, t.stored, t.duplicates, t.rejected, t.late) == (557, 539, 5, 14, 5)
    assert (report.previous.received, report.previous.rejected) == (100, 3)
    assert report.changes.received == pytest.approx(457.0)
    assert report.changes.online_rate == pytest.approx(100 * 2 / 3 - 50)
    assert dict(zip(report.reasons["reason"], report.reasons["n"], strict=True)) == {
        "bad_topic": 7, "out_of_range": 4, "not_json": 2, "bad_schema": 1}
    assert list(report.examples["reason"]) == ["out_of_range", "not_json"]  # by frequency, bad_topic has none kept
    assert list(report.worst["device_id"]) == ["gas-c", "smoke-b", "rain-a"]
    assert list(report.worst["missing"]) == [43_200, 10_800, 1_440]
    assert list(report.worst["silent_hours"]) == [720, 0, 24]
    daily = report.daily.set_index("day")["received"]
    assert (daily[date(2026, 11, 1)], daily[date(2026, 11, 2)], daily[date(2026, 11, 30)]) == (200, 0, 300)


def test_a_month_in_progress_ends_at_the_clock(dsn: str) -> None:
    now = datetime(2026, 11, 16, 4, 0, tzinfo=UTC)  # 12:00 on 16 Nov in Shanghai
    with psycopg.connect(dsn) as conn:
        report = compute(read_quality(conn, NOVEMBER, now))
        with pytest.raises(ValueError, match="has not begun"):
            read_quality(conn, Month(2026, 12), now)
    assert report.figures.as_of == now and not report.as_of_end
    assert report.daily["day"].iloc[-1] == date(2026, 11, 16)
    smoke = report.figures.devices.set_index("device_id").loc["smoke-b"]
    assert smoke["active_s"] == 12 * 3600  # registered at midnight, read at noon


def test_the_cli_writes_the_report(dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "月报.docx"
    env = {**os.environ, "CITYOPS_DATABASE_URL": dsn}  # the database every cityops process is configured with
    done = subprocess.run([sys.executable, "-m", "reports", "quality", "--month", "2026-10", "--out", str(out)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = Document(io.BytesIO(out.read_bytes()))
    text = [p.text for p in doc.paragraphs]
    assert text[0] == "郴州市一网统管 数据质量月报 2026年10月"
    summary = next(p for p in text if p.startswith("2026年10月，"))
    assert "接收消息 100 条，入库数据 95 行；拒收 3 条，拒收率 3.0%；" in summary  # September had nothing to compare
    assert "截至月末，登记设备 2 台，在线 1 台，在线率 50.0%（环比 +50.00 个百分点）" in summary
    assert "上月无接收数据，消息类指标不作环比。" in text


def test_the_cli_in_english_and_its_refusals(dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["quality", "--month", "2026-11", "--lang", "en", "--dsn", dsn], now=LATER) == 0
    written = tmp_path / "data-quality-report_2026-11.docx"  # the report's own name, in the current folder
    text = [p.text for p in Document(str(written)).paragraphs]
    assert text[0] == "Chenzhou City Operations: Data-Quality Report, November 2026"
    assert "sent 557 messages (+457.0% on the previous month)" in text[4]
    assert "2 of 3 registered devices were online, an online rate of 66.7% (+16.67 pp" in text[4]
    assert main(["quality", "--month", "2027-01", "--dsn", dsn], now=LATER) == 2
    assert "2027-01 has not begun" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["quality", "--month", "2026-13", "--dsn", dsn], now=LATER)
