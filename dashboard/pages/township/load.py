"""What the 镇街工作台 reads (also a department's: a 部门 is a unit like a township), as typed models: the
unit's open incidents, its own and those it works on as 协办 (the most urgent first, at most ``MAX_CARDS``),
the marker that says when they changed, and its directives still to acknowledge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.lifecycle import Part
from dashboard.data import Data
from dashboard.widgets import QueueRow, incidents
from i18n.timefmt import local

MAX_CARDS = 60  # the most urgent first; a phone does not scroll through hundreds of cards


@dataclass(frozen=True, slots=True)
class Queue:
    now: datetime
    cards: tuple[QueueRow, ...]  # the deadline that comes first on top
    more: int  # how many more the township has than the cards shown
    unit: str  # whose desk: a card of another unit's incident is one this unit assists (协办)
    parts: dict[int, Part]  # this unit's part of each incident it assists


@dataclass(frozen=True, slots=True)
class Pending:
    """The directives addressed to the township that it has not acknowledged yet."""

    now: datetime
    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Page:
    """What the desk shows when it opens."""

    name: str  # the township's
    others: list[tuple[str, str]]  # (code, name) of the other townships: whom a 退单 may suggest
    pending: Pending
    directive_marker: str
    marker: str  # read before the queue
    queue: Queue


def queue(data: Data, township_code: str, now: datetime) -> Queue:
    rows = data.township_queue(township_code)
    cards = incidents(rows.head(MAX_CARDS))
    parts = data.assist_parts_of(township_code, [c.id for c in cards if c.township_code != township_code])
    return Queue(now, cards, max(len(rows) - MAX_CARDS, 0), township_code, parts)


def marker(data: Data, township_code: str, now: datetime) -> str:
    """Changes when the township's incidents change, and once a minute for the countdowns."""
    return f"{local(now).strftime('%H%M')}|{data.township_marker(township_code)}"


def pending(data: Data, township_code: str, now: datetime) -> Pending:
    return Pending(now, data.pending_directives(township_code))


def page(data: Data, township_code: str, now: datetime) -> Page:
    # Each marker is read before what it marks: a change in between makes the next tick re-read, not skip.
    directive_marker, list_marker = data.directive_marker(township_code), marker(data, township_code, now)
    return Page(data.unit_names().get(township_code, township_code),
                [(code, name) for code, name in data.units() if code != township_code],
                pending(data, township_code, now), directive_marker, list_marker, queue(data, township_code, now))
