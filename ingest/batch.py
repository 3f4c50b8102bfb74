"""Turn a batch of raw messages into rows: decode each, then tag all positions in one vectorised call.

The batch also carries the ingest clock reading it was decoded with and a per-source
tally, so the writer can commit the counters in the same transaction as the rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from ingest.counters import SourceTally, source_of, tally_of
from ingest.decode import (
    DeadLetter,
    Decoded,
    DeviceLookup,
    DeviceLookupUnavailable,
    DeviceStatus,
    Event,
    Reading,
    Reason,
    decode,
)

log = logging.getLogger("cityops.ingest")

# A point's district, township and grid codes, and whether it lies near a township border
# (the dispatcher then confirms the area: the point may belong to the neighbour).
Codes = tuple[str | None, str | None, str | None, bool]
# Vectorised point-in-polygon: (lon array, lat array) → one Codes per point.
Tagger = Callable[[np.ndarray, np.ndarray], list[Codes]]
UNTAGGED: Codes = (None, None, None, False)


@dataclass(frozen=True, slots=True)
class TaggedEvent:
    event: Event
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    near_boundary: bool


@dataclass(slots=True)
class Batch:
    now: datetime
    readings: list[Reading] = field(default_factory=list)
    events: list[TaggedEvent] = field(default_factory=list)
    statuses: list[DeviceStatus] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    tally: SourceTally = field(default_factory=SourceTally)


def _decode(topic: str, payload: bytes, *, city: str, now: datetime, devices: DeviceLookup) -> Decoded:
    """``decode`` never raises by contract; if a bug makes it, that one message must not stop ingest."""
    try:
        return decode(topic, payload, city=city, now=now, devices=devices)
    except DeviceLookupUnavailable:
        raise  # not the message's fault: the whole batch waits for the database
    except Exception as exc:
        log.exception("decoding a message on %s failed; dead-lettered as decode_error", topic)
        return DeadLetter(topic, payload, Reason.DECODE_ERROR, f"{type(exc).__name__}: {exc}"[:500])


def build_batch(
    messages: Sequence[tuple[str, bytes]], *, city: str, now: datetime, devices: DeviceLookup, tagger: Tagger
) -> Batch:
    batch = Batch(now)
    raw_events: list[Event] = []
    received = Counter(topic for topic, _ in messages)
    offered: Counter[str] = Counter()  # rows of accepted messages, per topic
    rejected: list[tuple[str, str]] = []
    for topic, payload in messages:
        match _decode(topic, payload, city=city, now=now, devices=devices):
            case DeadLetter() as dl:
                batch.dead_letters.append(dl)
                rejected.append((topic, dl.reason.value))
            case DeviceStatus() as st:
                batch.statuses.append(st)
                offered[topic] += 1
            case Event() as ev:
                raw_events.append(ev)
                offered[topic] += 1
            case list() as readings:
                batch.readings.extend(readings)
                offered[topic] += len(readings)
    batch.tally = tally_of(received, offered, rejected, city)

    moving = [i for i, r in enumerate(batch.readings) if r.moving]
    located = [e for e in raw_events if e.body.lon is not None and e.body.lat is not None]
    lons = [batch.readings[i].lon for i in moving] + [e.body.lon for e in located]
    lats = [batch.readings[i].lat for i in moving] + [e.body.lat for e in located]
    codes = tagger(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)) if lons else []
    for i, (d, t, g, _near) in zip(moving, codes, strict=False):  # telemetry rows keep codes only
        batch.readings[i] = batch.readings[i]._replace(district_code=d, township_code=t, grid_code=g)
    event_codes = dict(zip((id(e) for e in located), codes[len(moving):], strict=True))
    batch.events = [TaggedEvent(e, *event_codes.get(id(e), UNTAGGED)) for e in raw_events]
    return batch


def refused_batch(topic: str, payload: bytes, detail: str, *, city: str, now: datetime) -> Batch:
    """A message the database refused, as a batch holding only its dead letter (and its count)."""
    batch = Batch(now, dead_letters=[DeadLetter(topic, payload, Reason.DB_REJECTED, detail)])
    source = source_of(topic, city)
    batch.tally.receive(source)
    batch.tally.reject(source, Reason.DB_REJECTED.value)
    return batch
