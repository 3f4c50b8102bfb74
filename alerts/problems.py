"""The store of 七张问题清单 (``alerts.rectification`` decides, this writes): the managed list of root causes, the
recurring problems found at 核查结案, their 整改 → 验收 moves with a log row each, and the watch rules made from
them (``alerts.watch``). Every write of a problem goes with its log row in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from alerts.lifecycle import SYSTEM, Actor, Role
from alerts.rectification import (
    Closure,
    Problem,
    RAction,
    RecurrenceConfig,
    REntry,
    RStatus,
    Scope,
    load_config,
    owner_of,
    recurring,
    transition,
)
from alerts.rules import Rule
from alerts.watch import WATCH_COLUMNS, Watch, WatchError, lowered, scaled, watch_of, watchable
from store.departments import units_for


class RootCauseError(ValueError):
    """A root cause that cannot be used or stored; ``key`` names the i18n message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class RootCause:
    id: int
    name: str
    name_en: str
    retired: bool

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


MAX_NAME = 60


def root_causes(conn: psycopg.Connection, *, offered_only: bool = False) -> list[RootCause]:
    """The list in its order (by id); ``offered_only``: without the retired ones, as a verify form offers it."""
    with conn.cursor(row_factory=class_row(RootCause)) as cur:
        return cur.execute("SELECT id, name, name_en, retired FROM root_causes"
                           + (" WHERE NOT retired" if offered_only else "") + " ORDER BY id").fetchall()


def _names(name: object, name_en: object) -> tuple[str, str]:
    zh, en = str(name or "").strip(), str(name_en or "").strip()
    if not zh:
        raise RootCauseError("rootcause.err.name")
    if len(zh) > MAX_NAME or len(en) > MAX_NAME:
        raise RootCauseError("rootcause.err.long")
    return zh, en


def add_root_cause(conn: psycopg.Connection, name: object, name_en: object) -> RootCause:
    """A new root cause (in the caller's transaction, with its audit row); a name in use is refused."""
    zh, en = _names(name, name_en)
    with conn.cursor(row_factory=class_row(RootCause)) as cur:
        row = cur.execute("INSERT INTO root_causes (name, name_en) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING"
                          " RETURNING id, name, name_en, retired", (zh, en)).fetchone()
    if row is None:
        raise RootCauseError("rootcause.err.taken")
    return row


def change_root_cause(conn: psycopg.Connection, cause_id: object, *, name: object = None, name_en: object = None,
                      retired: bool | None = None) -> tuple[RootCause, RootCause]:
    """Rename a root cause (``name``, ``name_en``) or retire / restore it (``retired``): (before, after). Problems
    name it by id, so they show the new name; a verify row keeps the name it closed with."""
    if not isinstance(cause_id, int) or isinstance(cause_id, bool):
        raise RootCauseError("rootcause.err.unknown")
    with conn.cursor(row_factory=class_row(RootCause)) as cur:
        before = cur.execute("SELECT id, name, name_en, retired FROM root_causes WHERE id = %s FOR UPDATE",
                             (cause_id,)).fetchone()
        if before is None:
            raise RootCauseError("rootcause.err.unknown")
        zh, en = _names(name, name_en) if name is not None else (before.name, before.name_en)
    if conn.execute("SELECT 1 FROM root_causes WHERE name = %s AND id <> %s", (zh, cause_id)).fetchone():
        raise RootCauseError("rootcause.err.taken")
    with conn.cursor(row_factory=class_row(RootCause)) as cur:
        after = cur.execute("UPDATE root_causes SET name = %s, name_en = %s, retired = %s WHERE id = %s"
                            " RETURNING id, name, name_en, retired",
                            (zh, en, before.retired if retired is None else retired, cause_id)).fetchone()
    assert after is not None
    return before, after


def check_root_cause(conn: psycopg.Connection, root_cause: object) -> RootCause | None:
    """The root cause a verify names, if any: one of the list that is not retired, else ``RootCauseError``."""
    if root_cause is None:
        return None
    found = None
    if isinstance(root_cause, int) and not isinstance(root_cause, bool):
        with conn.cursor(row_factory=class_row(RootCause)) as cur:
            found = cur.execute("SELECT id, name, name_en, retired FROM root_causes WHERE id = %s AND NOT retired",
                                (root_cause,)).fetchone()
    if found is None:
        raise RootCauseError("rootcause.err.unknown")
    return found


# alerts/rectification.toml, validated whole when the process starts (a broken file stops it, naming the field),
# not at the first 核查结案 after it.
RECURRENCE = load_config()


_CLOSURES = """
SELECT l.incident_id, (l.details ->> 'root_cause')::integer AS root_cause, i.grid_code, i.category,
       i.township_code, l.at
FROM incident_log l JOIN incidents i ON i.id = l.incident_id
WHERE l.action = 'verify' AND l.details ? 'root_cause' AND (l.details ->> 'root_cause')::integer = %(cause)s
  AND l.at >= %(since)s AND l.at <= %(until)s
ORDER BY l.at, l.id
"""


def _closures(conn: psycopg.Connection, cause: int, since: datetime, until: datetime) -> list[Closure]:
    with conn.cursor(row_factory=class_row(Closure)) as cur:
        return cur.execute(_CLOSURES, {"cause": cause, "since": since, "until": until}).fetchall()


def record_closure(conn: psycopg.Connection, incident_id: int, root_cause: int, now: datetime,
                   recurrence: RecurrenceConfig | None = None) -> list[int]:
    """After a 核查结案 that named ``root_cause`` (its log row written, in the same transaction): the problems it
    makes recur, flagged (立单) or joined (再次发生). Returns their ids."""
    cfg = recurrence or RECURRENCE
    window = max(rule.window for rule in cfg.scopes().values())
    closures = _closures(conn, root_cause, now - window, now)
    this = next((c for c in closures if c.incident_id == incident_id), None)
    if this is None:
        return []
    handled: dict[tuple[Scope, str], set[int]] = {}
    for scope, code, ids in conn.execute("SELECT scope, scope_code, incident_ids FROM rectifications"
                                         " WHERE root_cause_id = %s AND status = 'accepted'", (root_cause,)):
        handled.setdefault((Scope(scope), code), set()).update(ids)
    found = []
    for rec in recurring(this, closures, cfg, handled):
        with conn.cursor(row_factory=dict_row) as cur:
            open_row = cur.execute(
                "SELECT id FROM rectifications WHERE root_cause_id = %s AND scope = %s AND scope_code = %s"
                " AND status <> 'accepted' FOR UPDATE", (root_cause, rec.scope.value, rec.code)).fetchone()
        if open_row is not None:
            pid = int(open_row["id"])
            _move(conn, pid, RAction.JOIN, SYSTEM, now, note="", details={"incidents": [incident_id]},
                  source="system")
            found.append(pid)
            continue
        owner = owner_of(rec, closures, units_for(conn, rec.code) if rec.scope is Scope.CATEGORY else [])
        if owner is None:
            continue
        problem, entry = transition(Problem(None, owner, now + cfg.deadline), RAction.FLAG, SYSTEM, now,
                                    details={"incidents": list(rec.incidents), "scope": rec.scope.value,
                                             "scope_code": rec.code, "root_cause": root_cause,
                                             "owner_unit": owner, "deadline": (now + cfg.deadline).isoformat()})
        row = conn.execute(
            "INSERT INTO rectifications (root_cause_id, scope, scope_code, status, owner_unit, deadline, incident_ids,"
            " district_code, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (root_cause, rec.scope.value, rec.code, problem.status, owner, problem.deadline, list(problem.incident_ids),
             problem.district, now, now)).fetchone()
        assert row is not None
        pid = int(row[0])
        _insert_log(conn, pid, entry, "system")
        found.append(pid)
    return found


def _insert_log(conn: psycopg.Connection, pid: int, e: REntry, source: str) -> int:
    row = conn.execute(
        "INSERT INTO rectification_log (rectification_id, at, actor, role, unit, source, action, from_status,"
        " to_status, note, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (pid, e.at, e.actor, e.role.value, e.unit, source, e.action.value,
         e.from_status.value if e.from_status else None, e.to_status.value, e.note, Jsonb(e.details))).fetchone()
    assert row is not None
    return int(row[0])


class ProblemNotFound(LookupError):
    pass


def load(conn: psycopg.Connection, pid: int, *, lock: bool = True) -> Problem:
    row = conn.execute("SELECT status, owner_unit, deadline, incident_ids, return_count FROM rectifications"
                       " WHERE id = %s" + (" FOR UPDATE" if lock else ""), (pid,)).fetchone()
    if row is None:
        raise ProblemNotFound(pid)
    status, owner, deadline, ids, returns = row
    return Problem(RStatus(status), owner, deadline, tuple(ids), returns)


def _move(conn: psycopg.Connection, pid: int, action: RAction, actor: Actor, now: datetime, *, note: str,
          details: dict[str, object], source: str) -> int:
    nxt, entry = transition(load(conn, pid), action, actor, now, note=note, details=details)
    conn.execute("UPDATE rectifications SET status = %s, incident_ids = %s, return_count = %s, updated_at = %s"
                 " WHERE id = %s", (nxt.status, list(nxt.incident_ids), nxt.return_count, now, pid))
    return _insert_log(conn, pid, entry, source)


def act(conn: psycopg.Connection, pid: int, action: RAction, actor: Actor, now: datetime, *, note: str = "",
        source: str = "web") -> int:
    """整改报告, 验收通过 or 验收退回, in one transaction with its log row (``RectificationRefused`` if the loop
    does not allow it). Returns the log row's id."""
    if action not in (RAction.REPORT, RAction.ACCEPT, RAction.RETURN):
        raise ValueError(f"{action} is not a move a user makes here")
    with conn.transaction():
        return _move(conn, pid, action, actor, now, note=note, details={}, source=source)


@dataclass(frozen=True, slots=True)
class WatchAsked:
    """A watch rule as the desk asks for it: which rule, every value times ``factor``, from ``starts_at`` for
    ``days``."""

    rule_id: str
    factor: float
    starts_at: datetime
    days: int


def make_watch(conn: psycopg.Connection, pid: int, asked: WatchAsked, rules: tuple[Rule, ...], actor: Actor,
               now: datetime, *, note: str, source: str = "web", recurrence: RecurrenceConfig | None = None) -> int:
    """转预警预防: a watch rule in the problem's grid (a grid problem's only), logged with its values in the
    problem's log, in one transaction. ``WatchError`` for a rule it cannot lower, a factor or season out of
    range; ``RectificationRefused`` for a move the loop does not allow. Returns the watch rule's id."""
    cfg = recurrence or RECURRENCE
    base = next((r for r in watchable(rules) if r.id == asked.rule_id), None)
    if base is None:
        raise WatchError("watch.err.rule")
    if not 1 <= asked.days <= cfg.watch_max_days:
        raise WatchError("watch.err.days")
    levels, clear_below = scaled(base, asked.factor)
    lowered(base, levels, clear_below)  # validated whole before anything is written
    ends_at = asked.starts_at + timedelta(days=asked.days)
    with conn.transaction():
        scope = conn.execute("SELECT scope, scope_code FROM rectifications WHERE id = %s", (pid,)).fetchone()
        if scope is None:
            raise ProblemNotFound(pid)
        if scope[0] != "grid":
            raise WatchError("watch.err.grid_only")
        grid = str(scope[1])
        values = [lt.model_dump() for lt in levels]
        row = conn.execute(
            "INSERT INTO watch_rules (rectification_id, rule_id, grid_code, levels, clear_below, starts_at, ends_at,"
            " created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (pid, base.id, grid, Jsonb(values), clear_below, asked.starts_at, ends_at, actor.name, now)).fetchone()
        assert row is not None
        wid = int(row[0])
        _move(conn, pid, RAction.WATCH, actor, now, note=note, source=source, details={
            "watch_id": wid, "rule_id": base.id, "grid_code": grid, "levels": values, "clear_below": clear_below,
            "starts_at": asked.starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return wid


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """A recurring problem as the pages list it."""

    id: int
    root_cause_id: int
    scope: str
    scope_code: str
    status: str
    owner_unit: str
    deadline: datetime
    incident_ids: list[int]
    district_code: str | None
    return_count: int
    created_at: datetime
    updated_at: datetime


_PROBLEM_COLS = ("id, root_cause_id, scope, scope_code, status, owner_unit, deadline, incident_ids, district_code,"
                 " return_count, created_at, updated_at")


def problems(conn: psycopg.Connection, *, open_only: bool = False, district: str | None = None,
             unit: str | None = None, limit: int = 200) -> list[ProblemRow]:
    """Recurring problems, the open ones first by deadline, then the accepted newest first; ``district``: those
    of a district's townships only; ``unit``: those a unit owns."""
    where = ["TRUE"]
    if open_only:
        where.append("status <> 'accepted'")
    if district is not None:
        where.append("district_code = %(district)s")
    if unit is not None:
        where.append("owner_unit = %(unit)s")
    with conn.cursor(row_factory=class_row(ProblemRow)) as cur:
        return cur.execute(
            f"SELECT {_PROBLEM_COLS} FROM rectifications WHERE {' AND '.join(where)}"
            " ORDER BY status = 'accepted', CASE WHEN status <> 'accepted' THEN deadline END, updated_at DESC, id"
            " LIMIT %(limit)s", {"district": district, "unit": unit, "limit": limit}).fetchall()


def problem(conn: psycopg.Connection, pid: int) -> ProblemRow | None:
    with conn.cursor(row_factory=class_row(ProblemRow)) as cur:
        return cur.execute(f"SELECT {_PROBLEM_COLS} FROM rectifications WHERE id = %s", (pid,)).fetchone()


def problem_log(conn: psycopg.Connection, pid: int) -> list[REntry]:
    """A problem's log in order, as ``alerts.rectification``'s entries (what its timeline shows and replays)."""
    rows = conn.execute("SELECT at, actor, role, unit, action, from_status, to_status, note, details"
                        " FROM rectification_log WHERE rectification_id = %s ORDER BY id", (pid,)).fetchall()
    return [REntry(at, actor, Role(role), unit, RAction(action), RStatus(frm) if frm else None, RStatus(to), note,
                   details or {}) for at, actor, role, unit, action, frm, to, note, details in rows]


def watches(conn: psycopg.Connection, pid: int) -> list[Watch]:
    """The watch rules made from a problem, newest first."""
    return [watch_of(r) for r in conn.execute(f"SELECT {WATCH_COLUMNS} FROM watch_rules WHERE rectification_id = %s"
                                              " ORDER BY id DESC", (pid,)).fetchall()]
