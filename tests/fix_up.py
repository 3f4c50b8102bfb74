"""``python -m cityops up`` of its own for the tests that run the whole topology (started once a session):
its settings, its probes, its heartbeats and the logs of every process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cityops import settings
from cityops.healthcheck import ask
from cityops.localserver import isolated_up_env
from cityops.processes import stop as stop_process
from cityops.settings import PROJECT_ROOT
from tests.fix_system import wait_until

# The probes' ports, as offsets from CITYOPS_PROBE_PORT_BASE (ingest +1/+2, alert engines +11/+12).
PROBES = {"cityops-ingest-1": 1, "cityops-ingest-2": 2, "alerts-1": 11, "alerts-2": 12}


def get_json(url: str) -> tuple[int, Any]:
    """Status and JSON body of a GET; 0 when nothing answers."""
    reply = ask(url, timeout=3)
    try:
        return reply.status or 0, json.loads(reply.text or "null") if reply.status is not None else None
    except json.JSONDecodeError:
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

    def pid_of(self, component: str, process: str) -> int | None:
        with psycopg.connect(self.cfg.dsn()) as conn:
            row = conn.execute("SELECT pid FROM process_heartbeats WHERE component = %s AND process = %s",
                               (component, process)).fetchone()
        return int(row[0]) if row else None

    def leader(self) -> str | None:
        """The alert engine that says it is active."""
        for name in ("alerts-1", "alerts-2"):
            status, body = get_json(self.probe(PROBES[name]) + "/readyz")
            if status == 200 and body["leader"]:
                return name
        return None

    def all_ready(self) -> dict[str, Any] | None:
        """Every process's /readyz reply, when every one says ready."""
        replies = {name: get_json(self.probe(off) + "/readyz") for name, off in PROBES.items()}
        replies["dashboard"] = get_json(self.url + "/readyz")
        return replies if all(status == 200 for status, _ in replies.values()) else None


@pytest.fixture(scope="session")
def up_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
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
