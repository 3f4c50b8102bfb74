"""python -m simulator staff: the demo's township staff answering their queues (see ``simulator.staff``).

Every few seconds it reads the incidents waiting on a township, oldest first, and makes the
moves their plans say are due (then the simulated desk's 核查结案 of what waited long enough), at
most a few per round so the big screen changes as a real
morning would, not all at once. Each move goes through the same lifecycle call as the township
desk (same checks, same log, same outbox), recorded with source ``api`` and the township's
user, so a timeline shows who did it and that it did not come from the web desk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.rows import class_row

from alerts.incidents import act
from alerts.lifecycle import Actor, IllegalMove, Role
from alerts.problems import RootCauseError, root_causes
from alerts.status import Status
from simulator.staff import next_move, plan_for, verify_move
from store.users import township_username

log = logging.getLogger("cityops.simulator")

WAITING = [Status.DISPATCHED.value, Status.SIGNED.value, Status.IN_PROGRESS.value]
# Each waiting incident with the time it entered its status (reminders and notes do not count).
_WAITING_SQL = """
SELECT i.id, i.status, i.category, i.township_code,
       (SELECT max(l.at) FROM incident_log l WHERE l.incident_id = i.id AND l.to_status = i.status
          AND l.from_status IS DISTINCT FROM l.to_status) AS since
FROM incidents i
WHERE i.status = ANY(%s) AND i.township_code IS NOT NULL
ORDER BY since NULLS LAST, i.id
"""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A row of ``_WAITING_SQL``."""

    id: int
    status: str
    category: str
    township_code: str
    since: datetime | None  # None: no log row says when it entered its status


def tick(conn: psycopg.Connection, now: datetime, seed: int, limit: int) -> int:
    """Make up to ``limit`` due moves (``conn`` in autocommit: each move commits on its own)."""
    done = 0
    with conn.cursor(row_factory=class_row(Waiting)) as cur:
        waiting = cur.execute(_WAITING_SQL, (WAITING,)).fetchall()
    for incident in waiting:
        if done >= limit:
            break
        if incident.since is None:
            continue
        move = next_move(Status(incident.status), incident.category, now - incident.since,
                         plan_for(incident.id, seed))
        if move is None:
            continue
        township = incident.township_code
        staff = Actor(township_username(township), Role.TOWNSHIP, township)
        try:
            act(conn, incident.id, move.action, staff, now, note=move.note, details=move.details, source="api")
        except IllegalMove as exc:  # someone at a desk moved it first
            log.info("simulated staff: incident %d moved on meanwhile (%s)", incident.id, exc)
            continue
        log.info("simulated staff of %s: %s incident %d", township, move.action.value, incident.id)
        done += 1
    return done


DESK = Actor("zhihui", Role.COMMAND)  # the demo's command desk, as the written history has it


def desk_tick(conn: psycopg.Connection, now: datetime, seed: int, limit: int) -> int:
    """The simulated desk's 核查结案 of what waited in 已反馈 long enough (``verify_move``), up to ``limit``; one
    still breaching its rule is left for the people at the desk (the store refuses it)."""
    if limit <= 0:
        return 0
    with conn.cursor(row_factory=class_row(Waiting)) as cur:
        waiting = cur.execute(_WAITING_SQL, ([Status.RESOLVED.value],)).fetchall()
    offered = {c.name: c.id for c in root_causes(conn, offered_only=True)}
    done = 0
    for incident in waiting:
        if done >= limit:
            break
        move = None if incident.since is None else verify_move(incident.id, incident.category, now - incident.since,
                                                                seed, offered)
        if move is None:
            continue
        try:
            act(conn, incident.id, move.action, DESK, now, note=move.note, details=move.details, source="api")
        except (IllegalMove, RootCauseError) as exc:  # still breaching, moved on meanwhile, its cause just retired
            log.info("simulated desk: incident %d not closed (%s)", incident.id, exc)
            continue
        log.info("simulated desk: 核查结案 of incident %d (root cause %s)", incident.id, move.details["root_cause"])
        done += 1
    return done


def run(dsn: str, seed: int, interval: float, limit: int, stop: threading.Event,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    log.info("simulated township staff answering every %.0f s (at most %d moves a round)", interval, limit)
    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not stop.is_set():
                    tick(conn, clock(), seed, limit)
                    desk_tick(conn, clock(), seed, limit)
                    stop.wait(interval)
        except psycopg.OperationalError as exc:
            log.warning("simulated staff: database unavailable, trying again: %s", exc)
            stop.wait(interval)
