"""A 12345 ticket's reporter at the boundary: accepted in its stored form, or a ``bad_schema`` dead letter whose
reason names the field. The whole way through ingest, the engine and MQTT: tests/alerts/test_reporter_e2e.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from ingest.decode import DeadLetter, Event, Reason, ReporterIn, decode
from simulator.catalogue import CatalogueDevice
from simulator.world import World

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TOPIC = "city/chenzhou/event/zw/hotline12345"


def ticket(reporter: object) -> object:
    body = {"event_id": "12345-1", "ts": NOW.isoformat(), "category": "hotline", "title": "噪音扰民",
            "reporter": reporter}
    return decode(TOPIC, json.dumps(body, ensure_ascii=False).encode(), city="chenzhou", now=NOW,
                  devices=lambda _d: None)


@pytest.mark.parametrize(("reporter", "stored"), [
    ({"name": "张三", "phone": "139 0000 1234"}, ReporterIn(name="张三", phone="13900001234")),
    ({"name": "  John   Smith ", "phone": "0735-2221234"}, ReporterIn(name="John Smith", phone="0735-2221234")),
    ({"phone": "+86 139 0000 1234"}, ReporterIn(name="", phone="13900001234")),  # no name given: anonymous
    (None, None),
])
def test_a_plausible_reporter_is_kept_in_its_stored_form(reporter: object, stored: ReporterIn | None) -> None:
    event = ticket(reporter)
    assert isinstance(event, Event) and event.body.reporter == stored


@pytest.mark.parametrize(("reporter", "field"), [
    ({"name": "李四", "phone": "12345"}, "reporter.phone: Value error, not a plausible Chinese mobile or landline"),
    ({"name": "李四", "phone": "2221234"}, "reporter.phone: Value error"),  # no area code
    ({"name": "李四", "phone": 13900001234}, "reporter.phone: Input should be a valid string"),
    ({"name": "李四"}, "reporter.phone: Field required"),
    ({"name": "李" * 65, "phone": "13900001234"}, "reporter.name: String should have at most 64 characters"),
    ({"name": "李四", "phone": "13900001234", "id_card": "x"}, "reporter.id_card: Extra inputs are not permitted"),
    ("李四 13900001234", "reporter: Input should be a valid dictionary"),
])
def test_an_implausible_reporter_is_a_dead_letter_naming_the_field(reporter: object, field: str) -> None:
    dead = ticket(reporter)
    assert isinstance(dead, DeadLetter) and dead.reason is Reason.BAD_SCHEMA
    assert dead.detail.startswith(field), dead.detail


def test_the_simulators_callers_are_accepted_and_clearly_fake() -> None:
    world = World([CatalogueDevice(f"{kind}-1", kind, "yj", kind, 113.0, 25.8, township_code="431002001")
                   for kind in ("gas_detector", "smoke_detector")], "chenzhou", seed=7)
    events = [decode(topic, payload, city="chenzhou", now=NOW, devices=lambda _d: None)
              for _step in range(120) for topic, payload in world.messages(NOW) if "/event/" in topic]
    assert {e.source_system for e in events if isinstance(e, Event)} == {"hotline12345", "police110"}
    reporters = [e.body.reporter for e in events if isinstance(e, Event)]
    assert len(reporters) == len(events) > 20 and all(r is not None for r in reporters)
    assert all(re.fullmatch(r"1390000[0-9]{4}", r.phone) for r in reporters if r)
    assert "" in {r.name for r in reporters if r}  # now and then a caller gives no name
