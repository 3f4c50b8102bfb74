"""One evaluation step, in the caller's transaction: inbox → rules → warnings → incidents.

Stages, in order: claim committed ingest batches; evaluate the rules on the readings they
touched; open, upgrade or clear warnings (one open per rule and subject, by the database);
open and dispatch an incident for each new warning and for each graded department event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from alerts.incidents import Location, open_incident
from alerts.rules import ThresholdRule, Verdict, evaluate_threshold

log = logging.getLogger("cityops.alerts")

LOOKBACK_SLACK = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class StepResult:
    batches: int
    warnings_opened: int
    warnings_cleared: int
    incidents_opened: int


@dataclass(frozen=True, slots=True)
class Site:
    device_id: str
    device_type: str
    name: str
    location: Location


def claim_inbox(conn: psycopg.Connection, limit: int = 200) -> list[tuple[str, list[list[str]]]]:
    """Delete and return committed batches; the delete commits with the results, so none is lost."""
    return conn.execute(
        "DELETE FROM alert_inbox WHERE id IN"
        " (SELECT id FROM alert_inbox ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING kind, keys",
        (limit,),
    ).fetchall()


def _sites(conn: psycopg.Connection, device_ids: list[str]) -> dict[str, Site]:
    rows = conn.execute(
        "SELECT device_id, device_type, name, lon, lat, district_code, township_code, grid_code, boundary_version"
        " FROM devices WHERE device_id = ANY(%s)",
        (device_ids,),
    ).fetchall()
    return {r[0]: Site(r[0], r[1], r[2], Location(*r[3:])) for r in rows}


def _readings(conn: psycopg.Connection, pairs: list[tuple[str, str]], since: datetime
              ) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    rows = conn.execute(
        "SELECT t.device_id, t.metric, t.ts, t.value FROM telemetry t"
        " JOIN unnest(%s::text[], %s::text[]) AS k(device_id, metric) USING (device_id, metric)"
        " WHERE t.ts > %s ORDER BY t.device_id, t.metric, t.ts",
        ([p[0] for p in pairs], [p[1] for p in pairs], since),
    ).fetchall()
    series: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
    for device_id, metric, ts, value in rows:
        series[(device_id, metric)].append((ts, value))
    return series


def _open_or_update_warning(conn: psycopg.Connection, rule: ThresholdRule, site: Site, v: Verdict,
                            now: datetime) -> tuple[int, bool]:
    loc = site.location
    row = conn.execute(
        "INSERT INTO warnings (rule_id, subject, level, status, title, metric, opened_at, updated_at,"
        " first_value, peak_value, last_value, lon, lat, district_code, township_code, grid_code)"
        " VALUES (%s, %s, %s, 'open', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (rule_id, subject) WHERE status = 'open' DO UPDATE SET"
        "  level = LEAST(warnings.level, EXCLUDED.level), updated_at = EXCLUDED.updated_at,"
        "  peak_value = GREATEST(warnings.peak_value, EXCLUDED.peak_value), last_value = EXCLUDED.last_value"
        " RETURNING id, (xmax = 0) AS inserted",
        (rule.id, site.device_id, v.level, f"{rule.name} · {site.name}", rule.metric, now, now, v.last, v.peak,
         v.last, loc.lon, loc.lat, loc.district_code, loc.township_code, loc.grid_code),
    ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def evaluate_telemetry(conn: psycopg.Connection, rules: tuple[ThresholdRule, ...],
                       pairs: set[tuple[str, str]], now: datetime) -> tuple[int, int, int]:
    by_metric: dict[str, list[ThresholdRule]] = defaultdict(list)
    for rule in rules:
        by_metric[rule.metric].append(rule)
    wanted = sorted(p for p in pairs if p[1] in by_metric)
    if not wanted:
        return 0, 0, 0
    sites = _sites(conn, sorted({d for d, _ in wanted}))
    since = now - max(r.window for r in rules) - LOOKBACK_SLACK
    series = _readings(conn, wanted, since)
    opened = cleared = incidents = 0
    for device_id, metric in wanted:
        site = sites.get(device_id)
        if site is None:
            continue
        for rule in by_metric[metric]:
            if rule.device_type != site.device_type:
                continue
            verdict = evaluate_threshold(rule, series.get((device_id, metric), []))
            if verdict.firing:
                warning_id, inserted = _open_or_update_warning(conn, rule, site, verdict, now)
                if inserted:
                    opened += 1
                    incident_id = open_incident(
                        conn, title=f"{rule.name} · {site.name}", category=rule.category, level=verdict.level or 4,
                        source_kind="warning", location=site.location, now=now, warning_id=warning_id,
                        source_ref=f"warning:{warning_id}")
                    conn.execute("UPDATE warnings SET incident_id = %s WHERE id = %s", (incident_id, warning_id))
                    incidents += incident_id is not None
                    log.info("warning %s opened: %s level %s", warning_id, rule.id, verdict.level)
            elif verdict.cleared:
                cur = conn.execute(
                    "UPDATE warnings SET status = 'cleared', cleared_at = %s, updated_at = %s, last_value = %s"
                    " WHERE rule_id = %s AND subject = %s AND status = 'open'",
                    (now, now, verdict.last, rule.id, device_id))
                cleared += cur.rowcount
    return opened, cleared, incidents


def evaluate_events(conn: psycopg.Connection, keys: list[tuple[str, str, str]], now: datetime) -> int:
    """A department event that carries a level is already a graded case: open an incident for it."""
    if not keys:
        return 0
    rows = conn.execute(
        "SELECT e.source_system, e.event_id, e.category, e.title, (e.payload->>'level')::int, e.lon, e.lat,"
        " e.district_code, e.township_code, e.grid_code, (SELECT version FROM boundary_versions WHERE active)"
        " FROM events e JOIN unnest(%s::text[], %s::text[], %s::timestamptz[]) AS k(source_system, event_id, ts)"
        " USING (source_system, event_id, ts) WHERE e.payload ? 'level' AND e.payload->>'level' IS NOT NULL",
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
    ).fetchall()
    opened = 0
    for system, event_id, category, title, level, lon, lat, district, township, grid, version in rows:
        incident_id = open_incident(
            conn, title=title, category=category, level=level, source_kind="event",
            location=Location(lon, lat, district, township, grid, version), now=now,
            source_ref=f"event:{system}:{event_id}")
        opened += incident_id is not None
    return opened


def step(conn: psycopg.Connection, rules: tuple[ThresholdRule, ...], now: datetime) -> StepResult:
    """Run one evaluation in one transaction; returns what it did."""
    with conn.transaction():
        claimed = claim_inbox(conn)
        pairs: set[tuple[str, str]] = set()
        event_keys: set[tuple[str, str, str]] = set()
        for kind, keys in claimed:
            if kind == "telemetry":
                pairs.update((k[0], k[1]) for k in keys)
            else:
                event_keys.update((k[0], k[1], k[2]) for k in keys)
        opened, cleared, incidents = evaluate_telemetry(conn, rules, pairs, now)
        incidents += evaluate_events(conn, sorted(event_keys), now)
    return StepResult(len(claimed), opened, cleared, incidents)
