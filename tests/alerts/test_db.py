"""The alert stages against a real PostgreSQL, with the clock in the test's hands.

Data goes in the way ingest writes it (``write_batch``: rows plus the alert-inbox hand-off);
the engine's ``step`` and ``tick`` run with a ``now`` the test chooses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts import directives
from alerts.evaluate import step, tick
from alerts.incidents import Location, act, amend, open_incident
from alerts.lifecycle import Action, Actor, IllegalMove, Refusal, Role
from alerts.locate import locate
from alerts.rules import Rule, parse_rules
from ingest.batch import Batch, TaggedEvent, build_batch
from ingest.decode import Event, EventIn, Reading
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from ingest.writer import write_batch
from layers.loader import load_active_layers
from tests.fix_db import log_disagreements, one
from tests.near_border import border_points

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
COMMAND = Actor("zhihui", Role.COMMAND)


def device(conn: psycopg.Connection, device_type: str, nth: int = 0, township: str | None = None
           ) -> tuple[str, str, str, str]:
    row = conn.execute(
        "SELECT device_id, township_code, district_code, grid_code FROM devices WHERE device_type = %s"
        " AND (%s::text IS NULL OR township_code = %s) ORDER BY device_id OFFSET %s LIMIT 1",
        (device_type, township, township, nth)).fetchone()
    assert row is not None
    return row


def write(conn: psycopg.Connection, device_id: str, metric: str, points: list[tuple[datetime, float]],
          codes: tuple[str | None, str | None, str | None] | None = None) -> None:
    d, t, g = codes or one(conn, "SELECT district_code, township_code, grid_code FROM devices"
                                    " WHERE device_id = %s", (device_id,))
    readings = [Reading(ts, device_id, metric, value, 0.0, 0.0, d, t, g, codes is not None) for ts, value in points]
    write_batch(conn, Batch(points[-1][0], readings=readings))


def minutes(start: datetime, *values: float) -> list[tuple[datetime, float]]:
    return [(start + timedelta(minutes=i), val) for i, val in enumerate(values)]


def rules(text: str) -> tuple[Rule, ...]:
    return parse_rules(text)


def q(conn: psycopg.Connection, sql: str, *args: object) -> list[tuple]:
    return conn.execute(sql, args).fetchall()


GAS = rules('''
[[rule]]
id = "gas_t"
name = "燃气"
category = "production_safety"
device_type = "gas_detector"
metric = "gas_lel"
levels = [{ level = 3, at_least = 10.0 }, { level = 2, at_least = 20.0 }, { level = 1, at_least = 50.0 }]
clear_below = 5.0
downgrade_hold_minutes = 10
''')


def test_one_warning_upgrades_at_once_downgrades_after_hold_and_counts_occurrences(conn: psycopg.Connection) -> None:
    gas, township, _, _ = device(conn, "gas_detector", 0)
    t = NOW
    plan = [(12, 3), (25, 2), (60, 1), (25, 1), (25, 1), (7, 1), (30, 2), (30, 2)]  # hold 10 min
    for i, (value, expected_level) in enumerate(plan):
        at = t + timedelta(minutes=6 * i)
        write(conn, gas, "gas_lel", [(at, value)])
        step(conn, GAS, at)
        (level,) = q(conn, "SELECT level FROM warnings WHERE rule_id = 'gas_t' AND subject = %s", gas)[0]
        assert level == expected_level, (i, value)
    assert q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'gas_t' AND subject = %s", gas) == [(1,)]
    (warning_id, incident_id) = q(conn, "SELECT id, incident_id FROM warnings WHERE subject = %s", gas)[0]
    # 12→25→60→25→25 one breach; 7 is in the hysteresis band (ended); 30→30 a second breach.
    assert q(conn, "SELECT count(*), max(peak_value) FROM warning_occurrences WHERE warning_id = %s",
             warning_id) == [(2, 60.0)]
    relevels = q(conn, "SELECT details->>'level', note FROM incident_log WHERE incident_id = %s"
                       " AND action = 'relevel' ORDER BY id", incident_id)
    assert [r[0] for r in relevels] == ["2", "1", "2"]
    assert "升级" in relevels[0][1] and "降级" in relevels[2][1]
    assert q(conn, "SELECT level, township_code FROM incidents WHERE id = %s", incident_id) == [(2, township)]
    write(conn, gas, "gas_lel", [(t + timedelta(minutes=60), 1.0)])
    step(conn, GAS, t + timedelta(minutes=60))
    assert q(conn, "SELECT status FROM warnings WHERE id = %s", warning_id) == [("cleared",)]


def test_maintenance_window_suppresses_and_is_recorded(conn: psycopg.Connection) -> None:
    gas, *_ = device(conn, "gas_detector", 1)
    conn.execute("INSERT INTO maintenance_windows (device_id, starts_at, ends_at, reason, created_by)"
                 " VALUES (%s, %s, %s, '探头标定', 'admin')", (gas, NOW, NOW + timedelta(hours=1)))
    write(conn, gas, "gas_lel", [(NOW + timedelta(minutes=1), 55.0)])
    step(conn, GAS, NOW + timedelta(minutes=1))
    assert q(conn, "SELECT count(*) FROM warnings WHERE subject = %s", gas) == [(0,)]
    assert q(conn, "SELECT rule_id, cause LIKE 'maintenance:%%' FROM suppressed_warnings WHERE subject = %s",
             gas) == [("gas_t", True)]


def test_a_burst_in_one_township_is_one_incident_and_routing_table_wins(conn: psycopg.Connection) -> None:
    first, township, district, _ = device(conn, "smoke_detector", 0)
    second, *_ = device(conn, "smoke_detector", 1, township=township)
    fire = rules('''
[[rule]]
id = "fire_burst"
name = "火警"
category = "public_safety"
device_type = "smoke_detector"
metric = "smoke"
levels = [{ level = 1, at_least = 1.0 }]
clear_below = 0.5
group_minutes = 15
''')
    conn.execute("INSERT INTO responsibility (area_code, category, unit_code, note) VALUES (%s, 'public_safety',"
                 " '431099001', '消防救援大队')", (district,))
    for n, dev in enumerate((first, second)):
        write(conn, dev, "smoke", [(NOW + timedelta(minutes=n), 1.0)])
        step(conn, fire, NOW + timedelta(minutes=n))
    incidents = q(conn, "SELECT DISTINCT incident_id FROM warnings WHERE rule_id = 'fire_burst'")
    assert len(incidents) == 1 and q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'fire_burst'") == [(2,)]
    assert q(conn, "SELECT township_code FROM incidents WHERE id = %s", incidents[0][0]) == [("431099001",)]


def test_compound_flood_rule_needs_both_in_one_township(conn: psycopg.Connection) -> None:
    rain, township, _, _ = device(conn, "rain_gauge", 5)
    river, *_ = device(conn, "river_gauge", 0, township=township)
    flood = rules('''
[[rule]]
id = "flood_c"
kind = "compound"
name = "叠加"
category = "flood"
combine = "all"
within_minutes = 60
level = 1
conditions = [{ device_type = "rain_gauge", metric = "rain_1h", at_least = 50.0 },
              { device_type = "river_gauge", metric = "water_level", at_least = 2.5 }]
''')
    write(conn, rain, "rain_1h", [(NOW, 70.0)])
    step(conn, flood, NOW + timedelta(minutes=1))
    assert q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'flood_c'") == [(0,)]
    write(conn, river, "water_level", [(NOW + timedelta(minutes=2), 3.1)])
    step(conn, flood, NOW + timedelta(minutes=3))
    assert q(conn, "SELECT subject, level, township_code FROM warnings WHERE rule_id = 'flood_c'") == [
        (f"township:{township}", 1, township)]


def test_geofence_on_region_codes(conn: psycopg.Connection) -> None:
    truck, *_ = device(conn, "hazmat_vehicle", 3)
    zone = rules('''
[[rule]]
id = "zone_g"
kind = "geofence"
name = "禁行区"
category = "production_safety"
device_type = "hazmat_vehicle"
zone = ["431002001"]
level = 2
''')
    write(conn, truck, "speed_kmh", [(NOW, 40.0)], codes=("431003", "431003001", "431003001001"))
    step(conn, zone, NOW)
    assert q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'zone_g'") == [(0,)]
    write(conn, truck, "speed_kmh", [(NOW + timedelta(minutes=1), 35.0)], codes=("431002", "431002001",
                                                                                "431002001002"))
    step(conn, zone, NOW + timedelta(minutes=1))
    assert q(conn, "SELECT subject, status, grid_code FROM warnings WHERE rule_id = 'zone_g'") == [
        (truck, "open", "431002001002")]


def test_hotline_hotspot_from_events_within_radius(conn: psycopg.Connection) -> None:
    hot = rules('''
[[rule]]
id = "hotspot_e"
kind = "event_count"
name = "高频诉求"
category = "hotline"
event_category = "hotline"
radius_m = 300
window_hours = 72
at_least = 4
level = 4
''')
    lon, lat = 113.0150, 25.7700
    codes = ("431002", "431002001", "431002001001", False)

    def ticket(n: int, dlon: float) -> TaggedEvent:
        body = EventIn(event_id=f"t-{n}", ts=NOW + timedelta(hours=n), category="hotline",
                       title="噪音扰民", lon=lon + dlon, lat=lat)
        return TaggedEvent(Event(body.ts, "zw", "hotline12345", body), *codes)

    far = ticket(9, 0.05)  # ~5 km away: not part of the hotspot
    write_batch(conn, Batch(NOW, events=[ticket(0, 0), ticket(1, 0.001), far]))
    step(conn, hot, NOW + timedelta(hours=9))
    assert q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'hotspot_e'") == [(0,)]
    write_batch(conn, Batch(NOW, events=[ticket(2, 0.002), ticket(3, -0.0005)]))
    step(conn, hot, NOW + timedelta(hours=9))
    rows = q(conn, "SELECT subject, last_value FROM warnings WHERE rule_id = 'hotspot_e'")
    assert rows == [("hotspot:431002001001:噪音扰民", 4.0)]


def test_a_hotspot_clears_after_a_quiet_window_and_a_new_cluster_warns_again(conn: psycopg.Connection) -> None:
    hot = rules('''
[[rule]]
id = "hotspot_q"
kind = "event_count"
name = "高频诉求"
category = "hotline"
event_category = "hotline"
radius_m = 300
window_hours = 24
at_least = 3
level = 4
''')
    codes = ("431002", "431002001", "431002001001", False)

    def tickets(first: int, hours: float) -> list[TaggedEvent]:
        out = []
        for n in range(first, first + 3):
            body = EventIn(event_id=f"q-{n}", ts=NOW + timedelta(hours=hours, minutes=n), category="hotline",
                           title="占道经营", lon=113.0150 + n / 100_000, lat=25.7700)
            out.append(TaggedEvent(Event(body.ts, "zw", "hotline12345", body), *codes))
        return out

    def warned() -> list[tuple]:
        return q(conn, "SELECT status, incident_id IS NOT NULL FROM warnings WHERE rule_id = 'hotspot_q' ORDER BY id")

    write_batch(conn, Batch(NOW, events=tickets(0, 0)))
    step(conn, hot, NOW + timedelta(hours=1))
    assert warned() == [("open", True)]
    first_incident = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'hotspot_q'")[0]
    tick(conn, hot, NOW + timedelta(hours=20))  # complaints 20 h ago: not quiet for the 24 h window yet
    assert warned() == [("open", True)]
    tick(conn, hot, NOW + timedelta(hours=25))  # a whole window without a complaint of its kind in the grid
    assert warned() == [("cleared", True)]
    staff = Actor("zj431002001", Role.TOWNSHIP, "431002001")
    act(conn, first_incident, Action.SIGN, staff, NOW + timedelta(hours=26))
    act(conn, first_incident, Action.FEEDBACK, staff, NOW + timedelta(hours=27), note="已劝离",
        details={"result": "resolved"})
    act(conn, first_incident, Action.VERIFY, COMMAND, NOW + timedelta(hours=28))  # its warning has cleared
    write_batch(conn, Batch(NOW, events=tickets(10, 30)))  # a new cluster in the same grid, a day later
    step(conn, hot, NOW + timedelta(hours=31))
    assert warned() == [("cleared", True), ("open", True)]
    second = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'hotspot_q' AND status = 'open'")[0]
    assert second != first_incident  # it opens an incident of its own


def test_silent_devices_and_a_silent_township(conn: psycopg.Connection) -> None:
    offline = rules('''
[[rule]]
id = "offline_n"
kind = "no_data"
name = "离线"
category = "device_health"
factor = 3.0
level = 4
''')
    ids = [r[0] for r in q(conn, "SELECT device_id FROM devices ORDER BY device_id")]
    quiet_township = q(conn, "SELECT township_code FROM devices ORDER BY township_code DESC LIMIT 1")[0][0]
    lone = q(conn, "SELECT device_id FROM devices WHERE township_code <> %s ORDER BY device_id LIMIT 1",
             quiet_township)[0][0]
    later = NOW + timedelta(days=3)
    conn.execute("INSERT INTO device_status (device_id, last_seen) SELECT unnest(%s::text[]), %s"
                 " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen", (ids, later))
    conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = %s OR device_id IN"
                 " (SELECT device_id FROM devices WHERE township_code = %s)",
                 (later - timedelta(hours=1), lone, quiet_township))
    tick(conn, offline, later + timedelta(seconds=30))
    subjects = {r[0] for r in q(conn, "SELECT subject FROM warnings WHERE rule_id = 'offline_n' AND status = 'open'")}
    assert subjects == {lone, f"township:{quiet_township}"}  # its devices are inhibited, not one each
    conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = %s", (later, lone))
    tick(conn, offline, later + timedelta(seconds=40))
    assert q(conn, "SELECT status FROM warnings WHERE rule_id = 'offline_n' AND subject = %s", lone) == [("cleared",)]


def test_overdue_incident_is_reminded_then_escalated_and_stops_when_signed(conn: psycopg.Connection) -> None:
    gas, township, _, _ = device(conn, "gas_detector", 7)
    write(conn, gas, "gas_lel", [(NOW, 60.0)])
    step(conn, GAS, NOW)
    (incident_id, deadline) = q(conn, "SELECT i.id, i.sign_deadline FROM incidents i JOIN warnings w"
                                      " ON w.incident_id = i.id WHERE w.subject = %s", gas)[0]
    for minutes_after in (0, 1, 8, 20):
        tick(conn, (), deadline + timedelta(minutes=minutes_after))
    rows = q(conn, "SELECT action, details->>'tier', details->>'to' FROM incident_log WHERE incident_id = %s"
                   " AND action IN ('remind', 'escalate') ORDER BY id", incident_id)
    assert rows == [("remind", "1", "township"), ("escalate", "2", "district"), ("escalate", "3", "leader")]
    assert q(conn, "SELECT count(*) FROM mqtt_outbox WHERE topic = %s AND payload->>'incident_id' = %s",
             f"dispatch/{township}", str(incident_id)) == [(4,)]  # dispatch + 3 reminders
    act(conn, incident_id, Action.SIGN, Actor("zj", Role.TOWNSHIP, township), deadline + timedelta(minutes=21))
    tick(conn, (), deadline + timedelta(minutes=22))
    assert len(q(conn, "SELECT 1 FROM incident_log WHERE incident_id = %s AND action IN ('remind', 'escalate')",
                 incident_id)) == 3


def test_closure_guard_can_be_overridden_with_a_reason(conn: psycopg.Connection) -> None:
    gas, township, _, _ = device(conn, "gas_detector", 9)
    write(conn, gas, "gas_lel", [(NOW, 60.0)])
    step(conn, GAS, NOW)
    (incident_id,) = q(conn, "SELECT incident_id FROM warnings WHERE subject = %s", gas)[0]
    staff = Actor("zj", Role.TOWNSHIP, township)
    act(conn, incident_id, Action.SIGN, staff, NOW)
    act(conn, incident_id, Action.FEEDBACK, staff, NOW, note="已关阀")
    with pytest.raises(IllegalMove) as refused:
        act(conn, incident_id, Action.VERIFY, COMMAND, NOW, details={"override": True})  # no reason given
    assert refused.value.refusal is Refusal.SENSOR_STILL_BREACHING
    act(conn, incident_id, Action.VERIFY, COMMAND, NOW, note="探头故障，已报修", details={"override": True})
    assert q(conn, "SELECT status FROM incidents WHERE id = %s", incident_id) == [("closed",)]


def test_directive_acknowledgements_and_laggards(conn: psycopg.Connection) -> None:
    towns = [r[0] for r in q(conn, "SELECT code FROM regions WHERE level = 'township' ORDER BY code LIMIT 3")]
    directive_id = directives.issue(conn, title="启动防汛IV级应急响应", body="各镇街立即开展巡查", townships=towns,
                                    actor=COMMAND, now=NOW, ack_within=timedelta(minutes=20))
    assert directives.acknowledge(conn, directive_id, Actor("zj0", Role.TOWNSHIP, towns[0]), NOW)
    assert not directives.acknowledge(conn, directive_id, Actor("zj0", Role.TOWNSHIP, towns[0]), NOW)  # once
    with pytest.raises(directives.DirectiveError):
        directives.acknowledge(conn, directive_id, Actor("x", Role.TOWNSHIP, "431099999"), NOW)
    directives.acknowledge(conn, directive_id, Actor("zj1", Role.TOWNSHIP, towns[1]), NOW + timedelta(minutes=5))
    tick(conn, (), NOW + timedelta(minutes=21))
    tick(conn, (), NOW + timedelta(minutes=31))
    status = directives.targets(conn, directive_id)
    assert [(s.township_code, s.acked_at is not None, s.escalation_tier) for s in status] == [
        (towns[0], True, 0), (towns[1], True, 0), (towns[2], False, 2)]
    assert q(conn, "SELECT action, township_code FROM directive_log WHERE directive_id = %s ORDER BY id",
             directive_id) == [("issue", None), ("ack", towns[0]), ("ack", towns[1]), ("remind", towns[2]),
                               ("escalate", towns[2])]
    assert len(q(conn, "SELECT 1 FROM mqtt_outbox WHERE topic LIKE 'directive/%%' AND"
                       " (payload->>'directive_id')::int = %s", directive_id)) == 3 + 2


def test_moving_an_incident_or_changing_its_category_reroutes_it(conn: psycopg.Connection) -> None:
    towns = [r for r in q(conn, "SELECT code, label_lon, label_lat FROM regions WHERE level = 'township'"
                                " ORDER BY code OFFSET 60 LIMIT 2")]
    (t1, lon1, lat1), (t2, lon2, lat2) = towns
    incident_id = open_incident(conn, title="占道经营", category="hotline", level=4, source_kind="manual",
                                location=Location(lon1, lat1, t1[:6], t1, None, None), now=NOW)
    assert incident_id is not None
    unit = amend(conn, incident_id, location=Location(lon2, lat2, t2[:6], t2, None, None), category="hotline",
                 actor=COMMAND, now=NOW, note="核实位置在相邻镇街")
    assert unit == t2
    conn.execute("INSERT INTO responsibility (area_code, category, unit_code) VALUES (%s, 'production_safety',"
                 " '431099002')", (t2[:6],))
    unit = amend(conn, incident_id, location=Location(lon2, lat2, t2[:6], t2, None, None),
                 category="production_safety", actor=COMMAND, now=NOW, note="实为危化品存放")
    assert unit == "431099002"
    log = q(conn, "SELECT action, actor, details->>'township_code' FROM incident_log WHERE incident_id = %s"
                  " ORDER BY id", incident_id)
    assert log == [("create", "system", None), ("dispatch", "system", t1), ("amend", "zhihui", None),
                   ("transfer", "system", t2), ("amend", "zhihui", None), ("transfer", "system", "431099002")]
    assert q(conn, "SELECT category, township_code FROM incidents WHERE id = %s", incident_id) == [
        ("production_safety", "431099002")]


def test_near_a_border_the_incident_carries_the_flag_until_the_area_is_confirmed(
        conn: psycopg.Connection, dsn: str) -> None:
    points, layers = border_points(), load_active_layers(dsn)
    specs = [DeviceSpec(f"gas-{where}-border", "gas_detector", "yj", f"燃气探头（{where}）", *point)
             for where, point in (("near", points.near), ("far", points.far))]
    register_devices(conn, specs, layer_tagger(layers), layers.version)  # as `simulator register` does
    assert q(conn, "SELECT device_id, township_code, near_boundary FROM devices WHERE device_id LIKE '%%-border'"
                   " ORDER BY device_id") == [("gas-far-border", points.township, False),
                                              ("gas-near-border", points.township, True)]
    for spec in specs:
        write(conn, spec.device_id, "gas_lel", [(NOW, 60.0)])
    step(conn, GAS, NOW)
    flagged = dict(q(conn, "SELECT w.subject, i.near_boundary FROM incidents i JOIN warnings w ON w.id = i.warning_id"
                           " WHERE w.subject LIKE '%%-border'"))
    assert flagged == {"gas-near-border": True, "gas-far-border": False}
    (incident_id, township), = q(conn, "SELECT i.id, i.township_code FROM incidents i JOIN warnings w"
                                       " ON w.id = i.warning_id WHERE w.subject = 'gas-near-border'")
    assert township == points.township  # routed as tagged; the dispatcher is asked to confirm it
    assert q(conn, "SELECT details->'near_boundary' FROM incident_log WHERE incident_id = %s AND action = 'create'",
             incident_id) == [(True,)]
    assert q(conn, "SELECT payload->'near_boundary' FROM mqtt_outbox WHERE payload->>'incident_id' = %s",
             str(incident_id)) == [(True,)]  # the township app hears it with the dispatch

    confirmed_at = NOW + timedelta(minutes=3)
    act(conn, incident_id, Action.CONFIRM_AREA, COMMAND, confirmed_at, note="电话核实：属本镇")
    assert q(conn, "SELECT near_boundary, status FROM incidents WHERE id = %s", incident_id) == [(False, "dispatched")]
    assert q(conn, "SELECT actor, role, at, from_status, to_status, note FROM incident_log WHERE incident_id = %s"
                   " AND action = 'confirm_area'", incident_id) == [
        ("zhihui", "command", confirmed_at, "dispatched", "dispatched", "电话核实：属本镇")]
    with pytest.raises(IllegalMove) as twice:
        act(conn, incident_id, Action.CONFIRM_AREA, COMMAND, confirmed_at, note="再点一次")
    assert twice.value.refusal is Refusal.NOT_NEAR_BOUNDARY

    for point, near in ((points.near, True), (points.far, False)):  # moved by hand: the flag is judged again
        amend(conn, incident_id, location=locate(*point, layers), category="production_safety", actor=COMMAND,
              now=confirmed_at, note="更正位置")
        assert q(conn, "SELECT near_boundary, township_code FROM incidents WHERE id = %s", incident_id) == [
            (near, points.township)]
    assert q(conn, "SELECT details->'near_boundary' FROM incident_log WHERE incident_id = %s AND action = 'amend'"
                   " ORDER BY id", incident_id) == [(True,), (False,)]


def test_a_graded_event_near_a_border_opens_a_flagged_incident(conn: psycopg.Connection, dsn: str) -> None:
    points = border_points()
    events = [("city/chenzhou/event/ga/police110", json.dumps(
        {"event_id": f"110-{where}", "ts": NOW.isoformat(), "category": "public_safety", "title": "道路塌陷",
         "lon": lon, "lat": lat, "level": 2}).encode()) for where, (lon, lat) in (("near", points.near),
                                                                                   ("far", points.far))]
    write_batch(conn, build_batch(events, city="chenzhou", now=NOW, devices=lambda _d: None,
                                  tagger=layer_tagger(load_active_layers(dsn))))
    assert q(conn, "SELECT event_id, township_code, near_boundary FROM events WHERE source_system = 'police110'"
                   " ORDER BY event_id") == [("110-far", points.township, False), ("110-near", points.township, True)]
    step(conn, (), NOW)
    assert q(conn, "SELECT source_ref, near_boundary FROM incidents WHERE source_kind = 'event'"
                   " AND source_ref LIKE 'event:police110:%%' ORDER BY source_ref") == [
        ("event:police110:110-far", False), ("event:police110:110-near", True)]


def test_replaying_every_logged_incident_rebuilds_its_row(conn: psycopg.Connection) -> None:
    """Runs last in this module: every incident the tests above made, rebuilt from incident_log alone."""
    assert one(conn, "SELECT count(*) FROM incidents")[0] >= 8
    assert log_disagreements(conn) == []
