"""What the incident page reads, as a typed model: the incident, its whole log and its photos, for a
session that may see it (township staff: only incidents that are or were routed to their township)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts.lifecycle import Role
from dashboard.auth import SessionUser
from dashboard.data import Data
from dashboard.reads import OPEN_STATUSES


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


@dataclass(frozen=True, slots=True)
class Photo:
    id: int
    filename: str


@dataclass(frozen=True, slots=True)
class Record:
    now: datetime
    facts: Facts
    log: pd.DataFrame  # every row of incident_log, oldest first: the table and the timeline
    photos: tuple[Photo, ...]
    names: dict[str, str]  # region code → name


def incident_number(text: str | None) -> int | None:
    """The incident id of the URL, if it is one (a bigint: at most 18 digits)."""
    return int(text) if text and text.isdigit() and len(text) < 19 else None


def record(data: Data, incident_id: int | None, user: SessionUser, now: datetime) -> Record | None:
    """The incident's page, or None when it does not exist or is not the session's to see."""
    row = data.incident(incident_id) if incident_id is not None else None
    if row is None or (user.role is Role.TOWNSHIP and (
            user.township_code is None or not data.township_involved(row["id"], user.township_code))):
        return None
    facts = Facts(row["id"], row["title"], row["category"], row["level"], row["status"], row["township_code"],
                  row["lon"], row["lat"], row["created_at"], row["sign_deadline"], row["finish_deadline"],
                  row["rework_count"], bool(row["near_boundary"]) and row["status"] in OPEN_STATUSES)
    photos = tuple(Photo(int(p.id), p.filename) for p in data.attachments(row["id"]).itertuples())
    return Record(now, facts, data.incident_log(row["id"]), photos, data.region_names())
