"""The brokers' configs of deploy/ (compose's and the systemd host's) against the embedded broker's, and each run
for real: a mosquitto on that file (paths moved under a temp folder), `python -m ingest accounts sync` with the
deployment's environment writing its accounts and signalling it, the service accounts issued by
deploy/service_accounts.py logging in (plain and TLS), and compose's two broker healthchecks."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import pytest

from cityops.localserver import LocalMosquitto, free_port, wait_for_port
from cityops.localtls import ensure_server_tls, tls_files
from cityops.mqtt import connack, wait_until_accepted
from cityops.settings import PROJECT_ROOT, MqttAddress
from tests.deploy.deployfiles import (
    DEPLOY,
    SYSTEMD,
    compose,
    mounts,
    parse_unit,
    read_env_file,
    service_env,
    unit_env,
)
from tests.fix_db import AsRole
from tests.fix_system import new_database

CONFS = {"compose": DEPLOY / "mosquitto" / "mosquitto.conf", "systemd": SYSTEMD / "mosquitto.conf"}
LISTENER_KEYS = {"listener", "use_username_as_clientid", "cafile", "certfile", "keyfile", "tls_version"}
FILE_KEYS = {"password_file", "acl_file", "pid_file", "cafile", "certfile", "keyfile"}


def lines(text: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (line.partition(" ") for line in text.splitlines())
            if k and not k.startswith("#")]


def normalised(text: str) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """Global settings and each listener's, with what may differ between machines taken out: file paths (their
    names stay), the persistence folder, where logs go, the listener's port and address, the OS user."""
    settings: dict[str, list[str]] = {}
    listeners: list[dict[str, list[str]]] = []
    for key, value in lines(text):
        if key in FILE_KEYS:
            value = PurePosixPath(value).name
        elif key in ("persistence_location", "log_dest", "user"):
            value = "*"
        elif key == "listener":
            listeners.append({})
            value = "*"
        if key in LISTENER_KEYS:
            listeners[-1].setdefault(key, []).append(value)
        else:
            settings.setdefault(key, []).append(value)
    settings["log_type"] = sorted(settings["log_type"])
    settings.pop("user", None)
    return settings, listeners


@pytest.mark.parametrize("deployment", sorted(CONFS))
def test_the_config_is_the_embedded_brokers(deployment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYOPS_MQTT_DEBUG_LOG", raising=False)
    local = LocalMosquitto(tmp_path / "mqtt", 1883, 8883)
    local.write_config()
    ours = CONFS[deployment].read_text(encoding="utf-8")
    assert normalised(ours) == normalised(local.conf_path.read_text(encoding="utf-8"))
    assert dict(lines(ours))["user"] == "mosquitto"  # never root (the embedded one is root only as root)
    assert [v for k, v in lines(ours) if k == "log_dest"] in (["stdout"], ["file /var/log/mosquitto/mosquitto.log"])


# --- run for real ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deployment:
    conf: Path
    moved: dict[str, str]  # a path prefix of the deployment → where it is in this test's folder
    sync_env: dict[str, str]  # broker-accounts' environment, as the deployment gives it
    run_dir: str  # its CITYOPS_RUN_DIR


def deployment_of(name: str, tmp: Path) -> Deployment:
    if name == "compose":
        services = compose()["services"]
        broker, sync = services["broker"], services["broker-accounts"]
        env = service_env(sync)
        accounts_volume = mounts(sync)[f"{env['CITYOPS_RUN_DIR']}/mqtt"]
        by_source = {source: target for target, source in mounts(broker).items()}
        moved = {by_source[accounts_volume]: f"{tmp}/run/mqtt", by_source["broker-data"]: f"{tmp}/data",
                 by_source["./mosquitto/certs"]: f"{tmp}/certs"}
        return Deployment(CONFS[name], moved, env, env["CITYOPS_RUN_DIR"])
    unit = parse_unit((SYSTEMD / "cityops-broker-accounts.service").read_text(encoding="utf-8"))
    env = unit_env(unit)
    moved = {f"{env['CITYOPS_RUN_DIR']}/mqtt": f"{tmp}/run/mqtt", "/var/lib/mosquitto": f"{tmp}/data",
             "/etc/cityops/tls": f"{tmp}/certs", "/var/log/mosquitto": f"{tmp}/log"}
    return Deployment(CONFS[name], moved, env, env["CITYOPS_RUN_DIR"])


@dataclass(frozen=True)
class Running:
    tmp: Path
    port: int
    tls_port: int
    deployment: Deployment
    passwords: dict[str, str]  # user → password, as deploy/service_accounts.py printed them
    env_lines: dict[str, str]  # its --env output


@pytest.fixture(params=sorted(CONFS))
def running(request: pytest.FixtureRequest, pg_dsn: str, as_role: AsRole) -> Iterator[Running]:
    tmp = Path(tempfile.mkdtemp(prefix="cityops-deploy-mq-"))
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def log(name: str) -> IO[bytes]:
        logs.append(open(tmp / name, "wb"))  # noqa: SIM115 - closed after the child
        return logs[-1]

    try:
        deployment = deployment_of(request.param, tmp)
        port, tls_port = free_port(), free_port()
        text = deployment.conf.read_text(encoding="utf-8")
        for prefix, there in sorted(deployment.moved.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(f" {prefix}/", f" {there}/")
        text = re.sub(r"^listener 1883\b.*$", f"listener {port} 127.0.0.1", text, flags=re.MULTILINE)
        text = re.sub(r"^listener 8883\b.*$", f"listener {tls_port} 127.0.0.1", text, flags=re.MULTILINE)
        # As root the files the sync writes (0600) are root's: the broker must stay root to read them; in
        # the deployments both run as the broker's user.
        text = text.replace("user mosquitto", "user root" if os.geteuid() == 0 else "")
        settings = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        stray = [w for w in settings.split() if w.startswith("/") and not w.startswith(str(tmp))]
        assert stray == [], f"paths of {deployment.conf.name} this test does not move: {stray}"
        for folder in ("run/mqtt", "data", "certs", "log"):
            (tmp / folder).mkdir(parents=True, exist_ok=True)
        assert ensure_server_tls(tmp / "certs") == tls_files(tmp / "certs")
        for name in ("passwords", "acl"):  # as compose's broker command and the systemd drop-in make them
            (tmp / "run" / "mqtt" / name).touch(mode=0o600)
        conf = tmp / "mosquitto.conf"
        conf.write_text(text)
        procs.append(subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                                      stdout=log("broker.log"), stderr=subprocess.STDOUT))
        wait_for_port(port)
        wait_for_port(tls_port)

        dsn = new_database(pg_dsn)
        issued = subprocess.run([sys.executable, str(DEPLOY / "service_accounts.py"), "--env"], cwd=tmp,
                                env=clean_env(CITYOPS_DATABASE_URL=dsn), capture_output=True, text=True, timeout=60)
        assert issued.returncode == 0, issued.stderr
        env_lines = dict(line.split("=", 1) for line in issued.stdout.splitlines())
        again = subprocess.run([sys.executable, str(DEPLOY / "service_accounts.py")], cwd=tmp,
                               env=clean_env(CITYOPS_DATABASE_URL=dsn), capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr  # a second issue rotates: these are the live passwords
        passwords = dict(line.split(" ", 1) for line in again.stdout.splitlines())

        sync_env = dict(deployment.sync_env, CITYOPS_RUN_DIR=f"{tmp}/run",
                        CITYOPS_INGEST_DATABASE_URL=as_role(dsn, "ingest"))
        procs.append(subprocess.Popen([sys.executable, "-m", "ingest", "accounts", "sync"], cwd=PROJECT_ROOT,
                                      env=clean_env(**sync_env), stdout=log("sync.log"), stderr=subprocess.STDOUT))
        yield Running(tmp, port, tls_port, deployment, passwords, env_lines)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for file in logs:
            file.close()
        shutil.rmtree(tmp, ignore_errors=True)


def clean_env(**cityops: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_")}, **cityops}


def test_the_services_log_in_with_the_accounts_the_sync_installed(running: Running) -> None:
    users = {"cityops-ingest-1", "cityops-ingest-2", "cityops-alerts-1-outbox", "cityops-alerts-2-outbox"}
    assert set(running.passwords) == users
    assert set(running.env_lines) == set(read_env_file(DEPLOY / ".env.example")) & {
        k for k in running.env_lines if k.startswith("MQTT_")}  # the very variables compose interpolates
    for user, password in running.passwords.items():
        wait_until_accepted(MqttAddress("127.0.0.1", running.port, user, password), timeout=15)
        over_tls = MqttAddress("127.0.0.1", running.tls_port, user, password, tls=True,
                               ca_file=str(tls_files(running.tmp / "certs").ca_cert))
        assert not connack(over_tls).is_failure
    first = next(iter(running.passwords))
    assert connack(MqttAddress("127.0.0.1", running.port, first, "wrong")).is_failure
    assert connack(MqttAddress("127.0.0.1", running.port)).is_failure  # anonymous
    old = running.env_lines[next(iter(running.env_lines))]  # the first issue's password, rotated since
    assert connack(MqttAddress("127.0.0.1", running.port, "cityops-ingest-1", old)).is_failure
    pid = (running.tmp / "run" / "mqtt" / "mosquitto.pid").read_text().strip()
    assert pid.isdigit()  # the broker wrote its pid where the sync looks for it


def test_composes_broker_healthchecks_pass_on_it(running: Running) -> None:
    if running.deployment.conf != CONFS["compose"]:
        assert not any("Health" in k for k, _ in lines(running.deployment.conf.read_text()))
        return  # systemd has no health checks of this kind: Restart=always and the probes of each process
    services = compose()["services"]
    wait_until_accepted(MqttAddress("127.0.0.1", running.port, *next(iter(running.passwords.items()))), timeout=15)
    broker_check = services["broker"]["healthcheck"]["test"]
    assert broker_check[0] == "CMD-SHELL" and " -p 1883 " in broker_check[1]
    up = subprocess.run(["sh", "-c", broker_check[1].replace(" -p 1883 ", f" -p {running.port} ")],
                        capture_output=True, text=True, timeout=30)
    assert up.returncode == 0, up.stdout + up.stderr
    down = subprocess.run(["sh", "-c", broker_check[1].replace(" -p 1883 ", f" -p {free_port()} ")],
                          capture_output=True, text=True, timeout=30)
    assert down.returncode != 0  # nothing listening there: unhealthy
    sync_check = services["broker-accounts"]["healthcheck"]["test"]
    assert sync_check[0] == "CMD-SHELL"
    here = sync_check[1].replace(f"{running.deployment.run_dir}/", f"{running.tmp}/run/")
    assert here != sync_check[1]
    ok = subprocess.run(["sh", "-c", here], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (running.tmp / "run" / "mqtt" / "acl").write_text("")  # not rebuilt yet: unhealthy
    assert subprocess.run(["sh", "-c", here], capture_output=True, timeout=30).returncode != 0
