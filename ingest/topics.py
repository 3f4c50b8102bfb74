"""Topic parsing for the MQTT contract; pure functions, no I/O.

city/<city>/telemetry/<dept>/<device_type>/<device_id>
city/<city>/event/<dept>/<source_system>
city/<city>/status/<device_id>
city/<city>/gateway/<gateway>  (a gateway's batch: readings of the devices registered behind it)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_SEGMENT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True, slots=True)
class TelemetryTopic:
    dept: str
    device_type: str
    device_id: str


@dataclass(frozen=True, slots=True)
class EventTopic:
    dept: str
    source_system: str


@dataclass(frozen=True, slots=True)
class StatusTopic:
    device_id: str


@dataclass(frozen=True, slots=True)
class GatewayTopic:
    gateway: str


Topic = TelemetryTopic | EventTopic | StatusTopic | GatewayTopic


def subscriptions(city: str, share_group: str | None = "ingest") -> list[str]:
    """Topic filters ingest subscribes to; a share group spreads load over workers."""
    filters = [f"city/{city}/telemetry/+/+/+", f"city/{city}/event/+/+", f"city/{city}/status/+",
               f"city/{city}/gateway/+"]
    return [f"$share/{share_group}/{f}" for f in filters] if share_group else filters


def is_segment(text: str) -> bool:
    """Whether ``text`` may stand as one segment of a topic (a device id, a type, a department)."""
    return _SEGMENT.fullmatch(text) is not None


@functools.lru_cache(maxsize=1 << 17)  # a city's topics repeat every batch; bounded against junk topics
def parse_topic(topic: str, city: str) -> Topic | None:
    """The typed topic, or None when it does not follow the contract."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "city" or parts[1] != city:
        return None
    kind, rest = parts[2], parts[3:]
    if not all(_SEGMENT.fullmatch(p) for p in rest):
        return None
    if kind == "telemetry" and len(rest) == 3:
        return TelemetryTopic(*rest)
    if kind == "event" and len(rest) == 2:
        return EventTopic(*rest)
    if kind == "status" and len(rest) == 1:
        return StatusTopic(rest[0])
    if kind == "gateway" and len(rest) == 1:
        return GatewayTopic(rest[0])
    return None
