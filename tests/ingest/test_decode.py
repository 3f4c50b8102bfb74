"""Every way a payload can be wrong has a named dead-letter reason; good ones become typed rows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.decode import (
    MAX_PAYLOAD_BYTES,
    DeadLetter,
    Decoded,
    DeviceInfo,
    DeviceLookup,
    DeviceStatus,
    Event,
    Reading,
    Reason,
    decode,
)
from ingest.topics import EventTopic, GatewayTopic, StatusTopic, TelemetryTopic, parse_topic, subscriptions

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
GAUGE = DeviceInfo("rain_gauge", 113.0, 25.8, "431002", "431002001", "431002001001")
TOPIC = "city/chenzhou/telemetry/qx/rain_gauge/rain-1"


def devices(device_id: str) -> DeviceInfo | None:
    return GAUGE if device_id == "rain-1" else None


def run(topic: str, payload: bytes | str | object) -> Decoded:
    raw = payload if isinstance(payload, bytes) else (payload if isinstance(payload, str) else json.dumps(payload))
    raw = raw.encode() if isinstance(raw, str) else raw
    return decode(topic, raw, city="chenzhou", now=NOW, devices=devices)


def test_topics_parse() -> None:
    assert parse_topic(TOPIC, "chenzhou") == TelemetryTopic("qx", "rain_gauge", "rain-1")
    assert parse_topic("city/chenzhou/event/zw/hotline12345", "chenzhou") == EventTopic("zw", "hotline12345")
    assert parse_topic("city/chenzhou/status/rain-1", "chenzhou") == StatusTopic("rain-1")
    assert parse_topic("city/other/status/rain-1", "chenzhou") is None
    assert parse_topic("city/chenzhou/telemetry/qx/rain_gauge", "chenzhou") is None
    assert subscriptions("chenzhou")[0] == "$share/ingest/city/chenzhou/telemetry/+/+/+"


@pytest.mark.parametrize("topic", ["city/chenzhou/status/rain-1\n", "city/chenzhou/telemetry/qx/rain_gauge/rain-1\n",
                                   "city/chenzhou/event/zw\n/hotline12345", "city/chenzhou/status/" + "d" * 65])
def test_a_segment_the_contract_does_not_allow_is_no_topic(topic: str) -> None:
    assert parse_topic(topic, "chenzhou") is None


def test_single_reading_gets_device_codes() -> None:
    rows = run(TOPIC, {"ts": "2026-11-22T16:00:00+08:00", "values": {"rain_1h": 12.5}})
    assert rows == [Reading(NOW, "rain-1", "rain_1h", 12.5, 113.0, 25.8, "431002", "431002001", "431002001001",
                            False)]


def test_naive_time_is_beijing_time_and_epoch_ms_is_utc() -> None:
    naive = run(TOPIC, {"ts": "2026-11-22T16:00:00", "values": {"rain_1h": 1}})
    epoch_ms = run(TOPIC, {"ts": int(NOW.timestamp() * 1000), "values": {"rain_1h": 1}})
    assert isinstance(naive, list) and isinstance(epoch_ms, list)
    (a,), (b,) = naive, epoch_ms
    assert a.ts == b.ts == NOW


def test_batch_and_moving_position() -> None:
    rows = run(TOPIC, [{"ts": NOW.isoformat(), "values": {"rain_1h": 1, "battery": 90}},
                       {"ts": NOW.isoformat(), "values": {"speed_kmh": 60}, "lon": 113.1, "lat": 25.7}])
    assert isinstance(rows, list)
    assert [(r.metric, r.value) for r in rows] == [("rain_1h", 1), ("battery", 90), ("speed_kmh", 60),
                                                   ("lon", 113.1), ("lat", 25.7)]  # the track is stored too
    assert rows[2].moving and rows[2].township_code is None and (rows[2].lon, rows[2].lat) == (113.1, 25.7)


GATEWAY = "city/chenzhou/gateway/gw-7"
BEHIND = {"rain-1": dataclasses.replace(GAUGE, gateway="gw-7"), "rain-2": dataclasses.replace(GAUGE, gateway="gw-8"),
          "rain-3": GAUGE}  # registered behind gw-7, behind another gateway, behind none


def behind(device_id: str) -> DeviceInfo | None:
    return BEHIND.get(device_id)


def test_a_gateway_batch_carries_the_devices_registered_behind_it() -> None:
    assert parse_topic(GATEWAY, "chenzhou") == GatewayTopic("gw-7")
    assert "$share/ingest/city/chenzhou/gateway/+" in subscriptions("chenzhou")
    body = [{"device_id": "rain-1", "ts": NOW.isoformat(), "values": {"rain_1h": 2.5}},
            {"device_id": "rain-1", "ts": (NOW - timedelta(seconds=10)).isoformat(), "values": {"rain_1h": 2.0}}]
    rows = decode(GATEWAY, json.dumps(body).encode(), city="chenzhou", now=NOW, devices=behind)
    assert rows == [Reading(NOW, "rain-1", "rain_1h", 2.5, 113.0, 25.8, "431002", "431002001", "431002001001", False),
                    Reading(NOW - timedelta(seconds=10), "rain-1", "rain_1h", 2.0, 113.0, 25.8, "431002", "431002001",
                            "431002001001", False)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"device_id": "rain-2", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.UNKNOWN_DEVICE),  # gw-8's
        ([{"device_id": "rain-3", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.UNKNOWN_DEVICE),  # none
        ([{"device_id": "ghost", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.UNKNOWN_DEVICE),
        ([{"device_id": "rain-1", "ts": NOW.isoformat(), "values": {"rain_1h": 1}},
          {"device_id": "rain-2", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.UNKNOWN_DEVICE),
        ([{"ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.BAD_SCHEMA),  # whose reading?
        ({"device_id": "rain-1", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}, Reason.BAD_SCHEMA),  # a list
        ([{"device_id": "a/b", "ts": NOW.isoformat(), "values": {"rain_1h": 1}}], Reason.BAD_SCHEMA),
        ([{"device_id": "rain-1", "ts": NOW.isoformat(), "values": {"rain_1h": -1}}], Reason.OUT_OF_RANGE),
        ([{"device_id": "rain-1", "ts": (NOW + timedelta(hours=1)).isoformat(), "values": {"rain_1h": 1}}],
         Reason.BAD_TIMESTAMP),
    ],
)
def test_a_gateway_batch_with_any_reading_it_may_not_carry_is_dead_lettered_whole(body: object,
                                                                                  reason: Reason) -> None:
    got = decode(GATEWAY, json.dumps(body).encode(), city="chenzhou", now=NOW, devices=behind)
    assert isinstance(got, DeadLetter) and got.reason is reason and got.payload == json.dumps(body).encode()


def test_status_and_event() -> None:
    assert run("city/chenzhou/status/rain-1", b"offline") == DeviceStatus("rain-1", False)
    ev = run("city/chenzhou/event/ga/police110", {"event_id": "110-1", "ts": NOW.isoformat(), "category": "x",
                                                   "title": "警情", "level": 3, "lon": 113.0, "lat": 25.8})
    assert isinstance(ev, Event) and ev.body.level == 3 and ev.source_system == "police110"


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("city/chenzhou/telemetry/qx", {"ts": 1, "values": {"rain_1h": 1}}, Reason.BAD_TOPIC),
        ("city/chenzhou/telemetry/q x/rain_gauge/rain-1", {}, Reason.BAD_TOPIC),
        (TOPIC, b"\xff\xfe not json", Reason.NOT_JSON),
        (TOPIC, "{ts: 1}", Reason.NOT_JSON),
        (TOPIC, {"values": {"rain_1h": 1}}, Reason.BAD_SCHEMA),  # no ts
        (TOPIC, {"ts": NOW.isoformat(), "values": {"rain_1h": "heavy"}}, Reason.BAD_SCHEMA),
        (TOPIC, {"ts": NOW.isoformat(), "values": {}}, Reason.BAD_SCHEMA),
        (TOPIC, {"ts": NOW.isoformat(), "values": {"rain_1h": 1}, "extra": 1}, Reason.BAD_SCHEMA),
        (TOPIC, [], Reason.BAD_SCHEMA),
        (TOPIC, 42, Reason.BAD_SCHEMA),
        ("city/chenzhou/telemetry/qx/rain_gauge/ghost", {"ts": NOW.isoformat(), "values": {"rain_1h": 1}},
         Reason.UNKNOWN_DEVICE),
        (TOPIC, {"ts": NOW.isoformat(), "values": {"rain_24h": 1}}, Reason.UNKNOWN_METRIC),
        (TOPIC, {"ts": NOW.isoformat(), "values": {"rain_1h": -3}}, Reason.OUT_OF_RANGE),
        (TOPIC, {"ts": NOW.isoformat(), "values": {"rain_1h": 5000}}, Reason.OUT_OF_RANGE),
        (TOPIC, '{"ts": "2026-11-22T08:00:00Z", "values": {"rain_1h": NaN}}', Reason.OUT_OF_RANGE),
        (TOPIC, {"ts": (NOW + timedelta(hours=1)).isoformat(), "values": {"rain_1h": 1}}, Reason.BAD_TIMESTAMP),
        (TOPIC, {"ts": (NOW - timedelta(days=30)).isoformat(), "values": {"rain_1h": 1}}, Reason.BAD_TIMESTAMP),
        (TOPIC, {"ts": "yesterday", "values": {"rain_1h": 1}}, Reason.BAD_SCHEMA),
        (TOPIC, b"x" * (MAX_PAYLOAD_BYTES + 1), Reason.TOO_LARGE),
        ("city/chenzhou/status/rain-1", b"maybe", Reason.BAD_SCHEMA),
        ("city/chenzhou/event/ga/police110", {"event_id": "1", "ts": NOW.isoformat()}, Reason.BAD_SCHEMA),
        # Inputs that once raised out of decode (and so killed the worker, again on every redelivery):
        (TOPIC, b"[" * 100_000 + b"]" * 100_000, Reason.NOT_JSON),  # RecursionError in json
        (TOPIC, b"1" * 5000, Reason.NOT_JSON),  # int longer than 4,300 digits: a ValueError
        (TOPIC, '{"ts": 1e300, "values": {"rain_1h": 1}}', Reason.BAD_SCHEMA),  # OverflowError
        (TOPIC, '{"ts": -Infinity, "values": {"rain_1h": 1}}', Reason.BAD_SCHEMA),
        (TOPIC, '{"ts": -1e20, "values": {"rain_1h": 1}}', Reason.BAD_SCHEMA),  # OSError
        (TOPIC, {"ts": "0001-01-01T00:00:00", "values": {"rain_1h": 1}}, Reason.BAD_TIMESTAMP),  # year 0 in UTC
        (TOPIC, {"ts": "9999-12-31T23:59:59-08:00", "values": {"rain_1h": 1}}, Reason.BAD_TIMESTAMP),
        (TOPIC, '{"ts": "2026-11-22T08:00:00Z", "values": {"rain_1h": 1}, "lon": NaN, "lat": 25}',
         Reason.BAD_SCHEMA),
        ("city/chenzhou/event/ga/police110",
         '{"event_id": "1", "ts": "2026-11-22T08:00:00Z", "category": "x", "title": "\\ud800"}',
         Reason.BAD_SCHEMA),  # a lone surrogate no database can store as text
    ],
)
def test_bad_payloads_are_dead_lettered_whole(topic: str, payload: object, reason: Reason) -> None:
    result = run(topic, payload)
    assert isinstance(result, DeadLetter)
    assert result.reason is reason
    assert result.topic == topic and result.detail
    raw = payload if isinstance(payload, bytes) else (payload if isinstance(payload, str) else json.dumps(payload))
    assert result.payload == (raw.encode() if isinstance(raw, str) else raw)


def test_a_decode_bug_costs_one_message_not_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.batch

    def broken(topic: str, payload: bytes, *, city: str, now: datetime, devices: DeviceLookup) -> Decoded:
        if payload == b"boom":
            raise KeyError("a bug")
        return decode(topic, payload, city=city, now=now, devices=devices)

    monkeypatch.setattr(ingest.batch, "decode", broken)
    good = json.dumps({"ts": NOW.isoformat(), "values": {"rain_1h": 1}}).encode()
    batch = ingest.batch.build_batch([(TOPIC, b"boom"), (TOPIC, good)], city="chenzhou", now=NOW, devices=devices,
                                     tagger=lambda lon, _lat: [ingest.batch.UNTAGGED] * len(lon))
    assert len(batch.readings) == 1
    assert [(d.reason, d.payload) for d in batch.dead_letters] == [(Reason.DECODE_ERROR, b"boom")]
