"""Incident persistence: every transition writes the incident row and its log row in one transaction.

Dispatches and transfers also leave a message in the MQTT outbox in that transaction,
for the township apps (``city/<city>/dispatch/<township>``); a reporter goes there masked only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from alerts import problems
from alerts.deadlines import WITH_DESK
from alerts.lifecycle import (
    MOVES,
    SYSTEM,
    Action,
    Actor,
    IllegalMove,
    Incident,
    LogEntry,
    Part,
    Refusal,
    Role,
    closure_refusal,
    district_refusal,
    transition,
)
from alerts.rectification import root_cause_missing
from alerts.routing import Responsibility, route
from alerts.status import OPEN, Status
from store.departments import units_for
from store.privacy import Reporter


class IncidentNotFound(LookupError):
    pass


class Attachment(Protocol):
    """A file that goes with a log row (a photo of a report): checked by whoever took it in."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Location:
    lon: float | None
    lat: float | None
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    boundary_version: int | None
    near_boundary: bool = False  # tagged with the codes: near a township border, the dispatcher confirms


_COLUMNS = ("status, level, township_code, category, rework_count, sign_deadline, finish_deadline,"
            " verify_deadline, paused_at, escalation_tier, assist_units, near_boundary, district_code,"
            " dispatch_deadline, escalated_to, assist_parts, grid_code")


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
    route_to: str | None = None,
    group_key: str | None = None,
    actor: Actor = SYSTEM,
    source: str = "system",
    reporter: Reporter | None = None,
) -> int | None:
    """Create an incident (立案) and dispatch it to ``route_to`` (default: the township of the point).

    The incident inherits the location's near-boundary flag (the create row records it) and the
    reporter of its cause (a 12345 ticket's), kept in ``incident_contacts``.
    Call inside the caller's transaction so the incident commits with what caused it.
    Returns None when an incident for ``source_ref`` already exists (a replayed cause).
    """
    created, create_entry = transition(_draft(level, category), Action.CREATE, actor, now, note=title,
                                       details=_placed(level, category, location))
    incident_id = _insert(conn, created, title=title, source_kind=source_kind, location=location, now=now,
                          warning_id=warning_id, source_ref=source_ref, group_key=group_key)
    if incident_id is None:
        return None
    _insert_log(conn, incident_id, create_entry, source)
    if reporter is not None:
        conn.execute("INSERT INTO incident_contacts (incident_id, name, phone) VALUES (%s, %s, %s)",
                     (incident_id, reporter.name, reporter.phone))
    _route_new(conn, incident_id, created, category, route_to or location.township_code, now)
    return incident_id


def _draft(level: int, category: str) -> Incident:
    return Incident(id=None, status=None, level=level, township_code=None, category=category)


def _placed(level: int, category: str, location: Location) -> dict[str, object]:
    """The first log row's details: the starting level and category, and the point's areas as tagged."""
    details: dict[str, object] = {"level": level, "category": category}
    if location.district_code:
        details["district_code"] = location.district_code  # the district desk it waits on until dispatched
    if location.grid_code:
        details["grid_code"] = location.grid_code  # whose grid member reports and checks it
    if location.near_boundary:
        details["near_boundary"] = True
    return details


def _insert(conn: psycopg.Connection, created: Incident, *, title: str, source_kind: str, location: Location,
            now: datetime, warning_id: int | None = None, source_ref: str | None = None, group_key: str | None = None,
            reported_by: str | None = None) -> int | None:
    row = conn.execute(
        "INSERT INTO incidents (title, category, level, status, source_kind, source_ref, warning_id, lon, lat,"
        " district_code, township_code, grid_code, boundary_version, near_boundary, created_at, updated_at,"
        " group_key, dispatch_deadline, reported_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s, %s) ON CONFLICT (source_ref) DO NOTHING RETURNING id",
        (title, created.category, created.level, created.status, source_kind, source_ref, warning_id, location.lon,
         location.lat, location.district_code, location.township_code, location.grid_code, location.boundary_version,
         created.near_boundary, now, now, group_key, created.dispatch_deadline, reported_by),
    ).fetchone()
    return None if row is None else int(row[0])


def _route_new(conn: psycopg.Connection, incident_id: int, current: Incident, category: str, target: str | None,
               now: datetime) -> None:
    """An incident just in 待分拨 (立案, or a grid report accepted): dispatched to ``target`` (the responsible
    unit), with the departments that handle its category as 协办. Without a target it waits for the desk."""
    if not target:
        return
    current, _ = _apply(conn, incident_id, current, Action.DISPATCH, SYSTEM, now, note="按属地自动派遣",
                        township_code=target, details={}, source="system")
    for unit in units_for(conn, category):  # the departments that handle the category work with the township
        if unit != target:
            current, _ = _apply(conn, incident_id, current, Action.ASSIST, SYSTEM, now, note="行业主管部门协办",
                                township_code=unit, details={}, source="system")


PATROL_LEVEL = 3  # a grid report starts 黄色 III级: the desk changes the level when it accepts it if need be
TITLE_CHARS = 40


def patrol_report(conn: psycopg.Connection, *, actor: Actor, category: str, location: Location, note: str,
                  now: datetime, attachments: Sequence[Attachment] = ()) -> int:
    """巡查上报: a grid member's report of what it saw at ``location`` (tagged by ``alerts.locate``), in one
    transaction with its photos. It enters as 待受理, no incident yet, until the desk accepts it
    (``accept_report``). Raises ``IllegalMove`` for a point outside the member's grids."""
    text = note.strip()
    details = _placed(PATROL_LEVEL, category, location) | {"township_code_of_point": location.township_code}
    created, entry = transition(_draft(PATROL_LEVEL, category), Action.PATROL_REPORT, actor, now, note=text,
                                details=details)
    with conn.transaction():
        incident_id = _insert(conn, created, title=text[:TITLE_CHARS], source_kind="manual", location=location,
                              now=now, reported_by=actor.name)
        assert incident_id is not None  # no source_ref: nothing to conflict on
        log_id = _insert_log(conn, incident_id, entry, "web")
        _attach(conn, incident_id, log_id, attachments, now)
    return incident_id


def accept_report(conn: psycopg.Connection, incident_id: int, actor: Actor, now: datetime, *, note: str = "",
                  source: str = "web") -> str | None:
    """受理立案: the desk accepts a grid report; it is then routed as any incident (the responsibility table,
    else the township of its point) and dispatched. Returns the unit it went to (None: it waits 待分拨)."""
    with conn.transaction():
        current = load(conn, incident_id)
        accepted, _ = _apply(conn, incident_id, current, Action.ACCEPT, actor, now, note=note, township_code=None,
                             details={}, source=source)
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT lon, lat, district_code, township_code, grid_code, boundary_version"
                              " FROM incidents WHERE id = %s", (incident_id,)).fetchone()
        assert row is not None
        unit = route(responsibility(conn), Location(**row), accepted.category)
        _route_new(conn, incident_id, accepted, accepted.category, unit, now)
    return unit


def load(conn: psycopg.Connection, incident_id: int, *, lock: bool = True) -> Incident:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_COLUMNS} FROM incidents WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                          (incident_id,)).fetchone()
    if row is None:
        raise IncidentNotFound(incident_id)
    parts = tuple(sorted((unit, Part(part)) for unit, part in (row["assist_parts"] or {}).items()))
    return Incident(id=incident_id, **(row | {"status": Status(row["status"]), "assist_parts": parts,
                                              "assist_units": tuple(row["assist_units"])}))


LOG_COLUMNS = "l.at, l.actor, l.role, l.unit, l.action, l.from_status, l.to_status, l.note, l.details"
_LOG_SELECT = f"SELECT l.incident_id, {LOG_COLUMNS} FROM incident_log l"


def log_entry(at: datetime, actor: str, role: str, unit: str | None, action: str, frm: str | None, to: str,
              note: str, details: dict[str, object] | None) -> LogEntry:
    """One incident_log row (``LOG_COLUMNS``' order) as the lifecycle's entry."""
    return LogEntry(at, actor, Role(role), unit, Action(action), Status(frm) if frm else None, Status(to), note,
                    details or {})


def read_logs(conn: psycopg.Connection, moved_in: tuple[datetime, datetime] | None = None
              ) -> dict[int, list[LogEntry]]:
    """Incidents' logs in order, as the lifecycle's entries: every incident's whole log, or with
    ``moved_in`` = (since, until) the log before ``until`` of each incident with a move in [since, until)."""
    query, params = _LOG_SELECT, {}
    if moved_in is not None:
        query += (" WHERE l.at < %(until)s AND l.incident_id IN"
                  " (SELECT incident_id FROM incident_log WHERE at >= %(since)s AND at < %(until)s)")
        params = {"since": moved_in[0], "until": moved_in[1]}
    logs: dict[int, list[LogEntry]] = {}
    for incident_id, *row in conn.execute(query + " ORDER BY l.incident_id, l.id", params):
        logs.setdefault(incident_id, []).append(log_entry(*row))
    return logs


def responsibility(conn: psycopg.Connection) -> list[Responsibility]:
    """The responsibility table, for ``alerts.routing.route``."""
    with conn.cursor(row_factory=class_row(Responsibility)) as cur:
        return cur.execute("SELECT area_code, category, asset_owner, unit_code FROM responsibility").fetchall()


def contact(conn: psycopg.Connection, incident_id: int) -> Reporter | None:
    """The incident's reporter as stored (unmasked): whoever shows it masks it for whoever may not see it."""
    with conn.cursor(row_factory=class_row(Reporter)) as cur:
        return cur.execute("SELECT name, phone FROM incident_contacts WHERE incident_id = %s",
                           (incident_id,)).fetchone()


def _publish_dispatch(conn: psycopg.Connection, incident_id: int, township: str, entry: LogEntry) -> None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT title, category, level, lon, lat, near_boundary FROM incidents WHERE id = %s",
                          (incident_id,)).fetchone()
    assert row is not None
    if (reporter := contact(conn, incident_id)) is not None:
        masked = reporter.masked()
        row["reporter"] = {"name": masked.name, "phone": masked.phone}
    conn.execute(
        "INSERT INTO mqtt_outbox (topic, payload) VALUES ('dispatch/' || %s, %s)",
        (township, Jsonb({"incident_id": incident_id, "action": entry.action.value, **row,
                          "at": entry.at.isoformat(), "note": entry.note})),
    )


def escalation_topic(to: str, desk: str | None) -> str:
    """Where an escalation is published, under ``city/<city>/``: ``escalation/<district code>`` for a district's
    command center (also the reminder to dispatch what waits on its desk), ``escalation/city`` for the city's
    (and for a desk reminder of an incident on no district's desk), ``escalation/leader`` for the leaders."""
    if to == "leader":
        return "escalation/leader"
    if to in ("district", "desk") and desk is not None:
        return f"escalation/{desk}"
    return "escalation/city"


def _publish_escalation(conn: psycopg.Connection, incident_id: int, inc: Incident, entry: LogEntry) -> None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT title, category, level, status, township_code, desk_district, lon, lat"
                          " FROM incidents WHERE id = %s", (incident_id,)).fetchone()
    assert row is not None
    to = str(entry.details.get("to") or "")
    conn.execute("INSERT INTO mqtt_outbox (topic, payload) VALUES (%s, %s)",
                 (escalation_topic(to, inc.desk), Jsonb({
                     "incident_id": incident_id, "action": entry.action.value, "tier": inc.escalation_tier, "to": to,
                     **row, "at": entry.at.isoformat(), "note": entry.note})))


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
        "UPDATE incidents SET status = %s, level = %s, township_code = %s, rework_count = %s, sign_deadline = %s,"
        " finish_deadline = %s, verify_deadline = %s, paused_at = %s, escalation_tier = %s, assist_units = %s,"
        " near_boundary = %s, merged_into = COALESCE(%s, merged_into), dispatch_deadline = %s, escalated_to = %s,"
        " assist_parts = %s, updated_at = %s, version = version + 1 WHERE id = %s",
        (nxt.status, nxt.level, nxt.township_code, nxt.rework_count, nxt.sign_deadline, nxt.finish_deadline,
         nxt.verify_deadline, nxt.paused_at, nxt.escalation_tier, list(nxt.assist_units), nxt.near_boundary,
         details.get("into") if action is Action.MERGE else None, nxt.dispatch_deadline, nxt.escalated_to,
         Jsonb({unit: part.value for unit, part in nxt.assist_parts}), now, incident_id),
    )
    log_id = _insert_log(conn, incident_id, entry, source)
    # with the desk (退单, or a 待受理 report): its township is told no more, or not yet
    with_unit = nxt.status not in WITH_DESK
    if action in (Action.DISPATCH, Action.TRANSFER, Action.REMIND, Action.ESCALATE) and nxt.township_code and with_unit:
        _publish_dispatch(conn, incident_id, nxt.township_code, entry)
    if action is Action.ESCALATE or (action is Action.REMIND and current.status in WITH_DESK):
        _publish_escalation(conn, incident_id, nxt, entry)
    if action is Action.ASSIST and township_code:  # the 协办 unit's app hears of it too
        _publish_dispatch(conn, incident_id, township_code, entry)
    return nxt, log_id


def open_warnings(conn: psycopg.Connection, incident_id: int) -> list[int]:
    """The warnings attached to the incident that are still open: the one it was opened for and every one a
    group (``group_key``) joined to it since."""
    return [int(r[0]) for r in conn.execute(
        "SELECT w.id FROM warnings w WHERE w.status = 'open' AND (w.incident_id = %(id)s"
        " OR w.id = (SELECT warning_id FROM incidents WHERE id = %(id)s)) ORDER BY w.id", {"id": incident_id})]


def _guard_closure(conn: psycopg.Connection, incident_id: int, action: Action, note: str,
                   details: dict[str, object], status: Status | None) -> None:
    """An incident is not closed while a warning attached to it still breaches, unless overridden with a
    reason (``closure_refusal``); an override names in its log row the warnings it closed over."""
    if action is not Action.VERIFY:
        return
    still = open_warnings(conn, incident_id)
    refusal = closure_refusal(still, override=details.get("override") is True, note=note)
    if refusal is not None:
        raise IllegalMove(refusal, action, status)
    if still:
        details["open_warnings"] = still


def amend(conn: psycopg.Connection, incident_id: int, *, location: Location, category: str, actor: Actor,
          now: datetime, note: str, source: str = "web") -> str | None:
    """Move an incident or change its category, logged; re-route it when the responsible unit changes.

    ``location`` is the new point as ``alerts.locate.locate`` tags it: region codes and the
    near-boundary flag from one tagging of the layers routing reads, so the flag is recomputed
    with the codes (and logged). Returns the unit the incident now sits with.
    """
    with conn.transaction():
        current = load(conn, incident_id)
        details: dict[str, object] = {"category": category, "lon": location.lon, "lat": location.lat,
                                      "township_code_of_point": location.township_code,
                                      "district_code": location.district_code, "grid_code": location.grid_code,
                                      "near_boundary": location.near_boundary}
        amended, _ = _apply(conn, incident_id, current, Action.AMEND, actor, now, note=note, township_code=None,
                            details=details, source=source)
        conn.execute("UPDATE incidents SET lon = %s, lat = %s, district_code = %s, grid_code = %s, category = %s,"
                     " boundary_version = COALESCE(%s, boundary_version) WHERE id = %s",
                     (location.lon, location.lat, location.district_code, location.grid_code, category,
                      location.boundary_version, incident_id))
        unit = route(responsibility(conn), location, category)
        if unit and unit != amended.township_code and amended.status in MOVES[Action.TRANSFER].sources:
            _apply(conn, incident_id, amended, Action.TRANSFER, SYSTEM, now, note="位置或类别变更，按责任表重新派遣",
                   township_code=unit, details={}, source="system")
            return unit
        return amended.township_code


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
    """Apply one action atomically; returns the new log row's id.

    The row lock (SELECT … FOR UPDATE) serialises concurrent clicks: the second of two
    identical sign-fors finds the incident already signed and is refused, not doubled.
    """
    details = dict(details or {})
    with conn.transaction():
        current = load(conn, incident_id)
        _guard_closure(conn, incident_id, action, note, details, current.status)
        cause = _root_cause(conn, action, details)
        if action is Action.MERGE:
            into = details.get("into")
            if not isinstance(into, int) or into == incident_id:
                raise IllegalMove(Refusal.TARGET_REQUIRED, action, current.status)
            target = load(conn, into, lock=False)
            if target.status not in OPEN:
                raise IllegalMove(Refusal.TARGET_REQUIRED, action, current.status)
            if district_refusal(actor, target) is not None:  # a district desk merges within its district only
                raise IllegalMove(Refusal.OUTSIDE_DISTRICT, action, current.status)
        _, log_id = _apply(conn, incident_id, current, action, actor, now, note=note,
                           township_code=township_code, details=details, source=source)
        if cause is not None:  # 七张问题清单: the same cause again in its grid or category is a recurring problem
            problems.record_closure(conn, incident_id, cause, now)
    return log_id


def _root_cause(conn: psycopg.Connection, action: Action, details: dict[str, object]) -> int | None:
    """核查结案's root cause (``details.root_cause``, an id of the managed list): a desk's verify names the key
    (the command desk's, the simulated desk's) and must give one unless it closes by override; a retired or
    unknown one is refused (``RootCauseError``). A verify without the key (the engine's tests, the written
    history) records none."""
    if action is not Action.VERIFY or "root_cause" not in details:
        return None
    if root_cause_missing(details["root_cause"], override=details.get("override") is True):
        raise problems.RootCauseError("rootcause.err.required")
    cause = problems.check_root_cause(conn, details["root_cause"])
    if cause is None:
        del details["root_cause"]  # an override that named none: nothing to record
        return None
    details["root_cause_name"] = cause.name  # as it was called when it closed: a later rename rewrites no log
    return cause.id


def report(
    conn: psycopg.Connection,
    incident_id: int,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str,
    details: dict[str, object],
    attachments: Sequence[Attachment] = (),
    source: str = "web",
) -> int:
    """A unit's report (处置进展, 处置反馈 and their 协办 moves) with its photos, in one transaction: the log row
    carries the report's fields in ``details`` and the photos name it (``incident_attachments.log_id``)."""
    with conn.transaction():
        log_id = act(conn, incident_id, action, actor, now, note=note, details=details, source=source)
        _attach(conn, incident_id, log_id, attachments, now)
    return log_id


def _attach(conn: psycopg.Connection, incident_id: int, log_id: int, attachments: Sequence[Attachment],
            now: datetime) -> None:
    for a in attachments:
        conn.execute("INSERT INTO incident_attachments (incident_id, log_id, filename, content_type, data,"
                     " uploaded_at) VALUES (%s, %s, %s, %s, %s, %s)",
                     (incident_id, log_id, a.filename, a.content_type, a.data, now))
