"""Every SQL statement the dashboard runs, behind one small class over a connection pool.

Pages and callbacks never hold a connection or write SQL: they ask ``Data`` for
DataFrames and dicts and hand them to the pure builders in ``figures.py``. State
changes go through ``alerts.incidents.act`` so the dashboard cannot bypass the
lifecycle's rules or write an incident without its log row.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

from alerts.incidents import act
from alerts.lifecycle import Action, Actor, IllegalMove, Refusal
from alerts.status import WITH_TOWNSHIP, Status
from dashboard.map import basemap
from dashboard.map.model import BaseMap
from dashboard.reads import DEADLINE_SQL, OPEN_STATUSES
from dashboard.reads_directives import DirectiveReads
from dashboard.reads_leader import LeaderReads
from dashboard.reads_live import LiveReads
from dashboard.reads_ops import OpsReads
from store.departments import departments
from store.frames import frame
from store.users import active_townships

OPEN = tuple(OPEN_STATUSES)
TOWNSHIP_OPEN = tuple(sorted(s.value for s in WITH_TOWNSHIP))  # not what is back with the desk (new, 退单)
_INCIDENT_COLS = ("id, title, category, level, status, lon, lat, district_code, township_code, grid_code,"
                  " created_at, updated_at, sign_deadline, finish_deadline, rework_count, source_kind, near_boundary,"
                  " assist_units, escalated_to")


# A unit's open incidents: dispatched to it, or assisted by it (协办); two indexes, OR-ed by the planner.
_UNIT_OPEN = "(i.township_code = %(unit)s OR i.assist_units @> ARRAY[%(unit)s]::text[]) AND i.status = ANY(%(open)s)"


def district_part(base: BaseMap, district: str) -> BaseMap:
    """The base map of one district's screen: the district alone at the top, its townships and their grids
    (a view of anything else falls back to the top, a drill-down elsewhere finds no area). The polygons'
    files stay the city's: they are served by URL, and colours go only to the areas of this part."""
    townships = base.children.get(district, []) if district in base.names else []
    codes = {district, *townships, *(g for t in townships for g in base.children.get(t, []))} & set(base.names)
    return replace(
        base, bounds=base.region_bounds.get(district), children={"": sorted(codes & {district})} | {
            code: kids for code, kids in base.children.items() if code in codes},
        grid_geojson={t: g for t, g in base.grid_geojson.items() if t in codes},
        region_bounds={c: b for c, b in base.region_bounds.items() if c in codes},
        names={c: n for c, n in base.names.items() if c in codes},
        parents={c: p for c, p in base.parents.items() if c in codes},
        label_of={c: label for c, label in base.label_of.items() if c in codes})


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo's file: what a township uploads with its feedback and what ``/attachment/<id>`` serves."""

    filename: str
    content_type: str
    data: bytes


class Data(LeaderReads, OpsReads, LiveReads, DirectiveReads):
    """Read models for the pages and the one write path (``act``), over a named pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._geo_lock = threading.Lock()
        self._geo_cache: dict[int, BaseMap] = {}  # per boundary version: they never change once loaded
        self._district_maps: dict[tuple[int, str], BaseMap] = {}  # (version, district) → its part of the map

    def close(self) -> None:
        self.pool.close()

    def for_district(self, district: str | None) -> Data:
        """These reads over the same pool and caches, as a district's big screen makes them (``district``):
        the incidents on its desk, its warnings, devices, vehicles and tickets (``LiveReads``), and a base map
        of its district alone (``district_part``). The city's screen (None) reads the whole city."""
        if district is None:
            return self
        scoped = copy.copy(self)
        scoped.district = district
        return scoped

    # -- geography --

    def active_version(self) -> int | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT version FROM boundary_versions WHERE active").fetchone()
        return int(row[0]) if row else None

    def _regions(self, version: int, level: str) -> list[basemap.Region]:
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(basemap.Region)) as cur:
            return cur.execute(
                "SELECT code, name, parent_code, illustrative, geom_wkb, label_lon, label_lat FROM regions"
                " WHERE version = %s AND level = %s ORDER BY code", (version, level)).fetchall()

    def base_map(self) -> BaseMap:
        """The active version's polygons, simplified, serialised and indexed once, then cached (of a district's
        screen: its district's part)."""
        version = self.active_version()
        if version is None:
            return basemap.EMPTY
        with self._geo_lock:
            cached = self._geo_cache.get(version)
            if cached is None:
                cached = basemap.build(version, *(self._regions(version, level)
                                                  for level in ("district", "township", "grid")))
                self._geo_cache[version] = cached
            if self.district is None:
                return cached
            part = self._district_maps.get((version, self.district))
            if part is None:
                part = self._district_maps[(version, self.district)] = district_part(cached, self.district)
        return part

    def unit_names(self) -> dict[str, str]:
        """Code → name of every region of the active boundaries and every department's unit."""
        with self.pool.connection() as conn:
            found = departments(conn)
        return self.base_map().names | {d.unit: d.name for d in found}

    def townships(self) -> list[tuple[str, str]]:
        with self.pool.connection() as conn:
            return active_townships(conn)

    def units(self) -> list[tuple[str, str]]:
        """What an incident may be dispatched, transferred or given to 协办: every township, then every department."""
        with self.pool.connection() as conn:
            return active_townships(conn) + [(d.unit, d.name) for d in departments(conn)]

    # -- incidents --

    def open_incidents(self) -> pd.DataFrame:
        """The open incidents (of a district's screen: those on its desk), by level."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT {_INCIDENT_COLS} FROM incidents i WHERE status = ANY(%(open)s)"
                        f"{self._in_district('i.desk_district')} ORDER BY level, id",
                        {"open": list(OPEN)} | self._district(), prepare=True)
            return frame(cur)

    def change_marker(self) -> str:
        """Cheap fingerprint of the incident and warning tables (of a district's screen: its rows of them):
        unchanged means nothing to repaint."""
        row = self._row(
            "SELECT (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':'"
            " || coalesce(max(updated_at)::text, '') FROM incidents i WHERE true"
            + self._in_district("i.desk_district") + ") AS incidents,"
            " (SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM warnings w WHERE true"
            + self._in_district("w.district_code") + ") AS warnings", self._district())
        return f"{row['incidents']}|{row['warnings']}"

    def township_queue(self, township_code: str) -> pd.DataFrame:
        """A unit's open incidents (a township's or a department's): its own and those it assists (协办), the
        one whose deadline comes first on top (``deadline``: the one the incident waits on now,
        ``alerts.deadlines``)."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT {_INCIDENT_COLS}, {DEADLINE_SQL} AS deadline"
                f" FROM incidents i WHERE {_UNIT_OPEN} ORDER BY deadline NULLS LAST, level, id",
                {"unit": township_code, "open": list(TOWNSHIP_OPEN)})
            return frame(cur)

    def township_marker(self, township_code: str) -> str:
        """Cheap fingerprint of one unit's open incidents (index ranges, not the table)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(updated_at)::text, '')"
                f" FROM incidents i WHERE {_UNIT_OPEN}", {"unit": township_code, "open": list(TOWNSHIP_OPEN)}
            ).fetchone()
        return str(row[0]) if row else ""

    def command_queue(self) -> pd.DataFrame:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT {_INCIDENT_COLS}, {DEADLINE_SQL} AS deadline"
                " FROM incidents i WHERE status = ANY(%s) ORDER BY level, deadline NULLS FIRST, id", (list(OPEN),))
            return frame(cur)

    def latest_log(self, incident_ids: list[int], action: Action) -> dict[int, dict[str, Any]]:
        """The newest log row of ``action`` of each incident that has one: incident_id, log_id, at, actor,
        unit, note, details."""
        if not incident_ids:
            return {}
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT DISTINCT ON (incident_id) incident_id, id AS log_id, at, actor, unit, note, details"
                        " FROM incident_log WHERE incident_id = ANY(%s) AND action = %s"
                        " ORDER BY incident_id, id DESC", (incident_ids, action.value))
            return {int(r["incident_id"]): r for r in cur.fetchall()}

    def assist_units(self, incident_ids: list[int]) -> dict[int, list[str]]:
        """The assisting townships (协办) of each incident that has any."""
        if not incident_ids:
            return {}
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT id, assist_units FROM incidents WHERE id = ANY(%s)"
                               " AND cardinality(assist_units) > 0", (incident_ids,)).fetchall()
        return {int(r["id"]): list(r["assist_units"]) for r in rows}

    def incident(self, incident_id: int) -> dict[str, Any] | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT {_INCIDENT_COLS} FROM incidents WHERE id = %s", (incident_id,))
            return cur.fetchone()

    def incident_log(self, incident_id: int) -> pd.DataFrame:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, at, actor, role, unit, source, action, from_status, to_status, note, details"
                        " FROM incident_log WHERE incident_id = %s ORDER BY id", (incident_id,))
            return frame(cur)

    def township_involved(self, incident_id: int, township_code: str) -> bool:
        """True if the incident is or was ever routed to this township (its staff may read its history)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = %(id)s AND township_code = %(t)s)"
                " OR EXISTS (SELECT 1 FROM incident_log WHERE incident_id = %(id)s AND unit = %(t)s)",
                {"id": incident_id, "t": township_code}).fetchone()
        return bool(row and row[0])

    def attachments(self, incident_id: int) -> pd.DataFrame:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, log_id, filename, content_type, uploaded_at, octet_length(data) AS size"
                        " FROM incident_attachments WHERE incident_id = %s ORDER BY id", (incident_id,))
            return frame(cur)

    def attachment(self, attachment_id: int) -> tuple[int, Photo] | None:
        """The photo's incident (whose readers may see it) and its file."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT incident_id, filename, content_type, data FROM incident_attachments"
                              " WHERE id = %s", (attachment_id,)).fetchone()
        if row is None:
            return None
        return int(row["incident_id"]), Photo(row["filename"], row["content_type"], bytes(row["data"]))

    # -- the one write path --

    def act(self, incident_id: int, action: Action, actor: Actor, now: datetime, *, note: str = "",
            township_code: str | None = None, details: dict[str, object] | None = None,
            photo: Photo | None = None) -> int:
        """Apply a transition (and store its photo) in one transaction; returns the log row id.

        Raises ``IllegalMove`` / ``IncidentNotFound`` unchanged so the page can say why.
        """
        with self.pool.connection() as conn, conn.transaction():
            if action is Action.ASSIST:
                # 协办 keeps the status, so the lifecycle would log a second click again: refuse it here,
                # under the row lock, when the township already handles or assists the incident.
                with conn.cursor(row_factory=dict_row) as cur:
                    row = cur.execute("SELECT status, township_code, assist_units FROM incidents WHERE id = %s"
                                      " FOR UPDATE", (incident_id,)).fetchone()
                if row is not None and township_code is not None and (
                        township_code == row["township_code"] or township_code in (row["assist_units"] or [])):
                    raise IllegalMove(Refusal.SAME_TARGET, action, Status(row["status"]))
            log_id = act(conn, incident_id, action, actor, now, note=note, township_code=township_code,
                         details=details, source="web")
            if photo is not None:
                conn.execute("INSERT INTO incident_attachments (incident_id, log_id, filename, content_type, data,"
                             " uploaded_at) VALUES (%s, %s, %s, %s, %s, %s)",
                             (incident_id, log_id, photo.filename, photo.content_type, photo.data, now))
        return log_id
