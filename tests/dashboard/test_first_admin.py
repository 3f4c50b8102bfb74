"""``python -m dashboard --create-admin``: the first administrator of a new production database, as an operator
runs it (a process, the dashboard's own database role, the password from the environment): created with the
admin page's rules and its login-log row, then refused once an administrator exists; bad values refused in
Chinese, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from cityops.settings import PROJECT_ROOT
from tests.fix_db import AsRole, one
from tests.fix_system import new_database


def _create(dsn: str, username: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_")}
    env |= {"CITYOPS_DASHBOARD_DATABASE_URL": dsn, "CITYOPS_ADMIN_PASSWORD": password,
            "CITYOPS_SECRET_KEY": "first-admin-test-key-0123456789abcdef"}
    command = [sys.executable, "-m", "dashboard", "--create-admin", username, "--display-name", "值班管理员"]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_first_administrator_and_only_the_first(pg_dsn: str, as_role: AsRole) -> None:
    owner = new_database(pg_dsn)
    dsn = as_role(owner, "dashboard")
    short = _create(dsn, "ops_admin", "short")
    assert short.returncode == 2 and "密码至少 8 位" in short.stderr
    bad = _create(dsn, "Ops Admin", "Chenzhou-2026-ops")
    assert bad.returncode == 2 and "用户名须为" in bad.stderr
    with psycopg.connect(owner) as conn:
        assert one(conn, "SELECT count(*) FROM users")[0] == 0  # nothing written by a refusal

    made = _create(dsn, "ops_admin", "Chenzhou-2026-ops")
    assert made.returncode == 0, made.stderr
    with psycopg.connect(owner) as conn:
        role, name, must_change = one(conn, "SELECT role, display_name, must_change_password FROM users"
                                            " WHERE username = 'ops_admin'")
        event = one(conn, "SELECT event, actor FROM auth_events WHERE username = 'ops_admin'")
    assert (role, name, must_change) == ("admin", "值班管理员", True)
    assert event == ("account_created", "cli:create-admin")

    again = _create(dsn, "second_admin", "Chenzhou-2026-ops2")
    assert again.returncode == 2 and "已有启用的管理员账号" in again.stderr
    with psycopg.connect(owner) as conn:
        assert one(conn, "SELECT count(*) FROM users")[0] == 1
