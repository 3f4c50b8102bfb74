"""Incident persistence: every transition writes the incident row and its log row in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from alerts.lifecycle import SYSTEM, Action, Actor, Incident, LogEntry, Status, transition


class IncidentNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Location:
    lon: float | None
    lat: float | None
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    boundary_version: int | None


def _insert_log(conn: psycopg.Connection, incident_id: int, entry: LogEntry, source: str) -> int:
    row = conn.execute(
        "INSERT INTO incident_log (incident_id, at, actor, role, unit, source, action, from_status,"
        " to_status, note, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (incident_id, entry.at, entry.actor, entry.role.value, entry.unit, source, entry.action.value,
         entry.from_status.value if entry.from_status else None, entry.to_status.value, entry.note,
         Jsonb(entry.details)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def open_incident(
    conn: psycopg.Connection,
    *,
    title: str,
    category: str,
    level: int,
    source_kind: str,
    location: Location,
    now: datetime,
    warning_id: int | None = None,
    source_ref: str | None = None,
    actor: Actor = SYSTEM,
    source: str = "system",
) -> int | None:
    """Create an incident (立案) and, when the point lies in a township, dispatch it there.

    Call inside the caller's transaction so the incident commits with what caused it.
    Returns None when an incident for ``source_ref`` already exists (a replayed cause).
    """
    draft = Incident(id=None, status=None, level=level, township_code=None)
    created, create_entry = transition(draft, Action.CREATE, actor, now, note=title)
    row = conn.execute(
        "INSERT INTO incidents (title, category, level, status, source_kind, source_ref, warning_id, lon, lat,"
        " district_code, township_code, grid_code, boundary_version, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (source_ref) DO NOTHING RETURNING id",
        (title, category, level, created.status, source_kind, source_ref, warning_id, location.lon, location.lat,
         location.district_code, location.township_code, location.grid_code, location.boundary_version,
         now, now),
    ).fetchone()
    if row is None:
        return None
    incident_id = int(row[0])
    _insert_log(conn, incident_id, create_entry, source)
    if location.township_code:
        _apply(conn, incident_id, created, Action.DISPATCH, SYSTEM, now, note="按属地自动派遣",
               township_code=location.township_code, details={}, source="system")
    return incident_id


def _load(conn: psycopg.Connection, incident_id: int) -> Incident:
    row = conn.execute(
        "SELECT status, level, township_code, rework_count, sign_deadline, finish_deadline"
        " FROM incidents WHERE id = %s FOR UPDATE",
        (incident_id,),
    ).fetchone()
    if row is None:
        raise IncidentNotFound(incident_id)
    return Incident(incident_id, Status(row[0]), row[1], row[2], row[3], row[4], row[5])


def _apply(
    conn: psycopg.Connection,
    incident_id: int,
    current: Incident,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str,
    township_code: str | None,
    details: dict[str, object],
    source: str,
) -> tuple[Incident, int]:
    nxt, entry = transition(current, action, actor, now, note=note, township_code=township_code, details=details)
    conn.execute(
        "UPDATE incidents SET status = %s, township_code = %s, rework_count = %s, sign_deadline = %s,"
        " finish_deadline = %s, updated_at = %s, version = version + 1 WHERE id = %s",
        (nxt.status, nxt.township_code, nxt.rework_count, nxt.sign_deadline, nxt.finish_deadline, now,
         incident_id),
    )
    return nxt, _insert_log(conn, incident_id, entry, source)


def act(
    conn: psycopg.Connection,
    incident_id: int,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str = "",
    township_code: str | None = None,
    details: dict[str, object] | None = None,
    source: str = "web",
) -> int:
    """Apply one user action atomically; returns the new log row's id.

    The row lock (SELECT … FOR UPDATE) serialises concurrent clicks: the second of two
    identical sign-fors finds the incident already signed and is refused, not doubled.
    """
    with conn.transaction():
        current = _load(conn, incident_id)
        _, log_id = _apply(conn, incident_id, current, action, actor, now, note=note,
                           township_code=township_code, details=details or {}, source=source)
    return log_id
