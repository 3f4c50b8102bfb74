"""deploy/db/100-cityops-roles.sh as the TimescaleDB image's entrypoint runs it (as the superuser, with the db
service's environment from .env.example) on a fresh PostgreSQL cluster; then the migrations as the owner with
migrate's URL and each runtime process connecting with the URL compose gives it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cityops import settings
from cityops.localserver import LocalPostgres, free_port
from store.migrate import migrate
from store.roles import production_sql
from tests.deploy.deployfiles import DEPLOY, compose, service_env

SCRIPT = DEPLOY / "db" / "100-cityops-roles.sh"
SUPERUSER = "postgres"  # the image's POSTGRES_USER default


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path
    port: int


def test_roles_sql_is_python_m_store_roles_verbatim() -> None:
    assert (DEPLOY / "db" / "roles.sql").read_text(encoding="utf-8") == production_sql()
    assert os.access(SCRIPT, os.X_OK)  # the entrypoint sources a script that is not executable


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A new cluster whose bootstrap superuser is ``postgres``, as in the image (the shared test server's is
    the owner ``cityops`` itself, which the script creates)."""
    tmp = Path(tempfile.mkdtemp(prefix="cityops-dbinit-"))
    tmp.chmod(0o755)
    bindir = LocalPostgres(tmp / "unused", 0).bindir
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data, port = tmp / "data", free_port()
    data.mkdir()
    if as_owner:
        shutil.chown(data, "postgres", "postgres")

    def run(*args: str) -> None:
        proc = subprocess.run([*as_owner, str(bindir / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr or proc.stdout

    run("initdb", "-D", str(data), "-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256",
        "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{data}'\n")
    run("pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-o", f"-p {port}", "-w", "start")
    try:
        yield Cluster(data, port)
    finally:
        run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


def here(url: str, cluster: Cluster) -> str:
    """A compose URL (host db:5432) pointed at the test cluster, with the same user, password and database."""
    parts = conninfo_to_dict(url)
    assert (parts["host"], parts["port"]) == ("db", "5432")
    return make_conninfo(url, host="127.0.0.1", port=str(cluster.port))


def test_the_init_script_makes_what_each_process_connects_as(cluster: Cluster) -> None:
    services = compose()["services"]
    env = dict(os.environ, **service_env(services["db"]), PGHOST=str(cluster.socket_dir), PGPORT=str(cluster.port),
               ROLES_SQL=str(DEPLOY / "db" / "roles.sql"))
    env.pop("POSTGRES_USER", None)  # the image's default, as compose leaves it
    proc = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

    owner = here(settings.load(service_env(services["migrate"])).dsn(), cluster)
    assert migrate(owner, "auto")  # plain PostgreSQL here: compose's server has TimescaleDB (require)
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)

    def role_url(service: str, role: str) -> str:
        return here(settings.load(service_env(services[service])).dsn(role), cluster)

    for service, role in (("ingest-1", "ingest"), ("ingest-2", "ingest"), ("broker-accounts", "ingest"),
                          ("alerts-1", "alerts"), ("alerts-2", "alerts"), ("dashboard", "dashboard")):
        with psycopg.connect(role_url(service, role)) as conn:
            member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER'), rolsuper FROM pg_roles"
                                  " WHERE rolname = current_user", (settings.runtime_role(role),)).fetchone()
            assert member == (True, False), service
    with psycopg.connect(role_url("broker-accounts", "ingest")) as conn:
        conn.execute("SELECT count(*) FROM broker_accounts")  # what the sync reads
    denied = pytest.raises(psycopg.errors.InsufficientPrivilege)
    with psycopg.connect(role_url("dashboard", "dashboard")) as conn, denied:
        conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (now(), 'd', 'm', 1)")
    wrong = make_conninfo(role_url("ingest-1", "ingest"), password="not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()  # the passwords are checked: the ones above were the right ones
