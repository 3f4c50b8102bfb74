"""What every group of read queries shares: the pool and the SQL words for "open", "overdue" and
"signed on time", taken from ``alerts.deadlines`` so no two pages (nor the escalator) count differently.

The read groups (``reads_leader``, ``reads_ops``, ``reads_live``) are mixins of
``dashboard.data.Data``: one object, one pool, one interface for the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from psycopg.abc import QueryNoTemplate
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from alerts import deadlines
from alerts.deadlines import BY_LEVEL, CATEGORY_FACTOR, windows
from alerts.feedback import PEOPLE_MOVED, REPORTS
from alerts.incidents import Attachment, report
from alerts.lifecycle import Action, Actor, Part
from alerts.status import Party
from store.frames import frame

OPEN_STATUSES: list[str] = list(deadlines.OPEN_STATUSES)

# The deadline an incident waits on and "past it now", generated from ``alerts.status.STEPS`` (the rule
# the escalator applies too). Need the parameter %(now)s and an incidents alias ``i``.
OVERDUE_SQL = deadlines.overdue_sql("i")
TOWNSHIP_OVERDUE_SQL = deadlines.overdue_sql("i", owner=Party.TOWNSHIP)  # what a township is ranked on
DEADLINE_SQL = deadlines.deadline_sql("i")
# Of the dispatches of ``DISPATCHES_CTE``: signed by the deadline given, and counted in the rate at %(now)s.
SIGNED_ON_TIME_SQL = deadlines.on_time_sql("signed_at", "due_at")
SIGN_DUE_SQL = deadlines.due_sql("signed_at", "due_at")

# Every dispatch (or transfer) to a township, the sign deadline it was given and when that township
# signed. The deadline is the one the log row recorded; rows written before the log recorded it get
# the window of ``alerts.deadlines`` (level × category) passed in as arrays: %(w_level)s, %(w_cat)s,
# %(w_sign)s (seconds). Needs a CTE ``inc`` of the incidents to consider.
DISPATCHES_CTE = """
win AS (SELECT * FROM unnest(%(w_level)s::int[], %(w_cat)s::text[], %(w_sign)s::float8[])
        AS w(level, category, sign_s)),
disp AS (
    SELECT l.unit AS township_code, l.incident_id, l.at AS dispatched_at,
           coalesce((l.details->>'sign_deadline')::timestamptz,
                    l.at + make_interval(secs => coalesce(wc.sign_s, wd.sign_s))) AS due_at,
           (SELECT min(s.at) FROM incident_log s
             WHERE s.incident_id = l.incident_id AND s.id > l.id AND s.action = 'sign' AND s.unit = l.unit) AS signed_at
    FROM incident_log l
    JOIN inc ON inc.id = l.incident_id
    LEFT JOIN win wc ON wc.level = inc.level AND wc.category = inc.category
    LEFT JOIN win wd ON wd.level = inc.level AND wd.category = ''
    WHERE l.action IN ('dispatch', 'transfer') AND l.unit IS NOT NULL
)"""


def sign_window_params() -> dict[str, list[Any]]:
    """The sign-for windows of ``alerts.deadlines`` as the three arrays ``DISPATCHES_CTE`` reads."""
    levels, cats, secs = [], [], []
    for category in ("", *CATEGORY_FACTOR):
        for level in BY_LEVEL:
            levels.append(level)
            cats.append(category)
            secs.append(windows(level, category).sign.total_seconds())
    return {"w_level": levels, "w_cat": cats, "w_sign": secs}


class Reads:
    """Base of the read groups: a named pool and two helpers."""

    pool: ConnectionPool

    def _df(self, query: QueryNoTemplate, params: dict[str, Any] | tuple[Any, ...] | None = None,
            ) -> pd.DataFrame:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return frame(cur)

    def _row(self, query: QueryNoTemplate, params: dict[str, Any] | tuple[Any, ...] | None = None,
             ) -> dict[str, Any]:
        """The one row of an aggregate query, by column name (name every column of the select list)."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, params).fetchone()
        assert row is not None, "an aggregate query always returns one row"
        return row

    # -- a unit's reports and 协办 parts (the one write path for reports with photos) --

    def report(self, incident_id: int, action: Action, actor: Actor, now: datetime, *, note: str,
               details: dict[str, object], photos: Sequence[Attachment] = ()) -> int:
        """A unit's report with its photos, in one transaction (``alerts.incidents.report``); returns the log row
        id. Raises ``IllegalMove`` / ``IncidentNotFound`` unchanged so the page can say why."""
        with self.pool.connection() as conn:
            return report(conn, incident_id, action, actor, now, note=note, details=details, attachments=photos,
                          source="web")

    def assist_parts_of(self, unit: str, incident_ids: list[int]) -> dict[int, Part]:
        """The part of ``unit`` in each of the incidents it assists (协办) among ``incident_ids``."""
        if not incident_ids:
            return {}
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT id, coalesce(assist_parts->>%(unit)s, 'pending') FROM incidents"
                                " WHERE id = ANY(%(ids)s) AND assist_units @> ARRAY[%(unit)s]::text[]"
                                " AND township_code IS DISTINCT FROM %(unit)s",
                                {"unit": unit, "ids": incident_ids}).fetchall()
        return {int(i): Part(part) for i, part in rows}

    def people_moved(self, since: datetime, until: datetime, district: str | None = None) -> dict[str, int]:
        """人员转移: the people moved per township over an event's window [since, until), the sum of what every
        report said (each one counts the people moved since its unit's previous report). A report counts for
        the township that made it; a department's for the township of the incident (the unit it is with, else
        the township of its point's grid). ``district``: its townships only."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT township, sum(moved)::bigint FROM (SELECT coalesce("
                "   CASE WHEN l.unit ~ '^[0-9]{9}$' THEN l.unit END,"
                "   CASE WHEN i.township_code ~ '^[0-9]{9}$' THEN i.township_code END,"
                "   left(i.grid_code, 9)) AS township,"
                "   (l.details->>%(key)s)::bigint AS moved"
                "  FROM incident_log l JOIN incidents i ON i.id = l.incident_id"
                "  WHERE l.action = ANY(%(reports)s) AND l.at >= %(since)s AND l.at < %(until)s"
                "   AND jsonb_typeof(l.details->%(key)s) = 'number') r"
                " WHERE township IS NOT NULL AND (%(district)s::text IS NULL OR left(township, 6) = %(district)s)"
                " GROUP BY township HAVING sum(moved) > 0 ORDER BY township",
                {"key": PEOPLE_MOVED.key, "reports": sorted(a.value for a in REPORTS), "since": since, "until": until,
                 "district": district}).fetchall()
        return {str(township): int(moved) for township, moved in rows}


def now_param(now: datetime) -> dict[str, Any]:
    return {"now": now, "open": OPEN_STATUSES}
