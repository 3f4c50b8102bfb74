"""What every group of read queries shares: the pool and the SQL words for "open", "overdue" and
"signed on time", taken from ``alerts.deadlines`` so no two pages (nor the escalator) count differently.

The read groups (``reads_leader``, ``reads_ops``, ``reads_live``) are mixins of
``dashboard.data.Data``: one object, one pool, one interface for the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from psycopg.abc import QueryNoTemplate
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from alerts import deadlines
from alerts.deadlines import BY_LEVEL, CATEGORY_FACTOR, windows
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


def now_param(now: datetime) -> dict[str, Any]:
    return {"now": now, "open": OPEN_STATUSES}
