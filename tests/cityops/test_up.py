"""``python -m cityops up`` starts the production topology, and it survives kill -9 of its parts.

Two ingest workers share the subscription, one alert engine is active and one stands by, the dashboard runs
under gunicorn with two workers; every one answers /readyz and writes its heartbeat. Then: the active alert
engine killed, the standby takes over; a dashboard worker killed, gunicorn replaces it while the other answers.
"""

from __future__ import annotations

import os
import signal
import urllib.request
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.fix_system import wait_until
from tests.fix_up import System, get_json


@pytest.fixture(scope="module")
def system(up_system: System) -> System:
    return up_system


def test_every_process_of_the_topology_is_ready(system: System) -> None:
    replies = wait_until("every process ready", system.all_ready, timeout=90, logs=system.logs)
    leaders = [name for name in ("alerts-1", "alerts-2") if replies[name][1]["leader"]]
    assert len(leaders) == 1, replies
    assert replies["cityops-ingest-1"][1]["checks"] == {"database": True, "broker": True}

    def beating() -> bool:  # rows written since every process became ready
        beats = system.heartbeats()
        return (sorted(c for c, _ in beats) == ["alerts", "alerts", "dashboard", "dashboard", "ingest", "ingest"]
                and all(ready for ready, _ in beats.values()))

    wait_until("ready heartbeats of two ingest workers, two engines, two dashboard workers", beating, timeout=60,
               logs=system.logs)
    # The two workers share the load: both store messages from the simulator.
    def both_working() -> bool:
        texts = [urllib.request.urlopen(system.probe(off) + "/metrics", timeout=3).read().decode() for off in (1, 2)]
        return all("cityops_ingest_messages_total" in t and "cityops_ingest_messages_total 0.0" not in t
                   for t in texts)

    wait_until("both ingest workers storing", both_working, timeout=60, logs=system.logs)


def test_a_new_demo_opens_on_a_month_of_history(system: System) -> None:
    """What the leader, 考核 and data-quality pages read, as the dashboard's own role reads it."""
    with psycopg.connect(system.cfg.dsn("dashboard")) as conn:
        incidents, first = conn.execute("SELECT count(*), min(created_at) FROM incidents"
                                        " WHERE source_ref LIKE 'history:%'").fetchone() or (0, None)
        days = conn.execute("SELECT count(DISTINCT day) FROM ingest_counters").fetchone()
        oldest = conn.execute("SELECT min(ts) FROM telemetry").fetchone()
    assert incidents > 3000 and first is not None and first < datetime.now(UTC) - timedelta(days=29)
    assert days and days[0] >= 30 and oldest and oldest[0] < datetime.now(UTC) - timedelta(days=29)
    assert "history: " in system.log.read_text(errors="replace")  # its progress, on the console


def test_the_standby_engine_takes_over_when_the_active_one_is_killed(system: System) -> None:
    active = wait_until("an active engine", system.leader, timeout=60, logs=system.logs)
    pid = wait_until("its heartbeat", lambda: system.pid_of("alerts", active), timeout=30)
    os.kill(pid, signal.SIGKILL)

    def new_leader() -> str | None:  # the standby, or the killed one restarted by `up` if it got the lock first
        name = system.leader()
        return name if name is not None and system.pid_of("alerts", name) != pid else None

    wait_until("another engine process to take over", new_leader, timeout=60, logs=system.logs)


def test_a_killed_dashboard_worker_is_replaced_and_the_other_answers(system: System) -> None:
    status, body = get_json(system.url + "/readyz")
    assert status == 200
    os.kill(body["pid"], signal.SIGKILL)
    answered = [get_json(system.url + "/readyz")[0] for _ in range(20)]
    assert answered.count(200) >= 19, answered  # the other worker answers while the killed one is replaced
    wait_until("two dashboard workers again", lambda: len({p for c, p in system.heartbeats() if c == "dashboard"
                                                            and p != f"{os.uname().nodename}:{body['pid']}"}) >= 2,
               timeout=60, logs=system.logs)

