"""On PostgreSQL, with the clock in the test's hands: 核查结案 waits for every warning a grouped incident carries,
and a 协办 unit's part is stored, photographed and replayed like any move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.evaluate import step
from alerts.incidents import Location, act, load, open_incident, report
from alerts.lifecycle import Action, Actor, IllegalMove, Part, Refusal, Role
from alerts.rules import parse_rules
from dashboard.data import Photo
from ingest.batch import Batch
from ingest.decode import Reading
from ingest.writer import write_batch
from tests.fix_db import log_disagreements, one

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
COMMAND = Actor("zhihui", Role.COMMAND)
FIRE = parse_rules('''
[[rule]]
id = "fire_group"
name = "火警"
category = "public_safety"
device_type = "smoke_detector"
metric = "smoke"
levels = [{ level = 1, at_least = 1.0 }]
clear_below = 0.5
group_minutes = 15
''')
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)


def smoke(conn: psycopg.Connection, device_id: str, at: datetime, value: float) -> None:
    d, t, g = one(conn, "SELECT district_code, township_code, grid_code FROM devices WHERE device_id = %s",
                  (device_id,))
    write_batch(conn, Batch(at, readings=[Reading(at, device_id, "smoke", value, 0.0, 0.0, d, t, g, False)]))
    step(conn, FIRE, at)


def test_a_grouped_incident_with_one_warning_still_breaching_cannot_close(conn: psycopg.Connection) -> None:
    first, township = one(conn, "SELECT device_id, township_code FROM devices WHERE device_type = 'smoke_detector'"
                                " ORDER BY device_id LIMIT 1")
    (second,) = one(conn, "SELECT device_id FROM devices WHERE device_type = 'smoke_detector' AND township_code = %s"
                          " AND device_id <> %s ORDER BY device_id LIMIT 1", (township, first))
    smoke(conn, first, NOW, 1.0)
    smoke(conn, second, NOW + timedelta(minutes=1), 1.0)  # the burst joins the first one's incident
    rows = conn.execute("SELECT id, incident_id FROM warnings WHERE rule_id = 'fire_group' ORDER BY id").fetchall()
    assert len(rows) == 2 and rows[0][1] == rows[1][1]
    (w_first, incident_id), (w_second, _) = rows
    assert one(conn, "SELECT warning_id FROM incidents WHERE id = %s", (incident_id,)) == (w_first,)
    smoke(conn, first, NOW + timedelta(minutes=2), 0.0)  # the first one clears, the second still breaches
    assert conn.execute("SELECT id, status FROM warnings WHERE rule_id = 'fire_group' ORDER BY id").fetchall() == [
        (w_first, "cleared"), (w_second, "open")]

    staff = Actor("zj", Role.TOWNSHIP, township)
    act(conn, incident_id, Action.SIGN, staff, NOW + timedelta(minutes=3))
    act(conn, incident_id, Action.FEEDBACK, staff, NOW + timedelta(minutes=4), note="已扑灭")
    for note, details in (("", {}), ("现场已无烟", {}), ("  ", {"override": True})):
        with pytest.raises(IllegalMove) as refused:
            act(conn, incident_id, Action.VERIFY, COMMAND, NOW + timedelta(minutes=5), note=note, details=details)
        assert refused.value.refusal is Refusal.SENSOR_STILL_BREACHING
    assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident_id,)) == ("resolved",)

    act(conn, incident_id, Action.VERIFY, COMMAND, NOW + timedelta(minutes=6), note="二号探头进水误报，已报修",
        details={"override": True})
    assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident_id,)) == ("closed",)
    assert one(conn, "SELECT actor, note, details FROM incident_log WHERE incident_id = %s AND action = 'verify'",
               (incident_id,)) == ("zhihui", "二号探头进水误报，已报修",
                                   {"override": True, "open_warnings": [w_second]})


def test_when_every_warning_has_cleared_it_closes_without_override(conn: psycopg.Connection) -> None:
    first, township = one(conn, "SELECT device_id, township_code FROM devices WHERE device_type = 'smoke_detector'"
                                " ORDER BY device_id OFFSET 10 LIMIT 1")
    (second,) = one(conn, "SELECT device_id FROM devices WHERE device_type = 'smoke_detector' AND township_code = %s"
                          " AND device_id <> %s ORDER BY device_id LIMIT 1", (township, first))
    for n, device_id in enumerate((first, second)):
        smoke(conn, device_id, NOW + timedelta(minutes=n), 1.0)
    (incident_id,) = one(conn, "SELECT incident_id FROM warnings WHERE subject = %s AND rule_id = 'fire_group'",
                         (first,))
    for n, device_id in enumerate((first, second)):
        smoke(conn, device_id, NOW + timedelta(minutes=2 + n), 0.0)
    staff = Actor("zj", Role.TOWNSHIP, township)
    act(conn, incident_id, Action.SIGN, staff, NOW + timedelta(minutes=5))
    act(conn, incident_id, Action.FEEDBACK, staff, NOW + timedelta(minutes=6), note="已处置")
    act(conn, incident_id, Action.VERIFY, COMMAND, NOW + timedelta(minutes=7))
    assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident_id,)) == ("closed",)
    assert one(conn, "SELECT details FROM incident_log WHERE incident_id = %s AND action = 'verify'",
               (incident_id,)) == ({},)


def test_an_assisting_township_works_its_part_with_photos_and_the_log_replays(conn: psycopg.Connection) -> None:
    (lead, lon, lat, district), (helper, *_) = conn.execute(
        "SELECT code, label_lon, label_lat, parent_code FROM regions WHERE level = 'township'"
        " ORDER BY code OFFSET 40 LIMIT 2").fetchall()
    incident_id = open_incident(conn, title="河堤管涌", category="flood", level=2, source_kind="manual",
                                location=Location(lon, lat, district, lead, None, None), now=NOW)
    assert incident_id is not None
    act(conn, incident_id, Action.ASSIST, COMMAND, NOW, note="请协助转移下游群众", township_code=helper)
    helper_staff = Actor(f"zj{helper}", Role.TOWNSHIP, helper)
    act(conn, incident_id, Action.ASSIST_SIGN, helper_staff, NOW + timedelta(minutes=1))
    assert load(conn, incident_id, lock=False).part_of(helper) is Part.SIGNED
    act(conn, incident_id, Action.SIGN, Actor(f"zj{lead}", Role.TOWNSHIP, lead), NOW + timedelta(minutes=2))
    photos = [Photo("转移1.png", "image/png", PNG), Photo("转移2.png", "image/png", PNG + b"2")]
    log_id = report(conn, incident_id, Action.ASSIST_PROGRESS, helper_staff, NOW + timedelta(minutes=20),
                    note="已转移下游 30 人", details={"people_evacuated": 30, "shelters": ["镇中学"],
                                                    "photos": ["转移1.png", "转移2.png"]}, attachments=photos)
    with pytest.raises(IllegalMove) as refused:  # the lead's feedback is not the helper's to give
        report(conn, incident_id, Action.FEEDBACK, helper_staff, NOW + timedelta(minutes=21), note="完毕",
               details={}, attachments=photos)
    assert refused.value.refusal is Refusal.NOT_YOUR_TOWNSHIP
    report(conn, incident_id, Action.ASSIST_FEEDBACK, helper_staff, NOW + timedelta(minutes=40), note="协助完毕",
           details={"result": "resolved"})
    stored = load(conn, incident_id, lock=False)
    assert (stored.status.value, stored.township_code, stored.part_of(helper)) == ("signed", lead, Part.DONE)
    assert conn.execute("SELECT log_id, filename, data FROM incident_attachments WHERE incident_id = %s ORDER BY id",
                        (incident_id,)).fetchall() == [(log_id, "转移1.png", PNG), (log_id, "转移2.png", PNG + b"2")]
    assert one(conn, "SELECT assist_parts FROM incidents WHERE id = %s", (incident_id,)) == ({helper: "done"},)
    assert [d for d in log_disagreements(conn) if d[0] == incident_id] == []
