"""The readings behind the demo history (simulator.history_readings), pure: what a data-quality reviewer
would check of a month of them. The counters count exactly the rows and dead letters written, every bad
message is one ingest's own decoder refuses, rows keep to each device's interval inside the window, the
storm's rain falls where and when the history's floods are, and the rivers there crest hours later."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ingest.counters import LATE_AFTER, counter_day
from layers.geo import demo_layers, tag_points
from simulator.catalogue import RESERVOIR_BASE_M, RIVER_BASE_M, build_catalogue
from simulator.history_readings import METRIC_OF, RIVER_LAG, HistoryData, frames

END = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
DAYS = 6
START = END - timedelta(days=DAYS)
STORM_DAY, STORM_DISTRICT = 2, "431002"


@pytest.fixture(scope="module")
def devices() -> pd.DataFrame:
    layers = demo_layers()
    catalogue = build_catalogue(layers.townships)
    tags = tag_points([d.lon for d in catalogue], [d.lat for d in catalogue], layers)
    return pd.DataFrame({
        "device_id": [d.device_id for d in catalogue], "device_type": [d.device_type for d in catalogue],
        "dept": [d.dept for d in catalogue], "lon": [d.lon for d in catalogue], "lat": [d.lat for d in catalogue],
        "district_code": list(tags["district_code"]), "township_code": list(tags["township_code"]),
        "grid_code": list(tags["grid_code"]), "expected_interval_s": [d.expected_interval_s for d in catalogue]})


@pytest.fixture(scope="module")
def data(devices: pd.DataFrame) -> HistoryData:
    return frames(devices, START, END, {STORM_DAY: STORM_DISTRICT}, 11, "chenzhou")


def _rows(data: HistoryData) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"device_id": r.device_id, "ts": r.ts, "value": r.value,
                                    "ingested_at": r.ingested_at, "redelivered": r.redelivered})
                      for r in data.readings], ignore_index=True)


def test_the_same_seed_writes_the_same_month(devices: pd.DataFrame, data: HistoryData) -> None:
    again = frames(devices, START, END, {STORM_DAY: STORM_DISTRICT}, 11, "chenzhou")
    other = frames(devices, START, END, {STORM_DAY: STORM_DISTRICT}, 12, "chenzhou")
    assert _rows(again).equals(_rows(data)) and again.counters.equals(data.counters)
    assert [(at, d.payload) for at, d in again.dead_letters] == [(at, d.payload) for at, d in data.dead_letters]
    assert not _rows(other).equals(_rows(data))


def test_fixed_devices_report_at_their_interval_inside_the_window(devices: pd.DataFrame, data: HistoryData) -> None:
    fixed = devices[devices["device_type"].isin(list(METRIC_OF))]
    assert {r.device_id for r in data.readings} == set(fixed["device_id"])  # every fixed device, no vehicle
    interval = dict(zip(devices["device_id"], devices["expected_interval_s"], strict=True))
    start, end = np.datetime64(START.replace(tzinfo=None)), np.datetime64(END.replace(tzinfo=None))
    with_gaps = 0
    expected = received = 0
    for r in data.readings:
        assert start <= r.ts.min() and r.ts.max() < end and (r.ingested_at > r.ts).all()
        steps = np.diff(r.ts) // np.timedelta64(1, "s")
        assert (steps % interval[r.device_id] == 0).all()  # on its cadence; a longer step is an outage
        with_gaps += bool((steps > interval[r.device_id]).any())
        expected += DAYS * 86400 // interval[r.device_id]
        received += len(r.ts)
    assert 0 < with_gaps < 0.1 * len(data.readings)  # a few devices went silent for a while
    assert 0.95 < received / expected <= 1.0


def test_the_counters_count_exactly_what_was_written(devices: pd.DataFrame, data: HistoryData) -> None:
    rows = _rows(data)
    source = dict(zip(devices["device_id"], devices["dept"] + "/" + devices["device_type"], strict=True))
    rows["source"] = rows["device_id"].map(source)
    rows["day"] = [counter_day(t.to_pydatetime().replace(tzinfo=UTC)) for t in rows["ingested_at"]]
    rows["late"] = rows["ingested_at"] - rows["ts"] > pd.Timedelta(LATE_AFTER)
    stored = rows.groupby(["day", "source"]).size()
    late = rows.groupby(["day", "source"])["late"].sum()
    dups = rows.groupby(["day", "source"])["redelivered"].sum()
    rejected: Counter[tuple[object, str]] = Counter(
        (counter_day(at), "/".join(d.topic.split("/")[3:5])) for at, d in data.dead_letters)
    for c in data.counters.itertuples():
        key = (c.day, c.source)
        assert c.stored == stored.get(key, 0) and c.late == late.get(key, 0)
        assert c.duplicates == dups.get(key, 0)
        assert sum(c.rejected.values()) == rejected[key]
        assert c.received == c.stored + c.duplicates + sum(c.rejected.values())
    assert int(data.counters["stored"].sum()) == data.rows == len(rows)
    assert 0 < int(data.counters["late"].sum()) < 0.01 * data.rows  # a few late, as a month of field data has


def test_bad_messages_are_those_ingest_refuses_with_its_reasons(data: HistoryData) -> None:
    reasons = Counter(d.reason.value for _, d in data.dead_letters)
    assert set(reasons) >= {"out_of_range", "not_json", "bad_schema", "unknown_device", "bad_timestamp"}
    assert all(START <= at < END and d.detail for at, d in data.dead_letters)


def test_the_storm_rains_on_its_district_and_its_rivers_crest_later(devices: pd.DataFrame, data: HistoryData) -> None:
    district = dict(zip(devices["device_id"], devices["district_code"], strict=True))
    day = np.datetime64((START + timedelta(days=STORM_DAY)).replace(tzinfo=None), "us")
    rain = [r for r in data.readings if r.metric == "rain_1h"]
    hit = [r for r in rain if district[r.device_id] == STORM_DISTRICT]
    assert hit and all(r.value[(r.ts >= day) & (r.ts < day + np.timedelta64(1, "D"))].max() > 30 for r in hit)
    assert max(r.value.max() for r in rain if district[r.device_id] != STORM_DISTRICT) < 15
    kinds = dict(zip(devices["device_id"], devices["device_type"], strict=True))
    levels = [r for r in data.readings if r.metric == "water_level" and district[r.device_id] == STORM_DISTRICT]
    assert {kinds[r.device_id] for r in levels} == {"river_gauge", "reservoir_gauge"}
    for gauge in levels:
        same_town = next(r for r in hit if r.device_id.split("-")[1] == gauge.device_id.split("-")[1])
        rain_peak = same_town.ts[np.argmax(same_town.value)]
        crest = gauge.ts[np.argmax(gauge.value)]
        river = kinds[gauge.device_id] == "river_gauge"
        lag = RIVER_LAG if river else RIVER_LAG * 1.5  # a reservoir fills slower
        assert crest - rain_peak >= np.timedelta64(int(lag.total_seconds()), "s")
        base = RIVER_BASE_M if river else RESERVOIR_BASE_M
        assert gauge.value.max() > base + 1.3 > base + 0.2 > np.median(gauge.value)
