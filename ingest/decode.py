"""Payload validation: raw MQTT bytes → typed records or a dead letter with a named reason.

Pure: the registry lookup and the clock are passed in, so every rejection is a table test.
Naive ISO timestamps are read as Asia/Shanghai, the time devices in the city report in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from ingest.metrics import METRICS
from ingest.topics import EventTopic, GatewayTopic, StatusTopic, TelemetryTopic, parse_topic
from store.privacy import normalise_name, normalise_phone

CITY_TZ = ZoneInfo("Asia/Shanghai")
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)
MAX_READINGS = 10_000  # per message


class Reason(StrEnum):
    """Why a payload was dead-lettered; the same values in the table, the page and the metrics."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    BAD_SCHEMA = "bad_schema"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_METRIC = "unknown_metric"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    DB_REJECTED = "db_rejected"  # valid JSON the database still refuses (e.g. a NUL character in text)
    DECODE_ERROR = "decode_error"  # validation itself failed (a bug): kept whole to replay once fixed


def _city_time_if_naive(parsed: datetime) -> datetime:
    """After pydantic-core parsed ISO text or epoch milliseconds (in Rust). The offset a device sent is
    kept: converting every reading to UTC here cost more than all the rest of its validation."""
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CITY_TZ)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, val_temporal_unit="milliseconds")


class ReadingIn(_Strict):
    ts: datetime
    values: dict[str, float] = Field(min_length=1, max_length=64)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)

    _ts = field_validator("ts")(_city_time_if_naive)


class ReporterIn(_Strict):
    """Who called in a 12345 ticket: stored apart from the event and shown masked (``store.privacy``)."""

    name: str = Field(default="", max_length=64)
    phone: str = Field(min_length=1, max_length=32)

    _name = field_validator("name")(normalise_name)
    _phone = field_validator("phone")(normalise_phone)


class EventIn(_Strict):
    event_id: str = Field(min_length=1, max_length=128)
    ts: datetime
    category: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    level: int | None = Field(default=None, ge=1, le=4)
    reporter: ReporterIn | None = None

    _ts = field_validator("ts")(_city_time_if_naive)


class GatewayReadingIn(ReadingIn):
    """A reading in a gateway's batch: the device it is of, then a reading as on the device's own topic."""

    device_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


# Telemetry is parsed and validated straight from the bytes, in one call into pydantic-core.
_READING = TypeAdapter(ReadingIn)
_READINGS = TypeAdapter(list[ReadingIn])
_GATEWAY_READINGS = TypeAdapter(list[GatewayReadingIn])


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_type: str
    lon: float
    lat: float
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    gateway: str | None = None  # the gateway whose batches may carry its readings


class Reading(NamedTuple):  # a tuple, not a frozen dataclass: ingest builds millions of them a minute
    ts: datetime
    device_id: str
    metric: str
    value: float
    lon: float  # where the reading was taken: the device's site, or the message's own position
    lat: float
    district_code: str | None  # None until tagged when the position came with the message
    township_code: str | None
    grid_code: str | None
    moving: bool  # True when the position came with the message and must be tagged


@dataclass(frozen=True, slots=True)
class Event:
    ts: datetime
    dept: str
    source_system: str
    body: EventIn


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device_id: str
    online: bool


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    payload: bytes
    reason: Reason
    detail: str


Decoded = list[Reading] | Event | DeviceStatus | DeadLetter
DeviceLookup = Callable[[str], DeviceInfo | None]


class DeviceLookupUnavailable(Exception):
    """The registry could not be asked (database down): the message is not bad, its batch must wait."""


def _check_time(ts: datetime, now: datetime) -> str | None:
    if ts > now + MAX_FUTURE:
        return f"timestamp {ts.isoformat()} is more than {MAX_FUTURE} in the future"
    if ts < now - MAX_PAST:
        return f"timestamp {ts.isoformat()} is more than {MAX_PAST.days} days old"
    return None


def _schema_detail(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return f"{where}: {first['msg']} ({exc.error_count()} error(s))"


def decode(topic: str, payload: bytes, *, city: str, now: datetime, devices: DeviceLookup) -> Decoded:
    """Validate one message. Never raises: a bad message comes back as a ``DeadLetter``."""

    def dead(reason: Reason, detail: str) -> DeadLetter:
        return DeadLetter(topic, payload, reason, detail)

    parsed_topic = parse_topic(topic, city)
    if parsed_topic is None:
        return dead(Reason.BAD_TOPIC, f"topic {topic!r} does not follow city/{city}/<kind>/...")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return dead(Reason.TOO_LARGE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    if isinstance(parsed_topic, StatusTopic):
        return _decode_status(parsed_topic, payload, dead)
    if isinstance(parsed_topic, TelemetryTopic):
        return _decode_telemetry(parsed_topic, payload, now, devices, dead)
    if isinstance(parsed_topic, GatewayTopic):
        return _decode_gateway(parsed_topic, payload, now, devices, dead)
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        # ValueError: bad JSON, bad UTF-8, an integer of more than 4,300 digits;
        # RecursionError: arrays nested thousands deep. Either would otherwise kill the worker.
        return dead(Reason.NOT_JSON, str(exc)[:200])
    return _decode_event(parsed_topic, doc, now, dead)


def _decode_status(topic: StatusTopic, payload: bytes, dead: Callable[[Reason, str], DeadLetter]) -> Decoded:
    text = payload.decode("utf-8", "replace").strip().lower()
    if text in ("online", "1", "true", '{"online": true}', '{"online":true}'):
        return DeviceStatus(topic.device_id, True)
    if text in ("offline", "0", "false", '{"online": false}', '{"online":false}'):
        return DeviceStatus(topic.device_id, False)
    return dead(Reason.BAD_SCHEMA, "status payload must be online or offline")


def _decode_event(topic: EventTopic, doc: Any, now: datetime, dead: Callable[[Reason, str], DeadLetter]) -> Decoded:
    try:
        body = EventIn.model_validate(doc)
    except ValidationError as exc:
        return dead(Reason.BAD_SCHEMA, _schema_detail(exc))
    if (problem := _check_time(body.ts, now)) is not None:
        return dead(Reason.BAD_TIMESTAMP, problem)
    return Event(body.ts, topic.dept, topic.source_system, body)


def _parse(adapter: TypeAdapter[list[Any]], one: TypeAdapter[Any] | None, payload: bytes,
           dead: Callable[[Reason, str], DeadLetter]) -> list[Any] | DeadLetter:
    """A message's readings validated from the bytes (a list, or with ``one`` a single reading too)."""
    try:
        is_list = payload.lstrip()[:1] == b"["
        batch = adapter.validate_json(payload) if is_list or one is None else [one.validate_json(payload)]
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":  # bad JSON, bad UTF-8, nested too deep, a huge integer
            return dead(Reason.NOT_JSON, first["msg"][:200])
        return dead(Reason.BAD_SCHEMA, _schema_detail(exc))
    if not 1 <= len(batch) <= MAX_READINGS:
        return dead(Reason.BAD_SCHEMA, f"a batch holds 1 to {MAX_READINGS:,} readings")
    return batch


def _times(batch: list[Any], now: datetime, dead: Callable[[Reason, str], DeadLetter]) -> DeadLetter | None:
    stamps = [item.ts for item in batch]
    for ts in (min(stamps), max(stamps)):
        if (problem := _check_time(ts, now)) is not None:
            return dead(Reason.BAD_TIMESTAMP, problem)
    return None


def _rows(device_id: str, device: DeviceInfo, item: ReadingIn, append: Callable[[Reading], None],
          dead: Callable[[Reason, str], DeadLetter]) -> DeadLetter | None:
    """One reading's rows, a metric each, appended; a dead letter when a metric is unknown or out of range."""
    if item.lon is None or item.lat is None:  # at the device's registered site, tagged then
        moving = False
        lon, lat = device.lon, device.lat
        district, township, grid = device.district_code, device.township_code, device.grid_code
        values = item.values
    else:  # a moving device's track is data too: the map and geofences read it back
        moving = True
        lon, lat = item.lon, item.lat
        district = township = grid = None
        values = dict(item.values)
        values.setdefault("lon", lon)
        values.setdefault("lat", lat)
    for name, value in values.items():
        metric = METRICS.get(name)
        if metric is None:
            return dead(Reason.UNKNOWN_METRIC, f"metric {name!r} is not in the catalogue")
        if not metric.low <= value <= metric.high:
            return dead(Reason.OUT_OF_RANGE,
                        f"{name}={value} outside {metric.low}..{metric.high} {metric.unit}".rstrip())
        append(Reading(item.ts, device_id, name, value, lon, lat, district, township, grid, moving))
    return None


def _decode_telemetry(
    topic: TelemetryTopic, payload: bytes, now: datetime, devices: DeviceLookup,
    dead: Callable[[Reason, str], DeadLetter],
) -> Decoded:
    batch = _parse(_READINGS, _READING, payload, dead)
    if isinstance(batch, DeadLetter):
        return batch
    device = devices(topic.device_id)
    if device is None:
        return dead(Reason.UNKNOWN_DEVICE, f"device {topic.device_id!r} is not registered")
    if (late := _times(batch, now, dead)) is not None:
        return late
    readings: list[Reading] = []
    for item in batch:
        if (bad := _rows(topic.device_id, device, item, readings.append, dead)) is not None:
            return bad
    return readings


def _decode_gateway(
    topic: GatewayTopic, payload: bytes, now: datetime, devices: DeviceLookup,
    dead: Callable[[Reason, str], DeadLetter],
) -> Decoded:
    """A gateway's batch: each reading names its device, which must be registered behind this gateway (the
    broker lets only the gateway's account publish here; a device behind another gateway, or none, is refused
    with the whole message, as any bad reading is)."""
    batch = _parse(_GATEWAY_READINGS, None, payload, dead)
    if isinstance(batch, DeadLetter):
        return batch
    if (late := _times(batch, now, dead)) is not None:
        return late
    readings: list[Reading] = []
    for item in batch:
        device = devices(item.device_id)
        if device is None or device.gateway != topic.gateway:
            return dead(Reason.UNKNOWN_DEVICE, f"device {item.device_id!r} is not registered behind gateway"
                                               f" {topic.gateway!r}")
        if (bad := _rows(item.device_id, device, item, readings.append, dead)) is not None:
            return bad
    return readings
