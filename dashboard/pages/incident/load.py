"""What the incident page reads, as a typed model: the incident, its whole log, its photos, its reporter and, for
a 12345 hotspot, its tickets, for a session that may see it (township staff: only incidents that are or were
routed to their township).

The reporter (and each ticket's) comes masked unless the session may see it whole (``store.privacy``); reading
it whole is a row of ``auth_events`` in the same transaction (one per user, incident and minute)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts import hotspots
from alerts.incidents import contact
from alerts.lifecycle import UNIT_ROLES, Role
from dashboard import auth
from dashboard.actions import on_desk_of
from dashboard.auth import SessionUser
from dashboard.data import Data
from dashboard.reads import OPEN_STATUSES
from store import audit
from store.privacy import Reporter, may_see_unmasked


@dataclass(frozen=True, slots=True)
class Facts:
    id: int
    title: str
    category: str
    level: int
    status: str
    township_code: str | None
    lon: float | None
    lat: float | None
    created_at: datetime
    sign_deadline: datetime | None
    finish_deadline: datetime | None
    rework_count: int
    near: bool  # near a township border, area not confirmed, and still open: the area is for open work
    escalated_to: str | None = None  # the rung its escalation reached (district | city | leader), while it holds


@dataclass(frozen=True, slots=True)
class PhotoRef:
    """A stored photo as the page links it: its attachment id and file name (the file is ``data.Photo``,
    served by ``/attachment/<id>``), and the log row (the report) it came with."""

    id: int
    filename: str
    log_id: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """Who reported the incident's cause, as this session may see it."""

    reporter: Reporter
    masked: bool


@dataclass(frozen=True, slots=True)
class HotspotTicket:
    """A 12345 ticket a hotspot incident lists, its reporter as this session may see it, and the outcome it
    was (or will be) answered with: the incident's."""

    ts: datetime
    complaint: str
    text: str
    reporter: Reporter | None
    township_code: str | None
    grid_code: str | None
    lon: float | None
    lat: float | None
    status: str  # the hotspot incident's
    outcome: str | None  # its 处置反馈's note


@dataclass(frozen=True, slots=True)
class Record:
    now: datetime
    facts: Facts
    log: pd.DataFrame  # every row of incident_log, oldest first: the table and the timeline
    photos: tuple[PhotoRef, ...]
    names: dict[str, str]  # region code → name
    contact: Contact | None  # None: no reporter came with its cause
    tickets: tuple[HotspotTicket, ...] = ()  # a 12345 hotspot's (主动治理), oldest first


def incident_number(text: str | None) -> int | None:
    """The incident id of the URL, if it is one (a bigint: at most 18 digits)."""
    return int(text) if text and text.isdigit() and len(text) < 19 else None


def record(data: Data, incident_id: int | None, user: SessionUser, now: datetime, address: str) -> Record | None:
    """The incident's page (or export), or None when it does not exist or is not the session's to see.

    ``address`` is the client's, for the audit row of an unmasked reporter."""
    row = data.incident(incident_id) if incident_id is not None else None
    if row is None:
        return None
    if user.role in UNIT_ROLES and (
            user.township_code is None or not data.township_involved(row["id"], user.township_code)):
        auth.record_refusal(user)  # another unit's incident: the same "not found", and a row of the login log
        return None
    if user.role is Role.DISTRICT and not on_desk_of(row, user.district_code):
        auth.record_refusal(user)  # another district's: the same "not found", recorded
        return None
    if user.role is Role.GRID and row.get("grid_code") not in user.grid_codes:
        auth.record_refusal(user)  # another grid's: the same "not found", recorded
        return None
    facts = Facts(row["id"], row["title"], row["category"], row["level"], row["status"], row["township_code"],
                  row["lon"], row["lat"], row["created_at"], row["sign_deadline"], row["finish_deadline"],
                  row["rework_count"], bool(row["near_boundary"]) and row["status"] in OPEN_STATUSES,
                  row.get("escalated_to"))
    photos = tuple(PhotoRef(int(p.id), p.filename, int(p.log_id) if pd.notna(p.log_id) else None)
                   for p in data.attachments(row["id"]).itertuples())
    reporter, tickets = _people(data, facts, user, now, address)
    return Record(now, facts, data.incident_log(row["id"]), photos, data.unit_names(), reporter, tickets)


def _people(data: Data, facts: Facts, user: SessionUser, now: datetime, address: str
            ) -> tuple[Contact | None, tuple[HotspotTicket, ...]]:
    """The incident's reporter and its hotspot's tickets, their callers masked unless the session may see them
    whole (then one audit row for the incident, whichever of them it saw)."""
    whole = may_see_unmasked(user.role, user.township_code, facts.township_code)
    with data.pool.connection() as conn:
        reporter = contact(conn, facts.id)
        listed = hotspots.tickets(conn, facts.id)
        if whole and (reporter is not None or any(r.reporter is not None for r in listed)):
            audit.record_pii_view(conn, now, username=user.username, address=address, incident_id=facts.id)

    def shown(r: Reporter | None) -> Reporter | None:
        return r if whole or r is None else r.masked()

    tickets = tuple(HotspotTicket(r.ts, r.complaint, r.text, shown(r.reporter), r.township_code, r.grid_code, r.lon,
                                  r.lat, r.status, r.outcome) for r in listed)
    reporter_shown = shown(reporter)
    return (Contact(reporter_shown, masked=not whole) if reporter_shown is not None else None), tickets
