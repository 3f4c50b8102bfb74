"""七张问题清单 end to end on PostgreSQL with the demo city, through ``alerts.incidents.act``: a desk's 核查结案 names
a root cause (refused without one unless it overrides), the third closure of one root cause in one grid lists a
recurring problem with its owner and deadline, a fourth joins it, its 整改 → 验收 loop is logged and replays,
and a watch rule made from it makes the engine warn in that grid at a value the rule alone passes, not outside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts import problems
from alerts.evaluate import step
from alerts.incidents import act, open_incident
from alerts.lifecycle import Action, Actor, Role
from alerts.locate import locate
from alerts.rectification import RAction, RectificationRefused, RRefusal, RStatus, replay
from alerts.rules import load_rules
from alerts.watch import WatchError
from ingest.writer import prepare_connection
from layers.loader import load_active_layers
from store.departments import DEMO_DEPARTMENTS, save
from store.users import township_username
from tests.alerts.test_db import minutes, write
from tests.fix_db import log_disagreements, one
from tests.fix_system import demo_city_database

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
COMMAND = Actor("zhihui", Role.COMMAND)
GAS = tuple(r for r in load_rules() if r.id == "gas_leak")


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    return demo_city_database(pg_dsn)


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as c:
        prepare_connection(c)
        yield c


def _detectors(conn: psycopg.Connection) -> list[tuple[str, str, float, float]]:
    """Gas detectors in two different grids: (device, grid, lon, lat)."""
    rows = conn.execute("SELECT DISTINCT ON (grid_code) device_id, grid_code, lon, lat FROM devices"
                        " WHERE device_type = 'gas_detector' AND grid_code IS NOT NULL ORDER BY grid_code, device_id"
                        " LIMIT 2").fetchall()
    assert len(rows) == 2
    return rows


def _resolved(conn: psycopg.Connection, lon: float, lat: float, at: datetime, title: str) -> int:
    """An incident at the point, dispatched to its township, signed for and reported done (已反馈)."""
    where = locate(lon, lat, load_active_layers(conn))
    with conn.transaction():
        iid = open_incident(conn, title=title, category="production_safety", level=3, source_kind="manual",
                            location=where, now=at)
    assert iid is not None and where.township_code is not None
    staff = Actor(township_username(where.township_code), Role.TOWNSHIP, where.township_code)
    act(conn, iid, Action.SIGN, staff, at + timedelta(minutes=1))
    act(conn, iid, Action.FEEDBACK, staff, at + timedelta(minutes=2), note="已整改")
    return iid


def test_a_desk_verify_names_a_root_cause_unless_it_overrides(conn: psycopg.Connection) -> None:
    (_, _, lon, lat), _ = _detectors(conn)
    iid = _resolved(conn, lon, lat, NOW - timedelta(days=40), "根源必填")
    with pytest.raises(problems.RootCauseError) as missing:
        act(conn, iid, Action.VERIFY, COMMAND, NOW - timedelta(days=40), details={"root_cause": None})
    assert missing.value.key == "rootcause.err.required"
    retired = problems.add_root_cause(conn, "测试停用根源", "")
    problems.change_root_cause(conn, retired.id, retired=True)
    assert retired.id not in {c.id for c in problems.root_causes(conn, offered_only=True)}
    with pytest.raises(problems.RootCauseError) as unknown:
        act(conn, iid, Action.VERIFY, COMMAND, NOW - timedelta(days=40), details={"root_cause": retired.id})
    assert unknown.value.key == "rootcause.err.unknown"
    assert one(conn, "SELECT status FROM incidents WHERE id = %s", (iid,))[0] == "resolved"  # nothing written
    act(conn, iid, Action.VERIFY, COMMAND, NOW - timedelta(days=40), note="现场已无隐患，设备待校准",
        details={"override": True, "root_cause": None})  # 强制结案: its reason instead of a root cause
    status, details = one(conn, "SELECT i.status, l.details FROM incidents i JOIN incident_log l ON"
                                " l.incident_id = i.id AND l.action = 'verify' WHERE i.id = %s", (iid,))
    assert status == "closed" and "root_cause" not in details


def test_the_third_closure_of_one_cause_in_a_grid_lists_a_problem_whose_watch_rule_the_engine_applies(
        conn: psycopg.Connection) -> None:
    (device, grid, lon, lat), (outside, _, olon, olat) = _detectors(conn)
    cause = next(c.id for c in problems.root_causes(conn) if c.name == "设施老化失修")
    closed = []
    for n in range(3):
        at = NOW - timedelta(days=20 - 5 * n)
        iid = _resolved(conn, lon, lat, at, f"管线老化泄漏{n}")
        act(conn, iid, Action.VERIFY, COMMAND, at + timedelta(minutes=5), details={"root_cause": cause})
        closed.append(iid)
    (listed,) = problems.problems(conn, open_only=True)
    assert (listed.scope, listed.scope_code, listed.root_cause_id, listed.incident_ids) == ("grid", grid, cause, closed)
    assert listed.owner_unit == grid[:9] and listed.status == "rectifying" and listed.district_code == grid[:6]
    assert listed.deadline == NOW - timedelta(days=10) + timedelta(minutes=5) + timedelta(days=15)
    assert one(conn, "SELECT details ->> 'root_cause', details ->> 'root_cause_name' FROM incident_log"
                     " WHERE incident_id = %s AND action = 'verify'", (closed[0],)) == (str(cause), "设施老化失修")
    fourth = _resolved(conn, lon, lat, NOW - timedelta(days=2), "管线老化泄漏3")
    act(conn, fourth, Action.VERIFY, COMMAND, NOW - timedelta(days=2), details={"root_cause": cause})
    other = _resolved(conn, olon, olat, NOW - timedelta(days=2), "别处老化")  # one in another grid: no problem there
    act(conn, other, Action.VERIFY, COMMAND, NOW - timedelta(days=2), details={"root_cause": cause})
    (joined,) = problems.problems(conn, open_only=True)
    assert joined.id == listed.id and joined.incident_ids == [*closed, fourth]

    owner = Actor(township_username(grid[:9]), Role.TOWNSHIP, grid[:9])
    elsewhere = "431021001" if grid[:9] != "431021001" else "431002001"
    stranger = Actor(township_username(elsewhere), Role.TOWNSHIP, elsewhere)
    t = NOW - timedelta(days=1)
    with pytest.raises(RectificationRefused) as not_owner:
        problems.act(conn, listed.id, RAction.REPORT, stranger, t, note="代为整改")
    assert not_owner.value.refusal is RRefusal.NOT_OWNER
    problems.act(conn, listed.id, RAction.REPORT, owner, t, note="更换老化管线")
    problems.act(conn, listed.id, RAction.RETURN, COMMAND, t + timedelta(hours=1), note="阀门未更换")
    with pytest.raises(WatchError):  # a season is at most watch_max_days
        problems.make_watch(conn, listed.id, problems.WatchAsked("gas_leak", 0.5, t, 400), GAS, COMMAND, t,
                            note="汛期盯防")
    watch_id = problems.make_watch(conn, listed.id, problems.WatchAsked("gas_leak", 0.5, t, 90), GAS, COMMAND,
                                   t + timedelta(hours=2), note="整改期间加密监测")
    problems.act(conn, listed.id, RAction.REPORT, owner, t + timedelta(hours=3), note="阀门已更换")
    problems.act(conn, listed.id, RAction.ACCEPT, COMMAND, t + timedelta(hours=4))
    log = problems.problem_log(conn, listed.id)
    assert [e.action for e in log] == [RAction.FLAG, RAction.JOIN, RAction.REPORT, RAction.RETURN, RAction.WATCH,
                                       RAction.REPORT, RAction.ACCEPT]
    assert log[4].details["watch_id"] == watch_id and log[4].details["levels"] == [
        {"level": 2, "at_least": 10.0}, {"level": 1, "at_least": 25.0}]
    row = problems.problem(conn, listed.id)
    assert row is not None and row.status == "accepted" and row.return_count == 1
    replayed = replay(log, row.owner_unit, row.deadline)
    assert (replayed.status, list(replayed.incident_ids), replayed.return_count) == (
        RStatus.ACCEPTED, row.incident_ids, 1)
    fifth = _resolved(conn, lon, lat, t + timedelta(hours=5), "管线老化泄漏4")
    act(conn, fifth, Action.VERIFY, COMMAND, t + timedelta(hours=5), details={"root_cause": cause})
    assert problems.problems(conn, open_only=True) == []  # after 验收 the count starts again: one is no recurrence
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the log is append-only
        conn.execute("UPDATE rectification_log SET note = '' WHERE rectification_id = %s", (listed.id,))

    # The watch is in force (accepted or not, until its season ends): 15 %LEL warns in the grid, not outside
    reading_at = datetime.now(UTC).replace(microsecond=0)
    write(conn, device, "gas_lel", minutes(reading_at - timedelta(minutes=1), 15.0))
    write(conn, outside, "gas_lel", minutes(reading_at - timedelta(minutes=1), 15.0))
    with conn.transaction():
        step(conn, GAS, reading_at)
    opened = {r[0]: r[1] for r in conn.execute(
        "SELECT subject, level FROM warnings WHERE rule_id = 'gas_leak' AND status = 'open'")}
    assert opened == {device: 2}
    assert log_disagreements(conn) == []  # every incident still replays from its log


def test_one_cause_across_a_category_lists_a_problem_owned_by_its_department(conn: psycopg.Connection) -> None:
    grids = conn.execute("SELECT DISTINCT ON (grid_code) grid_code, lon, lat FROM devices"
                         " WHERE grid_code LIKE '431021%' ORDER BY grid_code, device_id LIMIT 8").fetchall()
    assert len(grids) == 8  # one close in each of 8 grids: no grid recurs, the category does
    cause = next(c.id for c in problems.root_causes(conn) if c.name == "违规作业")
    save(conn, DEMO_DEPARTMENTS)  # 应急管理局 handles production_safety (in this module's database only)
    closed = []
    for n, (_, lon, lat) in enumerate(grids):
        at = NOW - timedelta(days=8 - n)
        iid = _resolved(conn, lon, lat, at, f"违规动火{n}")
        act(conn, iid, Action.VERIFY, COMMAND, at + timedelta(minutes=5), details={"root_cause": cause})
        closed.append(iid)
    (listed,) = [p for p in problems.problems(conn, open_only=True) if p.root_cause_id == cause]
    assert (listed.scope, listed.scope_code, listed.incident_ids) == ("category", "production_safety", closed)
    assert listed.owner_unit == "dept-yjglj" and listed.district_code is None  # 应急管理局: the city's desk's
    problems.act(conn, listed.id, RAction.REPORT, Actor("bmyjglj", Role.DEPARTMENT, "dept-yjglj"), NOW,
                 note="开展动火作业专项整治")
    with pytest.raises(RectificationRefused) as not_district:  # a department's problem is the city's desk's
        problems.act(conn, listed.id, RAction.ACCEPT, Actor("qx431021", Role.DISTRICT, district_code="431021"), NOW)
    assert not_district.value.refusal is RRefusal.NOT_YOUR_DISTRICT
    with pytest.raises(WatchError) as no_grid:  # a category has no one grid to watch
        problems.make_watch(conn, listed.id, problems.WatchAsked("gas_leak", 0.5, NOW, 30), GAS, COMMAND, NOW,
                            note="全市盯防")
    assert no_grid.value.key == "watch.err.grid_only"
