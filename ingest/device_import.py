"""A city's device list from a CSV file, checked whole before anything is registered; pure, no I/O.

``python -m ingest devices register FILE.csv`` reads it (``ingest.__main__``). Columns, header first:
``device_id,device_type,dept,name,lon,lat,expected_interval_s`` and, for water-level stations,
``warning,guarantee,flood_limit`` (警戒水位, 保证水位, 汛限水位, metres; empty where a station has none), and
``gateway`` for a device whose readings a gateway relays in its batches (the gateway's broker account name).
Every problem of every row is reported (the row number, the column, what is wrong, in the user's
language), and a file with any problem registers nothing: half a fleet registered is worse than none.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from ingest.devices import DeviceSpec, StationLines
from ingest.topics import is_segment

REQUIRED = ("device_id", "device_type", "dept", "name", "lon", "lat", "expected_interval_s")
LINES = ("warning", "guarantee", "flood_limit")
OPTIONAL = (*LINES, "gateway")
MAX_INTERVAL_S = 7 * 86400  # a device that reports less than weekly is not watched for silence
MESSAGES: dict[str, tuple[str, str]] = {  # zh, en (ingest does not import i18n: layers/report.py does the same)
    "row": ('第 {row} 行 {column}：{problem}',
            'line {row}, {column}: {problem}'),
    "segment": ('“{value}”须为 1–64 位字母、数字或 _ . : -（主题的一段）',
            '“{value}” must be 1–64 letters, digits or _ . : - (one topic segment)'),
    "name": ('名称不能为空，最多 100 字',
            'a name is needed, at most 100 characters'),
    "lon": ('经度“{value}”不是 -180 到 180 之间的数',
            'longitude “{value}” is not a number from -180 to 180'),
    "lat": ('纬度“{value}”不是 -90 到 90 之间的数',
            'latitude “{value}” is not a number from -90 to 90'),
    "interval": ('上报周期“{value}”须为 1 到 604800 之间的整数秒',
            'reporting interval “{value}” must be whole seconds from 1 to 604800'),
    "number": ('“{value}”不是数字',
            '“{value}” is not a number'),
    "lines_pair": ('警戒水位与保证水位须同时填写',
            'warning and guarantee lines go together'),
    "lines_order": ('须 汛限水位 < 保证水位 且 警戒水位 < 保证水位',
            'the flood limit and the warning line must be below the guarantee line'),
    "column_missing": ('缺少此列',
            'the column is missing'),
    "duplicate": ('设备编号重复：{value}',
            'device id repeated: {value}'),
    "empty": ('文件中没有设备',
            'the file lists no device'),
    "outside": ('位置 {value} 不在任何镇街范围内，无法分拨',
            'site {value} is in no township: nothing it reports could be routed'),
}


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  # the file's line number (the header is 1)
    column: str
    key: str  # of MESSAGES
    value: str = ""

    def text(self, lang: str) -> str:
        pick = 1 if lang == "en" else 0
        return MESSAGES["row"][pick].format(row=self.row, column=self.column,
                                            problem=MESSAGES[self.key][pick].format(value=self.value))


class BadDeviceFile(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _row(n: int, row: dict[str, str], problems: list[Problem]) -> DeviceSpec | None:
    found = len(problems)
    get = {k: (row.get(k) or "").strip() for k in (*REQUIRED, *OPTIONAL)}
    for column in ("device_id", "device_type", "dept", *(("gateway",) if get["gateway"] else ())):
        if not is_segment(get[column]):
            problems.append(Problem(n, column, "segment", get[column]))
    if not get["name"] or len(get["name"]) > 100:
        problems.append(Problem(n, "name", "name"))
    lon, lat = _number(get["lon"]), _number(get["lat"])
    if lon is None or not -180 <= lon <= 180:
        problems.append(Problem(n, "lon", "lon", get["lon"]))
    if lat is None or not -90 <= lat <= 90:
        problems.append(Problem(n, "lat", "lat", get["lat"]))
    interval = get["expected_interval_s"]
    if not interval.isdigit() or not 1 <= int(interval) <= MAX_INTERVAL_S:
        problems.append(Problem(n, "expected_interval_s", "interval", interval))
    lines = None
    given = {k: _number(get[k]) for k in LINES if get[k]}
    numbers = {k: v for k, v in given.items() if v is not None}
    problems.extend(Problem(n, k, "number", get[k]) for k in given if k not in numbers)
    if numbers and len(numbers) == len(given):
        if "warning" not in numbers or "guarantee" not in numbers:
            problems.append(Problem(n, "warning" if "warning" not in numbers else "guarantee", "lines_pair"))
        else:
            try:
                lines = StationLines(numbers["warning"], numbers["guarantee"], numbers.get("flood_limit"))
            except ValueError:
                problems.append(Problem(n, "warning", "lines_order"))
    if len(problems) > found:
        return None
    assert lon is not None and lat is not None
    return DeviceSpec(get["device_id"], get["device_type"], get["dept"], get["name"], lon, lat, int(interval), lines,
                      get["gateway"] or None)


def read_devices(text: str) -> list[DeviceSpec]:
    """The devices of a CSV text; raises ``BadDeviceFile`` with every problem found."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel's UTF-8 files start with a BOM
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise BadDeviceFile([Problem(1, c, "column_missing") for c in missing])
    problems: list[Problem] = []
    devices: list[DeviceSpec] = []
    first_row: dict[str, int] = {}
    for n, row in enumerate(reader, start=2):
        device = _row(n, row, problems)
        if device is None:
            continue
        if device.device_id in first_row:
            problems.append(Problem(n, "device_id", "duplicate", f"{device.device_id} ({first_row[device.device_id]})"))
            continue
        first_row[device.device_id] = n
        devices.append(device)
    if not devices and not problems:
        problems.append(Problem(2, "device_id", "empty"))
    if problems:
        raise BadDeviceFile(problems)
    return devices


def outside(devices: list[DeviceSpec], townships: list[str | None]) -> list[Problem]:
    """The devices whose site lies in no township of the active layers (``townships`` as tagged, in order):
    nothing could route what they report."""
    return [Problem(i + 2, "lon", "outside", f"{d.lon},{d.lat}")
            for i, (d, code) in enumerate(zip(devices, townships, strict=True)) if code is None]
