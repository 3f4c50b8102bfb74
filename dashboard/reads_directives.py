"""政令一键智达 for the pages: issue, acknowledge, and who has and has not acknowledged.

Writes go through ``alerts.directives`` (one transaction each, the log and the MQTT
outbox with it). Issuing is serialised per duty officer with an advisory lock and
refuses the same directive sent twice within a minute: a double click or a resent
request must not reach the townships twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import dict_row

from alerts import directives
from alerts.lifecycle import Actor
from dashboard.reads import Reads

DUPLICATE_WINDOW = timedelta(seconds=60)


class DirectiveReads(Reads):
    def issue_directive(self, *, title: str, body: str, townships: list[str], actor: Actor, now: datetime,
                        ack_within: timedelta) -> int:
        """The new directive's id; ``DirectiveError("duplicate")`` if this one was just sent."""
        targets = sorted(set(townships))
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('cityops.directive.' || %s))", (actor.name,))
            dup = conn.execute(
                "SELECT 1 FROM directives d WHERE d.issued_by = %s AND d.title = %s AND d.body = %s"
                " AND d.issued_at > %s AND ARRAY(SELECT t.township_code FROM directive_targets t"
                " WHERE t.directive_id = d.id ORDER BY t.township_code) = %s::text[]",
                (actor.name, title.strip(), body.strip(), now - DUPLICATE_WINDOW, targets)).fetchone()
            if dup:
                raise directives.DirectiveError("duplicate", "the same directive was issued a moment ago")
            return directives.issue(conn, title=title, body=body, townships=targets, actor=actor, now=now,
                                    ack_within=ack_within)

    def declare_response(self, *, level: int | None, district: str | None, scope_name: str, townships: list[str],
                         note: str, actor: Actor, now: datetime, ack_within: timedelta) -> int:
        """应急响应 declared, changed or lifted, as a directive (``alerts.directives.declare_response``)."""
        with self.pool.connection() as conn:
            return directives.declare_response(conn, level=level, district=district, scope_name=scope_name,
                                               townships=townships, note=note, actor=actor, now=now,
                                               ack_within=ack_within)

    def current_responses(self) -> dict[str | None, directives.Response]:
        """The response level in force in the city (None) and in each district that declared its own."""
        with self.pool.connection() as conn:
            return directives.responses(conn)

    def acknowledge_directive(self, directive_id: int, actor: Actor, now: datetime) -> bool:
        with self.pool.connection() as conn:
            return directives.acknowledge(conn, directive_id, actor, now)

    def recent_directives(self, limit: int = 8) -> list[dict[str, Any]]:
        """The newest directives, each with its targets (township, acked_at, acked_by, tier)."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT id, title, body, issued_by, issued_at, issued_at + ack_within AS ack_by"
                        " FROM directives ORDER BY id DESC LIMIT %s", (limit,))
            rows = cur.fetchall()
            if not rows:
                return []
            cur.execute("SELECT t.directive_id, t.township_code, t.acked_at, t.acked_by, t.escalation_tier,"
                        " u.display_name AS acked_name FROM directive_targets t"
                        " LEFT JOIN users u ON u.username = t.acked_by"
                        " WHERE t.directive_id = ANY(%s) ORDER BY t.township_code", ([r["id"] for r in rows],))
            targets: dict[int, list[dict[str, Any]]] = {}
            for t in cur.fetchall():
                targets.setdefault(int(t["directive_id"]), []).append(t)
        for r in rows:
            r["targets"] = targets.get(int(r["id"]), [])
        return rows

    def pending_directives(self, township_code: str) -> list[dict[str, Any]]:
        """Directives addressed to the township that it has not acknowledged yet, oldest first."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT d.id, d.title, d.body, d.issued_by, d.issued_at, d.issued_at + d.ack_within AS ack_by,"
                        " t.escalation_tier FROM directive_targets t JOIN directives d ON d.id = t.directive_id"
                        " WHERE t.township_code = %s AND t.acked_at IS NULL ORDER BY d.id", (township_code,))
            return cur.fetchall()

    def directive_marker(self, township_code: str | None = None) -> str:
        """Changes when a directive is issued, acknowledged or its laggards are reminded."""
        row = self._row("SELECT count(*) || ':' || count(acked_at) || ':' || coalesce(sum(escalation_tier), 0)"
                        " || ':' || coalesce(max(directive_id), 0) AS marker FROM directive_targets"
                        " WHERE %(t)s::text IS NULL OR township_code = %(t)s", {"t": township_code})
        return str(row["marker"])

    def township_choices(self) -> list[dict[str, str]]:
        """Every township of the active layer with its district: the directive form's choices."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT t.code, t.name, t.parent_code AS district_code, d.name AS district_name"
                        " FROM regions t JOIN boundary_versions b ON b.version = t.version AND b.active"
                        " LEFT JOIN regions d ON d.version = t.version AND d.level = 'district'"
                        " AND d.code = t.parent_code WHERE t.level = 'township' ORDER BY t.code")
            return cur.fetchall()
