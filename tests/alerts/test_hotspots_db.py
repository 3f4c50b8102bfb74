"""12345 hotspots against a real PostgreSQL, with the clock in the test's hands: five complaints of a kind within
500 m form ONE incident listing its tickets, a later one inside it joins it (across a grid border too), and
closing the incident through the lifecycle gives every ticket its outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alerts import hotspots
from alerts.evaluate import step, tick
from alerts.incidents import act
from alerts.lifecycle import Action, Actor, Role
from alerts.rules import Rule, parse_rules
from ingest.batch import Batch, TaggedEvent
from ingest.decode import Event, EventIn, ReporterIn
from ingest.writer import write_batch
from tests.fix_db import AsRole, log_disagreements, one

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
COMMAND = Actor("zhihui", Role.COMMAND)
STAFF = Actor("zj431002001", Role.TOWNSHIP, "431002001")
LON, LAT = 113.0150, 25.7700
M_LON = 1 / 100_400  # about a metre of longitude here
GRID, NEXT_GRID = ("431002", "431002001", "431002001001", False), ("431002", "431002001", "431002001002", False)
RULES: tuple[Rule, ...] = parse_rules('''
[[rule]]
id = "hotspot_h"
kind = "event_count"
name = "主动治理·高频诉求热点"
category = "hotline"
event_category = "hotline"
radius_m = 500
window_hours = 168
at_least = 5
level = 4
quiet_hours = 48
''')


def ticket(n: int, *, east_m: float = 0.0, hours: float = 0.0, complaint: str = "噪音扰民",
           codes: tuple[str, str, str, bool] = GRID) -> TaggedEvent:
    body = EventIn(event_id=f"h-{n}", ts=NOW + timedelta(hours=hours, minutes=n), category="hotline",
                   title=complaint, description=f"第{n}次投诉：夜间施工噪音", lon=LON + east_m * M_LON, lat=LAT,
                   reporter=ReporterIn(name="王建国", phone=f"139 0000 {n:04d}"))
    return TaggedEvent(Event(body.ts, "zw", "hotline12345", body), *codes)


def warnings(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT subject, status, last_value, details->>'complaint' FROM warnings"
                        " WHERE rule_id = 'hotspot_h' ORDER BY id").fetchall()


def listed(conn: psycopg.Connection, incident_id: int) -> list[str]:
    return [t.event_id for t in hotspots.tickets(conn, incident_id)]


def test_a_hotspot_lists_its_tickets_takes_later_ones_and_closes_the_loop_on_all(
        conn: psycopg.Connection, dsn: str, as_role: AsRole) -> None:
    write_batch(conn, Batch(NOW, events=[ticket(n, east_m=n * 80) for n in range(4)]
                            + [ticket(9, east_m=100, complaint="占道经营")]))  # another kind: not counted
    step(conn, RULES, NOW + timedelta(hours=1))
    assert warnings(conn) == []
    write_batch(conn, Batch(NOW, events=[ticket(4, east_m=320), ticket(5, east_m=3000)]))  # 3 km off: no part
    step(conn, RULES, NOW + timedelta(hours=1))
    assert warnings(conn) == [("hotspot:431002001001:噪音扰民", "open", 5.0, "噪音扰民")]
    incident = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'hotspot_h'")[0]
    assert one(conn, "SELECT title, category, status FROM incidents WHERE id = %s", (incident,)) == (
        "主动治理·高频诉求热点 · 噪音扰民（5件）", "hotline", "dispatched")
    assert listed(conn, incident) == ["h-0", "h-1", "h-2", "h-3", "h-4"]
    first = hotspots.tickets(conn, incident)[0]
    assert (first.complaint, first.text, first.township_code, first.status) == (
        "噪音扰民", "第0次投诉：夜间施工噪音", "431002001", "dispatched")
    assert first.reporter is not None and first.reporter.phone == "13900000000"  # stored whole; pages mask it

    # Later: one inside the hotspot but across the grid border joins it, no second warning or incident.
    write_batch(conn, Batch(NOW, events=[ticket(6, east_m=450, hours=5, codes=NEXT_GRID)]))
    step(conn, RULES, NOW + timedelta(hours=6))
    assert warnings(conn) == [("hotspot:431002001001:噪音扰民", "open", 6.0, "噪音扰民")]
    assert listed(conn, incident)[-1] == "h-6"
    assert one(conn, "SELECT count(*) FROM incidents WHERE category = 'hotline'")[0] == 1
    write_batch(conn, Batch(NOW, events=[ticket(6, east_m=450, hours=5, codes=NEXT_GRID)]))  # redelivered
    step(conn, RULES, NOW + timedelta(hours=6))
    assert len(listed(conn, incident)) == 6

    # The lifecycle closes it: its warning clears after two quiet days, then 核查结案.
    act(conn, incident, Action.SIGN, STAFF, NOW + timedelta(hours=7))
    act(conn, incident, Action.FEEDBACK, STAFF, NOW + timedelta(hours=20), note="工地夜间停工，已回访诉求人",
        details={"result": "resolved"})
    tick(conn, RULES, NOW + timedelta(hours=5 + 47))
    assert warnings(conn)[0][1] == "open"  # 47 h since the last ticket
    tick(conn, RULES, NOW + timedelta(hours=5 + 49))
    assert warnings(conn)[0][1] == "cleared"
    act(conn, incident, Action.VERIFY, COMMAND, NOW + timedelta(hours=55))
    outcomes = {(t.status, t.outcome, t.closed_at) for t in hotspots.tickets(conn, incident)}
    assert outcomes == {("closed", "工地夜间停工，已回访诉求人", NOW + timedelta(hours=55))}
    one_ticket = hotspots.ticket(conn, "hotline12345", "h-3")
    assert one_ticket is not None and (one_ticket.incident_id, one_ticket.status) == (incident, "closed")
    assert hotspots.ticket(conn, "hotline12345", "h-5") is None  # the far one is in no hotspot

    # After the close, new complaints there count afresh: a new hotspot, its own incident.
    write_batch(conn, Batch(NOW, events=[ticket(n, hours=60) for n in range(20, 25)]))
    step(conn, RULES, NOW + timedelta(hours=61))
    assert [w[1] for w in warnings(conn)] == ["cleared", "open"]
    second = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'hotspot_h' AND status = 'open'")[0]
    assert second != incident and listed(conn, second) == [f"h-{n}" for n in range(20, 25)]
    conn.commit()
    assert log_disagreements(conn) == []
    # The dashboard reads the list (its own role); the engine wrote it.
    with psycopg.connect(as_role(dsn, "dashboard")) as dash:
        assert len(hotspots.tickets(dash, incident)) == 6


def test_a_warning_from_before_tickets_were_listed_clears_a_quiet_window_after_its_last_count(
        conn: psycopg.Connection) -> None:
    """An `up` on a database the old engine left: its open hotspot warning lists no tickets; it waits out the quiet
    window from its last update instead of clearing at the first tick."""
    conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at, grid_code)"
                 " VALUES ('hotspot_h', 'hotspot:431002001003:占道经营', 4, 'open', '高频诉求热点 · 占道经营（5件）',"
                 " %s, %s, '431002001003')", (NOW, NOW + timedelta(hours=10)))
    tick(conn, RULES, NOW + timedelta(hours=10 + 47))
    assert one(conn, "SELECT status FROM warnings WHERE subject = 'hotspot:431002001003:占道经营'") == ("open",)
    tick(conn, RULES, NOW + timedelta(hours=10 + 48))
    assert one(conn, "SELECT status FROM warnings WHERE subject = 'hotspot:431002001003:占道经营'") == ("cleared",)
