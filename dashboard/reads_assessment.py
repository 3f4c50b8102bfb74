"""What 考核 reads: every incident's log that a period's figures need, and the incidents' titles; and the
leader cockpit's township ranking on the same figures.

The figures themselves are ``alerts.assessment``'s (pure, from the log alone); this fetches and joins.
"""

from __future__ import annotations

import os
import threading
import weakref
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from alerts.assessment import Period, StretchTable, Weights, figures, rank
from dashboard.assessment_cache import AssessmentCache
from dashboard.reads import Reads

# The score's weights: CITYOPS_ASSESSMENT_WEIGHTS="sign=0.25,on_time=0.35,close=0.2,no_rework=0.1,no_return=0.1"
# (those not named keep these defaults); a bad value stops the dashboard at start, naming it.
WEIGHTS = Weights.from_text(os.environ.get("CITYOPS_ASSESSMENT_WEIGHTS", ""))

# A stretch counts in a period by its dispatch, its finish deadline or its 核查: an incident dispatched this
# long before the period can still fall due in it (a level-4 hotline case finishes within 6 days).
LOOKBACK = timedelta(days=14)

# One cache per pool, so per dashboard process (the district copies of ``Data`` share their pool).
_CACHES: weakref.WeakKeyDictionary[ConnectionPool, AssessmentCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


class AssessmentReads(Reads):
    def assessment_table(self, start: datetime, end: datetime) -> StretchTable:
        """Every stretch a period from ``start`` to ``end`` can count, as columns: of each incident with a move
        since ``start`` − ``LOOKBACK``, as its log stood at ``end`` (kept per process, read again only where the
        log grew)."""
        with _CACHES_LOCK:
            cache = _CACHES.setdefault(self.pool, AssessmentCache())
        with self.pool.connection() as conn:
            return cache.table(conn, start - LOOKBACK, end)

    def ranked_townships(self, townships: pd.DataFrame, start: datetime, end: datetime,
                         category: str | None, level: int | None) -> pd.DataFrame:
        """``townships`` (code, name, district_code, open, overdue) ranked on 考核's figures for [start, end):
        one row each, best score first, rates in %."""
        period = Period(start, end)
        found = figures(self.assessment_table(start, end), period, None,
                        frozenset({category}) if category else None, frozenset({level}) if level else None)
        codes = list(townships["code"])
        ranked = rank(found, {}, codes, WEIGHTS)

        def pct(rate: float | None) -> float | None:
            return None if rate is None else round(100 * rate, 1)

        rows = pd.DataFrame([{
            "rank": r.rank, "code": r.figures.unit, "score": r.score, "band": r.band,
            "dispatched": r.figures.dispatched, "signed_on_time": r.figures.signed_on_time,
            "sign_rate": pct(r.figures.sign_rate), "due": r.figures.due, "postponed": r.figures.postponed,
            "on_time_rate": pct(r.figures.on_time_rate), "closed": r.figures.closed,
            "close_rate": pct(r.figures.close_rate), "rework_rate": pct(r.figures.rework_rate),
            "returned": r.figures.returned} for r in ranked])
        return rows.merge(townships, on="code")  # in the ranking's order

    def incident_titles(self, incident_ids: list[int]) -> dict[int, dict[str, Any]]:
        """id → title, status, level and category of these incidents."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT id, title, status, level, category FROM incidents WHERE id = ANY(%s)",
                               (incident_ids,)).fetchall()
        return {int(r["id"]): r for r in rows}
