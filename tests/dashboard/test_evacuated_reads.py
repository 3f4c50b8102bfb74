"""The big screen's 人员转移 on the database: the people the townships' reports say were moved during the open flood
event, per township and summed per district, for the city's screen and a district's; nothing of a report made
before the event, and nothing once no flood incident is open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.data import Data
from dashboard.filters import Filters
from i18n.timefmt import local
from store.db import make_pool
from tests.fix_db import one

DESK = Actor("zhihui", Role.COMMAND)


def _flood(conn: psycopg.Connection, township: str, at: datetime, moved: list[int]) -> int:
    district = township[:6]
    iid = open_incident(conn, title="河水漫堤", category="flood", level=2, source_kind="manual",
                        location=Location(113.0, 25.8, district, township, None, None), now=at)
    assert iid is not None
    staff = Actor(f"zj{township}", Role.TOWNSHIP, township)
    act(conn, iid, Action.SIGN, staff, at + timedelta(minutes=2))
    for k, n in enumerate(moved):
        act(conn, iid, Action.PROGRESS, staff, at + timedelta(minutes=10 + k), note="转移群众",
            details={"people_evacuated": n, "shelters": ["镇中心小学"]})
    return iid


def test_people_moved_in_the_open_flood_event(demo_db: Callable[[], str]) -> None:
    dsn = demo_db()
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        a, b = (one(conn, "SELECT code FROM regions WHERE level = 'township' AND code LIKE %s ORDER BY code LIMIT 1",
                    (f"{d}%",))[0] for d in ("431002", "431021"))
        old = _flood(conn, a, now - timedelta(days=3), [50])  # an earlier event, closed before this one
        act(conn, old, Action.FEEDBACK, Actor(f"zj{a}", Role.TOWNSHIP, a), now - timedelta(days=3, minutes=-30),
            note="完毕", details={"result": "resolved"})
        act(conn, old, Action.VERIFY, DESK, now - timedelta(days=2))
        _flood(conn, a, now - timedelta(hours=2), [12, 8])
        _flood(conn, b, now - timedelta(hours=1), [5])
        conn.commit()
    pool = make_pool(dsn, "evacuated-test")
    try:
        data = Data(pool)
        city = data.area_people_moved(now)
        got = {(r.level, r.code): int(r.moved) for r in city.itertuples()}
        assert got == {("district", "431002"): 20, ("township", a): 20, ("district", "431021"): 5, ("township", b): 5}
        assert {round((now - s).total_seconds() / 3600) for s in city["since"]} == {2}  # the event's first incident
        mine = data.for_district("431021").area_people_moved(now)
        assert {(r.level, r.code): int(r.moved) for r in mine.itertuples()} == {("district", "431021"): 5,
                                                                              ("township", b): 5}
        # the leader's 人员转移 per day over the cockpit's filters: the closed event's day counts too
        week = Filters(local(now - timedelta(days=5)).date(), local(now).date())
        per_day = dict(zip(data.daily_people_moved(week)["day"], data.daily_people_moved(week)["moved"], strict=True))
        assert per_day[local(now - timedelta(days=3) + timedelta(minutes=10)).date()] == 50
        assert sum(per_day.values()) == 50 + 20 + 5
        assert int(data.daily_people_moved(replace(week, district="431021"))["moved"].sum()) == 5
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE incidents SET status = 'closed' WHERE category = 'flood'")
        assert data.area_people_moved(now).empty  # no flood incident open: no event
    finally:
        pool.close()
