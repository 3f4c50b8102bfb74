"""受理时限 (issue 18): a grid report nobody accepted waits in 待受理 on the desk's dispatch window, as an incident
in 待分拨 does: past it the desk is reminded, then it is escalated to the city, then to a leader; accepting it
starts the 待分拨 clock afresh. Pure on the lifecycle, and on PostgreSQL through the escalator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.deadlines import dispatch_window
from alerts.escalate import escalate_overdue
from alerts.incidents import accept_report, act, load, patrol_report
from alerts.lifecycle import SYSTEM, Action, Actor, Incident, Role, escalation_due, transition
from alerts.locate import locate
from alerts.status import Status
from layers.loader import load_active_layers
from tests.fix_db import log_disagreements, one

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
GRID = "431002001001"
MEMBER = Actor("wg" + GRID, Role.GRID, grids=(GRID,))
COMMAND = Actor("zhihui", Role.COMMAND)


def _reported(at: datetime) -> Incident:
    state, _ = transition(Incident(None, None, 3, None, category="city_management"), Action.PATROL_REPORT, MEMBER,
                          at, note="护栏倒伏", details={"level": 3, "category": "city_management", "grid_code": GRID})
    return state


def test_a_report_left_unaccepted_reminds_the_desk_then_escalates() -> None:
    window = dispatch_window(3, "city_management")
    report = _reported(NOW)
    assert report.status is Status.REPORTED and report.dispatch_deadline == NOW + window
    assert escalation_due(report, NOW + window) is None  # at the deadline: still on time
    assert escalation_due(report, NOW + window + timedelta(seconds=1)) == (Action.REMIND, 1, "desk")
    reminded, _ = transition(report, Action.REMIND, SYSTEM, NOW + window, details={"tier": 1, "to": "desk"})
    assert reminded.status is Status.REPORTED and escalation_due(reminded, NOW + window * 1.5) == \
        (Action.ESCALATE, 2, "city")
    up, _ = transition(reminded, Action.ESCALATE, SYSTEM, NOW + window * 1.5, details={"tier": 2, "to": "city"})
    assert up.escalated_to == "city" and escalation_due(up, NOW + window * 2) == (Action.ESCALATE, 3, "leader")
    later = NOW + window * 2
    accepted, _ = transition(up, Action.ACCEPT, COMMAND, later)  # 待分拨 now: its own clock, from the acceptance
    assert (accepted.status, accepted.escalation_tier, accepted.escalated_to) == (Status.NEW, 0, None)
    assert accepted.dispatch_deadline == later + window


def test_a_declined_report_waits_on_no_clock() -> None:
    declined, _ = transition(_reported(NOW), Action.DECLINE, COMMAND, NOW, note="不属于城市管理范围")
    assert declined.dispatch_deadline is None and escalation_due(declined, NOW + timedelta(days=1)) is None


def test_the_escalator_reminds_and_escalates_a_report_nobody_accepted(demo_db: Callable[[], str]) -> None:
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions r JOIN boundary_versions b USING (version)"
                             " WHERE b.active AND r.code = %s", (GRID,))
        where = locate(float(lon), float(lat), load_active_layers(conn))
        window = dispatch_window(3, "city_management")
        start = NOW - window - timedelta(seconds=1)
        rid = patrol_report(conn, actor=MEMBER, category="city_management", location=where, note="护栏倒伏",
                            now=start)
        assert escalate_overdue(conn, NOW) == 1
        assert escalate_overdue(conn, NOW) == 0  # each rung once
        assert escalate_overdue(conn, NOW + window / 2) == 1
        rows = [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT action, note, to_status FROM incident_log WHERE incident_id = %s ORDER BY id", (rid,))]
        assert rows == [("patrol_report", "护栏倒伏", "reported"), ("remind", "待受理超时，催办受理", "reported"),
                        ("escalate", "待受理超时，升级至市指挥中心", "reported")]
        assert load(conn, rid).escalated_to == "city"
        topics = [r[0] for r in conn.execute(
            "SELECT topic FROM mqtt_outbox WHERE topic LIKE 'escalation/%%' AND (payload->>'incident_id')::bigint = %s"
            " ORDER BY id", (rid,))]
        assert topics == [f"escalation/{GRID[:6]}", "escalation/city"]  # its district's desk first, then the city
        assert not conn.execute("SELECT 1 FROM mqtt_outbox WHERE topic LIKE 'dispatch/%%'"  # not the township's yet
                                " AND (payload->>'incident_id')::bigint = %s", (rid,)).fetchall()
        accept_report(conn, rid, COMMAND, NOW + window / 2)
        assert load(conn, rid).escalated_to is None
        act(conn, rid, Action.SIGN, Actor("zj" + GRID[:9], Role.TOWNSHIP, GRID[:9]), NOW + window / 2)
        assert log_disagreements(conn) == []
