"""Per-source ingest counters for the data-quality page and the monthly report; pure, no I/O.

A source is ``dept/device_type`` for telemetry and the ``source_system`` for events, as
named by the topic. Status messages count under ``(status)`` and messages whose topic
does not parse under ``(bad_topic)``: parentheses never occur in a topic segment, so
these names cannot collide with a real source.

Units: ``received`` and ``rejected`` count MQTT messages; ``stored``, ``duplicates``
and ``late`` count rows (one message may carry a batch of readings). Per source,
``received = accepted messages + sum(rejected)`` and, over accepted messages,
``stored + duplicates = rows offered``. A row is late when its own timestamp is older
than the ingest clock minus ``LATE_AFTER``; only newly stored rows count as late, so a
redelivery does not inflate it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from ingest.decode import CITY_TZ
from ingest.topics import EventTopic, GatewayTopic, StatusTopic, TelemetryTopic, parse_topic

LATE_AFTER = timedelta(minutes=10)


class SourceKind(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"
    BAD_TOPIC = "bad_topic"


@dataclass(frozen=True, slots=True)
class Source:
    kind: SourceKind
    name: str


STATUS_SOURCE = Source(SourceKind.STATUS, "(status)")
BAD_TOPIC_SOURCE = Source(SourceKind.BAD_TOPIC, "(bad_topic)")


def source_of(topic: str, city: str) -> Source:
    match parse_topic(topic, city):
        case TelemetryTopic(dept=dept, device_type=device_type):
            return Source(SourceKind.TELEMETRY, f"{dept}/{device_type}")
        case GatewayTopic(gateway=gateway):
            return Source(SourceKind.TELEMETRY, f"gateway/{gateway}")
        case EventTopic(source_system=system):
            return Source(SourceKind.EVENT, system)
        case StatusTopic():
            return STATUS_SOURCE
        case _:
            return BAD_TOPIC_SOURCE


def counter_day(now: datetime) -> date:
    """The report day of an ingest instant: the calendar day in the city's time zone."""
    return now.astimezone(CITY_TZ).date()


def late_before(now: datetime) -> datetime:
    return now - LATE_AFTER


@dataclass(slots=True)
class SourceTally:
    """What one batch put in front of the database, per source name."""

    kinds: dict[str, SourceKind] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    rejected: dict[str, Counter[str]] = field(default_factory=dict)
    offered: Counter[str] = field(default_factory=Counter)  # rows of accepted messages
    # Readings per device and source, sources in order of first appearance: the database
    # reports stored readings per device, and this says which source they belong to.
    device_rows: dict[str, dict[str, int]] = field(default_factory=dict)

    def receive(self, source: Source, messages: int = 1) -> None:
        self.received[source.name] += messages
        if source.name not in self.kinds:
            self.kinds[source.name] = source.kind

    def reject(self, source: Source, reason: str) -> None:
        self.rejected.setdefault(source.name, Counter())[reason] += 1

    def offer(self, source: Source, rows: int, device_id: str | None = None) -> None:
        self.offered[source.name] += rows
        if device_id is not None:
            per_source = self.device_rows.setdefault(device_id, {})
            per_source[source.name] = per_source.get(source.name, 0) + rows


def tally_of(received: Counter[str], offered: Counter[str], rejected: list[tuple[str, str]], city: str) -> SourceTally:
    """The tally of a batch from per-topic counts: topics are parsed once each, not once per message."""
    tally = SourceTally()
    for topic, n in received.items():  # in order of first appearance
        source = source_of(topic, city)
        tally.receive(source, n)
        if rows := offered.get(topic, 0):
            device_id = topic.rsplit("/", 1)[1] if source.kind is SourceKind.TELEMETRY else None
            tally.offer(source, rows, device_id)
    for topic, reason in rejected:
        tally.reject(source_of(topic, city), reason)
    return tally


@dataclass(frozen=True, slots=True)
class NewRows:
    """What the database reported as newly stored: (rows, late rows) per device and per event source."""

    readings_by_device: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    events_by_system: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    statuses: int = 0


@dataclass(frozen=True, slots=True)
class CounterRow:
    source: str
    kind: str
    received: int
    stored: int
    duplicates: int
    rejected: dict[str, int]
    late: int


def _attribute(tally: SourceTally, new: NewRows) -> tuple[Counter[str], Counter[str]]:
    rows: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for device_id, (n, n_late) in new.readings_by_device.items():
        # One device under two topics in one batch is ambiguous: the first source seen
        # is credited first, never beyond what it offered, so duplicates stay ≥ 0.
        for source, offered in tally.device_rows.get(device_id, {}).items():
            take = min(n, offered)
            take_late = min(n_late, take)
            rows[source] += take
            late[source] += take_late
            n, n_late = n - take, n_late - take_late
    for system, (n, n_late) in new.events_by_system.items():  # an event source is named by its system
        rows[system] += n
        late[system] += n_late
    if new.statuses:
        rows[STATUS_SOURCE.name] += new.statuses
    return rows, late


def counter_rows(tally: SourceTally, new: NewRows) -> list[CounterRow]:
    """One increment per source, sorted by name (a fixed lock order for concurrent upserts)."""
    rows, late = _attribute(tally, new)
    return [
        CounterRow(
            source=name, kind=tally.kinds[name].value, received=tally.received[name],
            stored=rows[name], duplicates=tally.offered[name] - rows[name],
            rejected=dict(sorted(tally.rejected.get(name, Counter()).items())), late=late[name],
        )
        for name in sorted(tally.kinds)  # every stored row's source was received in this batch
    ]
