"""One deadline rule everywhere: incidents exactly at, just before and just after each deadline
(sign, finish, verify), plus statuses whose clock does not run, and every part that says
"overdue" — the escalator, the big screen, the command desk, the township queue and the leader
figures — must say it of the same incidents.

Overdue means past the deadline: at the deadline itself an incident is still on time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.deadlines import windows
from alerts.escalate import escalate_overdue, overdue_ids
from alerts.incidents import Location, act, load, open_incident
from alerts.lifecycle import Action, Actor, Role, escalation_due
from alerts.status import Status
from dashboard.data import Data
from dashboard.filters import parse
from i18n.timefmt import remaining
from store.db import make_pool
from store.users import township_username

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
EPS = timedelta(microseconds=1)
CATEGORY = "deadline_test"  # no category factor: level 2 windows
LEVEL = 2
SIGN, FINISH, VERIFY = windows(LEVEL, CATEGORY)
OFFSETS = {"before": EPS, "at": timedelta(0), "after": -EPS}  # deadline − NOW, seen from NOW
DUTY = Actor("zhihui", Role.COMMAND)


@dataclass(frozen=True)
class Case:
    name: str
    township: str
    incident_id: int
    overdue: bool  # what the rule says at NOW
    desks_clock: bool = False  # the deadline is the command center's (核查): the township is not ranked on it
    dispatch_late: bool = False  # left in 待分拨 past its dispatch window at NOW: the escalator reminds the desk


def _build(conn: psycopg.Connection, townships: list[str]) -> list[Case]:
    cases: list[Case] = []
    towns = iter(townships)

    def incident(name: str, at: datetime) -> tuple[str, int, Actor]:
        town = next(towns)
        lon, lat, district = conn.execute(
            "SELECT label_lon, label_lat, parent_code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND code = %s", (town,)).fetchone() or (None, None, None)
        iid = open_incident(conn, title=name, category=CATEGORY, level=LEVEL, source_kind="manual",
                            location=Location(lon, lat, district, town, None, None), now=at)
        assert iid is not None
        return town, iid, Actor(township_username(town), Role.TOWNSHIP, town)

    for when, offset in OFFSETS.items():
        deadline = NOW + offset
        town, iid, _ = incident(f"sign {when}", deadline - SIGN)  # dispatched: waits on the sign deadline
        cases.append(Case(f"dispatched, {when} sign deadline", town, iid, offset < timedelta(0)))
        town, iid, staff = incident(f"finish {when}", deadline - FINISH)
        act(conn, iid, Action.SIGN, staff, deadline - FINISH + timedelta(minutes=1))
        cases.append(Case(f"signed, {when} finish deadline", town, iid, offset < timedelta(0)))
        town, iid, staff = incident(f"progress {when}", deadline - FINISH)
        act(conn, iid, Action.SIGN, staff, deadline - FINISH + timedelta(minutes=1))
        act(conn, iid, Action.PROGRESS, staff, deadline - FINISH + timedelta(minutes=2), note="处置中")
        cases.append(Case(f"in progress, {when} finish deadline", town, iid, offset < timedelta(0)))
        town, iid, staff = incident(f"verify {when}", deadline - VERIFY - timedelta(hours=1))
        act(conn, iid, Action.SIGN, staff, deadline - VERIFY - timedelta(minutes=50))
        act(conn, iid, Action.FEEDBACK, staff, deadline - VERIFY, note="已处置")
        cases.append(Case(f"resolved, {when} verify deadline", town, iid, offset < timedelta(0), desks_clock=True))
    # No clock runs: postponed long past its finish deadline, returned to the desk, closed late.
    town, iid, staff = incident("postponed", NOW - 2 * FINISH)
    act(conn, iid, Action.SIGN, staff, NOW - 2 * FINISH + timedelta(minutes=1))
    act(conn, iid, Action.POSTPONE, DUTY, NOW - 2 * FINISH + timedelta(minutes=2), note="批准缓办")
    cases.append(Case("postponed", town, iid, False))
    town, iid, staff = incident("returned", NOW - 2 * SIGN)
    act(conn, iid, Action.RETURN, staff, NOW - 2 * SIGN + timedelta(minutes=1), note="非本镇")
    cases.append(Case("returned to the desk", town, iid, False, dispatch_late=True))  # 1 h back, window 15 min
    town, iid, staff = incident("closed", NOW - 2 * FINISH)
    act(conn, iid, Action.SIGN, staff, NOW - 2 * FINISH + timedelta(minutes=1))
    act(conn, iid, Action.FEEDBACK, staff, NOW - FINISH / 2, note="已处置")
    act(conn, iid, Action.VERIFY, DUTY, NOW - timedelta(minutes=1))
    cases.append(Case("closed", town, iid, False))
    return cases


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str]) -> Iterator[tuple[str, Data, list[Case]]]:
    dsn = demo_db()  # a database of its own: the big screen's counts are of these incidents only
    with psycopg.connect(dsn) as conn:
        townships = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 20")]
        cases = _build(conn, townships)
    data = Data(make_pool(dsn, "deadline-test"))
    yield dsn, data, cases
    data.close()


def _expected(cases: list[Case]) -> set[int]:
    return {c.incident_id for c in cases if c.overdue}


def test_the_cases_cover_every_clock_on_both_sides(scene: tuple[str, Data, list[Case]]) -> None:
    _, _, cases = scene
    assert len(_expected(cases)) == 4 and len(cases) == 15


def test_the_escalator_and_the_lifecycle(scene: tuple[str, Data, list[Case]]) -> None:
    dsn, _, cases = scene
    late = _expected(cases) | {c.incident_id for c in cases if c.dispatch_late}  # no page counts the desk's 分拨
    with psycopg.connect(dsn) as conn:
        assert set(overdue_ids(conn, NOW)) == late
        owed = {c.incident_id for c in cases if escalation_due(load(conn, c.incident_id, lock=False), NOW)}
        assert owed == late


def test_the_big_screen(scene: tuple[str, Data, list[Case]]) -> None:
    _, data, cases = scene
    assert data.kpis(NOW - timedelta(days=1), NOW)["overdue"] == len(_expected(cases))
    areas = data.area_counts(NOW)
    per_township = dict(zip(areas[areas.level == "township"].code, areas[areas.level == "township"].overdue,
                            strict=True))
    assert {c.name: per_township.get(c.township, 0) for c in cases} == {c.name: int(c.overdue) for c in cases}


def test_the_command_desk(scene: tuple[str, Data, list[Case]]) -> None:
    _, data, cases = scene
    queue = data.command_queue().set_index("id")
    seen = {c.name: remaining(queue.loc[c.incident_id, "deadline"], NOW, "zh")[1]
            for c in cases if c.incident_id in queue.index}
    assert seen == {c.name: c.overdue for c in cases if c.name != "closed"}


def test_the_township_queue(scene: tuple[str, Data, list[Case]]) -> None:
    _, data, cases = scene
    seen: dict[str, bool] = {}
    for c in cases:
        queue = data.township_queue(c.township).set_index("id")
        if c.incident_id in queue.index:
            seen[c.name] = remaining(queue.loc[c.incident_id, "deadline"], NOW, "zh")[1]
    # A returned incident is the desk's again, a closed one is done: neither is in the township's queue.
    assert seen == {c.name: c.overdue for c in cases if c.name not in ("closed", "returned to the desk")}


def test_the_leader_figures(scene: tuple[str, Data, list[Case]]) -> None:
    _, data, cases = scene
    f = parse(NOW, category=CATEGORY, start=(NOW - timedelta(days=3)).date().isoformat(),
              end=NOW.date().isoformat())
    listed, total = data.incident_list(f, NOW, limit=None)
    assert total == len(cases)
    assert {int(r.id) for r in listed.itertuples() if r.overdue} == _expected(cases)
    late, _ = data.overdue_list(f, NOW)
    assert {int(i) for i in late.id} == _expected(cases)
    ranking = data.township_ranking(f, NOW).set_index("code")
    assert ({c.name: int(ranking.loc[c.township, "overdue"]) for c in cases}
            == {c.name: int(c.overdue and not c.desks_clock) for c in cases})
    assert data.leader_summary(f, NOW, data.township_ranking(f, NOW))["overdue"] == len(_expected(cases))


def test_the_deadline_shown_is_the_one_waited_on(scene: tuple[str, Data, list[Case]]) -> None:
    dsn, data, cases = scene
    queue = data.command_queue().set_index("id")
    with psycopg.connect(dsn) as conn:
        for c in cases:
            inc = load(conn, c.incident_id, lock=False)
            want = inc.deadline
            if inc.status in (Status.CLOSED, Status.MERGED):
                assert c.incident_id not in queue.index
            else:
                assert queue.loc[c.incident_id, "deadline"] == want, c.name


def test_the_escalator_reminds_exactly_the_overdue(scene: tuple[str, Data, list[Case]]) -> None:
    dsn, _, cases = scene  # last: it writes reminders
    undispatched = {c.incident_id for c in cases if c.dispatch_late}
    with psycopg.connect(dsn) as conn:
        assert escalate_overdue(conn, NOW) == len(_expected(cases)) + len(undispatched)
        reminded = {int(r[0]) for r in conn.execute("SELECT incident_id FROM incident_log WHERE action = 'remind'")}
        # 45 min past a 15-minute dispatch window: straight to the top rung, a leader (each rung once, the last owed)
        escalated = {int(r[0]): r[1] for r in conn.execute(
            "SELECT incident_id, details->>'to' FROM incident_log WHERE action = 'escalate'")}
        marked = dict(conn.execute("SELECT id, escalated_to FROM incidents WHERE id = ANY(%s)",
                                   (list(undispatched),)).fetchall())
        sent = [r[0] for r in conn.execute("SELECT topic FROM mqtt_outbox WHERE topic LIKE 'escalation/%%'"
                                           " AND (payload->>'incident_id')::bigint = ANY(%s)", (list(undispatched),))]
    assert reminded == _expected(cases)
    assert escalated == dict.fromkeys(undispatched, "leader") == marked
    assert sent == ["escalation/leader"] * len(undispatched)


def test_sign_on_time_is_judged_by_the_deadline_given(demo_db: Callable[[], str]) -> None:
    """A level raised after dispatch does not shorten the time the township was given to sign."""
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        town = conn.execute("SELECT code FROM regions r JOIN boundary_versions v USING (version)"
                            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1").fetchone()
        assert town is not None
        t0 = NOW - timedelta(hours=1)
        iid = open_incident(conn, title="先黄后红", category=CATEGORY, level=3, source_kind="manual",
                            location=Location(None, None, None, town[0], None, None), now=t0)
        assert iid is not None
        act(conn, iid, Action.RELEVEL, DUTY, t0 + timedelta(minutes=5), details={"level": 1})
        given = windows(3, CATEGORY).sign  # 1 h at level 3; level 1 would allow 15 min
        act(conn, iid, Action.SIGN, Actor(township_username(town[0]), Role.TOWNSHIP, town[0]),
            t0 + given - timedelta(minutes=1))
    data = Data(make_pool(dsn, "deadline-given"))
    try:
        f = parse(NOW, category=CATEGORY, start=(NOW - timedelta(days=1)).date().isoformat(),
                  end=NOW.date().isoformat())
        row = data.township_ranking(f, NOW).set_index("code").loc[town[0]]
        assert (int(row.dispatched), int(row.signed_on_time)) == (1, 1)
    finally:
        data.close()


def test_the_township_desk_marks_late_only_what_is_its_own(scene: tuple[str, Data, list[Case]],
                                                          dash_app: object) -> None:
    """The township card shows the township's own deadline and turns red only for it: a 已反馈 incident
    past the command center's 核查 deadline is not the township's lateness."""
    from dashboard.pages.township.views import incident_card
    from dashboard.widgets import incidents

    _, data, cases = scene
    red: dict[str, bool] = {}
    for c in cases:
        rows = {r.id: r for r in incidents(data.township_queue(c.township))}
        if c.incident_id in rows:
            # className is a prop dash sets at run time: its component classes do not declare it.
            card = incident_card(rows[c.incident_id], NOW, "zh")
            red[c.name] = "card-overdue" in (getattr(card, "className", None) or "")
    assert red == {c.name: c.overdue and not c.desks_clock
                   for c in cases if c.name not in ("closed", "returned to the desk")}
