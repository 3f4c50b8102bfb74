"""``python -m cityops up`` starts the production topology, and it survives kill -9 of its parts.

Two ingest workers share the subscription, one alert engine is active and one stands by, the dashboard runs
under gunicorn with two workers; every one answers /readyz and writes its heartbeat. Then: the active alert
engine killed, the standby takes over; a dashboard worker killed, gunicorn replaces it while the other answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cityops import settings
from cityops.localserver import isolated_up_env
from cityops.processes import stop as stop_process
from cityops.settings import PROJECT_ROOT
from tests.fix_system import wait_until


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, OSError):
        return 0, None


@dataclass
class System:
    proc: subprocess.Popen[bytes]
    cfg: settings.Settings
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.cfg.dash_port}"

    def probe(self, offset: int) -> str:
        return f"http://127.0.0.1:{self.cfg.probe_port_base + offset}"

    def logs(self) -> str:
        text = self.log.read_text(errors="replace")[-3000:]
        for child in sorted((self.cfg.run_dir / "logs").glob("*.log")):
            text += f"\n== {child.name}\n" + child.read_text(errors="replace")[-1500:]
        return text

    def heartbeats(self) -> dict[tuple[str, str], tuple[bool, dict[str, Any]]]:
        with psycopg.connect(self.cfg.dsn()) as conn:
            return {(c, p): (r, d) for c, p, r, d in conn.execute(
                "SELECT component, process, ready, detail FROM process_heartbeats"
                " WHERE beat_at > now() - interval '15 seconds'")}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    run_dir = tmp_path_factory.mktemp("up")
    run_dir.chmod(0o755)  # as root the database runs as OS user postgres, which must reach its folder
    env = isolated_up_env(run_dir) | {"PYTHONUNBUFFERED": "1"}
    log = run_dir / "up.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cityops", "up", "--no-staff"], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    system = System(proc, settings.load(env), log)
    try:
        wait_until("cityops is running", lambda: "cityops is running" in log.read_text(), timeout=240,
                   logs=system.logs)
        yield system
    finally:
        stop_process(proc, timeout=60)


def test_every_process_of_the_topology_is_ready(system: System) -> None:
    offsets = {"cityops-ingest-1": 1, "cityops-ingest-2": 2, "alerts-1": 11, "alerts-2": 12}

    def all_ready() -> dict[str, Any] | None:
        replies = {name: get_json(system.probe(off) + "/readyz") for name, off in offsets.items()}
        replies["dashboard"] = get_json(system.url + "/readyz")
        return replies if all(status == 200 for status, _ in replies.values()) else None

    replies = wait_until("every process ready", all_ready, timeout=90, logs=system.logs)
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


def test_the_standby_engine_takes_over_when_the_active_one_is_killed(system: System) -> None:
    def leader() -> str | None:
        for name, off in (("alerts-1", 11), ("alerts-2", 12)):
            status, body = get_json(system.probe(off) + "/readyz")
            if status == 200 and body["leader"]:
                return name
        return None

    active = wait_until("an active engine", leader, timeout=60, logs=system.logs)
    pid = wait_until("its heartbeat", lambda: _pid_of(system, "alerts", active), timeout=30)
    os.kill(pid, signal.SIGKILL)

    def new_leader() -> str | None:  # the standby, or the killed one restarted by `up` if it got the lock first
        name = leader()
        return name if name is not None and _pid_of(system, "alerts", name) != pid else None

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


def _pid_of(system: System, component: str, process: str) -> int | None:
    with psycopg.connect(system.cfg.dsn()) as conn:
        row = conn.execute("SELECT pid FROM process_heartbeats WHERE component = %s AND process = %s",
                           (component, process)).fetchone()
    return int(row[0]) if row else None
