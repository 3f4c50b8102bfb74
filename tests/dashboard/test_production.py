"""A production start (no CITYOPS_DEMO=1) refuses the demo's session key and the demo accounts'
passwords, with a message naming each; the demo itself stays one command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import psycopg
from werkzeug.security import generate_password_hash

from cityops.localserver import free_port
from cityops.settings import DEMO_SECRET_KEY, PROJECT_ROOT
from dashboard.production import demo_secrets
from store.departments import DEMO_DEPARTMENTS
from tests.fix_db import AsRole


def test_the_demo_secrets_are_each_named(demo_db: Callable[[], str]) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        found = demo_secrets(DEMO_SECRET_KEY, conn)
        townships = conn.execute("SELECT count(*) FROM users WHERE role = 'township'").fetchone()
    assert townships is not None and townships[0] > 100
    assert found == ["CITYOPS_SECRET_KEY is unset or the demo's: set a long random value",
                     "account zhihui still has its demo password", "account lingdao still has its demo password",
                     "account admin still has its demo password",
                     f"{townships[0]} township accounts still have the demo password",
                     f"{len(DEMO_DEPARTMENTS)} department accounts still have the demo password",
                     "11 district accounts still have the demo password"]


def test_real_secrets_pass(demo_db: Callable[[], str]) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE users SET password_hash = %s WHERE role <> 'township'",
                     (generate_password_hash("a-real-one-9f2"),))
        conn.execute("UPDATE users SET disabled = true WHERE role = 'township'")  # not yet handed out
        assert demo_secrets("k" * 40, conn) == []


def test_a_production_start_on_demo_secrets_exits_with_the_reasons(demo_db: Callable[[], str],
                                                                   as_role: AsRole) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CITYOPS_DEMO"}
    proc = subprocess.run([sys.executable, "-m", "dashboard", "--dsn", as_role(demo_db(), "dashboard"),
                           "--port", str(free_port())], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode != 0
    assert "refusing a production start" in proc.stderr and "account zhihui still has its demo password" in proc.stderr
