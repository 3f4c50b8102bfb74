"""deploy/compose.yaml against the code it starts: commands, settings, probes, accounts, and up's topology."""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from gunicorn.config import Config as GunicornConfig

from alerts.outbox import outbox_client_id
from cityops import settings
from cityops.localserver import LocalMosquitto
from cityops.localtls import tls_files
from cityops.settings import DEMO_SECRET_KEY, PROJECT_ROOT
from ingest.broker_acl import render
from simulator.accounts import ALERT_ENGINES, INGEST_WORKERS
from store.roles import production_sql
from tests.deploy.deployfiles import (
    ALERTS,
    CITYOPS_SERVICES,
    DEPLOY,
    ENV_EXAMPLE,
    INGEST,
    LONG_RUNNING_WITH_PROBE,
    MissingVariable,
    compose,
    compose_raw,
    gunicorn_conf,
    interpolate,
    mounts,
    names_the_code_reads,
    parse,
    parser_in,
    read_env_file,
    referenced,
    service_env,
)

SERVICES = compose()["services"]
IMAGE_OF_DOCKERFILE = "cityops:local"


def env_of(name: str) -> dict[str, str]:
    return service_env(SERVICES[name])


def cfg_of(name: str) -> settings.Settings:
    return settings.load(env_of(name))


def cli_parser(module: str, name: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    return parser_in(module, env_of(name), monkeypatch)


def served_port(name: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """The port the service's process serves /readyz on, as the code works it out from its command and env."""
    command = SERVICES[name]["command"]
    if name == "dashboard":
        return cfg_of(name).dash_port
    module = command[2]
    port = parse(cli_parser(module, name, monkeypatch), command[3:]).metrics_port
    assert isinstance(port, int) and port > 0, f"{name} serves no probe (metrics port {port})"
    return port


# --- the file itself -------------------------------------------------------------------------------------

def test_the_services_are_the_topology_and_the_images_are_pinned() -> None:
    assert set(SERVICES) == {"db", "broker", *CITYOPS_SERVICES}
    assert re.fullmatch(r"timescale/timescaledb:\d+\.\d+\.\d+-pg\d+", SERVICES["db"]["image"])
    assert re.fullmatch(r"eclipse-mosquitto:2\.0\.\d+", SERVICES["broker"]["image"])
    for name in CITYOPS_SERVICES:
        service = SERVICES[name]
        assert service["image"] == IMAGE_OF_DOCKERFILE
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == \
            DEPLOY / "Dockerfile"
        assert service["restart"] == ("no" if name == "migrate" else "always")


def test_every_variable_it_interpolates_is_in_env_example_and_the_example_holds_no_secret() -> None:
    example = read_env_file(ENV_EXAMPLE)
    wanted = referenced(yaml.safe_dump(compose_raw()))  # its values, not its comments
    assert wanted <= set(example), f"not in .env.example: {sorted(wanted - set(example))}"
    assert set(example) <= wanted, f"in .env.example but unused: {sorted(set(example) - wanted)}"
    secrets = {k: v for k, v in example.items() if k.endswith(("_PASSWORD", "_KEY", "_TOKEN"))}
    assert secrets and all(v.startswith("change-me") for v in secrets.values()), secrets
    # Every secret is required (${VAR:?…}): a missing one stops compose instead of starting on "".
    for key in secrets:
        with pytest.raises(MissingVariable):
            compose({k: v for k, v in example.items() if k != key})
    assert interpolate("a$$b ${X:-d} ${Y}", {"Y": "y"}) == "a$b d y"


# --- commands ----------------------------------------------------------------------------------------------

def test_migrate_runs_store_migrate() -> None:
    command = SERVICES["migrate"]["command"]
    assert command == ["python", "-m", "store", "migrate"]
    # store's parser is made inside main(): ask the module itself whether the subcommand exists
    ok = subprocess.run([sys.executable, "-m", *command[2:], "--help"], cwd=PROJECT_ROOT, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and "usage: python -m store migrate" in ok.stdout, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "store", "migrat", "--help"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2  # the same check refuses a misspelt one


def test_broker_accounts_runs_the_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    command = SERVICES["broker-accounts"]["command"]
    assert command[:3] == ["python", "-m", "ingest"]
    args = parse(cli_parser("ingest", "broker-accounts", monkeypatch), command[3:])
    assert (args.command, args.action) == ("accounts", "sync")


@pytest.mark.parametrize("name", INGEST)
def test_an_ingest_worker_runs_the_worker_with_its_client_id_and_probe(name: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    command = SERVICES[name]["command"]
    assert command[:3] == ["python", "-m", "ingest"]
    args = parse(cli_parser("ingest", name, monkeypatch), command[3:])
    assert args.command is None and not args.retire  # the worker, not a subcommand
    env = env_of(name)
    assert args.client_id == env["CITYOPS_INGEST_CLIENT_ID"] != ""
    assert args.share_group == "ingest"
    assert args.metrics_port > 0


@pytest.mark.parametrize("name", ALERTS)
def test_an_alert_engine_runs_with_its_name_and_probe(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    command = SERVICES[name]["command"]
    assert command[:3] == ["python", "-m", "alerts"]
    args = parse(cli_parser("alerts", name, monkeypatch), command[3:])
    assert args.name == env_of(name)["CITYOPS_ALERTS_NAME"] == name
    assert args.metrics_port > 0 and not args.poll_only


def test_the_dashboard_runs_gunicorn_with_the_projects_config(monkeypatch: pytest.MonkeyPatch) -> None:
    command = SERVICES["dashboard"]["command"]
    assert command[0] == "gunicorn"
    parsed = GunicornConfig().parser().parse_args(command[1:])
    assert parsed.config == "python:dashboard.gunicorn_conf"
    assert parsed.args == ["dashboard.wsgi:server"]
    module, attribute = parsed.args[0].split(":")
    tree = ast.parse((PROJECT_ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    assert attribute in assigned  # not imported here: the WSGI module connects to the database
    conf = gunicorn_conf(env_of("dashboard"), monkeypatch)
    cfg = cfg_of("dashboard")
    assert conf.bind == f"0.0.0.0:{cfg.dash_port}"
    assert (conf.workers, conf.threads, conf.worker_class) == (cfg.dash_workers, cfg.dash_threads, "gthread")


# --- settings ----------------------------------------------------------------------------------------------

def test_every_cityops_variable_set_is_one_the_code_reads() -> None:
    read = names_the_code_reads()
    assert {"CITYOPS_INGEST_DATABASE_URL", "CITYOPS_PROBE_HOST", "CITYOPS_LOG_FORMAT"} <= read  # the scan works
    for name in CITYOPS_SERVICES:
        unread = {k for k in env_of(name) if k.startswith("CITYOPS_")} - read
        assert unread == set(), f"{name} sets variables no code reads: {sorted(unread)}"


def role_logins() -> dict[str, str]:
    """role → the login `python -m store roles` makes for it."""
    found = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD :'(\w+)_password' IN ROLE", production_sql()))
    return {role: login for login, role in found.items()}


DB_PASSWORD_VAR = {"owner": "DB_OWNER_PASSWORD", "ingest": "DB_INGEST_PASSWORD", "alerts": "DB_ALERTS_PASSWORD",
                   "dashboard": "DB_DASHBOARD_PASSWORD"}


def test_the_db_service_passes_every_password_the_role_sql_asks_for() -> None:
    asked = set(re.findall(r":'(\w+)_password'", production_sql()))
    assert asked == set(DB_PASSWORD_VAR)
    script = (DEPLOY / "db" / "100-cityops-roles.sh").read_text(encoding="utf-8")
    passed = dict(re.findall(r'-v (\w+)_password="\$\{(\w+):\?', script))
    assert passed == DB_PASSWORD_VAR
    raw_env = service_env(compose_raw()["services"]["db"])
    for variable in DB_PASSWORD_VAR.values():
        assert referenced(raw_env[variable]) == {variable}


def check_role_url(url: str, role: str | None, raw: str) -> None:
    parts = urlsplit(url)
    login = settings.OWNER if role is None else role_logins()[role]
    assert (parts.scheme, parts.username, parts.hostname, parts.port, parts.path) == \
        ("postgresql", login, "db", 5432, "/cityops")
    assert f"${{{DB_PASSWORD_VAR[role or 'owner']}:?" in raw  # the very password the db service was given


@pytest.mark.parametrize("name", CITYOPS_SERVICES)
def test_each_process_connects_as_its_own_role_and_no_other(name: str) -> None:
    env, raw = env_of(name), service_env(compose_raw()["services"][name])
    cfg = settings.load(env)
    role = {"migrate": None, "broker-accounts": "ingest", "dashboard": "dashboard"}.get(name, name.split("-")[0])
    if role is None:
        check_role_url(cfg.dsn(), None, raw["CITYOPS_DATABASE_URL"])
        assert set(cfg.role_urls) == set()
    else:
        variable = f"CITYOPS_{role.upper()}_DATABASE_URL"
        check_role_url(cfg.dsn(role), role, raw[variable])
        assert "CITYOPS_DATABASE_URL" not in env  # the owner's password stays with migrate
        assert set(cfg.role_urls) == {role}
    assert "CITYOPS_DEMO" not in env  # production: the dashboard refuses the demo's secrets
    assert cfg.timescale == "require" and cfg.city == "chenzhou"


@pytest.mark.parametrize("name", [*INGEST, *ALERTS])
def test_each_broker_client_logs_in_with_its_own_account(name: str) -> None:
    cfg = cfg_of(name)
    env = env_of(name)
    account = env["CITYOPS_INGEST_CLIENT_ID"] if name in INGEST else outbox_client_id(env["CITYOPS_ALERTS_NAME"])
    address = cfg.mqtt(account)
    assert (address.host, address.port, address.tls) == ("broker", 1883, False)
    assert address.username == account  # the embedded broker's rule: the user name is the client id
    number = name.split("-")[1]
    variable = f"MQTT_{name.split('-')[0].upper()}_{number}_PASSWORD"
    assert referenced(service_env(compose_raw()["services"][name])["CITYOPS_MQTT_URL"]) == {variable}


def test_the_dashboard_has_its_secret_and_listens_for_the_network() -> None:
    cfg, env = cfg_of("dashboard"), env_of("dashboard")
    assert cfg.secret_key != DEMO_SECRET_KEY and cfg.secret_key == read_env_file(ENV_EXAMPLE)["DASHBOARD_SECRET_KEY"]
    assert env["CITYOPS_METRICS_TOKEN"]  # Prometheus is not on the dashboard's loopback
    assert cfg.dash_host == "0.0.0.0"
    published = SERVICES["dashboard"]["ports"]
    assert published == [f"{read_env_file(ENV_EXAMPLE)['DASHBOARD_PORT']}:{cfg.dash_port}"]


# --- health -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LONG_RUNNING_WITH_PROBE)
def test_each_healthcheck_asks_readyz_on_the_port_its_process_serves(name: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "cityops.healthcheck"] and len(test) == 5
    assert importlib.util.find_spec("cityops.healthcheck") is not None
    url = urlsplit(test[4])
    assert (url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/readyz")
    assert url.port == served_port(name, monkeypatch)
    if name != "dashboard":
        assert cfg_of(name).probe_host == "0.0.0.0"  # served beyond the container, for Prometheus


def test_the_ingest_workers_share_one_group_with_distinct_client_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    groups, ids, ports = set(), [], []
    for name in INGEST:
        args = parse(cli_parser("ingest", name, monkeypatch), SERVICES[name]["command"][3:])
        groups.add(args.share_group)
        ids.append(args.client_id)
        ports.append(args.metrics_port)
    assert groups == {"ingest"}
    assert len(set(ids)) == len(ids) == len(INGEST)


def test_the_topology_is_the_one_up_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ingest workers and two engines named and probed as `up` does (simulator/accounts.py; ports from
    probe_port_base as up gives them), the dashboard with up's gunicorn workers."""
    base = settings.load({}).probe_port_base
    workers = {}
    for name in INGEST:
        args = parse(cli_parser("ingest", name, monkeypatch), SERVICES[name]["command"][3:])
        workers[args.client_id] = args.metrics_port
    assert workers == {worker: base + i for i, worker in enumerate(INGEST_WORKERS, start=1)}
    engines = {}
    for name in ALERTS:
        args = parse(cli_parser("alerts", name, monkeypatch), SERVICES[name]["command"][3:])
        engines[args.name] = args.metrics_port
    assert engines == {engine: base + 10 + i for i, engine in enumerate(ALERT_ENGINES, start=1)}
    assert cfg_of("dashboard").dash_workers == settings.load({}).dash_workers  # up sets none: the default
    up_source = (PROJECT_ROOT / "cityops" / "__main__.py").read_text(encoding="utf-8")
    assert '"-c", "python:dashboard.gunicorn_conf", "dashboard.wsgi:server"' in up_source
    assert '"ingest", "accounts", "sync"' in up_source


@pytest.mark.parametrize("name", CITYOPS_SERVICES)
def test_every_process_waits_for_the_migrations(name: str) -> None:
    depends = SERVICES[name].get("depends_on", {})
    if name == "migrate":
        assert depends == {"db": {"condition": "service_healthy"}}
        return
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    if name in (*INGEST, *ALERTS):
        assert depends["broker-accounts"] == {"condition": "service_healthy"}


def test_the_db_initialises_the_roles_and_reports_ready() -> None:
    db = SERVICES["db"]
    volumes = mounts(db)
    init = [t for t in volumes if t.startswith("/docker-entrypoint-initdb.d/")]
    assert [volumes[t] for t in init] == ["./db/100-cityops-roles.sh"]
    script = (DEPLOY / "db" / "100-cityops-roles.sh").read_text(encoding="utf-8")
    default_sql = re.search(r'\$\{ROLES_SQL:-([^}]+)\}', script)
    assert default_sql and volumes[default_sql.group(1)] == "./db/roles.sql"
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "POSTGRES_DB" not in service_env(db)  # roles.sql creates the database cityops itself


# --- the broker and its accounts ----------------------------------------------------------------------------

def mosquitto_conf() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            found.setdefault(key, []).append(value)
    return found


def test_broker_accounts_writes_where_the_broker_reads_and_signals_it() -> None:
    broker, sync = SERVICES["broker"], SERVICES["broker-accounts"]
    assert sync["pid"] == "service:broker"  # the pid in the pid file is one it can see
    assert sync["user"] == "1883:1883"  # eclipse-mosquitto's uid: reads the 0600 files, may be signalled
    assert sync["depends_on"]["broker"]["condition"] == "service_started"
    run_dir = PurePosixPath(env_of("broker-accounts")["CITYOPS_RUN_DIR"])
    local = LocalMosquitto(Path(run_dir / "mqtt"), 1883)  # the paths run_accounts uses
    volume = mounts(sync)[str(run_dir / "mqtt")]
    assert not volume.startswith((".", "/"))  # a named volume, shared with the broker
    broker_dir = PurePosixPath(next(t for t, s in mounts(broker).items() if s == volume))
    conf = mosquitto_conf()
    for key, path in (("password_file", local.password_path), ("acl_file", local.acl_path),
                      ("pid_file", local.pid_path)):
        assert conf[key] == [str(broker_dir / path.name)]
    command = " ".join(broker["command"])
    conf_target = next(t for t, s in mounts(broker).items() if s == "./mosquitto/mosquitto.conf")
    assert command.rstrip().endswith(f"exec /usr/sbin/mosquitto -c {conf_target}")
    # the two files made empty before the first start
    assert f"for f in {local.password_path.name} {local.acl_path.name};" in command
    assert f"[ -e {broker_dir}/$f ]" in command
    cert_dir = PurePosixPath(next(t for t, s in mounts(broker).items() if s == "./mosquitto/certs"))
    names = tls_files(cert_dir)
    assert (conf["cafile"], conf["certfile"], conf["keyfile"]) == \
        ([str(names.ca_cert)], [str(names.server_cert)], [str(names.server_key)])
    check = sync["healthcheck"]["test"][1]
    first_line = render("chenzhou", []).acl.splitlines()[0]
    grep = re.search(r"grep -q '\^([^']+)' (\S+)", check)
    assert grep and first_line.startswith(grep.group(1)) and grep.group(2) == str(local.acl_path)
    assert f"kill -0 \"$(cat {local.pid_path})\"" in check


def test_the_broker_listens_inside_the_network_and_publishes_only_tls() -> None:
    conf = mosquitto_conf()
    assert conf["listener"] == ["1883", "8883"]
    assert SERVICES["broker"]["ports"] == [f"{read_env_file(ENV_EXAMPLE)['MQTT_TLS_PORT']}:8883"]
