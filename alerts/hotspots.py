"""12345 民声呼应: repeated complaints of one kind close in space and time become one hotspot (高频诉求热点), ONE
proactive-governance incident (主动治理) that lists its tickets (``hotspot_tickets``).

A ticket is an event of the rule's ``event_category`` (``title``: the kind of complaint, 噪音扰民 …). A new
ticket within ``radius_m`` of an open hotspot of its kind (its incident not yet closed) joins it; otherwise, once
``at_least`` tickets of its kind that belong to no hotspot lie within ``radius_m`` of one new ticket within the
window, they form a hotspot centred on it (the densest new ticket first): a warning of the rule and its incident,
and every one of them listed. Its warning clears after ``quiet_hours`` without a ticket joining; the incident stays
until the lifecycle closes it, and every ticket reads its outcome from it (``tickets``).

``plan`` decides (pure, the window's start given); ``attach_tickets`` reads what it needs and applies it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row

from alerts.apply import Site, Tally, apply_verdict
from alerts.deadlines import OPEN_STATUSES
from alerts.incidents import Location
from alerts.lifecycle import Action
from alerts.rules import EventCountRule
from alerts.verdicts import Verdict, event_count
from store.privacy import Reporter

EARTH_M = 6_371_000.0
Key = tuple[str, str, datetime]  # an event's key: source_system, event_id, ts


@dataclass(frozen=True, slots=True)
class Ticket:
    """A 12345 ticket as the engine places it."""

    source_system: str
    event_id: str
    ts: datetime
    complaint: str  # the event's title: 噪音扰民, 占道经营 …
    lon: float
    lat: float

    @property
    def key(self) -> Key:
        return self.source_system, self.event_id, self.ts


@dataclass(frozen=True, slots=True)
class Hotspot:
    """An open hotspot: its incident, its kind of complaint and its centre (the ticket it formed around)."""

    incident_id: int
    complaint: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Cluster:
    """A new hotspot: the new ticket it is centred on and every ticket it lists (the seed among them)."""

    seed: Ticket
    members: tuple[Ticket, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    joins: tuple[tuple[Ticket, int], ...]  # (ticket, incident id of the open hotspot it joins)
    clusters: tuple[Cluster, ...]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine), as the engine's SQL measured it before."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(a))


def plan(new: Sequence[Ticket], hotspots: Sequence[Hotspot], pool: Sequence[Ticket], *, radius_m: float,
         at_least: int, since: datetime) -> Plan:
    """Where new tickets go. ``pool``: the tickets of no hotspot near the new ones (the new ones among them);
    only those after ``since`` count towards a new hotspot."""
    joins: list[tuple[Ticket, int]] = []
    taken: set[Key] = set()
    for t in sorted(new, key=lambda t: t.ts):
        near = [(metres(h.lon, h.lat, t.lon, t.lat), h.incident_id) for h in hotspots if h.complaint == t.complaint]
        inside = min((n for n in near if n[0] <= radius_m), default=None)
        if inside is not None:
            joins.append((t, inside[1]))
            taken.add(t.key)
    candidates = [p for p in pool if p.ts > since]

    def members(seed: Ticket) -> list[Ticket]:
        return [p for p in candidates if p.complaint == seed.complaint and p.key not in taken
                and metres(seed.lon, seed.lat, p.lon, p.lat) <= radius_m]

    clusters: list[Cluster] = []
    left = [t for t in sorted(new, key=lambda t: t.ts) if t.key not in taken]
    while left:
        counted = [(len(members(t)), i) for i, t in enumerate(left)]
        n, i = max(counted, key=lambda c: (c[0], -c[1]))  # the densest, the earliest of equals
        if n < at_least:
            break
        cluster = Cluster(left[i], tuple(members(left[i])))
        clusters.append(cluster)
        taken.update(m.key for m in cluster.members)
        left = [t for t in left if t.key not in taken]
    return Plan(tuple(joins), tuple(clusters))


@dataclass(frozen=True, slots=True)
class _Placed:
    """A new ticket with its areas, as ingest tagged it."""

    source_system: str
    event_id: str
    ts: datetime
    title: str
    lon: float
    lat: float
    district_code: str | None
    township_code: str | None
    grid_code: str
    near_boundary: bool

    def ticket(self) -> Ticket:
        return Ticket(self.source_system, self.event_id, self.ts, self.title, self.lon, self.lat)


_NEW = (
    "SELECT e.source_system, e.event_id, e.ts, e.title, e.lon, e.lat, e.district_code, e.township_code,"
    " e.grid_code, e.near_boundary FROM events e"
    " JOIN unnest(%(systems)s::text[], %(ids)s::text[], %(ts)s::timestamptz[]) AS k(source_system, event_id, ts)"
    "   USING (source_system, event_id, ts)"
    " WHERE e.category = %(category)s AND e.lat IS NOT NULL AND e.lon IS NOT NULL AND e.grid_code IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM hotspot_tickets h WHERE (h.source_system, h.event_id, h.ts)"
    "   = (e.source_system, e.event_id, e.ts))"  # a redelivered batch: already placed
)
# Tickets of no hotspot within the radius of a new one (a box first, so the index on (category, title, ts) and
# the box do the narrowing; plan measures the distance).
_POOL = (
    "SELECT DISTINCT o.source_system, o.event_id, o.ts, o.title AS complaint, o.lon, o.lat FROM events o"
    " JOIN unnest(%(titles)s::text[], %(lons)s::float8[], %(lats)s::float8[]) AS n(title, lon, lat)"
    "   ON o.title = n.title AND o.lat BETWEEN n.lat - %(dlat)s AND n.lat + %(dlat)s"
    "   AND o.lon BETWEEN n.lon - %(dlon)s AND n.lon + %(dlon)s"
    " WHERE o.category = %(category)s AND o.ts > %(since)s AND o.ts <= %(now)s"
    " AND NOT EXISTS (SELECT 1 FROM hotspot_tickets h WHERE (h.source_system, h.event_id, h.ts)"
    "   = (o.source_system, o.event_id, o.ts))"
)
# The rule's hotspots whose incident is still open (its warning may have cleared: the incident is the hotspot).
_OPEN = (
    "SELECT DISTINCT ON (i.id) i.id AS incident_id, w.details->>'complaint' AS complaint, w.lon, w.lat"
    " FROM warnings w JOIN incidents i ON i.id = w.incident_id"
    " WHERE w.rule_id = %s AND i.status = ANY(%s) AND w.details ? 'complaint' AND w.lat IS NOT NULL"
    " ORDER BY i.id, w.id DESC"
)


def attach(conn: psycopg.Connection, incident_id: int, keys: Sequence[Key], now: datetime) -> None:
    """List these tickets (event keys) under the hotspot incident ``incident_id`` (the engine does, and the demo's
    history for the hotspots it writes)."""
    conn.cursor().executemany(
        "INSERT INTO hotspot_tickets (ts, source_system, event_id, incident_id, attached_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [(ts, system, event_id, incident_id, now) for system, event_id, ts in keys])


def _open_warnings(conn: psycopg.Connection, rule: EventCountRule, incident_ids: list[int]) -> dict[int, Site]:
    """incident id → the site of its open warning (where a join updates the count)."""
    rows = conn.execute(
        "SELECT incident_id, subject, title, lon, lat, district_code, township_code, grid_code FROM warnings"
        " WHERE rule_id = %s AND status = 'open' AND incident_id = ANY(%s)", (rule.id, incident_ids)).fetchall()
    return {r[0]: Site(r[1], r[2], Location(r[3], r[4], r[5], r[6], r[7], None)) for r in rows}


def _counts(conn: psycopg.Connection, incident_ids: list[int]) -> dict[int, int]:
    rows = conn.execute("SELECT incident_id, count(*) FROM hotspot_tickets WHERE incident_id = ANY(%s)"
                        " GROUP BY incident_id", (incident_ids,)).fetchall()
    return {int(i): int(n) for i, n in rows}


def _verdict(rule: EventCountRule, subject: str, complaint: str, n: int) -> Verdict:
    return dataclasses.replace(event_count(rule.at_least, rule.level, subject, n),
                               details={"complaint": complaint, "tickets": n})


def attach_tickets(conn: psycopg.Connection, rule: EventCountRule, keys: Sequence[tuple[str, str, str]],
                   now: datetime) -> Tally:
    """Place the new events ``keys`` (ts as text, as the alert inbox has them) of the rule's category: join open
    hotspots, form new ones (a warning of the rule, its incident, its tickets listed), in the caller's transaction."""
    tally = Tally()
    with conn.cursor(row_factory=class_row(_Placed)) as cur:
        placed = cur.execute(_NEW, {"category": rule.event_category, "systems": [k[0] for k in keys],
                                    "ids": [k[1] for k in keys], "ts": [k[2] for k in keys]}).fetchall()
    if not placed:
        return tally
    since = now - timedelta(hours=rule.window_hours)
    with conn.cursor(row_factory=class_row(Ticket)) as cur:
        pool = cur.execute(_POOL, {
            "titles": [p.title for p in placed], "lons": [p.lon for p in placed], "lats": [p.lat for p in placed],
            "dlat": rule.radius_m / 111_000, "dlon": rule.radius_m / 100_000, "category": rule.event_category,
            "since": since, "now": now}).fetchall()
    with conn.cursor(row_factory=class_row(Hotspot)) as cur:
        hotspots = cur.execute(_OPEN, (rule.id, list(OPEN_STATUSES))).fetchall()
    decided = plan([p.ticket() for p in placed], hotspots, pool, radius_m=rule.radius_m, at_least=rule.at_least,
                   since=since)
    for ticket, incident_id in decided.joins:
        attach(conn, incident_id, [ticket.key], now)
    joined = sorted({i for _, i in decided.joins})
    sites, counts = _open_warnings(conn, rule, joined), _counts(conn, joined)
    complaint_of = {h.incident_id: h.complaint for h in hotspots}
    for incident_id, site in sites.items():  # a hotspot that grew: its warning counts its tickets
        tally.add(apply_verdict(conn, rule, site, _verdict(rule, site.subject, complaint_of[incident_id],
                                                           counts[incident_id]), now))
    by_key = {(p.source_system, p.event_id, p.ts): p for p in placed}
    for cluster in decided.clusters:
        tally.add(_form(conn, rule, by_key[cluster.seed.key], cluster.members, now))
    return tally


def _form(conn: psycopg.Connection, rule: EventCountRule, seed: _Placed, members: Sequence[Ticket],
          now: datetime) -> Tally:
    """A new hotspot: its warning (one per grid and kind while open; a second one in the grid is numbered) and
    incident, and its tickets."""
    subject = base = f"hotspot:{seed.grid_code}:{seed.title}"
    n = 1
    while conn.execute("SELECT 1 FROM warnings WHERE rule_id = %s AND subject = %s AND status = 'open'",
                       (rule.id, subject)).fetchone():
        n += 1
        subject = f"{base}:{n}"
    site = Site(subject, f"{seed.title}（{len(members)}件）",
                Location(seed.lon, seed.lat, seed.district_code, seed.township_code, seed.grid_code, None,
                         seed.near_boundary))
    tally = apply_verdict(conn, rule, site, _verdict(rule, subject, seed.title, len(members)), now)
    row = conn.execute("SELECT incident_id FROM warnings WHERE rule_id = %s AND subject = %s AND status = 'open'",
                       (rule.id, subject)).fetchone()
    if row is not None and row[0] is not None:  # None: suppressed by a maintenance window
        attach(conn, int(row[0]), [m.key for m in members], now)
    return tally


def last_tickets(conn: psycopg.Connection, rule: EventCountRule) -> list[tuple[str, str | None, datetime | None]]:
    """(subject, grid, newest ticket) of the rule's open hotspot warnings, for their quiet window. A warning
    opened before hotspots listed their tickets counts from when a complaint last counted it (its update)."""
    return conn.execute(
        "SELECT w.subject, w.grid_code, coalesce(max(h.ts), w.updated_at) FROM warnings w"
        " LEFT JOIN hotspot_tickets h ON h.incident_id = w.incident_id"
        " WHERE w.rule_id = %s AND w.status = 'open' GROUP BY w.id ORDER BY w.subject", (rule.id,)).fetchall()


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as a hotspot lists it, with the hotspot's state and outcome (each ticket's own)."""

    source_system: str
    event_id: str
    ts: datetime
    complaint: str
    text: str
    lon: float | None
    lat: float | None
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    name: str | None  # the reporter, as stored (the caller masks it for whoever may not see it)
    phone: str | None
    incident_id: int
    status: str  # the hotspot incident's
    outcome: str | None  # its last 处置反馈's note
    closed_at: datetime | None  # its 核查结案

    @property
    def reporter(self) -> Reporter | None:
        return Reporter(self.name or "", self.phone) if self.phone is not None else None


_TICKETS = (
    "SELECT e.source_system, e.event_id, e.ts, e.title AS complaint, coalesce(e.payload->>'description', '') AS text,"
    " e.lon, e.lat, e.district_code, e.township_code, e.grid_code, r.name, r.phone, i.id AS incident_id, i.status,"
    " (SELECT l.note FROM incident_log l WHERE l.incident_id = i.id AND l.action = %(feedback)s"
    "   ORDER BY l.at DESC, l.id DESC LIMIT 1) AS outcome,"
    " (SELECT max(l.at) FROM incident_log l WHERE l.incident_id = i.id AND l.action = %(verify)s) AS closed_at"
    " FROM hotspot_tickets h JOIN events e USING (source_system, event_id, ts) JOIN incidents i ON i.id = h.incident_id"
    " LEFT JOIN event_reporters r USING (source_system, event_id, ts)"
)


def tickets(conn: psycopg.Connection, incident_id: int) -> list[TicketRow]:
    """A hotspot incident's tickets, oldest first (none: not a hotspot)."""
    with conn.cursor(row_factory=class_row(TicketRow)) as cur:
        return cur.execute(_TICKETS + " WHERE h.incident_id = %(incident)s ORDER BY e.ts, e.event_id",
                           {"incident": incident_id, "feedback": Action.FEEDBACK.value,
                            "verify": Action.VERIFY.value}).fetchall()


def ticket(conn: psycopg.Connection, source_system: str, event_id: str) -> TicketRow | None:
    """One ticket by its id in its system, with its hotspot's state and outcome (None: in no hotspot)."""
    with conn.cursor(row_factory=class_row(TicketRow)) as cur:
        return cur.execute(_TICKETS + " WHERE h.source_system = %(system)s AND h.event_id = %(id)s"
                           " ORDER BY e.ts DESC LIMIT 1",
                           {"system": source_system, "id": event_id, "feedback": Action.FEEDBACK.value,
                            "verify": Action.VERIFY.value}).fetchone()
