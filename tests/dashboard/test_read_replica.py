"""The dashboard with a read replica (CITYOPS_DASHBOARD_READ_URL): a real streaming standby (pg_basebackup -R)
of a PostgreSQL server of this test's own. The pages that only read read there: with the standby's replay
paused, the leader cockpit does not see an incident its primary has, and sees it once replay resumes; every
such page opens on the read-only standby (a write there would fail); the desks read the app's primary, here
the session's database (so the leader does not list what the desk does); /readyz names the replica and fails
without it."""

from __future__ import annotations

import importlib
import json
import os
import pwd
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from alerts.incidents import Location, open_incident
from cityops.localserver import LocalPostgres, free_port
from cityops.settings import OWNER, runtime_role
from i18n.timefmt import utcnow
from tests.fix_browser import DashCalls, demo_database, user_session
from tests.fix_db import own_postgres
from tests.fix_system import wait_until

TAG = "只读副本测试"


@dataclass
class Replicated:
    primary: LocalPostgres
    dsn: str  # the owner's URL of the test database on the primary
    replica_dir: Path
    replica_port: int

    def role_url(self, role: str, replica: bool = False) -> str:
        name = runtime_role(role)
        return make_conninfo(self.dsn, user=name, password=self.primary.credentials.password(name),
                             port=str(self.replica_port if replica else self.primary.port))

    def replica_owner(self) -> str:
        return make_conninfo(self.dsn, port=str(self.replica_port))

    def pg_ctl(self, *args: str) -> None:
        self.primary._run("pg_ctl", "-D", str(self.replica_dir), *args)  # as the cluster's OS user


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with own_postgres("cityops-replica-") as primary:
        with (primary.data_dir / "pg_hba.conf").open("a") as hba:  # the standby copies over the socket
            hba.write("local replication all trust\n")
        primary._run("pg_ctl", "-D", str(primary.data_dir), "reload")
        dsn = demo_database(primary.dsn)
        replica = primary.data_dir.parent / "replica"
        replica.mkdir(mode=0o700)
        if os.geteuid() == 0:  # the server runs as OS user postgres, which must own its folder
            pw = pwd.getpwnam("postgres")
            os.chown(replica, pw.pw_uid, pw.pw_gid)
        primary._run("pg_basebackup", "-D", str(replica), "-R", "-X", "stream", "-c", "fast",  # not a spread
                     "-h", str(primary.data_dir), "-p", str(primary.port), "-U", OWNER)  # checkpoint (minutes)
        found = Replicated(primary, dsn, replica, free_port())
        found.pg_ctl("-l", str(replica / "server.log"), "-o", f"-p {found.replica_port} -k {replica}", "-w", "start")
        try:
            yield found
        finally:
            found.pg_ctl("-m", "fast", "-w", "stop")


@pytest.fixture
def app(replicated: Replicated, dash_app: dash.Dash) -> Iterator[dash.Dash]:
    """The session's app with the standby as its read replica (``create_app(read_dsn=...)`` sets the same slot;
    a second app in this process would re-execute the pages' modules under the other tests)."""
    from dashboard.context import READ_EXTENSION
    from dashboard.data import Data
    from store.db import make_pool

    replica = Data(make_pool(replicated.role_url("dashboard", replica=True), "dashboard-replica"))
    dash_app.server.extensions[READ_EXTENSION] = replica
    try:
        yield dash_app
    finally:
        del dash_app.server.extensions[READ_EXTENSION]
        replica.close()


def _incident(dsn: str, title: str) -> int:
    with psycopg.connect(dsn) as conn:
        iid = open_incident(conn, title=title, category="市容", level=3, source_kind="manual",
                            location=Location(113.02, 25.79, "431002", None, None, None), now=utcnow())
        conn.commit()
    assert iid is not None
    return iid


def _on_replica(r: Replicated, title: str) -> bool:
    with psycopg.connect(r.replica_owner()) as conn:
        return conn.execute("SELECT count(*) FROM incidents WHERE title = %s", (title,)).fetchone() == (1,)


def _listed(app: dash.Dash, search: str) -> str:
    leader = importlib.import_module("dashboard.pages.leader")
    with user_session(app, "lingdao"):
        _, count = leader.callbacks.update_list(None, None, None, None, None, None, search)
    return DashCalls.text_of(count)


def test_the_pages_that_only_read_read_the_replica(replicated: Replicated, app: dash.Dash,
                                                   dashboard_dsn: str) -> None:
    first = f"{TAG}甲"
    _incident(replicated.dsn, first)
    wait_until("the standby replays the first incident", lambda: _on_replica(replicated, first))
    assert "共 1 条" in _listed(app, TAG)

    with psycopg.connect(replicated.replica_owner(), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            _incident(replicated.dsn, f"{TAG}乙")
            assert "共 1 条" in _listed(app, TAG)  # the leader reads the standby, paused before it
            on_primary = _incident(dashboard_dsn, f"{TAG}丙")  # the app's primary: the session's database
            from dashboard.context import get_data
            with user_session(app, "zhihui"):  # the desks read the primary
                assert get_data().incident(on_primary) is not None
            assert "共 1 条" in _listed(app, TAG)  # and the leader does not: it reads the standby
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    wait_until("the leader cockpit shows the second incident once replay resumes",
               lambda: "共 2 条" in _listed(app, TAG))


@pytest.mark.parametrize("page, user", [("leader", "lingdao"), ("assessment", "lingdao"),
                                        ("quality", "zhihui"), ("overview", "zhihui")])
def test_each_reading_page_opens_on_the_read_only_standby(replicated: Replicated, app: dash.Dash,
                                                          page: str, user: str) -> None:
    module = importlib.import_module(f"dashboard.pages.{page}")
    with user_session(app, user):
        shown = DashCalls.text_of(module.layout())
    assert "您的角色无权查看此页面" not in shown and "错误" not in shown
    assert len(shown) > 1000


def test_readyz_names_the_replica_and_fails_without_it(replicated: Replicated, app: dash.Dash) -> None:
    client = app.server.test_client()
    ready: dict[str, Any] = json.loads(client.get("/readyz").text)
    assert ready["checks"] == {"database": True, "read_replica": True}
    replicated.pg_ctl("-m", "fast", "-w", "stop")
    try:
        down = client.get("/readyz")
        assert down.status_code == 503 and json.loads(down.text)["checks"]["read_replica"] is False
    finally:
        replicated.pg_ctl("-l", str(replicated.replica_dir / "server.log"), "-o",
                          f"-p {replicated.replica_port} -k {replicated.replica_dir}", "-w", "start")
