"""被抑制的预警 on the incident page (issue 18): while a township-wide no_data warning stood for its silent devices,
the offline warnings it held back (``alerts.apply.record_inhibited``), each device once per episode, when it was
first held back and by which area warning. Shown to the command center and leaders (a district desk: on its own
district's incidents); the section is filled by its own callback, so the page's views stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import Input, Output, callback, html
from psycopg.rows import class_row

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.context import get_data
from dashboard.data import Data
from i18n.labels import Lang, t
from i18n.timefmt import fmt_dt

from .ids import Ids

VIEWERS = (Role.COMMAND, Role.DISTRICT, Role.LEADER)
SHOWN = 500  # rows on the page; a whole township's devices fit, the count says when there are more
SECTION = "incident-suppressed"


@dataclass(frozen=True, slots=True)
class HeldBack:
    device_id: str
    device_name: str | None
    at: datetime  # when it was first held back in the episode
    area: str  # the area warning's subject, township:<code>


def held_back(data: Data, incident_id: int, district: str | None = None) -> tuple[list[HeldBack], int]:
    """The devices the incident's area warnings held back (the first ``SHOWN`` by time), and how many in all;
    with ``district``, only for an incident on that district's desk."""
    held = ("FROM suppressed_warnings s JOIN warnings w ON w.id = s.warning_id JOIN incidents i ON i.id = w.incident_id"
            " WHERE i.id = %(id)s AND (%(d)s::text IS NULL OR i.desk_district = %(d)s)")
    args = {"id": incident_id, "d": district, "n": SHOWN}
    with data.pool.connection() as conn, conn.cursor(row_factory=class_row(HeldBack)) as cur:
        rows = cur.execute("SELECT s.subject AS device_id, (SELECT name FROM devices WHERE device_id = s.subject)"
                           " AS device_name, s.at, w.subject AS area " + held
                           + " ORDER BY s.at, s.subject LIMIT %(n)s", args).fetchall()
        total = conn.execute("SELECT count(*) " + held, args).fetchone()
    return rows, int(total[0]) if total else 0


def section(rows: list[HeldBack], total: int, names: dict[str, str], lang: Lang) -> list[Any]:
    """The heading, what the rows mean, and the table; nothing when the incident held nothing back."""
    if not rows:
        return []

    def area(subject: str) -> str:
        code = subject.removeprefix("township:")
        return t("incident.suppressed_by", lang, area=names.get(code, code))

    head = html.Tr([html.Th(t(k, lang)) for k in ("col.device", "col.device_name", "col.held_at", "col.held_by")])
    body = [html.Tr([html.Td(r.device_id, className="nowrap"), html.Td(r.device_name or "—"),
                     html.Td(fmt_dt(r.at), className="nowrap"), html.Td(area(r.area))]) for r in rows]
    more = [html.P(t("incident.suppressed_more", lang, n=total - len(rows)), className="muted")] \
        if total > len(rows) else []
    return [html.H2(t("incident.suppressed", lang, n=total)),
            html.P(t("incident.suppressed_note", lang), className="muted"),
            html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="table table-compact"),
                     className="table-wrap"), *more]


def placeholder() -> html.Div:
    """Where the section goes on the page: empty until its callback has asked who is looking."""
    return html.Div(id=SECTION)


@callback(Output(SECTION, "children"), Input(Ids.NUMBER, "data"))
def show(number: Any) -> list[Any]:
    """The section for the command center and leaders (a district desk: its own district's); nothing for the
    other roles, who may see the incident but not what the engine held back."""
    try:
        user = auth.require(*VIEWERS)
    except auth.Denied:
        return []
    if not isinstance(number, str) or not number.isdecimal() or len(number) > 18:
        return []
    data = get_data()
    rows, total = held_back(data, int(number), user.district_code if user.role is Role.DISTRICT else None)
    return section(rows, total, data.unit_names() if rows else {}, auth.current_lang())
