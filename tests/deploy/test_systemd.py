"""deploy/systemd/ against the code its units start (the same checks as compose.yaml's), and
`systemd-analyze verify` on every unit and the mosquitto drop-in."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
from gunicorn.config import Config as GunicornConfig

from alerts.outbox import outbox_client_id
from cityops import settings
from cityops.localserver import LocalMosquitto
from cityops.settings import DEMO_SECRET_KEY, PROJECT_ROOT
from simulator.accounts import ALERT_ENGINES, INGEST_WORKERS
from store.roles import production_sql
from tests.deploy.deployfiles import (
    ETC,
    SYSTEMD,
    SYSTEMD_ENV,
    Unit,
    gunicorn_conf,
    instance,
    names_the_code_reads,
    one,
    parse,
    parse_unit,
    parser_in,
    unit_env,
    values,
)

VENV_BIN = "/opt/cityops/.venv/bin/"
TEMPLATES = {"cityops-migrate.service": [None], "cityops-broker-accounts.service": [None],
             "cityops-ingest@.service": [1, 2], "cityops-alerts@.service": [1, 2],
             "cityops-dashboard.service": [None]}
INSTANCES = [(name, n) for name, numbers in TEMPLATES.items() for n in numbers]
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
             "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes",
             "RestrictNamespaces": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
             "SystemCallErrorNumber": "EPERM", "ProtectProc": "invisible", "PrivateMounts": "yes", "UMask": "0077"}
SYSCALLS = ["@system-service", "~@privileged @resources"]


def instance_name(template: str, number: int | None) -> str:
    return template if number is None else template.replace("@.", f"@{number}.")


def load(template: str, number: int | None) -> Unit:
    return parse_unit(instance((SYSTEMD / template).read_text(encoding="utf-8"), number))


def exec_start(unit: Unit) -> list[str]:
    command = one(unit, "Service", "ExecStart").split()
    assert command[0].startswith(VENV_BIN), command
    return [command[0].removeprefix(VENV_BIN), *command[1:]]


def test_one_unit_per_service_and_every_env_file_is_used() -> None:
    assert {p.name for p in SYSTEMD.glob("*.service")} == set(TEMPLATES)
    used = {PurePosixPath(path.removeprefix("-")).name for name, n in INSTANCES
            for path in values(load(name, n), "Service", "EnvironmentFile")}
    assert used == {p.name for p in SYSTEMD_ENV.iterdir()}


@pytest.mark.parametrize(("template", "number"), INSTANCES)
def test_a_unit_runs_as_a_dedicated_user_restarts_and_is_hardened(template: str, number: int | None) -> None:
    unit = load(template, number)
    user = one(unit, "Service", "User")
    assert user == ("mosquitto" if template == "cityops-broker-accounts.service" else "cityops")
    assert one(unit, "Service", "Group") == user
    if template == "cityops-migrate.service":
        assert (one(unit, "Service", "Type"), one(unit, "Service", "RemainAfterExit")) == ("oneshot", "yes")
        assert values(unit, "Service", "Restart") == []
    else:
        assert one(unit, "Service", "Restart") == "always"
        assert "cityops-migrate.service" in one(unit, "Unit", "Requires").split()
        assert "cityops-migrate.service" in one(unit, "Unit", "After").split()
    for key, wanted in HARDENING.items():
        assert one(unit, "Service", key) == wanted, key
    assert values(unit, "Service", "SystemCallFilter") == SYSCALLS
    assert values(unit, "Service", "RemoveIPC") == []  # it would remove the IPC of every unit of the same user
    files = values(unit, "Service", "EnvironmentFile")
    assert files[0] == str(ETC / "cityops.env")
    assert one(unit, "Service", "WorkingDirectory") == "/opt/cityops"  # python -m finds the packages there
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


@pytest.mark.parametrize(("template", "number"), INSTANCES)
def test_every_cityops_variable_is_read_and_each_process_has_its_own_role(template: str, number: int | None) -> None:
    env = unit_env(load(template, number))
    unread = {k for k in env if k.startswith("CITYOPS_")} - names_the_code_reads()
    assert unread == set(), f"{template} sets variables no code reads: {sorted(unread)}"
    cfg = settings.load(env)
    logins = {role: login for login, role in
              re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD :'(\w+)_password' IN ROLE", production_sql())}
    if template == "cityops-migrate.service":
        assert urlsplit(cfg.dsn()).username == settings.OWNER and cfg.role_urls == {}
        return
    role = {"cityops-broker-accounts.service": "ingest", "cityops-dashboard.service": "dashboard"}.get(
        template, template.split("-")[1].split("@")[0])
    assert "CITYOPS_DATABASE_URL" not in env  # the owner's password is for migrate alone
    assert set(cfg.role_urls) == {role}
    assert urlsplit(cfg.dsn(role)).username == logins[role]
    assert "CITYOPS_DEMO" not in env
    assert cfg.timescale == "require"


@pytest.mark.parametrize("number", [1, 2])
def test_an_ingest_instance_is_up_worker_n(number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    unit = load("cityops-ingest@.service", number)
    env = unit_env(unit)
    command = exec_start(unit)
    assert command[:3] == ["python", "-m", "ingest"]
    args = parse(parser_in("ingest", env, monkeypatch), command[3:])
    assert args.command is None and args.share_group == "ingest"
    base = settings.load({}).probe_port_base
    assert (args.client_id, args.metrics_port) == (INGEST_WORKERS[number - 1], base + number)  # as up gives them
    address = settings.load(env).mqtt(args.client_id)
    assert address.username == args.client_id  # its own account, named as its client id
    assert settings.load(env).probe_host == "0.0.0.0"


@pytest.mark.parametrize("number", [1, 2])
def test_an_alerts_instance_is_up_engine_n(number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    unit = load("cityops-alerts@.service", number)
    env = unit_env(unit)
    command = exec_start(unit)
    assert command[:3] == ["python", "-m", "alerts"]
    args = parse(parser_in("alerts", env, monkeypatch), command[3:])
    base = settings.load({}).probe_port_base
    assert (args.name, args.metrics_port) == (ALERT_ENGINES[number - 1], base + 10 + number)
    assert settings.load(env).mqtt(outbox_client_id(args.name)).username == outbox_client_id(args.name)


def test_migrate_and_broker_accounts_run_their_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    migrate = exec_start(load("cityops-migrate.service", None))
    assert migrate == ["python", "-m", "store", "migrate"]
    ok = subprocess.run([sys.executable, *migrate[1:], "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    unit = load("cityops-broker-accounts.service", None)
    sync = exec_start(unit)
    args = parse(parser_in("ingest", unit_env(unit), monkeypatch), sync[3:])
    assert sync[:3] == ["python", "-m", "ingest"] and (args.command, args.action) == ("accounts", "sync")


def test_broker_accounts_writes_where_the_hosts_mosquitto_reads() -> None:
    unit = load("cityops-broker-accounts.service", None)
    run_dir = PurePosixPath(unit_env(unit)["CITYOPS_RUN_DIR"])
    assert one(unit, "Service", "StateDirectory") == str(run_dir.relative_to("/var/lib"))
    local = LocalMosquitto(Path(run_dir / "mqtt"), 1883)
    conf = dict(line.split(" ", 1) for line in (SYSTEMD / "mosquitto.conf").read_text().splitlines()
                if line and not line.startswith("#") and not line.startswith(("log_type", "listener", "use_user")))
    assert (conf["password_file"], conf["acl_file"], conf["pid_file"]) == \
        (str(local.password_path), str(local.acl_path), str(local.pid_path))
    assert conf["user"] == one(unit, "Service", "User")  # the files are 0600: the broker's user writes them
    drop_in = parse_unit((SYSTEMD / "mosquitto.service.d" / "cityops.conf").read_text())
    pre = " ".join(values(drop_in, "Service", "ExecStartPre")).replace("$$", "$")
    assert f"{run_dir} {run_dir / 'mqtt'}" in pre
    assert f"for f in {local.password_path.name} {local.acl_path.name};" in pre
    assert "cityops-broker-accounts.service" in " ".join(values(load("cityops-ingest@.service", 1), "Unit", "After"))


def test_the_dashboard_runs_gunicorn_with_the_projects_config(monkeypatch: pytest.MonkeyPatch) -> None:
    unit = load("cityops-dashboard.service", None)
    env = unit_env(unit)
    command = exec_start(unit)
    assert command[0] == "gunicorn"
    parsed = GunicornConfig().parser().parse_args(command[1:])
    assert (parsed.config, parsed.args) == ("python:dashboard.gunicorn_conf", ["dashboard.wsgi:server"])
    cfg = settings.load(env)
    assert cfg.secret_key != DEMO_SECRET_KEY and env["CITYOPS_METRICS_TOKEN"]
    assert PurePosixPath(str(cfg.run_dir)) == PurePosixPath("/run") / one(unit, "Service", "RuntimeDirectory")
    conf = gunicorn_conf(env, monkeypatch)
    assert conf.bind == f"{cfg.dash_host}:{cfg.dash_port}" == "127.0.0.1:8050"  # behind the reverse proxy
    assert (conf.workers, conf.threads) == (settings.load({}).dash_workers, cfg.dash_threads)  # up's workers
    assert conf._metrics_dir == Path(cfg.run_dir) / "prometheus" / f"dashboard-{cfg.dash_port}"


# --- systemd-analyze verify ---------------------------------------------------------------------------------

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
DEBIAN_MOSQUITTO_UNIT = Path("/lib/systemd/system/mosquitto.service")


def verify(folder: Path, units: list[str]) -> tuple[int, str]:
    proc = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", *units], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def verifiable_copy(tmp: Path) -> list[str]:
    """The units in a folder of their own, their ExecStart's /opt/cityops/.venv replaced by this checkout's
    venv (verify refuses a command that does not exist; nothing else is changed); Debian's mosquitto.service
    beside them with our drop-in."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "python").exists() and (bin_dir / "gunicorn").exists()
    for template in TEMPLATES:
        text = (SYSTEMD / template).read_text(encoding="utf-8")
        assert VENV_BIN in text
        (tmp / template).write_text(text.replace(VENV_BIN, f"{bin_dir}/"))
    assert DEBIAN_MOSQUITTO_UNIT.exists(), "the mosquitto package's unit is missing: apt-get install mosquitto"
    shutil.copy(DEBIAN_MOSQUITTO_UNIT, tmp / "mosquitto.service")
    (tmp / "mosquitto.service.d").mkdir()
    shutil.copy(SYSTEMD / "mosquitto.service.d" / "cityops.conf", tmp / "mosquitto.service.d" / "cityops.conf")
    return [instance_name(t, n) for t, n in INSTANCES] + ["mosquitto.service"]


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    assert Path(SYSTEMD_ANALYZE).exists()
    units = verifiable_copy(tmp_path)
    code, output = verify(tmp_path, units)
    assert (code, output) == (0, "")
    # verify checks ExecStart's binary, not the others': those are Debian's own, so this machine's say
    others = [values(parse_unit((tmp_path / t).read_text()), "Service", key)
              for t in (*TEMPLATES, "mosquitto.service.d/cityops.conf") for key in ("ExecStartPre", "ExecReload")]
    binaries = {line.split()[0].lstrip("+-!@") for found in others for line in found}
    assert binaries == {"/usr/bin/install", "/bin/sh", "/bin/kill"}
    assert all(Path(b).exists() for b in binaries)


@pytest.mark.parametrize(("file", "before", "after"), [
    ("cityops-ingest@.service", "Restart=always", "Restrat=always"),
    ("cityops-dashboard.service", "ProtectSystem=strict", "ProtectSystem=strictly"),
    ("cityops-alerts@.service", "ExecStart=", "ExecStart=/nonexistent/python -m alerts\n#"),
    ("mosquitto.service.d/cityops.conf", "ExecStartPre=/usr/bin/install", "ExecStartPer=/usr/bin/install"),
])
def test_the_same_verify_reports_a_broken_unit(tmp_path: Path, file: str, before: str, after: str) -> None:
    """What the test above relies on: verify's complaints are seen (it exits 0 on some of them)."""
    units = verifiable_copy(tmp_path)
    target = tmp_path / file
    text = target.read_text(encoding="utf-8")
    assert before in text
    target.write_text(text.replace(before, after, 1))
    _, output = verify(tmp_path, units)  # exit code 0 or not: what it says is the finding
    assert output != ""


EXPOSURE_AT_MOST = 20  # systemd-analyze's exposure × 10: 2.0 of 10 ("OK"); these units measure 1.3


def exposure_ok(folder: Path, unit: str) -> bool:
    proc = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", f"--threshold={EXPOSURE_AT_MOST}",
                           "--no-pager", f"./{unit}"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert "Overall exposure level" in proc.stdout, proc.stderr
    return proc.returncode == 0


def test_systemd_analyze_security_rates_every_unit_ok(tmp_path: Path) -> None:
    verifiable_copy(tmp_path)
    for template in TEMPLATES:
        assert exposure_ok(tmp_path, template), template
    # the same measure fails a unit without its hardening
    bare = tmp_path / "bare"
    bare.mkdir()
    text = (tmp_path / "cityops-dashboard.service").read_text(encoding="utf-8")
    hardening = (*HARDENING, "SystemCallFilter", "RestrictAddressFamilies", "RestrictRealtime", "ProtectClock",
                 "ProtectHostname", "SystemCallArchitectures")
    (bare / "cityops-dashboard.service").write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith(tuple(f"{k}=" for k in hardening))))
    assert not exposure_ok(bare, "cityops-dashboard.service")
