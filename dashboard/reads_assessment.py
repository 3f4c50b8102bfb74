"""What 考核 reads: every incident's log that a period's figures need, and the incidents' titles.

The figures themselves are ``alerts.assessment``'s (pure, from the log alone); this only fetches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import dict_row

from alerts.lifecycle import Action, LogEntry, Role
from alerts.status import Status
from dashboard.reads import Reads

# A stretch counts in a period by its dispatch, its finish deadline or its 核查: an incident dispatched this
# long before the period can still fall due in it (a level-4 hotline case finishes within 6 days).
LOOKBACK = timedelta(days=14)

_LOG_SQL = """
SELECT l.incident_id, l.at, l.actor, l.role, l.unit, l.action, l.from_status, l.to_status, l.note, l.details
FROM incident_log l
WHERE l.incident_id IN (SELECT incident_id FROM incident_log WHERE at >= %(since)s AND at < %(end)s)
  AND l.at < %(end)s
ORDER BY l.incident_id, l.id
"""


class AssessmentReads(Reads):
    def assessment_logs(self, start: datetime, end: datetime) -> dict[int, list[LogEntry]]:
        """The log up to ``end`` of every incident with a move since ``start`` − ``LOOKBACK``."""
        logs: dict[int, list[LogEntry]] = {}
        with self.pool.connection() as conn:
            for incident_id, at, actor, role, unit, action, frm, to, note, details in conn.execute(
                    _LOG_SQL, {"since": start - LOOKBACK, "end": end}):
                logs.setdefault(incident_id, []).append(LogEntry(
                    at, actor, Role(role), unit, Action(action), Status(frm) if frm else None, Status(to), note,
                    details or {}))
        return logs

    def incident_titles(self, incident_ids: list[int]) -> dict[int, dict[str, Any]]:
        """id → title, status, level and category of these incidents."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT id, title, status, level, category FROM incidents WHERE id = ANY(%s)",
                               (incident_ids,)).fetchall()
        return {int(r["id"]): r for r in rows}
