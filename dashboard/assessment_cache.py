"""考核's input kept per dashboard process: the incidents' logs of a window and the stretches replayed from them,
read once and afterwards brought up to date with the log rows added since.

Reading a month's incident log and replaying it into stretches took ~2 s on every leader cockpit load and every
考核 filter change, holding the GIL over the worker's other polls (issue 19's shift benchmark). The log is
append-only (a trigger refuses UPDATE and DELETE), so a window stays right when the new rows are appended, and
an incident is replayed again only when the part of its log a period sees grew.

New rows are found by id. A transaction can commit an id lower than one already read (ids are taken before
commit), so the ids of the last ``SETTLE_S`` are read again on each refresh and merged by id: the bound moves up
only to the highest id that was read at least ``SETTLE_S`` ago. A log transaction is one short move.

What the readers get is a ``StretchTable`` (``figures`` counts it in numpy): each replay packs its stretches'
rows once, a call joins them, and the table is kept while it cannot differ. It depends only on the rows held
and on which of them lie before ``end`` and from ``since`` on, so a rolling period (its start and end moving
on with every call) is served the same table until a move lands or passes one of its bounds.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from alerts.assessment import Names, Stretch, StretchTable, assignments, row_of
from alerts.incidents import LOG_COLUMNS, log_entry
from alerts.lifecycle import LogEntry

SETTLE_S = 30.0
REPLAYS = 3  # per incident: its log now, and at the end of the period before (考核's movement)
WINDOWS = 4  # a window per start kept: the cockpit's and the 考核 page's periods, and yesterday's while a day turns
# A window serves every later start too (a rolling period's start moves on with every call; the cockpit's week
# fits in 考核's month) until it is this old; then a new one is read, so a window does not keep growing with
# every incident since it was first read.
REUSE_S = 24 * 3600.0
TABLES = 4  # per window: the cockpit's period, 考核's now and before, and one to spare while a start moves on

_ROWS = f"SELECT l.id, l.incident_id, {LOG_COLUMNS} FROM incident_log l"


@dataclass
class _Window:
    """Every incident with a move since ``since``: its whole log (by id), and its stretches once replayed."""

    since: datetime
    loaded_at: float  # the cache's clock when it was read
    settled: int  # every log row with an id up to this one has been read (or was never committed)
    logs: dict[int, list[tuple[int, LogEntry]]] = field(default_factory=dict)
    # by the rows replayed: the stretches and their rows (``row_of``, coded by ``names``)
    replayed: dict[int, dict[tuple[int, ...], tuple[list[Stretch], bytes]]] = field(default_factory=dict)
    names: Names = field(default_factory=Names)
    recent: set[int] = field(default_factory=set)  # ids above ``settled`` already held
    marks: list[tuple[float, int]] = field(default_factory=list)  # (when read, highest id then)
    # Per incident: its latest move, and the ids of its whole log (dropped when the log grows), so a period that
    # ends after the latest move (the usual: it ends now) takes the log whole without looking at each row.
    last_at: dict[int, datetime] = field(default_factory=dict)
    all_ids: dict[int, tuple[int, ...]] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)  # every row's, sorted (when ``times_sorted``)
    times_sorted: bool = True
    tables: dict[tuple[int, int, int], StretchTable] = field(default_factory=dict)  # by ``cut``; emptied as rows come

    def put(self, row_id: int, incident_id: int, entry: LogEntry) -> None:
        rows = self.logs.setdefault(incident_id, [])
        if rows and rows[-1][0] > row_id:
            bisect.insort(rows, (row_id, entry), key=lambda r: r[0])
        else:
            rows.append((row_id, entry))
        if incident_id not in self.last_at or entry.at > self.last_at[incident_id]:
            self.last_at[incident_id] = entry.at
        self.all_ids.pop(incident_id, None)
        self.times.append(entry.at)
        self.times_sorted = False
        self.tables.clear()

    def cut(self, since: datetime, end: datetime) -> tuple[int, int, int]:
        """What a table from ``since`` to ``end`` depends on: the rows held, and how many lie before each bound."""
        if not self.times_sorted:  # a sorted run with the few rows read since after it: merged, not sorted anew
            self.times.sort()
            self.times_sorted = True
        return len(self.times), bisect.bisect_left(self.times, since), bisect.bisect_left(self.times, end)

    def ids_of(self, incident_id: int) -> tuple[int, ...]:
        ids = self.all_ids.get(incident_id)
        if ids is None:
            ids = self.all_ids[incident_id] = tuple(row_id for row_id, _ in self.logs[incident_id])
        return ids

    def add(self, row_id: int, incident_id: int, entry: LogEntry) -> None:
        if row_id in self.recent or row_id <= self.settled:
            return
        self.recent.add(row_id)
        self.put(row_id, incident_id, entry)

    def settle(self, now: float) -> None:
        old = [m for m in self.marks if now - m[0] >= SETTLE_S]
        if old:
            self.settled = max(self.settled, max(top for _, top in old))
            self.marks = [m for m in self.marks if now - m[0] < SETTLE_S]
            self.recent = {i for i in self.recent if i > self.settled}


class AssessmentCache:
    """The stretches ``alerts.assessment.figures`` counts, for windows of the log; thread-safe (gthread workers)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: OrderedDict[datetime, _Window] = OrderedDict()

    def table(self, conn: psycopg.Connection, since: datetime, end: datetime) -> StretchTable:
        """As ``StretchTable.of(stretches_until(read_logs(conn, (since, end)), end))``: every stretch of the
        incidents with a move since ``since``, each incident's log as it stood at ``end``."""
        with self._lock:
            window = self._window(conn, since)
            cut = window.cut(since, end)
            table = window.tables.get(cut)
            if table is None:
                table = window.tables[cut] = self._build(window, since, end)
                while len(window.tables) > TABLES:  # the oldest goes (dicts keep their order)
                    del window.tables[next(iter(window.tables))]
            return table

    @staticmethod
    def _build(window: _Window, since: datetime, end: datetime) -> StretchTable:
        """From the replays held; an incident is replayed (and its rows packed) only when the part of its log
        the period sees is new."""
        out: list[Stretch] = []
        rows: list[bytes] = []
        for incident_id, logged in window.logs.items():
            last = window.last_at[incident_id]
            if last < since:  # no move since ``since`` (a window read from earlier)
                continue
            if last < end:
                kept, ids = logged, window.ids_of(incident_id)
            else:  # a past period: what was known by its end
                kept = [r for r in logged if r[1].at < end]
                if not any(e.at >= since for _, e in kept):
                    continue
                ids = tuple(row_id for row_id, _ in kept)
            memo = window.replayed.setdefault(incident_id, {})
            found = memo.get(ids)
            if found is None:
                replayed = assignments(incident_id, [e for _, e in kept])
                found = memo[ids] = replayed, b"".join(row_of(s, window.names) for s in replayed)
                while len(memo) > REPLAYS:  # the oldest replay goes (dicts keep their order)
                    del memo[next(iter(memo))]
            out += found[0]
            rows.append(found[1])
        return StretchTable.from_rows(b"".join(rows), window.names.names, out)

    def _window(self, conn: psycopg.Connection, since: datetime) -> _Window:
        """The latest window that holds every incident moved since ``since`` (read less than ``REUSE_S`` ago),
        brought up to date; or a new one."""
        now = self._clock()
        held = [w for start, w in self._windows.items() if start <= since and now - w.loaded_at < REUSE_S]
        if not held:
            window = self._windows[since] = self._load(conn, since)
            while len(self._windows) > WINDOWS:
                self._windows.popitem(last=False)
            return window
        window = max(held, key=lambda w: w.since)
        self._windows.move_to_end(window.since)
        self._refresh(conn, window)
        return window

    def _load(self, conn: psycopg.Connection, since: datetime) -> _Window:
        # ids of rows moved in the last SETTLE_S may still be followed by a lower one committing late
        row = conn.execute("SELECT coalesce(max(id), 0) FROM incident_log WHERE at < now() - make_interval(secs => %s)",
                           (SETTLE_S,)).fetchone()
        window = _Window(since, self._clock(), settled=int(row[0]) if row else 0)
        top = 0
        for row_id, incident_id, *rest in conn.execute(
                _ROWS + " WHERE l.incident_id IN (SELECT incident_id FROM incident_log WHERE at >= %s)"
                " ORDER BY l.incident_id, l.id", (since,)):
            window.put(row_id, incident_id, log_entry(*rest))
            top = max(top, row_id)
            if row_id > window.settled:
                window.recent.add(row_id)
        window.marks.append((self._clock(), top))
        return window

    def _refresh(self, conn: psycopg.Connection, window: _Window) -> None:
        now = self._clock()
        window.settle(now)
        fresh = conn.execute(_ROWS + " WHERE l.id > %s ORDER BY l.id", (window.settled,)).fetchall()
        if not fresh:
            return
        joining = {r[1] for r in fresh if r[1] not in window.logs and r[2] >= window.since}
        if joining:  # an incident's first move in the window: its earlier log comes with it
            for row_id, incident_id, *rest in conn.execute(
                    _ROWS + " WHERE l.incident_id = ANY(%s) AND l.id <= %s ORDER BY l.id",
                    (list(joining), window.settled)):
                window.put(row_id, incident_id, log_entry(*rest))
        for row_id, incident_id, *rest in fresh:
            if incident_id in window.logs or incident_id in joining:
                window.add(row_id, incident_id, log_entry(*rest))
        window.marks.append((now, max(r[0] for r in fresh)))
