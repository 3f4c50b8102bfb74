"""Inhibited warnings are recorded (issue 18), on PostgreSQL through the engine's timer: while a township-wide
no_data warning stands for its silent devices, each device it holds back is one row naming that area warning,
once per episode (a later tick adds none; a device falling silent later in the episode adds its own; the next
outage is an episode of its own). Both paths record the same rows: a rule over few devices is judged one device
at a time (``verdicts.no_data``), one over many in numpy (``batch.silences``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.evaluate import BATCH_FROM, tick
from alerts.rules import Rule, parse_rules
from alerts.verdicts import held_back
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from layers.loader import load_active_layers
from tests.fix_db import one

LATER = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
SILENT = LATER - timedelta(days=30)  # past any device's silence limit


@pytest.fixture(scope="module")
def dsn(demo_db: object) -> str:
    assert callable(demo_db)
    return str(demo_db())


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def _register(conn: psycopg.Connection) -> dict[str, tuple[str, str, list[str]]]:
    """Two kinds of probe, each with five in a township of its own: the few (judged one device at a time) and
    the many (BATCH_FROM more, fresh, in a third township: judged in numpy). Path → (type, township, its five)."""
    towns = [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT code, label_lon, label_lat FROM regions r JOIN boundary_versions b USING (version)"
        " WHERE b.active AND r.level = 'township' ORDER BY code LIMIT 3")]
    layers = load_active_layers(conn)
    specs = [DeviceSpec(f"{kind}-{n:03d}", kind, "yj", "探头", lon, lat)
             for kind, (_, lon, lat) in (("probe_few", towns[0]), ("probe_many", towns[1])) for n in range(5)]
    specs += [DeviceSpec(f"probe_many-x{n:03d}", "probe_many", "yj", "探头", towns[2][1], towns[2][2])
              for n in range(BATCH_FROM)]
    register_devices(conn, specs, layer_tagger(layers), layers.version)
    return {path: (kind, town[0], [f"{kind}-{n:03d}" for n in range(5)])
            for path, kind, town in (("one_by_one", "probe_few", towns[0]), ("numpy", "probe_many", towns[1]))}


def test_the_inhibited_by_the_area_warning_that_stands_for_them() -> None:
    towns = {"b2": "T-B", "a1": "T-A", "b1": "T-B", "x": "T-C"}
    assert held_back({"b2", "a1", "b1"}, towns) == {"township:T-A": ["a1"], "township:T-B": ["b1", "b2"]}
    assert held_back(set(), towns) == {}


def _rule(rule_id: str, device_type: str) -> Rule:
    (rule,) = parse_rules(f'''
[[rule]]
id = "{rule_id}"
kind = "no_data"
name = "离线"
category = "device_health"
device_type = "{device_type}"
level = 4
inhibit_ratio = 0.6
inhibit_min_devices = 3
''')
    return rule


def _seen(conn: psycopg.Connection, ids: list[str], at: datetime) -> None:
    conn.execute("INSERT INTO device_status (device_id, last_seen) SELECT unnest(%s::text[]), %s"
                 " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen", (ids, at))


def _held(conn: psycopg.Connection, rule_id: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(
        "SELECT s.subject, s.at, s.cause, s.level, w.subject, w.status FROM suppressed_warnings s"
        " JOIN warnings w ON w.id = s.warning_id WHERE s.rule_id = %s ORDER BY s.id", (rule_id,))]


def test_held_back_once_per_episode_by_the_area_warning_on_both_paths(conn: psycopg.Connection) -> None:
    picked = _register(conn)
    for _, township, ids in picked.values():  # tagged to the township they stand in
        assert {r[0] for r in conn.execute("SELECT township_code FROM devices WHERE device_id = ANY(%s)",
                                           (ids,))} == {township}
    assert {r[0]: r[1] for r in conn.execute("SELECT device_type, count(*) FROM devices GROUP BY 1")} == {
        "probe_few": 5, "probe_many": 5 + BATCH_FROM}
    rules = tuple(_rule(f"offline_{path}", device_type) for path, (device_type, _, _) in picked.items())
    _seen(conn, [r[0] for r in conn.execute("SELECT device_id FROM devices")], LATER)
    for _, _, ids in picked.values():
        _seen(conn, ids[:-1], SILENT)  # all but one: still ≥ 60 % of the township, so the area is down
    first = LATER + timedelta(seconds=30)
    tick(conn, rules, first)
    tick(conn, rules, first + timedelta(seconds=10))  # the same episode: nothing recorded again
    for path, (_, township, ids) in picked.items():
        area = f"township:{township}"
        cause = f"inhibited:offline_{path}:{area}"
        assert _held(conn, f"offline_{path}") == [(d, first, cause, 4, area, "open") for d in ids[:-1]], path
        assert not conn.execute("SELECT 1 FROM warnings WHERE rule_id = %s AND subject = ANY(%s)",
                                (f"offline_{path}", ids)).fetchall()  # no device's own warning

    third = first + timedelta(seconds=20)  # the last one falls silent too, later in the same episode
    _seen(conn, [ids[-1] for _, _, ids in picked.values()], SILENT)
    tick(conn, rules, third)
    for path, (_, _, ids) in picked.items():
        rows = _held(conn, f"offline_{path}")
        assert [(r[0], r[1]) for r in rows] == [(d, first) for d in ids[:-1]] + [(ids[-1], third)], path

    for _, _, ids in picked.values():  # back, then out again: a new area warning, an episode of its own
        _seen(conn, ids, third)
    tick(conn, rules, third + timedelta(seconds=10))
    for _, _, ids in picked.values():
        _seen(conn, ids, SILENT)
    again = third + timedelta(seconds=20)
    tick(conn, rules, again)
    for path, (_, _, ids) in picked.items():
        rows = _held(conn, f"offline_{path}")
        assert [r[5] for r in rows[:len(ids)]] == ["cleared"] * len(ids), path  # the first episode's warning
        assert [(r[0], r[1], r[5]) for r in rows[len(ids):]] == [(d, again, "open") for d in ids], path
        episodes = one(conn, "SELECT count(DISTINCT warning_id) FROM suppressed_warnings WHERE rule_id = %s",
                       (f"offline_{path}",))[0]
        assert episodes == 2
