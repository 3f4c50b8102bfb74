"""The demo's simulated desk (``simulator.staff.verify_move``, ``simulator.staff_run.desk_tick``): it closes what
waited in 已反馈 long enough, naming a root cause of the managed list through the real ``act``, so the same cause
closing three incidents of one grid lists a problem in the demo's 问题清单."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alerts import problems
from alerts.lifecycle import Action
from alerts.locate import locate
from layers.loader import load_active_layers
from simulator.staff import FIRST_SHARE, ROOT_CAUSES, VERIFY_MINUTES, verify_move
from simulator.staff_run import desk_tick
from tests.fed_back import fed_back_flood
from tests.fix_db import one

SEED = 20261122
OFFERED = {"排水能力不足": 2, "极端天气": 7, "设施老化失修": 1, "日常巡查不到位": 5}


def test_the_desk_waits_then_names_a_cause_of_the_category_mostly_the_first() -> None:
    assert verify_move(1, "flood", timedelta(minutes=VERIFY_MINUTES[0] - 1), SEED, OFFERED) is None
    moves = [verify_move(i, "flood", timedelta(minutes=VERIFY_MINUTES[1]), SEED, OFFERED) for i in range(1, 401)]
    causes = [m.details["root_cause"] for m in moves if m is not None]
    assert len(causes) == 400 and set(causes) <= {OFFERED[n] for n in ROOT_CAUSES["flood"]}
    assert abs(causes.count(OFFERED["排水能力不足"]) / 400 - (FIRST_SHARE + (1 - FIRST_SHARE) / 3)) < 0.07
    move = moves[0]
    assert move is not None and move.action is Action.VERIFY and move.details["simulated"] is True
    # a name no longer offered (renamed, retired) falls back to the first offered; nothing offered: no close
    gone = verify_move(3, "production_safety", timedelta(hours=2), SEED, {"极端天气": 7})
    assert gone is not None and gone.details["root_cause"] == 7
    assert verify_move(3, "flood", timedelta(hours=2), SEED, {}) is None


def test_the_desk_closes_through_act_and_a_recurring_cause_lists_a_problem(demo_dsn: str) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
                             " WHERE v.active AND r.level = 'grid' ORDER BY code OFFSET 5 LIMIT 1")
        where = locate(lon, lat, load_active_layers(conn))
        assert where.township_code is not None and where.grid_code is not None
        only = next(c for c in problems.root_causes(conn) if c.name == "排水能力不足")
        for other in problems.root_causes(conn, offered_only=True):  # one cause offered: every close names it
            if other.id != only.id:
                problems.change_root_cause(conn, other.id, retired=True)
        ids = [fed_back_flood(conn, where, t0, f"演示积水{n}") for n in range(3)]
        assert desk_tick(conn, t0 + timedelta(minutes=10), SEED, limit=10) == 0  # the people at the desk first
        assert desk_tick(conn, t0 + timedelta(hours=2), SEED, limit=2) == 2  # at most ``limit`` a round
        assert desk_tick(conn, t0 + timedelta(hours=2), SEED, limit=10) == 1
        rows = conn.execute("SELECT actor, role, source, details ->> 'root_cause' FROM incident_log"
                            " WHERE incident_id = ANY(%s) AND action = 'verify'", (ids,)).fetchall()
        assert rows == [("zhihui", "command", "api", str(only.id))] * 3
        (listed,) = problems.problems(conn, open_only=True, unit=where.township_code)
        assert listed.scope_code == where.grid_code and sorted(listed.incident_ids) == ids
