"""The readings behind a demo history: what the fixed devices reported over the history's days.

A month of history is incidents (``simulator.history``) and the data ingest would have stored meanwhile, so
the data-quality page and its monthly report have a month to compare with: readings at each device's
expected interval (with a few outages, late deliveries and QoS-1 redeliveries), the dead letters a month of
field devices leaves, and the per-day, per-source ``ingest_counters`` that say exactly that. Rain and river
levels rise on the history's storm days in the storm's district (a river later than the rain), so the
readings agree with the flood incidents of those days.

Vehicles have no history: a vehicle's past is a track nobody reads back, so the demo's vehicles join the
fleet when the demo first starts (their ``registered_at`` stays then) and are expected only from then on.

``frames`` is pure (the seed, the devices and the window decide everything); ``write_readings`` writes them
over a caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import psycopg

from ingest.counters import LATE_AFTER, SourceKind, counter_day
from ingest.decode import DeadLetter, DeviceInfo, decode
from simulator.catalogue import RESERVOIR_BASE_M, RIVER_BASE_M

# What a fixed device reports, one metric each (simulator/world.py sends the same live).
METRIC_OF = {"rain_gauge": "rain_1h", "river_gauge": "water_level", "reservoir_gauge": "water_level",
             "gas_detector": "gas_lel", "smoke_detector": "smoke"}
OUTAGE_SHARE = 0.04  # devices silent once in the month (a flat battery, a cut cable): 6 h to 4 days
REDELIVERED = 0.001  # readings a gateway sent twice (QoS 1 after a reconnect): counted as duplicates
LATE_SHARE = 0.004  # readings that reached ingest 15–90 min after their time (a backlog after a dropout)
DEAD_PER_DAY = 12.0  # mean bad messages a day, city-wide
RIVER_LAG = timedelta(hours=3)  # a river crests this long after the rain over its catchment
STORM_HOURS = 8  # how long a history storm rains


@dataclass(frozen=True, slots=True)
class DeviceReadings:
    """One device's readings: its tags once, its times and values as arrays (naive UTC)."""

    device_id: str
    metric: str
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    ts: np.ndarray  # datetime64[us]
    value: np.ndarray  # float64
    ingested_at: np.ndarray  # datetime64[us]: when ingest committed it (late ones much after ``ts``)
    redelivered: np.ndarray  # bool: also received a second time (a duplicate row offered)


@dataclass(frozen=True, slots=True)
class HistoryData:
    """What ``write_readings`` writes: telemetry rows, dead letters, and the counters that count both."""

    readings: list[DeviceReadings]
    dead_letters: list[tuple[datetime, DeadLetter]]
    counters: pd.DataFrame  # day, source, kind, received, stored, duplicates, late, rejected ({reason: n})

    @property
    def rows(self) -> int:
        return sum(len(r.ts) for r in self.readings)


def _storm_rain(hours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """mm in the last hour through a storm of ``STORM_HOURS``: rises to a peak of 40–80 mm/h, then eases."""
    peak = rng.uniform(40, 80)
    return np.where((hours >= 0) & (hours < STORM_HOURS), peak * np.sin(np.pi * np.clip(hours, 0, STORM_HOURS)
                                                                         / STORM_HOURS) ** 2, 0.0)


def _values(device_type: str, ts: np.ndarray, storm_starts: list[np.datetime64],
            rng: np.random.Generator) -> np.ndarray:
    n = len(ts)
    if device_type == "rain_gauge":
        value = np.where(rng.random(n) < 0.15, np.minimum(rng.gamma(0.5, 0.8, n), 8.0), 0.0)  # drizzle at most
        for s in storm_starts:
            value += _storm_rain((ts - s) / np.timedelta64(1, "h"), rng)
        return np.round(np.minimum(value, 399.0), 1)
    if device_type in ("river_gauge", "reservoir_gauge"):
        river = device_type == "river_gauge"
        month = (ts - ts[0]) / np.timedelta64(30, "D") if n else np.zeros(0)
        base = RIVER_BASE_M if river else RESERVOIR_BASE_M
        value = np.asarray(base + 0.1 * np.sin(2 * np.pi * month) + rng.normal(0, 0.03, n), dtype=np.float64)
        lag = RIVER_LAG if river else RIVER_LAG * 1.5  # a reservoir fills slower than a river rises
        for s in storm_starts:  # a crest of 1.5–3 m (past many a station's 警戒水位), falling back over a day
            hours = (ts - s - np.timedelta64(int(lag.total_seconds()), "s")) / np.timedelta64(1, "h")
            value += np.where(hours > 0, rng.uniform(1.5, 3.0) * hours / 6 * np.exp(1 - hours / 6), 0.0)
        return np.round(value, 2)
    if device_type == "gas_detector":
        return np.round(np.abs(rng.normal(1.0, 0.8, n)), 1)
    return np.zeros(n)  # smoke: nothing burning


def _storm_starts(storms: Mapping[int, str], start: datetime, rng: np.random.Generator
                  ) -> dict[str, list[np.datetime64]]:
    """When the rain of each history storm began, per district it fell on: a morning or afternoon hour of
    its day, the same for every station of the district."""
    day0 = np.datetime64(start.replace(tzinfo=None), "s")
    out: dict[str, list[np.datetime64]] = {}
    for day, code in sorted(storms.items()):
        out.setdefault(code, []).append(day0 + np.timedelta64(day, "D") + np.timedelta64(int(rng.integers(6, 14)), "h"))
    return out


def _device_readings(d: pd.Series, start: datetime, end: datetime, storms: Mapping[str, list[np.datetime64]],
                     rng: np.random.Generator) -> DeviceReadings:
    step = np.timedelta64(int(d["expected_interval_s"]), "s")
    first = np.datetime64(start.replace(tzinfo=None), "s") + np.timedelta64(int(rng.integers(0, step.astype(int))), "s")
    ts = np.arange(first, np.datetime64(end.replace(tzinfo=None), "s"), step)
    if rng.random() < OUTAGE_SHARE and len(ts):
        gone = ts[int(rng.integers(len(ts)))]
        ts = ts[(ts < gone) | (ts >= gone + np.timedelta64(int(rng.uniform(6, 96) * 3600), "s"))]
    delay = rng.uniform(0.2, 3.0, len(ts))  # seconds from the reading to its commit
    late = rng.random(len(ts)) < LATE_SHARE
    delay[late] = rng.uniform(15, 90, int(late.sum())) * 60
    stamps = ts.astype("datetime64[us]")
    return DeviceReadings(
        str(d["device_id"]), METRIC_OF[d["device_type"]], d["district_code"], d["township_code"], d["grid_code"],
        stamps, _values(d["device_type"], ts, storms.get(str(d["district_code"]), []), rng),
        stamps + (delay * 1e6).astype("timedelta64[us]"), rng.random(len(ts)) < REDELIVERED)


def _bad_messages(devices: pd.DataFrame, start: datetime, end: datetime, city: str, rng: np.random.Generator
                  ) -> list[tuple[datetime, DeadLetter]]:
    """A month's bad messages as field devices send them, each judged by ingest's own decoder (so the
    reason and detail are what ingest would have written)."""
    known = {str(r.device_id): DeviceInfo(str(r.device_type), float(r.lon), float(r.lat), r.district_code,
                                          r.township_code, r.grid_code) for r in devices.itertuples()}
    span = (end - start).total_seconds()
    out: list[tuple[datetime, DeadLetter]] = []
    if devices.empty:
        return out
    for _ in range(int(rng.poisson(DEAD_PER_DAY * span / 86400))):
        at = start + timedelta(seconds=float(rng.uniform(0, span)))
        d = devices.iloc[int(rng.integers(len(devices)))]
        metric = METRIC_OF[d["device_type"]]
        device_id = str(d["device_id"])
        stamp = at.isoformat()
        kind = rng.choice(["range", "truncated", "schema", "unknown", "clock"], p=[0.35, 0.2, 0.15, 0.15, 0.15])
        if kind == "range":  # a sensor fault reads its full scale
            body: bytes = json.dumps({"ts": stamp, "values": {metric: 99999.0}}).encode()
        elif kind == "truncated":  # cut off mid-message by a flaky link
            body = json.dumps({"ts": stamp, "values": {metric: 1.0}}).encode()[:-7]
        elif kind == "schema":  # an old firmware's field name
            body = json.dumps({"time": stamp, "value": 1.0}).encode()
        elif kind == "unknown":  # a device installed but not yet registered
            device_id = f"{device_id.rsplit('-', 1)[0]}-{int(rng.integers(50, 99))}"
            body = json.dumps({"ts": stamp, "values": {metric: 1.0}}).encode()
        else:  # a gateway whose clock reset to its epoch
            body = json.dumps({"ts": "2000-01-01T00:00:00+08:00", "values": {metric: 1.0}}).encode()
        topic = f"city/{city}/telemetry/{d['dept']}/{d['device_type']}/{device_id}"
        judged = decode(topic, body, city=city, now=at, devices=known.get)
        assert isinstance(judged, DeadLetter), f"a history bad message passed ingest's checks: {body!r}"
        out.append((at, judged))
    return sorted(out, key=lambda item: item[0])


def _counters(readings: list[DeviceReadings], devices: pd.DataFrame, dead: list[tuple[datetime, DeadLetter]]
              ) -> pd.DataFrame:
    """Per Shanghai day of ingest and source (``dept/device_type``), as ingest counts them."""
    source_of = dict(zip(devices["device_id"], devices["dept"] + "/" + devices["device_type"], strict=True))
    shanghai = np.timedelta64(8, "h")  # Asia/Shanghai keeps no daylight saving: a day is UTC+8's
    parts = [pd.DataFrame({"day": (r.ingested_at + shanghai).astype("datetime64[D]"), "source": source_of[r.device_id],
                           "late": r.ingested_at - r.ts > np.timedelta64(int(LATE_AFTER.total_seconds()), "s"),
                           "dup": r.redelivered}) for r in readings]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"day": [], "source": [], "late": [], "dup": []})
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    per = rows.groupby(["day", "source"]).agg(stored=("late", "size"), late=("late", "sum"),
                                              duplicates=("dup", "sum"))
    per["received"] = per["stored"] + per["duplicates"]  # one reading a message, a redelivery a message again
    per["rejected"] = [{} for _ in range(len(per))]
    for at, letter in dead:
        key = (counter_day(at), "/".join(letter.topic.split("/")[3:5]))
        if key not in per.index:
            per.loc[key, ["stored", "late", "duplicates", "received"]] = 0
            per.at[key, "rejected"] = {}
        per.at[key, "received"] += 1
        seen = per.at[key, "rejected"]
        per.at[key, "rejected"] = {**seen, letter.reason.value: seen.get(letter.reason.value, 0) + 1}
    out = per.reset_index()
    out["kind"] = SourceKind.TELEMETRY.value
    return out[["day", "source", "kind", "received", "stored", "duplicates", "late", "rejected"]]


def frames(devices: pd.DataFrame, start: datetime, end: datetime, storms: Mapping[int, str], seed: int,
           city: str) -> HistoryData:
    """The readings of the fixed ``devices`` (device_id, device_type, dept, lon, lat, district_code,
    township_code, grid_code, expected_interval_s) over [start, end), the same for the same arguments;
    ``storms`` maps a day of the window (0 = the one starting at ``start``) to the district it rained on."""
    fixed = devices[devices["device_type"].isin(list(METRIC_OF))].sort_values("device_id").reset_index(drop=True)
    rng = np.random.default_rng([seed, 8])
    rains = _storm_starts(storms, start, rng)
    readings = [_device_readings(d, start, end, rains, rng) for _, d in fixed.iterrows()]
    dead = _bad_messages(fixed, start, end, city, rng)
    return HistoryData(readings, dead, _counters(readings, fixed, dead))


COLUMNS = ("ts", "device_id", "metric", "value", "district_code", "township_code", "grid_code", "ingested_at")
_PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")  # PostgreSQL's binary timestamps count from here
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, no flags, no header extension


def copy_rows(r: DeviceReadings) -> bytes:
    """``r`` in COPY's binary format (``COLUMNS``), built as one numpy record array: every row has the same
    layout, the device's tags the same bytes, so nothing is formatted row by row."""
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    constants: dict[str, object] = {"fields": len(COLUMNS)}
    for name in COLUMNS:
        layout.append((f"{name}_len", ">i4"))
        if name in ("ts", "ingested_at"):
            layout.append((name, ">i8"))
            constants[f"{name}_len"] = 8
        elif name == "value":
            layout.append((name, ">f8"))
            constants[f"{name}_len"] = 8
        else:
            text = getattr(r, name)
            if text is None:
                constants[f"{name}_len"] = -1  # NULL: a length of -1 and no bytes
                continue
            raw = str(text).encode()
            layout.append((name, f"S{len(raw)}"))
            constants[f"{name}_len"], constants[name] = len(raw), raw
    rows = np.empty(len(r.ts), dtype=np.dtype(layout))
    for name, value in constants.items():
        rows[name] = value
    rows["ts"] = (r.ts - _PG_EPOCH).astype("int64")
    rows["ingested_at"] = (r.ingested_at - _PG_EPOCH).astype("int64")
    rows["value"] = r.value
    return rows.tobytes()


def write_readings(conn: psycopg.Connection, data: HistoryData, start: datetime,
                   say: Callable[[str], None] = lambda _line: None, devices_per_copy: int = 100) -> int:
    """Write ``data`` in ``conn``'s transaction: the fixed devices registered from ``start``, then the rows
    (binary COPY, ``devices_per_copy`` devices at a time with a progress line), dead letters and counters;
    returns the rows written."""
    conn.execute("UPDATE devices SET registered_at = %s WHERE device_id = ANY(%s) AND registered_at > %s",
                 (start, [r.device_id for r in data.readings], start))
    total, done, pending = data.rows, 0, 0
    with conn.cursor() as cur:
        copy_sql = f"COPY telemetry ({', '.join(COLUMNS)}) FROM STDIN (FORMAT binary)"
        for first in range(0, len(data.readings), devices_per_copy):
            with cur.copy(copy_sql) as copy:
                copy.write(_COPY_HEADER)
                for r in data.readings[first:first + devices_per_copy]:
                    copy.write(copy_rows(r))
                    pending += len(r.ts)
                copy.write(b"\xff\xff")  # the trailer: a field count of -1
            done, pending = done + pending, 0
            say(f"history: readings {done:,}/{total:,}")
        cur.executemany("INSERT INTO dead_letters (received_at, topic, payload, reason, detail) VALUES (%s, %s, %s,"
                        " %s, %s)", [(at, d.topic, d.payload, d.reason.value, d.detail) for at, d in data.dead_letters])
        cur.executemany(
            "INSERT INTO ingest_counters (day, source, kind, received, stored, duplicates, late, rejected)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (day, source) DO UPDATE SET"
            " received = ingest_counters.received + excluded.received,"
            " stored = ingest_counters.stored + excluded.stored,"
            " duplicates = ingest_counters.duplicates + excluded.duplicates,"
            " late = ingest_counters.late + excluded.late,"
            " rejected = ingest_add_counts(ingest_counters.rejected, excluded.rejected)",
            [(r.day, r.source, r.kind, int(r.received), int(r.stored), int(r.duplicates), int(r.late),
              json.dumps(r.rejected)) for r in data.counters.itertuples()])
    return total
