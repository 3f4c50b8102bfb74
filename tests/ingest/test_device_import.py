"""A city's devices from a CSV file (``python -m ingest devices register``) and the services' broker accounts
(``python -m ingest accounts issue ingest|alerts``): checked whole and reported row by row in the user's
language, nothing registered when any row is wrong; on the real database, run as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cityops.settings import PROJECT_ROOT
from ingest.device_import import BadDeviceFile, read_devices
from ingest.devices import StationLines
from layers.loader import load_demo_layers
from tests.fix_db import one
from tests.fix_system import new_database

HEADER = "device_id,device_type,dept,name,lon,lat,expected_interval_s,warning,guarantee,flood_limit\n"
GOOD = HEADER + ("rain-bh-101,rain_gauge,qx,北湖区雨量站101,113.02,25.79,300,,,\n"
                 "river-bh-7,river_gauge,sl,北湖区水位站7号,113.03,25.78,300,2.1,3.4,\n")


def _problems(text: str, lang: str = "zh") -> list[str]:
    with pytest.raises(BadDeviceFile) as caught:
        read_devices(text)
    return [p.text(lang) for p in caught.value.problems]


def test_a_good_file_with_excel_s_bom_and_a_station_s_lines() -> None:
    devices = read_devices("\ufeff" + GOOD)
    assert [d.device_id for d in devices] == ["rain-bh-101", "river-bh-7"]
    assert devices[0].lines is None and devices[1].lines == StationLines(2.1, 3.4)
    assert devices[1].expected_interval_s == 300 and devices[1].lon == 113.03


def test_a_device_behind_a_gateway_names_it() -> None:
    text = HEADER.replace("\n", ",gateway\n") + (
        "rain-bh-101,rain_gauge,qx,北湖区雨量站101,113.02,25.79,10,,,,gw-0001\n"
        "rain-bh-102,rain_gauge,qx,北湖区雨量站102,113.02,25.79,10,,,,\n")
    assert [d.gateway for d in read_devices(text)] == ["gw-0001", None]  # the second reports on its own topics
    bad = text.replace("gw-0001", "gw 1/x")
    assert _problems(bad, "en") == [
        "line 2, gateway: “gw 1/x” must be 1–64 letters, digits or _ . : - (one topic segment)"]


def test_every_problem_of_every_row_is_named_and_nothing_passes() -> None:
    bad = HEADER + ("rain/1,rain_gauge,qx,,113,25.8,300,,,\n"  # a slash splits a topic; no name
                    "rain-2,rain_gauge,qx,雨量站2,east,95,0,,,\n"  # not a longitude, latitude off the globe, 0 s
                    "river-3,river_gauge,sl,水位站3,113,25.8,300,3.4,2.1,\n"  # lines upside down
                    "river-4,river_gauge,sl,水位站4,113,25.8,300,2.1,,\n"  # a warning line alone
                    "rain-5,rain_gauge,qx,雨量站5,113,25.8,60,,,\n"
                    "rain-5,rain_gauge,qx,雨量站5again,113,25.8,60,,,\n")
    found = _problems(bad)
    assert found == [
        "第 2 行 device_id：“rain/1”须为 1–64 位字母、数字或 _ . : -（主题的一段）",
        "第 2 行 name：名称不能为空，最多 100 字",
        "第 3 行 lon：经度“east”不是 -180 到 180 之间的数",
        "第 3 行 lat：纬度“95”不是 -90 到 90 之间的数",
        "第 3 行 expected_interval_s：上报周期“0”须为 1 到 604800 之间的整数秒",
        "第 4 行 warning：须 汛限水位 < 保证水位 且 警戒水位 < 保证水位",
        "第 5 行 guarantee：警戒水位与保证水位须同时填写",
        "第 7 行 device_id：设备编号重复：rain-5 (6)",
    ]
    assert _problems(bad, "en")[2] == "line 3, lon: longitude “east” is not a number from -180 to 180"
    assert _problems("device_id,name\nx,y\n")[0] == "第 1 行 device_type：缺少此列"
    assert _problems(HEADER) == ["第 2 行 device_id：文件中没有设备"]
    assert _problems(HEADER + "r-1,rain_gauge,qx,r,113,25.8,300,nan,3,\n") == ["第 2 行 warning：“nan”不是数字"]


def _ingest(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_")} | {"CITYOPS_DATABASE_URL": dsn}
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_registered_from_the_command_line_tagged_and_given_accounts(pg_dsn: str, tmp_path: Path) -> None:
    dsn = new_database(pg_dsn)
    load_demo_layers(dsn)
    outside = tmp_path / "outside.csv"
    outside.write_text(GOOD + "rain-far,rain_gauge,qx,远方雨量站,116.4,39.9,300,,,\n", encoding="utf-8")
    refused = _ingest(dsn, "devices", "register", str(outside))
    assert refused.returncode == 2
    assert "第 4 行 lon：位置 116.4,39.9 不在任何镇街范围内，无法分拨" in refused.stderr
    assert "没有登记任何设备" in refused.stderr
    with psycopg.connect(dsn) as conn:
        assert one(conn, "SELECT count(*) FROM devices")[0] == 0

    good = tmp_path / "devices.csv"
    good.write_text(GOOD, encoding="utf-8")
    done = _ingest(dsn, "devices", "register", str(good))
    assert done.returncode == 0, done.stderr
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT device_id, district_code, township_code IS NOT NULL, expected_interval_s,"
                            " attributes FROM devices ORDER BY device_id").fetchall()
    assert rows == [("rain-bh-101", "431002", True, 300, {}),
                    ("river-bh-7", "431002", True, 300, {"lines": {"warning": 2.1, "guarantee": 3.4}})]

    issued = _ingest(dsn, "accounts", "issue", "ingest", "cityops-ingest-3")
    engine = _ingest(dsn, "accounts", "issue", "alerts", "cityops-alerts-3-outbox")
    device = _ingest(dsn, "accounts", "issue", "device", "river-bh-7")
    assert issued.returncode == engine.returncode == device.returncode == 0, issued.stderr + engine.stderr
    assert issued.stdout.split()[0] == "cityops-ingest-3" and len(issued.stdout.split()[1]) >= 16
    with psycopg.connect(dsn) as conn:
        kinds = dict(conn.execute("SELECT username, kind FROM broker_accounts WHERE retired_at IS NULL").fetchall())
    assert kinds == {"cityops-ingest-3": "ingest", "cityops-alerts-3-outbox": "alerts", "river-bh-7": "device"}
