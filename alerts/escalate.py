"""Overdue incidents: reminders, then escalation to the district, then to a leader; each one a log row.

An incident left in 待分拨 (or a grid report left in 待受理) past its dispatch window climbs its own ladder:
the desk that should dispatch it is reminded (its district's command center, or the city's), then it is
escalated to the city, then to a leader.
An escalation arrives: the incident goes to the top of that desk's queue marked (``incidents.escalated_to``),
and a message goes out on ``city/<city>/escalation/<district code | city | leader>`` through the outbox
(``alerts.incidents.escalation_topic``).
"""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg

from alerts.deadlines import dispatch_overdue_sql, overdue_sql
from alerts.incidents import act, load
from alerts.lifecycle import SYSTEM, escalation_due
from alerts.status import Status

log = logging.getLogger("cityops.alerts")

TO_WHOM = {"township": "催办镇街", "district": "升级至区县指挥中心", "leader": "升级至分管领导",
           "desk": "待分拨超时，催办分拨", "city": "待分拨超时，升级至市指挥中心"}
# A grid report nobody accepted climbs the same ladder; its rows say what it waited for.
TO_WHOM_REPORTED = TO_WHOM | {"desk": "待受理超时，催办受理", "city": "待受理超时，升级至市指挥中心"}


def overdue_ids(conn: psycopg.Connection, now: datetime) -> list[int]:
    """Incidents past the deadline their status waits on (the same SQL the pages count with), and those left in
    待分拨 or 待受理 past their dispatch deadline."""
    rows = conn.execute(f"SELECT i.id FROM incidents i WHERE {overdue_sql('i')} OR {dispatch_overdue_sql('i')}"
                        " ORDER BY i.id", {"now": now}).fetchall()
    return [int(r[0]) for r in rows]


def escalate_overdue(conn: psycopg.Connection, now: datetime) -> int:
    """Give every overdue incident the reminder or escalation it is owed now; returns how many."""
    done = 0
    for incident_id in overdue_ids(conn, now):
        with conn.transaction():
            incident = load(conn, incident_id)
            due = escalation_due(incident, now)
            if due is None:
                continue
            action, tier, to = due
            notes = TO_WHOM_REPORTED if incident.status is Status.REPORTED else TO_WHOM
            act(conn, incident_id, action, SYSTEM, now, note=notes[to], details={"tier": tier, "to": to},
                source="system")
            done += 1
            log.info("incident %s overdue: %s (tier %d, %s)", incident_id, action, tier, to,
                     extra={"incident_id": incident_id, "action": str(action), "tier": tier})
    return done
