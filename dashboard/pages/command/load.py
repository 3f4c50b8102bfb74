"""What the 值班指挥 page reads, as typed models: the three queues cut to what is shown with the notes
their cards show, the townships an action may go to, and the directives column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from alerts.lifecycle import Action, Role, desk_district, district_of_unit
from alerts.problems import RootCause, root_causes
from alerts.status import OPEN, Status
from dashboard.auth import SessionUser
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
class Reported:
    """A grid report waiting for the desk (待受理): accept, decline or merge it."""

    row: QueueRow
    note: str
    reporter: str
    duplicates: tuple[int, ...]  # open incidents of its category near it, opened shortly before it
    escalated: str | None = None  # left 待受理 past its window: whom its escalation reached (city | leader)


def reported(data: Data, district: str | None, incident_id: int | None = None) -> tuple[Reported, ...]:
    frame = data.pending_reports(district, incident_id)
    rows = incidents(frame.assign(deadline=None))
    return tuple(Reported(row, str(r.title), str(r.reported_by or ""), tuple(int(i) for i in (r.duplicates or [])),
                          r.escalated_to if isinstance(r.escalated_to, str) else None)
                 for row, r in zip(rows, frame.itertuples(), strict=True))


def duplicate_of(data: Data, incident_id: int) -> str:
    """The likely duplicate a grid report is merged into, as the merge form shows it (``#12``); "" for none."""
    found = reported(data, None, incident_id)
    return f"#{found[0].duplicates[0]}" if found and found[0].duplicates else ""


@dataclass(frozen=True, slots=True)
class Queues:
    now: datetime
    verify: Queue  # resolved: to verify or send back
    new: Queue  # to dispatch
    active: Queue  # dispatched, signed, in progress or postponed
    feedback: dict[int, Note]  # of the verify rows shown
    returns: dict[int, Note]  # of the new rows shown
    assists: dict[int, list[str]]  # the assisting townships of the active rows shown
    escalated: dict[int, str]  # whom the escalation of each shown row reached (district | city | leader)
    names: dict[str, str]  # region code → name
    townships: list[tuple[str, str]]  # (code, name) of the active layer
    reported: tuple[Reported, ...] = ()  # grid reports waiting for the desk (待受理), the oldest first
    root_causes: tuple[RootCause, ...] = ()  # what 核查结案 offers to name (the managed list, not retired)


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


def district_of(user: SessionUser) -> str | None:
    """The district a desk is scoped to: a district desk's own; None for the city's (the whole city)."""
    return user.district_code or "-" if user.role is Role.DISTRICT else None  # "-": a district of nothing


def on_desk(rows: pd.DataFrame, district: str | None) -> pd.DataFrame:
    """The rows (incidents with ``township_code``, ``district_code``) on ``district``'s desk; all for None."""
    if district is None or rows.empty:
        return rows
    desk = [desk_district(t if isinstance(t, str) else None, d if isinstance(d, str) else None)
            for t, d in zip(rows["township_code"], rows["district_code"], strict=True)]
    return rows[[d == district for d in desk]]


def escalated_first(rows: pd.DataFrame, district: str | None) -> pd.DataFrame:
    """An escalation that reached this desk (a district's: ``district``; the city's: ``city``) on top, marked."""
    if rows.empty or "escalated_to" not in rows:
        return rows
    mine = rows["escalated_to"] == ("district" if district is not None else "city")
    return pd.concat([rows[mine], rows[~mine]])


def in_district(pairs: list[tuple[str, str]], district: str | None) -> list[tuple[str, str]]:
    """The units (code, name) a desk may name: a district's desk only its townships (not a city department)."""
    return pairs if district is None else [(c, n) for c, n in pairs if district_of_unit(c) == district]


def queues(data: Data, now: datetime, shown: dict[str, int], district: str | None = None) -> Queues:
    """The three queues of a desk (a district's: ``district``), each cut to the rows asked for
    (``shown_rows``), an escalation to this desk first, then the most urgent."""
    rows = escalated_first(on_desk(data.command_queue(), district), district)
    status = rows["status"].astype(str)
    frames = {"verify": rows[status == Status.RESOLVED.value], "new": rows[status == Status.NEW.value],
              "active": rows[status.isin([s.value for s in ACTIVE])]}
    cut = {key: Queue(key, incidents(frame.head(shown[key])), len(frame), shown[key])
           for key, frame in frames.items()}

    def ids(key: str) -> list[int]:
        return [r.id for r in cut[key].rows]

    # What the verifier is asked to check (the newest feedback), and why a 退单 came back and whom it suggested.
    marks = {int(i): str(to) for i, to in zip(rows["id"], rows["escalated_to"], strict=True)
             if isinstance(to, str)} if "escalated_to" in rows else {}
    return Queues(now, cut["verify"], cut["new"], cut["active"], escalated=marks,
                  feedback=_notes(data.latest_log(ids("verify"), Action.FEEDBACK)),
                  returns=_notes(data.latest_log(ids("new"), Action.RETURN)), assists=data.assist_units(ids("active")),
                  names=data.unit_names(), townships=in_district(data.units(), district),
                  reported=reported(data, district), root_causes=offered_causes(data))


def offered_causes(data: Data) -> tuple[RootCause, ...]:
    """The root causes 核查结案 offers (七张问题清单)."""
    with data.pool.connection() as conn:
        return tuple(root_causes(conn, offered_only=True))


def directives(data: Data, now: datetime, district: str | None = None) -> Directives:
    """The recent directives; a district's desk sees those sent to its townships, with only those."""
    rows = data.recent_directives()
    if district is not None:
        rows = [r | {"targets": mine} for r in rows
                if (mine := [x for x in r["targets"] if district_of_unit(x["township_code"]) == district])]
    return Directives(now, rows, data.unit_names())


def page(data: Data, now: datetime, *, can_act: bool, district: str | None = None, can_issue: bool = True) -> Page:
    # Each marker is read before what it marks: a change in between makes the next tick re-read, not skip.
    marker, directive_marker = data.change_marker(), data.directive_marker()
    return Page(marker, queues(data, now, SHOWN, district), directive_marker, directives(data, now, district),
                data.township_choices() if can_act and can_issue else [])


def act_targets(data: Data, incident_id: int, district: str | None = None) -> list[tuple[str, str]]:
    """The townships (code, name) a transfer or an assist may go to: all but the incident's current unit (a
    district's desk: its own townships; a transfer elsewhere goes through the city)."""
    incident = data.incident(incident_id)
    if district is not None and not on_desk(pd.DataFrame([incident] if incident else [],
                                                        columns=["township_code", "district_code"]), district).shape[0]:
        return []  # not on this district's desk: nothing to offer
    current = incident["township_code"] if incident else None
    return [(code, name) for code, name in in_district(data.townships(), district) if code != current]


def township_codes(data: Data) -> set[str]:
    """The townships of the active layer: the only ones an action may name, whatever the browser sends."""
    return {code for code, _ in data.townships()}
