"""The leader cockpit's reads: list, daily trend, overdue list, township ranking, summary.

Aggregated in PostgreSQL (GROUP BY, window functions, one pass each), but for the ranking, whose figures
are 考核's (``alerts.assessment``, from the incident log). Every query takes the same ``Filters``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from psycopg import sql
from psycopg.rows import dict_row

from alerts.feedback import PEOPLE_MOVED, REPORTS
from dashboard.filters import Filters
from dashboard.reads import (
    DEADLINE_SQL,
    OPEN_STATUSES,
    OVERDUE_SQL,
    TOWNSHIP_OVERDUE_SQL,
    now_param,
)
from dashboard.reads_assessment import AssessmentReads

LIST_COLUMNS = ("id", "title", "category", "level", "status", "district_code", "township_code", "created_at",
                "closed_at", "rework_count", "overdue")
OVERDUE_COLUMNS = ("id", "title", "category", "level", "status", "township_code", "deadline")


def _townships_where(f: Filters) -> tuple[sql.Composable, dict[str, Any]]:
    if f.township:
        return sql.SQL("r.code = %(r_code)s"), {"r_code": f.township}
    if f.district:
        return sql.SQL("r.parent_code = %(r_parent)s"), {"r_parent": f.district}
    return sql.SQL("true"), {}


class LeaderReads(AssessmentReads):
    def incident_list(self, f: Filters, now: datetime, limit: int | None = 200,
                      offset: int = 0) -> tuple[pd.DataFrame, int]:
        """``limit`` incidents matching ``f`` (all with None), newest first from ``offset``; and how many match."""
        cond, params = f.where(search=True)
        query = sql.SQL(
            "SELECT i.id, i.title, i.category, i.level, i.status, i.district_code, i.township_code, i.created_at,"
            " CASE WHEN i.status = 'closed' THEN i.updated_at END AS closed_at, i.rework_count,"
            " " + OVERDUE_SQL + " AS overdue, count(*) OVER () AS total"
            " FROM incidents i WHERE {} ORDER BY i.created_at DESC, i.id DESC"
        ).format(cond)
        return self._counted(query, params | now_param(now), limit, offset, LIST_COLUMNS)

    def _counted(self, query: sql.Composable, params: dict[str, Any], limit: int | None, offset: int,
                 columns: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
        """One page of ``query`` (which selects ``count(*) OVER () AS total`` last) and the rows in all.

        A page past the end has no row to carry the total: the first row is asked for it then.
        """
        page = query + sql.SQL(" LIMIT %(limit)s OFFSET %(offset)s")  # LIMIT NULL: no limit
        df = self._df(page, params | {"limit": limit, "offset": max(offset, 0)})
        if len(df):
            return df.drop(columns=["total"]), int(df["total"].iloc[0])
        if offset > 0:
            return pd.DataFrame(columns=list(columns)), self._counted(query, params, 1, 0, columns)[1]
        return pd.DataFrame(columns=list(columns)), 0

    def daily_counts(self, f: Filters) -> pd.DataFrame:
        """day (local date), category, n: incidents created per day and category."""
        cond, params = f.where()
        return self._df(sql.SQL(
            "SELECT (i.created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, i.category, count(*) AS n"
            " FROM incidents i WHERE {} GROUP BY 1, 2 ORDER BY 1, 2").format(cond), params)

    def daily_people_moved(self, f: Filters) -> pd.DataFrame:
        """day (local date), moved: 人员转移 per day of the filters' range, as the units' reports on the incidents
        the filters choose said (each report counts the people moved since the unit's previous one)."""
        cond, params = f.where(dates=False)
        return self._df(sql.SQL(
            "SELECT (l.at AT TIME ZONE 'Asia/Shanghai')::date AS day, sum((l.details->>%(key)s)::bigint) AS moved"
            " FROM incident_log l JOIN incidents i ON i.id = l.incident_id"
            " WHERE {} AND l.at >= %(f_start)s AND l.at < %(f_end)s AND l.action = ANY(%(reports)s)"
            " AND jsonb_typeof(l.details->%(key)s) = 'number' GROUP BY 1 HAVING sum((l.details->>%(key)s)::bigint) > 0"
            " ORDER BY 1").format(cond),
            params | {"key": PEOPLE_MOVED.key, "reports": sorted(a.value for a in REPORTS)})

    def overdue_list(self, f: Filters, now: datetime, limit: int = 100, offset: int = 0) -> tuple[pd.DataFrame, int]:
        """Open incidents past their deadline now, the longest overdue first (whatever their start date):
        ``limit`` of them from ``offset``, and how many there are."""
        cond, params = f.where(dates=False)
        query = sql.SQL(
            "SELECT i.id, i.title, i.category, i.level, i.status, i.township_code, " + DEADLINE_SQL + " AS deadline,"
            " count(*) OVER () AS total FROM incidents i WHERE {} AND " + OVERDUE_SQL + " ORDER BY deadline, i.id"
        ).format(cond)
        return self._counted(query, params | now_param(now), limit, offset, OVERDUE_COLUMNS)

    def township_ranking(self, f: Filters, now: datetime) -> pd.DataFrame:
        """One row per township of the chosen area, ranked on 考核's figures (``alerts.assessment``: 按期签收率,
        按期结案率, 结案率, 返工率 and the score) for the filters' days up to ``now``, with what it has open and
        overdue now (on its own clocks: a township is not late for the desk's 核查)."""
        cond, params = f.where(dates=False)
        r_cond, r_params = _townships_where(f)
        towns = self._df(sql.SQL(
            "WITH c AS (SELECT i.township_code, count(*) AS open,"
            "  count(*) FILTER (WHERE " + TOWNSHIP_OVERDUE_SQL + ") AS overdue"
            "  FROM incidents i WHERE {cond} AND i.status = ANY(%(open)s) AND i.township_code IS NOT NULL"
            "  GROUP BY 1)"
            " SELECT r.code, r.name, r.parent_code AS district_code, coalesce(c.open, 0) AS open,"
            "  coalesce(c.overdue, 0) AS overdue"
            " FROM regions r JOIN boundary_versions b ON b.version = r.version AND b.active"
            " LEFT JOIN c ON c.township_code = r.code WHERE r.level = 'township' AND {r_cond} ORDER BY r.code"
        ).format(cond=cond, r_cond=r_cond), params | r_params | now_param(now) | {"open": OPEN_STATUSES})
        return self.ranked_townships(towns, f.start_at, min(f.end_at, now), f.category, f.level)

    def leader_summary(self, f: Filters, now: datetime, ranking: pd.DataFrame) -> dict[str, Any]:
        """Totals over the filters: incidents, closed, reworks, overdue now; and 按期签收率 over the townships of
        ``ranking`` (``township_ranking``'s), so the card and the ranking beside it are one figure."""
        cond, params = f.where()
        undated, _ = f.where(dates=False)
        row = self._row(sql.SQL(
            "WITH inc AS (SELECT i.id, i.status, i.rework_count FROM incidents i WHERE {})"
            " SELECT (SELECT count(*) FROM inc) AS total, (SELECT count(*) FROM inc WHERE status = 'closed') AS closed,"
            " (SELECT coalesce(sum(rework_count), 0) FROM inc) AS rework,"
            " (SELECT count(*) FROM incidents i WHERE {} AND " + OVERDUE_SQL + ") AS overdue"
        ).format(cond, undated), params | now_param(now))
        n = {name: int(value) for name, value in row.items()}
        total, closed = n["total"], n["closed"]
        dispatched, signed = int(ranking["dispatched"].sum()), int(ranking["signed_on_time"].sum())
        return {"total": total, "closed": closed, "rework": n["rework"], "overdue": n["overdue"],
                "close_rate": round(100 * closed / total, 1) if total else None,
                "on_time_rate": round(100 * signed / dispatched, 1) if dispatched else None}

    def escalated_to_leaders(self, limit: int = 50) -> pd.DataFrame:
        """Open incidents whose escalation (升级督办) reached a leader, the longest waiting first: id, title, level,
        status, township_code, escalated_at (the escalation's log row)."""
        return self._df(
            "SELECT i.id, i.title, i.level, i.status, i.township_code,"
            " (SELECT max(l.at) FROM incident_log l WHERE l.incident_id = i.id AND l.action = 'escalate')"
            " AS escalated_at"
            " FROM incidents i WHERE i.escalated_to = 'leader' AND i.status = ANY(%(open)s)"
            " ORDER BY escalated_at, i.id LIMIT %(limit)s", {"open": OPEN_STATUSES, "limit": limit})

    def hotspot_ranking(self, f: Filters, limit: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
        """12345 hotspots (主动治理) opened in the filters' period, ranked by how many: per kind of complaint
        (complaint, hotspots, tickets, closed) and per township (township_code, district_code, the same counts),
        the top ``limit`` of each. A hotspot is an incident listing tickets (``hotspot_tickets``)."""
        cond, params = f.where()
        base = sql.SQL(
            "WITH h AS (SELECT i.id, i.status, i.township_code, i.district_code, min(e.title) AS complaint,"
            "  count(*) AS tickets FROM incidents i JOIN hotspot_tickets t ON t.incident_id = i.id"
            "  JOIN events e USING (source_system, event_id, ts) WHERE {} GROUP BY i.id)"
            " SELECT {}, count(*) AS hotspots, sum(tickets) AS tickets,"
            "  count(*) FILTER (WHERE status = 'closed') AS closed FROM h GROUP BY {}"
            " ORDER BY hotspots DESC, tickets DESC, {} LIMIT %(limit)s")

        def ranked(group: str) -> pd.DataFrame:
            by = sql.SQL(group)
            return self._df(base.format(cond, by, by, by), params | {"limit": limit})

        return ranked("complaint"), ranked("township_code, district_code")

    def categories(self) -> list[str]:
        """Categories that occur, for the filter (a loose index scan would be faster; 10⁴ rows need none)."""
        with self.pool.connection() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT category FROM incidents ORDER BY 1")]

    def districts(self) -> list[tuple[str, str]]:
        """(code, name) of the active layer's districts, as ``store.users.active_townships`` gives townships."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return [(r["code"], r["name"]) for r in cur.execute(
                "SELECT r.code, r.name FROM regions r JOIN boundary_versions b ON b.version = r.version"
                " WHERE b.active AND r.level = 'district' ORDER BY r.code")]
