"""python -m cityops.healthcheck against a real probe server (cityops.probe.serve): 0 on HTTP 200, else 1."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from cityops import healthcheck
from cityops.localserver import free_port
from cityops.probe import Readiness, serve
from cityops.settings import PROJECT_ROOT


@pytest.fixture
def probe() -> Iterator[tuple[str, dict[str, bool]]]:
    checks = {"database": True, "broker": True}
    server = serve(0, lambda: Readiness(dict(checks), {"lag_s": 0.1}), CollectorRegistry())
    yield f"http://127.0.0.1:{server.server_address[1]}", checks
    server.shutdown()
    server.server_close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command a compose healthcheck or a unit runs, as a process of its own."""
    return subprocess.run([sys.executable, "-m", "cityops.healthcheck", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=30)


def test_ready_is_exit_0_with_the_reply_printed(probe: tuple[str, dict[str, bool]]) -> None:
    url, _ = probe
    proc = run(f"{url}/readyz")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status, body = proc.stdout.strip().split(" ", 2)[1:]
    assert status == "200"
    assert json.loads(body) == {"ready": True, "checks": {"database": True, "broker": True}, "lag_s": 0.1}


def test_not_ready_is_exit_1_with_the_failing_check_printed(probe: tuple[str, dict[str, bool]]) -> None:
    url, checks = probe
    checks["broker"] = False
    proc = run(f"{url}/readyz")
    assert proc.returncode == 1
    assert proc.stdout.startswith("HTTP 503 ")
    assert json.loads(proc.stdout.split(" ", 2)[2])["checks"] == {"database": True, "broker": False}
    checks["broker"] = True  # and back: the same process answers ready again
    assert run(f"{url}/readyz").returncode == 0


def test_any_other_status_is_not_healthy(probe: tuple[str, dict[str, bool]]) -> None:
    url, _ = probe
    assert healthcheck.main([f"{url}/nope"]) == 1  # 404
    assert healthcheck.ask(f"{url}/nope").status == 404
    assert healthcheck.main([f"{url}/healthz"]) == 0


def test_nothing_listening_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # bound and closed again: nothing listens there
    assert healthcheck.main([f"http://127.0.0.1:{port}/readyz", "--timeout", "2"]) == 1
    assert capsys.readouterr().out.startswith(f"no answer from http://127.0.0.1:{port}/readyz")
    assert healthcheck.main(["not a url"]) == 1


def test_a_proxy_in_the_environment_is_not_used(probe: tuple[str, dict[str, bool]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = probe
    dead = free_port()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("no_proxy", "")
    assert healthcheck.ask(f"{url}/readyz").status == 200
