"""Verdicts → warnings → incidents, in the caller's transaction; the same stage for every rule kind.

Stages for a firing verdict: suppress (maintenance window) → upsert the one open warning
of (rule, subject), with level upgrade now and downgrade after a hold → count the
occurrence → open an incident routed by the responsibility table, or join the burst's
incident → record level changes on the incident's log. A cleared verdict closes the
warning and its occurrence; the incident stays for the township to finish. The offline warnings
a township-wide warning inhibits are recorded against it (``record_inhibited``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alerts.deadlines import OPEN_STATUSES
from alerts.incidents import Location, act, open_incident, responsibility
from alerts.lifecycle import SYSTEM, Action, IllegalMove
from alerts.routing import route
from alerts.rules import NoDataRule, Rule
from alerts.verdicts import Verdict

log = logging.getLogger("cityops.alerts")

LEVEL_NAMES = {1: "红色", 2: "橙色", 3: "黄色", 4: "蓝色"}


@dataclass(frozen=True, slots=True)
class Site:
    """Who or where a verdict is about, for the warning's title and the incident's routing."""

    subject: str
    name: str
    location: Location
    asset_owner: str = "*"


@dataclass(slots=True)
class Tally:
    opened: int = 0
    cleared: int = 0
    incidents: int = 0
    suppressed: int = 0
    relevelled: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _maintenance(conn: psycopg.Connection, site: Site, now: datetime) -> int | None:
    codes = [c for c in (site.location.grid_code, site.location.township_code, site.location.district_code) if c]
    row = conn.execute(
        "SELECT id FROM maintenance_windows WHERE starts_at <= %s AND ends_at > %s"
        " AND (device_id = %s OR area_code = ANY(%s)) ORDER BY id LIMIT 1",
        (now, now, site.subject, codes)).fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True, slots=True)
class Upserted:
    """The open warning of (rule, subject) as ``_upsert`` left it."""

    id: int
    inserted: bool  # no open warning of (rule, subject) before: this verdict opened it
    old_level: int | None  # before the upsert (None when inserted)
    level: int
    incident_id: int | None


def title_of(rule: Rule, site: Site, v: Verdict) -> str:
    """A warning's (and its incident's) title: the rule, the subject, and what made it when there is a basis
    (the stations and values, a rainfall accumulation and its grade, the line a level crossed)."""
    return f"{rule.name} · {site.name}" + (f"（{v.basis}）" if v.basis else "")


def _upsert(conn: psycopg.Connection, rule: Rule, site: Site, v: Verdict, now: datetime) -> Upserted:
    """Insert or update the open warning of (rule, subject); its details are what made it as last seen."""
    loc = site.location
    hold = timedelta(minutes=rule.downgrade_hold_minutes)
    with conn.cursor(row_factory=class_row(Upserted)) as cur:
        row = cur.execute(
            # prev reads the statement's snapshot: the level before this upsert changes it
            "WITH prev AS (SELECT level FROM warnings WHERE rule_id = %(rule)s AND subject = %(subject)s"
            "              AND status = 'open')"
            " INSERT INTO warnings (rule_id, subject, level, status, title, metric, opened_at, updated_at,"
            " first_value, peak_value, last_value, lon, lat, district_code, township_code, grid_code, details)"
            " VALUES (%(rule)s, %(subject)s, %(level)s, 'open', %(title)s, %(metric)s, %(now)s, %(now)s, %(last)s,"
            " %(peak)s, %(last)s, %(lon)s, %(lat)s, %(district)s, %(township)s, %(grid)s, %(details)s)"
            " ON CONFLICT (rule_id, subject) WHERE status = 'open' DO UPDATE SET"
            # Rising: upgrade at once. Falling: only after it has stayed lower for the hold time.
            "  level = CASE WHEN EXCLUDED.level < warnings.level THEN EXCLUDED.level"
            "               WHEN EXCLUDED.level > warnings.level"
            "                AND COALESCE(warnings.downgrade_since, %(now)s) <= %(now)s - %(hold)s"
            "               THEN EXCLUDED.level ELSE warnings.level END,"
            "  downgrade_since = CASE WHEN EXCLUDED.level > warnings.level"
            "                     AND COALESCE(warnings.downgrade_since, %(now)s) > %(now)s - %(hold)s"
            "                    THEN COALESCE(warnings.downgrade_since, %(now)s) END,"
            "  updated_at = EXCLUDED.updated_at, last_value = EXCLUDED.last_value,"
            "  details = COALESCE(EXCLUDED.details, warnings.details),"
            "  peak_value = GREATEST(warnings.peak_value, EXCLUDED.peak_value)"
            " RETURNING id, (xmax = 0) AS inserted, (SELECT level FROM prev) AS old_level, level, incident_id",
            {"rule": rule.id, "subject": site.subject, "level": v.level, "title": title_of(rule, site, v),
             "details": Jsonb(dict(v.details)) if v.details is not None else None,
             "metric": getattr(rule, "metric", None), "now": now, "last": v.last, "peak": v.peak or v.last,
             "lon": loc.lon, "lat": loc.lat, "district": loc.district_code, "township": loc.township_code,
             "grid": loc.grid_code, "hold": hold},
        ).fetchone()
    assert row is not None
    return row


def _occurrence(conn: psycopg.Connection, warning_id: int, v: Verdict, level: int, now: datetime) -> None:
    """Each breach run under a warning is one occurrence: opened on breach, extended while it lasts."""
    conn.execute(
        "INSERT INTO warning_occurrences (warning_id, started_at, peak_value, level) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (warning_id) WHERE ended_at IS NULL DO UPDATE SET"
        " peak_value = GREATEST(warning_occurrences.peak_value, EXCLUDED.peak_value),"
        " level = LEAST(warning_occurrences.level, EXCLUDED.level)",
        (warning_id, v.since or now, v.peak or v.last, level))


def _end_occurrences(conn: psycopg.Connection, rule_id: str, subject: str, now: datetime) -> None:
    conn.execute(
        "UPDATE warning_occurrences o SET ended_at = %s FROM warnings w WHERE o.warning_id = w.id"
        " AND w.rule_id = %s AND w.subject = %s AND w.status = 'open' AND o.ended_at IS NULL",
        (now, rule_id, subject))


def _incident_for(conn: psycopg.Connection, rule: Rule, site: Site, warning_id: int, level: int,
                  now: datetime, title: str) -> tuple[int | None, bool]:
    """(incident id, newly opened): a burst of one rule in one township joins one open incident."""
    loc = site.location
    group_key = f"{rule.id}:{loc.township_code}" if rule.group_minutes and loc.township_code else None
    if group_key:
        row = conn.execute(
            "SELECT id FROM incidents WHERE group_key = %s AND created_at >= %s"
            " AND status = ANY(%s) ORDER BY id DESC LIMIT 1",
            (group_key, now - timedelta(minutes=rule.group_minutes), list(OPEN_STATUSES))).fetchone()
        if row:
            return int(row[0]), False
    unit = route(responsibility(conn), loc, rule.category, site.asset_owner)
    incident_id = open_incident(
        conn, title=title, category=rule.category, level=level, source_kind="warning",
        location=loc, now=now, warning_id=warning_id, source_ref=f"warning:{warning_id}", route_to=unit,
        group_key=group_key)
    return incident_id, incident_id is not None


def apply_verdict(conn: psycopg.Connection, rule: Rule, site: Site, v: Verdict, now: datetime) -> Tally:
    tally = Tally()
    if v.cleared:
        _end_occurrences(conn, rule.id, site.subject, now)
        cur = conn.execute(
            "UPDATE warnings SET status = 'cleared', cleared_at = %s, updated_at = %s, last_value = %s"
            " WHERE rule_id = %s AND subject = %s AND status = 'open'", (now, now, v.last, rule.id, site.subject))
        tally.cleared = cur.rowcount
        return tally
    if not v.firing or v.level is None:
        _end_occurrences(conn, rule.id, site.subject, now)  # back in the hysteresis band: this breach ended
        return tally
    open_now = conn.execute("SELECT 1 FROM warnings WHERE rule_id = %s AND subject = %s AND status = 'open'",
                            (rule.id, site.subject)).fetchone()
    if not open_now and (window := _maintenance(conn, site, now)) is not None:
        conn.execute("INSERT INTO suppressed_warnings (at, rule_id, subject, cause, level) VALUES (%s, %s, %s, %s, %s)",
                     (now, rule.id, site.subject, f"maintenance:{window}", v.level))
        tally.suppressed = 1
        return tally
    warning = _upsert(conn, rule, site, v, now)
    _occurrence(conn, warning.id, v, warning.level, now)
    if warning.inserted:
        tally.opened = 1
        incident_id, new = _incident_for(conn, rule, site, warning.id, warning.level, now, title_of(rule, site, v))
        conn.execute("UPDATE warnings SET incident_id = %s WHERE id = %s", (incident_id, warning.id))
        tally.incidents = int(new)
        log.info("warning %s opened: %s on %s, level %s, incident %s", warning.id, rule.id, site.subject,
                 warning.level, incident_id,  # as fields too, for a JSON log (CITYOPS_LOG_FORMAT=json)
                 extra={"incident_id": incident_id, "warning_id": warning.id, "subject": site.subject,
                        "rule_id": rule.id})
    elif warning.old_level is not None and warning.level != warning.old_level and warning.incident_id is not None:
        tally.relevelled = _relevel(conn, warning.incident_id, warning.old_level, warning.level, now)
    return tally


def record_inhibited(conn: psycopg.Connection, rule: NoDataRule, held: Mapping[str, Collection[str]],
                     now: datetime) -> Tally:
    """The offline warnings an area warning holds back (``held``: its subject, ``township:<code>`` → the silent
    devices it stands for), recorded once per episode: one row per device and open area warning, naming it, at
    the first tick that held it back (a device already recorded in this episode is not again)."""
    tally = Tally()
    for area, devices in sorted(held.items()):
        cur = conn.execute(
            "INSERT INTO suppressed_warnings (at, rule_id, subject, cause, level, warning_id)"
            " SELECT %(at)s, %(rule)s, d.id, %(cause)s, %(level)s, w.id"
            " FROM warnings w, unnest(%(devices)s::text[]) AS d (id)"
            " WHERE w.rule_id = %(rule)s AND w.subject = %(area)s AND w.status = 'open'"
            " ON CONFLICT (warning_id, subject) WHERE warning_id IS NOT NULL DO NOTHING",
            {"at": now, "rule": rule.id, "cause": f"inhibited:{rule.id}:{area}", "level": rule.level,
             "devices": sorted(devices), "area": area})
        tally.suppressed += cur.rowcount
    return tally


def _relevel(conn: psycopg.Connection, incident_id: int, old: int, new: int, now: datetime) -> int:
    verb = "升级" if new < old else "降级"
    try:
        act(conn, incident_id, Action.RELEVEL, SYSTEM, now, details={"level": new, "from_level": old},
            note=f"预警{verb}：{LEVEL_NAMES[old]} → {LEVEL_NAMES[new]}", source="system")
    except IllegalMove:
        return 0  # the incident is already closed or merged: the warning level still changed
    return 1
