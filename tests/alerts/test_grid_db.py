"""On PostgreSQL with the demo layers and accounts: the demo's grid members and their grids, a 巡查上报 tagged by
the layers ingest tags with, accepted and routed as any incident or declined with its reason, and 核查 on site
before the desk may close a category that needs it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.incidents import accept_report, act, amend, load, patrol_report, report
from alerts.lifecycle import SITE_CHECKED, Action, Actor, IllegalMove, Refusal, Role
from alerts.locate import locate
from alerts.status import Status
from dashboard.data import Photo
from layers.loader import load_active_layers
from store.users import get_user, grid_username
from tests.fix_db import log_disagreements, one

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
COMMAND = Actor("zhihui", Role.COMMAND)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)


@pytest.fixture(scope="module")
def dsn(demo_db: object) -> str:
    assert callable(demo_db)
    return str(demo_db())


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def _grid_point(conn: psycopg.Connection, grid: str) -> tuple[float, float]:
    lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions r JOIN boundary_versions b USING (version)"
                         " WHERE b.active AND r.code = %s", (grid,))
    return float(lon), float(lat)


def _member(conn: psycopg.Connection, grid: str) -> Actor:
    user = get_user(conn, grid_username(grid))
    assert user is not None and user.role == "grid" and user.grid_codes == [grid]
    return Actor(user.username, Role.GRID, grids=tuple(user.grid_codes))


def test_the_demo_seeds_one_member_per_grid_of_the_first_township_of_each_district(conn: psycopg.Connection) -> None:
    members, townships, districts = one(conn, "SELECT count(*), count(DISTINCT left(grid_codes[1], 9)),"
                                              " count(DISTINCT left(grid_codes[1], 6)) FROM users WHERE role = 'grid'")
    grids_of_first = one(conn, "SELECT count(*) FROM regions g JOIN boundary_versions b USING (version) WHERE b.active"
                               " AND g.level = 'grid' AND left(g.code, 9) IN (SELECT min(code) FROM regions t"
                               " WHERE t.version = g.version AND t.level = 'township' GROUP BY left(t.code, 6))")[0]
    assert districts == 11 and townships == 11 and members == grids_of_first > 11
    with pytest.raises(psycopg.errors.CheckViolation):  # a grid member without grids cannot be stored
        conn.execute("INSERT INTO users (username, display_name, password_hash, role) VALUES ('wgx', 'x', 'x', 'grid')")


def test_a_report_waits_for_the_desk_then_is_routed_as_any_incident(conn: psycopg.Connection) -> None:
    grid = "431002001001"
    member, layers = _member(conn, grid), load_active_layers(conn)
    where = locate(*_grid_point(conn, grid), layers)
    assert where.grid_code == grid and where.township_code == "431002001" and where.district_code == "431002"
    photo = Photo("井盖.png", "image/png", PNG)
    rid = patrol_report(conn, actor=member, category="public_safety", location=where, note="人民路井盖缺失",
                        now=NOW, attachments=[photo])
    status, township, reporter, title = one(conn, "SELECT status, township_code, reported_by, title FROM incidents"
                                                  " WHERE id = %s", (rid,))
    assert (status, township, reporter, title) == ("reported", "431002001", member.name, "人民路井盖缺失")
    assert one(conn, "SELECT count(*) FROM incident_attachments WHERE incident_id = %s", (rid,))[0] == 1
    unit = accept_report(conn, rid, COMMAND, NOW + timedelta(minutes=3))
    assert unit == "431002001"
    assert [r[0] for r in conn.execute("SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id",
                                       (rid,))] == ["patrol_report", "accept", "dispatch", "assist"]  # as any
    assert load(conn, rid).status is Status.DISPATCHED
    with pytest.raises(IllegalMove) as again:  # accepted once
        accept_report(conn, rid, COMMAND, NOW + timedelta(minutes=4))
    assert again.value.refusal is Refusal.WRONG_STATE

    other = locate(*_grid_point(conn, "431002001002"), layers)  # the next grid: not this member's
    with pytest.raises(IllegalMove) as outside:
        patrol_report(conn, actor=member, category="public_safety", location=other, note="别处", now=NOW)
    assert outside.value.refusal is Refusal.NOT_YOUR_GRID
    declined = patrol_report(conn, actor=member, category="hotline", location=where, note="噪音", now=NOW)
    act(conn, declined, Action.DECLINE, COMMAND, NOW + timedelta(minutes=5), note="不属于城市管理范围")
    assert one(conn, "SELECT status FROM incidents WHERE id = %s", (declined,))[0] == "declined"


def test_a_checked_category_is_checked_on_site_before_the_desk_closes_it(conn: psycopg.Connection) -> None:
    assert "city_management" in SITE_CHECKED
    grid = "431002001003"
    member = _member(conn, grid)
    where = locate(*_grid_point(conn, grid), load_active_layers(conn))
    rid = patrol_report(conn, actor=member, category="city_management", location=where, note="护栏倒伏", now=NOW)
    accept_report(conn, rid, COMMAND, NOW)
    staff = Actor("zj431002001", Role.TOWNSHIP, "431002001")
    t = NOW
    act(conn, rid, Action.SIGN, staff, t)
    report(conn, rid, Action.FEEDBACK, staff, t, note="已扶正", details={"result": "resolved"})
    assert load(conn, rid).status is Status.SITE_CHECK
    with pytest.raises(IllegalMove):  # the desk waits for the check
        act(conn, rid, Action.VERIFY, COMMAND, t)
    with pytest.raises(IllegalMove) as other:
        act(conn, rid, Action.SITE_PASS, _member(conn, "431002001001"), t)
    assert other.value.refusal is Refusal.NOT_YOUR_GRID
    report(conn, rid, Action.SITE_FAIL, member, t, note="仍松动", details={},
           attachments=[Photo("现场.png", "image/png", PNG)])
    assert (load(conn, rid).status, load(conn, rid).rework_count) == (Status.IN_PROGRESS, 1)
    report(conn, rid, Action.FEEDBACK, staff, t, note="已加固", details={"result": "resolved"})
    report(conn, rid, Action.SITE_PASS, member, t, note="已加固到位", details={})
    act(conn, rid, Action.VERIFY, COMMAND, t)
    assert load(conn, rid).status is Status.CLOSED
    moves = [r[0] for r in conn.execute("SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id", (rid,))]
    assert moves == ["patrol_report", "accept", "dispatch", "sign", "feedback", "site_fail", "feedback", "site_pass",
                     "verify"]


def test_an_amended_point_moves_the_check_to_its_new_grid_and_every_log_replays(conn: psycopg.Connection) -> None:
    first, second = "431003001001", "431003001002"  # 苏仙岭街道 (苏仙区): both have members
    layers = load_active_layers(conn)
    rid = patrol_report(conn, actor=_member(conn, first), category="city_management",
                        location=locate(*_grid_point(conn, first), layers), note="占道堆物", now=NOW)
    accept_report(conn, rid, COMMAND, NOW)
    amend(conn, rid, location=locate(*_grid_point(conn, second), layers), category="city_management", actor=COMMAND,
          now=NOW, note="位置更正")
    staff = Actor("zj431003001", Role.TOWNSHIP, "431003001")
    act(conn, rid, Action.SIGN, staff, NOW)
    report(conn, rid, Action.FEEDBACK, staff, NOW, note="已清理", details={"result": "resolved"})
    with pytest.raises(IllegalMove) as moved:  # the first grid's member no longer checks it
        act(conn, rid, Action.SITE_PASS, _member(conn, first), NOW)
    assert moved.value.refusal is Refusal.NOT_YOUR_GRID
    act(conn, rid, Action.SITE_PASS, _member(conn, second), NOW)
    assert load(conn, rid).status is Status.RESOLVED
    assert log_disagreements(conn) == []  # every incident of this database: its row is what its log replays to
