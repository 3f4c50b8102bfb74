"""The demo's simulated township staff: plans drawn per incident, and moves made through the real lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alerts.incidents import Location, open_incident
from alerts.lifecycle import Action
from alerts.status import Status
from simulator.staff import IGNORED_SHARE, NOTES, StaffPlan, next_move, plan_for
from simulator.staff_run import tick
from tests.fix_db import one

SEED = 20261122
ANSWERING = StaffPlan(True, timedelta(minutes=4), timedelta(minutes=2), timedelta(minutes=10), evacuated=12)


def test_a_plan_is_the_same_for_the_same_incident_and_seed() -> None:
    assert plan_for(17, SEED) == plan_for(17, SEED)
    assert plan_for(17, SEED) != plan_for(18, SEED)
    assert plan_for(17, SEED) != plan_for(17, SEED + 1)


def test_about_one_township_in_ten_never_answers() -> None:
    silent = sum(not plan_for(i, SEED).answers for i in range(1, 2001)) / 2000
    assert abs(silent - IGNORED_SHARE) < 0.03


def test_each_step_waits_its_time_then_follows_the_lifecycle() -> None:
    assert next_move(Status.DISPATCHED, "flood", timedelta(minutes=3), ANSWERING) is None
    sign = next_move(Status.DISPATCHED, "flood", timedelta(minutes=4), ANSWERING)
    assert sign is not None and sign.action is Action.SIGN
    progress = next_move(Status.SIGNED, "flood", timedelta(minutes=2), ANSWERING)
    assert progress is not None and progress.action is Action.PROGRESS and progress.note == NOTES["flood"][0]
    assert next_move(Status.IN_PROGRESS, "flood", timedelta(minutes=9), ANSWERING) is None
    feedback = next_move(Status.IN_PROGRESS, "flood", timedelta(minutes=10), ANSWERING)
    assert feedback is not None and feedback.action is Action.FEEDBACK
    # The desk's 转移人数, for floods only; every move says it was the demo's simulated staff.
    assert feedback.details == {"people_evacuated": 12, "simulated": True}
    hotline = next_move(Status.IN_PROGRESS, "hotline", timedelta(hours=1), ANSWERING)
    assert hotline is not None and hotline.details == {"simulated": True} and "回访" in hotline.note
    # Nothing for the command center's part, nor for a township that never answers.
    assert next_move(Status.RESOLVED, "flood", timedelta(hours=9), ANSWERING) is None
    assert next_move(Status.NEW, "flood", timedelta(hours=9), ANSWERING) is None
    silent = StaffPlan(False, timedelta(0), timedelta(0), timedelta(0), 0)
    assert next_move(Status.DISPATCHED, "flood", timedelta(days=1), silent) is None


def _log(conn: psycopg.Connection, incident_id: int) -> list[tuple[str, str, str, str]]:
    return [tuple(r) for r in conn.execute(
        "SELECT action, actor, role, source FROM incident_log WHERE incident_id = %s ORDER BY id",
        (incident_id,)).fetchall()]


def test_staff_sign_work_and_report_back_through_the_lifecycle(demo_dsn: str) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        township, district, lon, lat = one(conn,
            "SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1")
        ids = []
        for k in range(12):
            with conn.transaction():
                iid = open_incident(conn, title=f"演示积水 {k}", category="flood", level=2, source_kind="manual",
                                    location=Location(lon, lat, district, township, None, None), now=t0)
            assert iid is not None
            ids.append(iid)
        answering = [i for i in ids if plan_for(i, SEED).answers]
        silent = [i for i in ids if i not in answering]
        assert answering and silent, "12 incidents should include both kinds (about 1 in 10 is silent)"

        # Every step is due an hour later; one round makes at most `limit` moves, oldest first.
        assert tick(conn, t0 + timedelta(hours=1), SEED, limit=3) == min(3, len(answering))
        for hour in range(2, 9):
            tick(conn, t0 + timedelta(hours=hour), SEED, limit=100)

        statuses: dict[int, str] = dict(conn.execute("SELECT id, status FROM incidents WHERE id = ANY(%s)",
                                                     (ids,)).fetchall())
        assert {statuses[i] for i in answering} == {Status.RESOLVED.value}
        assert {statuses[i] for i in silent} == {Status.DISPATCHED.value}
        staff = f"zj{township}"
        first = answering[0]
        assert [row for row in _log(conn, first) if row[1] == staff] == [
            ("sign", staff, "township", "api"), ("progress", staff, "township", "api"),
            ("feedback", staff, "township", "api")]
        evacuated = conn.execute("SELECT details->>'people_evacuated' FROM incident_log"
                                 " WHERE incident_id = %s AND action = 'feedback'", (first,)).fetchone()
        assert evacuated is not None and int(evacuated[0]) == plan_for(first, SEED).evacuated
        # Nothing more to do: verifying is the command center's, and the silent townships stay silent.
        assert tick(conn, t0 + timedelta(hours=20), SEED, limit=100) == 0
