"""What every group of read queries shares: the pool and the SQL words for "open", "overdue" and
"signed on time", taken from ``alerts.deadlines`` so no two pages (nor the escalator) count differently.

The read groups (``reads_leader``, ``reads_ops``, ``reads_live``) are mixins of
``dashboard.data.Data``: one object, one pool, one interface for the pages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import shapely
from psycopg.abc import QueryNoTemplate
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from alerts import deadlines
from alerts.deadlines import BY_LEVEL, CATEGORY_FACTOR, windows
from alerts.feedback import PEOPLE_MOVED, REPORTS
from alerts.incidents import Attachment, Location, accept_report, patrol_report, report
from alerts.lifecycle import Action, Actor, Part
from alerts.locate import locate
from alerts.status import OPEN, Party, Status
from layers.geo import Layers
from layers.loader import active_version, load_active_layers
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

    # -- grid members (网格员): 巡查上报, their grids' incidents and reports; the desk's 待受理 --

    def locate(self, lon: float, lat: float) -> Location:
        """The point tagged as ingest tags (``alerts.locate`` over the active boundary version's layers)."""
        with self.pool.connection() as conn:
            version = active_version(conn)
            with _layers_lock:
                layers = _layers.get(version) if version is not None else None
                if layers is None:
                    layers = load_active_layers(conn)
                    if layers.version is not None:
                        _layers[layers.version] = layers
        return locate(lon, lat, layers)

    def region_label(self, code: str) -> tuple[float, float] | None:
        """(lon, lat) of a region's label point in the active boundary version (inside it)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT r.label_lon, r.label_lat FROM regions r JOIN boundary_versions b"
                               " ON b.version = r.version WHERE b.active AND r.code = %s", (code,)).fetchone()
        return (float(row[0]), float(row[1])) if row else None

    def region_outline(self, code: str) -> list[tuple[list[float], list[float]]]:
        """The rings of a region of the active boundary version, each as (lons, lats): what a map draws."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT r.geom_wkb FROM regions r JOIN boundary_versions b ON b.version = r.version"
                               " WHERE b.active AND r.code = %s", (code,)).fetchone()
        if row is None:
            return []
        shape = shapely.from_wkb(bytes(row[0]))
        polygons = getattr(shape, "geoms", [shape])
        return [([float(x) for x in xs], [float(y) for y in ys])
                for p in polygons for xs, ys in [p.exterior.coords.xy]]

    def patrol_report(self, actor: Actor, now: datetime, *, category: str, lon: float, lat: float, note: str,
                      photos: Sequence[Attachment] = ()) -> int:
        """巡查上报 at (lon, lat), tagged to its district, township and grid; returns the report's id. Raises
        ``IllegalMove`` (NOT_YOUR_GRID) for a point outside the member's grids."""
        where = self.locate(lon, lat)
        with self.pool.connection() as conn:
            return patrol_report(conn, actor=actor, category=category, location=where, note=note, now=now,
                                 attachments=photos)

    def accept_report(self, incident_id: int, actor: Actor, now: datetime, *, note: str = "") -> str | None:
        """受理立案, then routed and dispatched as any incident (``alerts.incidents.accept_report``)."""
        with self.pool.connection() as conn:
            return accept_report(conn, incident_id, actor, now, note=note)

    def grid_incidents(self, grids: Sequence[str]) -> pd.DataFrame:
        """The open incidents of ``grids``: those waiting for the member's 核查 on site first, then the newest."""
        return self._df(f"SELECT {_GRID_COLUMNS} FROM incidents i WHERE i.grid_code = ANY(%(grids)s)"
                        " AND i.status = ANY(%(open)s) ORDER BY i.status = %(check)s DESC, i.created_at DESC, i.id"
                        f" LIMIT {MAX_GRID_ROWS}",
                        {"grids": list(grids), "open": _OPEN_VALUES, "check": Status.SITE_CHECK.value})

    def reports_of(self, username: str) -> pd.DataFrame:
        """A member's own reports, the newest first, each with its status and, when declined, the desk's reason."""
        return self._df(f"SELECT {_GRID_COLUMNS}, (SELECT l.note FROM incident_log l WHERE l.incident_id = i.id"
                        "  AND l.action = %(decline)s ORDER BY l.id DESC LIMIT 1) AS reason"
                        " FROM incidents i WHERE i.reported_by = %(u)s ORDER BY i.created_at DESC, i.id DESC"
                        f" LIMIT {MAX_GRID_ROWS}", {"u": username, "decline": Action.DECLINE.value})

    def grid_marker(self, grids: Sequence[str], username: str) -> str:
        """Cheap fingerprint of a member's grids' incidents and its own reports."""
        row = self._row("SELECT count(*) || ':' || coalesce(sum(version), 0) || ':'"
                        " || coalesce(max(updated_at)::text, '') AS marker FROM incidents"
                        " WHERE grid_code = ANY(%(grids)s) OR reported_by = %(u)s",
                        {"grids": list(grids), "u": username})
        return str(row["marker"])

    def pending_reports(self, district: str | None = None, incident_id: int | None = None) -> pd.DataFrame:
        """The grid reports waiting for the desk (待受理; a district desk's: on its desk; ``incident_id``: that one
        only), the oldest first, each with ``duplicates``: the open incidents of its category within
        ``DUPLICATE_RADIUS_M`` opened at most ``DUPLICATE_WITHIN`` before it (likely the same thing, to merge into)."""
        near = _METRES.format(lon1="i.lon", lat1="i.lat", lon2="o.lon", lat2="o.lat")
        return self._df(
            f"SELECT {_GRID_COLUMNS}, i.escalated_to, ARRAY(SELECT o.id FROM incidents o WHERE o.category = i.category"
            "  AND o.status = ANY(%(open)s) AND o.id <> i.id AND o.created_at BETWEEN i.created_at - %(within)s"
            f"  AND i.created_at AND {near} <= %(radius)s ORDER BY o.id) AS duplicates"
            " FROM incidents i WHERE i.status = %(reported)s AND (%(district)s::text IS NULL"
            " OR i.desk_district = %(district)s) AND (%(id)s::bigint IS NULL OR i.id = %(id)s)"
            " ORDER BY i.created_at, i.id",
            {"open": _OPEN_VALUES, "within": DUPLICATE_WITHIN, "radius": DUPLICATE_RADIUS_M,
             "reported": Status.REPORTED.value, "district": district, "id": incident_id})

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


# A grid report is a likely duplicate of an open incident of its category this near it, opened this long before it.
DUPLICATE_RADIUS_M = 300.0
DUPLICATE_WITHIN = timedelta(hours=6)
# Metres between two points (lon, lat in degrees; columns or parameters), on the sphere's tangent plane: a few
# hundred metres apart in one city, the error is far below a phone's position's.
_METRES = ("6371000 * radians(sqrt(power({lat2} - {lat1}, 2)"
           " + power(({lon2} - {lon1}) * cos(radians(({lat1} + {lat2}) / 2)), 2)))")
_OPEN_VALUES = sorted(s.value for s in OPEN)
_GRID_COLUMNS = ("i.id, i.title, i.category, i.level, i.status, i.township_code, i.grid_code, i.lon, i.lat,"
                 " i.created_at, i.near_boundary, i.reported_by, i.district_code")
MAX_GRID_ROWS = 100  # a phone page: the open incidents of a member's grids, the newest first

_layers_lock = threading.Lock()
_layers: dict[int, Layers] = {}  # per boundary version: a version never changes once loaded


def now_param(now: datetime) -> dict[str, Any]:
    return {"now": now, "open": OPEN_STATUSES}
