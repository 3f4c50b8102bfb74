"""政令一键智达: the command center sends a directive; every township it names must acknowledge.

Issuing writes the directive, one target row per township, a log row and an MQTT message
per township in one transaction. Laggards climb the same reminder ladder as incidents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alerts.lifecycle import Actor, Role, ladder_due

log = logging.getLogger("cityops.alerts.directives")


class DirectiveError(ValueError):
    """A directive action that is not allowed; ``code`` names why for the UI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    township_code: str
    acked_at: datetime | None
    acked_by: str | None
    escalation_tier: int


@dataclass(frozen=True, slots=True)
class Laggard:
    """A township that has not acknowledged a directive past its deadline, and the rung it is on."""

    directive_id: int
    township_code: str
    escalation_tier: int
    deadline: datetime
    ack_within: timedelta


def _log(conn: psycopg.Connection, directive_id: int, township: str | None, now: datetime, actor: str,
         action: str, note: str = "") -> None:
    conn.execute("INSERT INTO directive_log (directive_id, township_code, at, actor, action, note)"
                 " VALUES (%s, %s, %s, %s, %s, %s)", (directive_id, township, now, actor, action, note))


def issue(conn: psycopg.Connection, *, title: str, body: str, townships: list[str], actor: Actor, now: datetime,
          ack_within: timedelta = timedelta(minutes=30)) -> int:
    if actor.role is not Role.COMMAND:
        raise DirectiveError("wrong_role", "only the command center issues directives")
    if not title.strip():
        raise DirectiveError("title_required", "a directive needs a title")
    targets = sorted(set(townships))
    if not targets:
        raise DirectiveError("targets_required", "a directive needs at least one township")
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO directives (title, body, issued_by, issued_at, ack_within) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING id", (title.strip(), body.strip(), actor.name, now, ack_within)).fetchone()
        assert row is not None
        directive_id = int(row[0])
        conn.cursor().executemany("INSERT INTO directive_targets (directive_id, township_code) VALUES (%s, %s)",
                                  [(directive_id, t) for t in targets])
        _log(conn, directive_id, None, now, actor.name, "issue", f"{len(targets)} 个镇街")
        conn.cursor().executemany(
            "INSERT INTO mqtt_outbox (topic, payload) VALUES (%s, %s)",
            [(f"directive/{t}", Jsonb({"directive_id": directive_id, "title": title.strip(), "body": body.strip(),
                                        "issued_at": now.isoformat(), "ack_by": (now + ack_within).isoformat()}))
             for t in targets])
    return directive_id


def acknowledge(conn: psycopg.Connection, directive_id: int, actor: Actor, now: datetime) -> bool:
    """Township staff acknowledge for their township; returns False when it was already acknowledged."""
    if actor.role is not Role.TOWNSHIP or not actor.township_code:
        raise DirectiveError("wrong_role", "only township staff acknowledge directives")
    with conn.transaction():
        target = conn.execute(
            "SELECT acked_at FROM directive_targets WHERE directive_id = %s AND township_code = %s FOR UPDATE",
            (directive_id, actor.township_code)).fetchone()
        if target is None:
            raise DirectiveError("not_addressed", "this directive is not addressed to your township")
        if target[0] is not None:
            return False
        conn.execute("UPDATE directive_targets SET acked_at = %s, acked_by = %s WHERE directive_id = %s"
                     " AND township_code = %s", (now, actor.name, directive_id, actor.township_code))
        _log(conn, directive_id, actor.township_code, now, actor.name, "ack")
    return True


def targets(conn: psycopg.Connection, directive_id: int) -> list[Target]:
    with conn.cursor(row_factory=class_row(Target)) as cur:
        return cur.execute("SELECT township_code, acked_at, acked_by, escalation_tier FROM directive_targets"
                           " WHERE directive_id = %s ORDER BY township_code", (directive_id,)).fetchall()


def escalate_laggards(conn: psycopg.Connection, now: datetime) -> int:
    """Remind, then escalate, townships that have not acknowledged in time; one log row each."""
    with conn.cursor(row_factory=class_row(Laggard)) as cur:
        rows = cur.execute(
            "SELECT t.directive_id, t.township_code, t.escalation_tier, d.issued_at + d.ack_within AS deadline,"
            " d.ack_within FROM directive_targets t JOIN directives d ON d.id = t.directive_id"
            " WHERE t.acked_at IS NULL AND d.issued_at + d.ack_within < %s", (now,)).fetchall()
    done = 0
    for lag in rows:
        due = ladder_due(lag.deadline, lag.ack_within, lag.escalation_tier, now)
        if due is None:
            continue
        rung, to = due
        with conn.transaction():
            conn.execute("UPDATE directive_targets SET escalation_tier = %s WHERE directive_id = %s"
                         " AND township_code = %s", (rung, lag.directive_id, lag.township_code))
            _log(conn, lag.directive_id, lag.township_code, now, "system", "remind" if rung == 1 else "escalate", to)
            conn.execute("INSERT INTO mqtt_outbox (topic, payload) VALUES (%s, %s)",
                         (f"directive/{lag.township_code}",
                          Jsonb({"directive_id": lag.directive_id, "reminder": rung, "to": to})))
        done += 1
    return done


# -- 应急响应: a response level (Ⅳ级 → Ⅰ级) for the city or a district, declared, changed and lifted as a directive --

RESPONSE_LEVELS = (1, 2, 3, 4)  # 1 = Ⅰ级, the highest, as the warning levels
ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


@dataclass(frozen=True, slots=True)
class Response:
    """A response level in force: in the city (``district_code`` None) or one district."""

    district_code: str | None
    level: int
    note: str
    declared_by: str
    declared_at: datetime
    directive_id: int


def response_change(current: int | None, wanted: int | None) -> str:
    """What declaring ``wanted`` (None: lifting) does where ``current`` is in force: ``declare``, ``raise``,
    ``lower`` or ``lift``; raises ``DirectiveError`` for a level that is no level, the level already in force,
    or lifting where none is."""
    if wanted is not None and wanted not in RESPONSE_LEVELS:
        raise DirectiveError("response_level", "a response level is 1 (Ⅰ级) to 4 (Ⅳ级)")
    if wanted == current:
        raise DirectiveError("response_none" if wanted is None else "response_same",
                             "no response level to lift" if wanted is None else "that level is in force already")
    if wanted is None:
        return "lift"
    if current is None:
        return "declare"
    return "raise" if wanted < current else "lower"


def response_title(change: str, level: int | None, scope_name: str) -> str:
    """The directive's title as the townships receive it (the directive is stored text, in the city's language)."""
    if change == "lift":
        return f"{scope_name}解除应急响应"
    assert level is not None
    verb = {"declare": "启动", "raise": "提升至", "lower": "调整为"}[change]
    return f"{scope_name}{verb}{ROMAN[level]}级应急响应"


def effective(responses: dict[str | None, Response], district: str | None) -> Response | None:
    """The response in force for a district (the higher of the city's and its own), or the city's (None)."""
    found = [r for r in (responses.get(None), responses.get(district) if district else None) if r is not None]
    return min(found, key=lambda r: r.level) if found else None


def responses(conn: psycopg.Connection) -> dict[str | None, Response]:
    """The response level in force in each scope that has one (the city: None)."""
    with conn.cursor(row_factory=class_row(Response)) as cur:
        rows = cur.execute(
            "SELECT * FROM (SELECT DISTINCT ON (district_code) district_code, level, note, declared_by, declared_at,"
            " directive_id FROM response_levels ORDER BY district_code, id DESC) newest WHERE level IS NOT NULL"
        ).fetchall()
    return {r.district_code: r for r in rows}


def declare_response(conn: psycopg.Connection, *, level: int | None, district: str | None, scope_name: str,
                     townships: list[str], note: str, actor: Actor, now: datetime,
                     ack_within: timedelta = timedelta(minutes=30)) -> int:
    """Declare, change or lift (``level`` None) the response level of the city (``district`` None) or a district,
    as a directive to ``townships`` (those it covers) that each must acknowledge; returns the directive's id.
    One scope's declarations are serialised, so two officers cannot both change the same level."""
    if actor.role is not Role.COMMAND:
        raise DirectiveError("wrong_role", "only the command center declares a response level")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('cityops.response.' || %s))", (district or "city",))
        found = responses(conn).get(district)
        change = response_change(found.level if found else None, level)
        directive_id = issue(conn, title=response_title(change, level, scope_name), body=note, townships=townships,
                             actor=actor, now=now, ack_within=ack_within)
        conn.execute("INSERT INTO response_levels (district_code, level, note, declared_by, declared_at, directive_id)"
                     " VALUES (%s, %s, %s, %s, %s, %s)", (district, level, note.strip(), actor.name, now, directive_id))
        _log(conn, directive_id, None, now, actor.name, f"response_{change}", "" if level is None else ROMAN[level])
    log.info("response level %s in %s: %s by %s", level, district or "city", change, actor.name)
    return directive_id
