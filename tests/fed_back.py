"""A flood incident a township has worked and reported done (签收, 处置反馈), waiting for the desk's 核查结案:
what the 七张问题清单 tests close with a root cause, again and again in one grid."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from store.users import township_username


def fed_back_flood(conn: psycopg.Connection, where: Location, at: datetime, title: str,
                   note: str = "积水已排除") -> int:
    """Opened at ``at`` where ``where`` says, signed a minute later and reported done a minute after that by the
    township of the point, through the lifecycle (``conn`` autocommit)."""
    assert where.township_code is not None
    staff = Actor(township_username(where.township_code), Role.TOWNSHIP, where.township_code)
    with conn.transaction():
        iid = open_incident(conn, title=title, category="flood", level=3, source_kind="manual", location=where, now=at)
    assert iid is not None
    act(conn, iid, Action.SIGN, staff, at + timedelta(minutes=1))
    act(conn, iid, Action.FEEDBACK, staff, at + timedelta(minutes=2), note=note, details={"people_evacuated": 0})
    return iid
