"""Turn a batch of raw messages into rows: decode each, then tag all positions in one vectorised call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from ingest.decode import DeadLetter, DeviceLookup, Event, Reading, Status, decode
from ingest.writer import TaggedEvent

Codes = tuple[str | None, str | None, str | None]
# Vectorised point-in-polygon: (lon array, lat array) → one (district, township, grid) per point.
Tagger = Callable[[np.ndarray, np.ndarray], list[Codes]]


@dataclass(slots=True)
class Batch:
    readings: list[Reading] = field(default_factory=list)
    events: list[TaggedEvent] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def build_batch(
    messages: Sequence[tuple[str, bytes]], *, city: str, now: datetime, devices: DeviceLookup, tagger: Tagger
) -> Batch:
    batch = Batch()
    raw_events: list[Event] = []
    for topic, payload in messages:
        match decode(topic, payload, city=city, now=now, devices=devices):
            case DeadLetter() as dl:
                batch.dead_letters.append(dl)
            case Status() as st:
                batch.statuses.append(st)
            case Event() as ev:
                raw_events.append(ev)
            case list() as readings:
                batch.readings.extend(readings)

    moving = [i for i, r in enumerate(batch.readings) if r.moving]
    located = [e for e in raw_events if e.body.lon is not None and e.body.lat is not None]
    lons = [batch.readings[i].lon for i in moving] + [e.body.lon for e in located]
    lats = [batch.readings[i].lat for i in moving] + [e.body.lat for e in located]
    codes = tagger(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)) if lons else []
    for i, (d, t, g) in zip(moving, codes, strict=False):
        batch.readings[i] = replace(batch.readings[i], district_code=d, township_code=t, grid_code=g)
    event_codes = dict(zip((id(e) for e in located), codes[len(moving):], strict=True))
    batch.events = [TaggedEvent(e, *event_codes.get(id(e), (None, None, None))) for e in raw_events]
    return batch
