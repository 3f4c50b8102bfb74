"""What every group of read queries shares: the pool, rows → DataFrame, and the SQL words for
"open", "overdue" and "signed on time", written once so no two pages count differently.

The read groups (``reads_leader``, ``reads_ops``, ``reads_live``) are mixins of
``dashboard.data.Data``: one object, one pool, one interface for the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from psycopg import sql
from psycopg_pool import ConnectionPool

from alerts.deadlines import CATEGORY_FACTOR, windows
from alerts.lifecycle import OPEN, Status
from store.frames import frame

OPEN_STATUSES: list[str] = sorted(s.value for s in OPEN)
WORKING_STATUSES = [Status.SIGNED.value, Status.IN_PROGRESS.value]

# Past its deadline for the step it is waiting on (a postponed incident's clock is stopped).
# Needs the parameter %(now)s and an incidents alias ``i``.
OVERDUE_SQL = (
    "((i.status = 'dispatched' AND i.sign_deadline < %(now)s)"
    " OR (i.status IN ('signed', 'in_progress') AND i.finish_deadline < %(now)s)"
    " OR (i.status = 'resolved' AND i.verify_deadline < %(now)s))"
)
DEADLINE_SQL = (
    "CASE i.status WHEN 'dispatched' THEN i.sign_deadline WHEN 'resolved' THEN i.verify_deadline"
    " WHEN 'new' THEN NULL WHEN 'postponed' THEN NULL ELSE i.finish_deadline END"
)

# Every dispatch (or transfer) to a township, its sign deadline and when that township
# signed. The window comes from ``alerts.deadlines`` (level × category), the same rule the
# engine applies, passed in as arrays: %(w_level)s, %(w_cat)s, %(w_sign)s (seconds).
# Needs a CTE ``inc`` of the incidents to consider.
DISPATCHES_CTE = """
win AS (SELECT * FROM unnest(%(w_level)s::int[], %(w_cat)s::text[], %(w_sign)s::float8[])
        AS w(level, category, sign_s)),
disp AS (
    SELECT l.unit AS township_code, l.incident_id, l.at AS dispatched_at,
           l.at + make_interval(secs => coalesce(wc.sign_s, wd.sign_s)) AS due_at,
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
        for level in (1, 2, 3, 4):
            levels.append(level)
            cats.append(category)
            secs.append(windows(level, category)[0].total_seconds())
    return {"w_level": levels, "w_cat": cats, "w_sign": secs}


class Reads:
    """Base of the read groups: a named pool and two helpers."""

    pool: ConnectionPool

    def _df(self, query: str | sql.Composable, params: dict[str, Any] | tuple[Any, ...] | None = None,
            ) -> pd.DataFrame:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(query, params)  # type: ignore[arg-type]  # psycopg takes str or Composable
            return frame(cur)

    def _row(self, query: str | sql.Composable, params: dict[str, Any] | tuple[Any, ...] | None = None,
             ) -> tuple[Any, ...]:
        with self.pool.connection() as conn:
            row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
        assert row is not None, "an aggregate query always returns one row"
        return tuple(row)


def now_param(now: datetime) -> dict[str, Any]:
    return {"now": now, "open": OPEN_STATUSES}
