"""An escalation arrives (issue 18): on PostgreSQL, the escalator marks whom it reached on the incident and
leaves a message on that desk's topic in the outbox; an incident left 待分拨 reminds its district's desk first;
a district desk's moves outside its district are refused by the store as by the lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.deadlines import dispatch_window, windows
from alerts.escalate import escalate_overdue
from alerts.incidents import Location, act, load, open_incident
from alerts.lifecycle import Action, Actor, IllegalMove, Refusal, Role
from store.users import township_username

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def _towns(conn: psycopg.Connection) -> list[tuple[str, str, float, float]]:
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(
        "SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
        " WHERE v.active AND r.level = 'township' ORDER BY code")]


def _open(conn: psycopg.Connection, town: tuple[str, str, float, float], at: datetime, routed: bool = True) -> int:
    code, district, lon, lat = town
    iid = open_incident(conn, title=f"升级测试{code}", category="", level=2, source_kind="manual",
                        location=Location(lon, lat, district, code if routed else None, None, None), now=at)
    assert iid is not None
    return iid


def _messages(conn: psycopg.Connection, iid: int) -> list[tuple[str, str, str]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT topic, payload->>'action', payload->>'to' FROM mqtt_outbox WHERE topic LIKE 'escalation/%%'"
        " AND (payload->>'incident_id')::bigint = %s ORDER BY id", (iid,))]


def test_an_escalation_reaches_the_district_desk_and_its_topic(demo_db: Callable[[], str]) -> None:
    with psycopg.connect(demo_db()) as conn:
        town = _towns(conn)[0]
        sign = windows(2).sign
        iid = _open(conn, town, NOW - sign - sign / 2)  # half a window past its sign deadline at NOW
        assert escalate_overdue(conn, NOW) == 1
        assert load(conn, iid).escalated_to == "district"
        assert _messages(conn, iid) == [(f"escalation/{town[1]}", "escalate", "district")]
        assert escalate_overdue(conn, NOW + sign / 2) == 1  # a whole window: a leader
        assert load(conn, iid).escalated_to == "leader"
        assert _messages(conn, iid)[-1] == ("escalation/leader", "escalate", "leader")
        act(conn, iid, Action.SIGN, Actor(township_username(town[0]), Role.TOWNSHIP, town[0]), NOW + sign)
        assert (load(conn, iid).escalated_to, load(conn, iid).escalation_tier) == (None, 0)  # signed: starts over


def test_left_undispatched_it_reminds_its_district_desk_then_the_city(demo_db: Callable[[], str]) -> None:
    with psycopg.connect(demo_db()) as conn:
        town = _towns(conn)[0]
        window = dispatch_window(2)
        iid = _open(conn, town, NOW - window - timedelta(seconds=1), routed=False)
        assert load(conn, iid).dispatch_deadline == NOW - timedelta(seconds=1)
        assert escalate_overdue(conn, NOW) == 1
        assert _messages(conn, iid) == [(f"escalation/{town[1]}", "remind", "desk")]
        assert escalate_overdue(conn, NOW + window / 2) == 1
        assert _messages(conn, iid)[-1] == ("escalation/city", "escalate", "city")
        assert load(conn, iid).escalated_to == "city"
        # no township hears of what is not yet theirs
        assert not conn.execute("SELECT 1 FROM mqtt_outbox WHERE topic LIKE 'dispatch/%%'"
                                " AND (payload->>'incident_id')::bigint = %s", (iid,)).fetchall()


def test_the_store_refuses_a_district_desk_outside_its_district(demo_db: Callable[[], str]) -> None:
    with psycopg.connect(demo_db()) as conn:
        towns = _towns(conn)
        here = towns[0]
        there = next(t for t in towns if t[1] != here[1])
        mine, theirs = _open(conn, here, NOW), _open(conn, there, NOW)
        desk = Actor(f"qx{here[1]}", Role.DISTRICT, district_code=here[1])
        act(conn, theirs, Action.SIGN, Actor("zj", Role.TOWNSHIP, there[0]), NOW)
        act(conn, mine, Action.SIGN, Actor("zj", Role.TOWNSHIP, here[0]), NOW)
        refused = [
            (theirs, Action.POSTPONE, {"note": "缓办"}, Refusal.NOT_YOUR_DISTRICT),
            (mine, Action.TRANSFER, {"note": "属邻县", "township_code": there[0]}, Refusal.OUTSIDE_DISTRICT),
            (mine, Action.MERGE, {"note": "重复", "details": {"into": theirs}}, Refusal.OUTSIDE_DISTRICT),
        ]
        for iid, action, kwargs, refusal in refused:
            with pytest.raises(IllegalMove) as err:
                act(conn, iid, action, desk, NOW, **kwargs)  # type: ignore[arg-type]
            assert err.value.refusal is refusal
        act(conn, mine, Action.POSTPONE, desk, NOW, note="待物资")  # its own: done, and logged as its district's
        row = conn.execute("SELECT role, details->>'district' FROM incident_log WHERE incident_id = %s"
                           " ORDER BY id DESC LIMIT 1", (mine,)).fetchone()
        assert row == ("district", here[1])
        assert conn.execute("SELECT desk_district FROM incidents WHERE id = %s", (theirs,)).fetchone() == (there[1],)
