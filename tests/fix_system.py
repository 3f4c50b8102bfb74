"""Fixtures that run cityops' own processes against the real database and broker.

Each test module that needs the whole pipeline gets its own database on the session's
PostgreSQL, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from cityops.localserver import LocalMosquitto
from cityops.processes import stop as stop_process
from cityops.settings import DB_ROLES, PROJECT_ROOT
from store.migrate import migrate
from tests.fix_db import AsRole
from tests.fix_mqtt import service_url


def new_database(server_dsn: str) -> str:
    name = f"cityops_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = make_conninfo(server_dsn, dbname=name)
    migrate(dsn, "auto")
    return dsn


def demo_city_database(server_dsn: str) -> str:
    """A fresh database with the demo layers and the demo's devices registered (as ``up`` has them)."""
    from layers.loader import load_demo_layers
    from simulator.__main__ import register

    dsn = new_database(server_dsn)
    load_demo_layers(dsn)
    register(dsn, seed=20261122)
    return dsn


@pytest.fixture(scope="module")
def demo_dsn(pg_dsn: str) -> str:
    """A fresh, migrated database with the demo layers, devices and users loaded."""
    from dashboard.auth import seed_demo_users

    dsn = demo_city_database(pg_dsn)
    with psycopg.connect(dsn) as conn:
        seed_demo_users(conn)
    return dsn


class Service:
    """``python -m <module>`` as a real child process with the test's settings."""

    def __init__(self, module: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.module, self.args, self.env, self.log_path = module, args, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", self.module, *self.args], env=self.env,
                                         cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=20, sig=sig)
        self.proc = None

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        wait_until(f"{self.module} to log {text!r}", lambda: text in self.log(), timeout, self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


ServiceFactory = Callable[..., Service]


@pytest.fixture
def services(broker: LocalMosquitto, tmp_path: Path, as_role: AsRole) -> Iterator[ServiceFactory]:
    """Start cityops processes; all are stopped at the end of the test."""
    started: list[Service] = []

    def start(module: str, dsn: str, *args: str, city: str = "chenzhou") -> Service:
        # Each process connects as its own role, as `up` runs it; the owner's URL for what it runs as an admin.
        roles = {f"CITYOPS_{r.upper()}_DATABASE_URL": as_role(dsn, r) for r in DB_ROLES}
        # And logs in to the broker as its own account (ingest and alerts: one per instance name).
        env = dict(os.environ, CITYOPS_DATABASE_URL=dsn, CITYOPS_MQTT_URL=service_url(broker.port, module, list(args)),
                   CITYOPS_CITY=city, PYTHONUNBUFFERED="1", CITYOPS_DEMO="1", **roles)
        svc = Service(module, list(args), env, tmp_path / f"{module}-{len(started)}.log").start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


T = TypeVar("T")


def wait_until(what: str, check: Callable[[], T | None], timeout: float = 30.0,
               logs: Callable[[], str] | None = None) -> T:
    """Poll until ``check()`` is truthy; fail naming what never happened (with service logs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs() if logs else ''}")
