"""What the 值班指挥 page reads, as typed models: the three queues cut to what is shown with the notes
their cards show, the townships an action may go to, and the directives column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.lifecycle import Action
from alerts.status import OPEN, Status
from dashboard.data import Data
from dashboard.widgets import QueueRow, incidents

# How many of each queue show at first, the most urgent first (level, then deadline); "show more" adds as many.
SHOWN = {"verify": 9, "new": 9, "active": 20}
MAX_SHOWN = 10_000  # what a browser may ask for, at most
ACTIVE = OPEN - {Status.NEW, Status.RESOLVED}  # the third queue: neither 待分拨 nor 待核查


@dataclass(frozen=True, slots=True)
class Note:
    """A township's latest feedback on an incident (what the verifier checks) or its 退单 (why it came back)."""

    at: datetime
    actor: str
    note: str
    unit: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Queue:
    key: str  # verify | new | active: the key of ``SHOWN`` and of the section's id
    rows: tuple[QueueRow, ...]  # the most urgent first, cut to ``shown``
    count: int  # how many the queue holds
    shown: int  # how many rows were asked for


@dataclass(frozen=True, slots=True)
class Queues:
    now: datetime
    verify: Queue  # resolved: to verify or send back
    new: Queue  # to dispatch
    active: Queue  # dispatched, signed, in progress or postponed
    feedback: dict[int, Note]  # of the verify rows shown
    returns: dict[int, Note]  # of the new rows shown
    assists: dict[int, list[str]]  # the assisting townships of the active rows shown
    names: dict[str, str]  # region code → name
    townships: list[tuple[str, str]]  # (code, name) of the active layer


@dataclass(frozen=True, slots=True)
class Directives:
    now: datetime
    rows: list[dict[str, Any]]  # the recent ones and who has acknowledged (``Data.recent_directives``)
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Page:
    """What the page shows when it opens."""

    marker: str  # the incidents' change marker, read before the queues
    queues: Queues
    directive_marker: str
    directives: Directives
    choices: list[dict[str, str]]  # the townships the directive form offers; none for a read-only role


def shown_rows(asked: object) -> dict[str, int]:
    """How many rows of each queue to show: what the browser asked for, within the defaults and ``MAX_SHOWN``."""
    asked = asked if isinstance(asked, dict) else {}
    shown = {}
    for queue, first in SHOWN.items():
        n = asked.get(queue)
        shown[queue] = min(max(n, first), MAX_SHOWN) if isinstance(n, int) else first
    return shown


def _notes(rows: dict[int, dict[str, Any]]) -> dict[int, Note]:
    return {incident_id: Note(r["at"], r["actor"], r["note"], r.get("unit"),
                              r["details"] if isinstance(r["details"], dict) else {})
            for incident_id, r in rows.items()}


def queues(data: Data, now: datetime, shown: dict[str, int]) -> Queues:
    """The three queues, each cut to the rows asked for (``shown_rows``), the most urgent first."""
    rows = data.command_queue()
    status = rows["status"].astype(str)
    frames = {"verify": rows[status == Status.RESOLVED.value], "new": rows[status == Status.NEW.value],
              "active": rows[status.isin([s.value for s in ACTIVE])]}
    cut = {key: Queue(key, incidents(frame.head(shown[key])), len(frame), shown[key])
           for key, frame in frames.items()}

    def ids(key: str) -> list[int]:
        return [r.id for r in cut[key].rows]

    # What the verifier is asked to check (the newest feedback), and why a 退单 came back and whom it suggested.
    return Queues(now, cut["verify"], cut["new"], cut["active"],
                  feedback=_notes(data.latest_log(ids("verify"), Action.FEEDBACK)),
                  returns=_notes(data.latest_log(ids("new"), Action.RETURN)), assists=data.assist_units(ids("active")),
                  names=data.unit_names(), townships=data.units())


def directives(data: Data, now: datetime) -> Directives:
    return Directives(now, data.recent_directives(), data.unit_names())


def page(data: Data, now: datetime, *, can_act: bool) -> Page:
    # Each marker is read before what it marks: a change in between makes the next tick re-read, not skip.
    marker, directive_marker = data.change_marker(), data.directive_marker()
    return Page(marker, queues(data, now, SHOWN), directive_marker, directives(data, now),
                data.township_choices() if can_act else [])


def act_targets(data: Data, incident_id: int) -> list[tuple[str, str]]:
    """The townships (code, name) a transfer or an assist may go to: all but the incident's current unit."""
    incident = data.incident(incident_id)
    current = incident["township_code"] if incident else None
    return [(code, name) for code, name in data.townships() if code != current]


def township_codes(data: Data) -> set[str]:
    """The townships of the active layer: the only ones an action may name, whatever the browser sends."""
    return {code for code, _ in data.townships()}
