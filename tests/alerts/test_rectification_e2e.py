"""七张问题清单 on real parts: a gas detector breaches three times over MQTT (real ingest and alert engine
processes, mosquitto, PostgreSQL), each incident is closed through ``act`` naming the same root cause, the grid's
recurring problem is listed, and the watch rule the desk makes from it has the running engine warn at 15 %LEL in
that grid (the rule alone warns from 20), while the same reading outside the grid stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from alerts import problems
from alerts.incidents import act
from alerts.lifecycle import Action, Actor, Role
from alerts.rules import load_rules
from cityops.localserver import LocalMosquitto
from tests.alerts.test_loop_e2e import Pipeline, _query, pipeline  # noqa: F401  (the fixture, used by name)
from tests.fix_system import wait_until
from tests.mqtt_publish import publish

COMMAND = Actor("zhihui", Role.COMMAND)


def test_a_recurring_leak_becomes_a_watch_the_running_engine_applies(pipeline: Pipeline,  # noqa: F811
                                                                     broker: LocalMosquitto) -> None:
    dsn = pipeline.dsn
    (inside, dept, grid, township), (outside, odept, _, _) = _query(
        dsn, "SELECT DISTINCT ON (grid_code) device_id, dept, grid_code, township_code FROM devices"
             " WHERE device_type = 'gas_detector' AND grid_code IS NOT NULL ORDER BY grid_code, device_id LIMIT 2")

    def send(device: str, dept_of: str, value: float) -> None:
        publish(broker.port, [(f"city/chenzhou/telemetry/{dept_of}/gas_detector/{device}",
                               {"ts": datetime.now(UTC).isoformat(), "values": {"gas_lel": value}})])

    with psycopg.connect(dsn, autocommit=True) as conn:
        cause = next(c.id for c in problems.root_causes(conn) if c.name == "设施老化失修")
    staff = Actor(f"zj{township}", Role.TOWNSHIP, township)
    for n in range(3):
        send(inside, dept, 62.0)
        (incident_id,), = wait_until(f"incident {n + 1} of the leak", lambda: _query(
            dsn, "SELECT i.id FROM incidents i JOIN warnings w ON w.id = i.warning_id WHERE w.subject = %s"
                 " AND w.status = 'open'", inside), logs=pipeline.logs)
        send(inside, dept, 3.0)
        wait_until("the warning to clear", lambda: not _query(
            dsn, "SELECT 1 FROM warnings WHERE subject = %s AND status = 'open'", inside), logs=pipeline.logs)
        with psycopg.connect(dsn, autocommit=True) as conn:
            t = datetime.now(UTC)
            act(conn, incident_id, Action.SIGN, staff, t)
            act(conn, incident_id, Action.FEEDBACK, staff, t, note="更换老化阀门")
            act(conn, incident_id, Action.VERIFY, COMMAND, t, details={"root_cause": cause})
    with psycopg.connect(dsn, autocommit=True) as conn:
        (listed,) = problems.problems(conn, open_only=True)
        assert (listed.scope, listed.scope_code, listed.owner_unit, len(listed.incident_ids)) == (
            "grid", grid, township, 3)
        problems.make_watch(conn, listed.id, problems.WatchAsked("gas_leak", 0.5, datetime.now(UTC), 90),
                            load_rules(), COMMAND, datetime.now(UTC), note="整改期间降低报警阈值")

    send(outside, odept, 15.0)
    send(inside, dept, 15.0)
    (level,), = wait_until("the watched grid to warn at 15", lambda: _query(
        dsn, "SELECT level FROM warnings WHERE subject = %s AND status = 'open' AND rule_id = 'gas_leak'", inside),
        logs=pipeline.logs)
    assert level == 2
    send(outside, odept, 15.5)  # judged in a later round than the inside one: still nothing outside the grid
    wait_until("the outside reading to be judged", lambda: _query(
        dsn, "SELECT 1 FROM telemetry WHERE device_id = %s AND value = 15.5", outside) and not _query(
        dsn, "SELECT 1 FROM alert_inbox"), logs=pipeline.logs)
    assert _query(dsn, "SELECT count(*) FROM warnings WHERE subject = %s", outside) == [(0,)]
