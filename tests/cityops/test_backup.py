"""Back up a database while incidents move, restore it into a fresh server, and go on there."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from werkzeug.security import check_password_hash

from alerts.incidents import act, open_incident
from alerts.lifecycle import Action, Actor, Role
from alerts.locate import Location
from cityops import backup
from cityops.localserver import LocalPostgres
from cityops.settings import PROJECT_ROOT
from tests.fix_db import one, own_postgres


def towns(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT code, parent_code FROM regions JOIN boundary_versions USING (version)"
            " WHERE active AND level = 'township' ORDER BY code LIMIT 5")]


def new_dispatched(conn: psycopg.Connection, township: str, district: str, n: int) -> int:
    incident = open_incident(conn, title=f"备份测试{n}", category="市容", level=3, source_kind="manual",
                             location=Location(113.0, 25.8, district, township, None, None), now=datetime.now(UTC))
    assert incident is not None  # located in a township: routed and dispatched on opening
    conn.commit()
    return incident


@pytest.fixture
def fresh_server() -> Iterator[LocalPostgres]:
    with own_postgres("cityops-restore-") as server:
        yield server


def test_backup_while_running_restore_elsewhere_and_go_on(demo_dsn: str, fresh_server: LocalPostgres,
                                                          tmp_path: Path) -> None:
    places = towns(demo_dsn)
    with psycopg.connect(demo_dsn) as conn:
        for n, (town, district) in enumerate(places):
            new_dispatched(conn, town, district, n)
    stop = threading.Event()
    moved: list[int] = []

    def keep_working() -> None:  # the system runs on during the dump
        with psycopg.connect(demo_dsn) as conn:
            n = 100
            while not stop.is_set():
                town, district = places[n % len(places)]
                moved.append(new_dispatched(conn, town, district, n))
                n += 1

    worker = threading.Thread(target=keep_working)
    worker.start()
    try:
        archive = tmp_path / "cityops.dump"
        held = backup.backup(demo_dsn, archive, bindir=fresh_server.bindir)
    finally:
        stop.set()
        worker.join()
    assert moved, "nothing happened during the backup"
    assert held.rows["incidents"] >= len(places) and held.rows["users"] > 100

    restored = backup.restore(archive, fresh_server.dsn, bindir=fresh_server.bindir)
    assert restored.migrations == held.migrations
    # The dump is one snapshot: what contents() counted right after it may have grown, never the restore.
    assert restored.rows["incidents"] <= held.rows["incidents"]
    for table in ("users", "boundary_versions", "regions", "devices"):
        assert restored.rows[table] == held.rows[table], table

    with psycopg.connect(fresh_server.dsn) as conn:
        # every incident's status is its log's last word (no transition half in the dump)
        assert one(conn, """SELECT count(*) FROM incidents i WHERE status <> (SELECT to_status FROM incident_log l
                            WHERE l.incident_id = i.id ORDER BY id DESC LIMIT 1)""")[0] == 0
        before_max = one(conn, "SELECT max(id) FROM incidents")[0]
        hash_ = one(conn, "SELECT password_hash FROM users WHERE username = 'zhihui'")[0]
        assert check_password_hash(hash_, "zhihui123")

    # The runtime roles of the new server connect with their grants, and the lifecycle goes on.
    with psycopg.connect(fresh_server.role_dsn("cityops_alerts")) as conn:
        town, district = places[0]
        incident = new_dispatched(conn, town, district, 999)
        assert incident > before_max
        act(conn, incident, Action.SIGN, Actor("镇街", Role.TOWNSHIP, town), datetime.now(UTC))
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE incident_log SET note = 'rewritten' WHERE incident_id = %s", (incident,))
    with psycopg.connect(fresh_server.role_dsn("cityops_dashboard")) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,))[0] == "signed"


def test_restore_refuses_a_database_that_is_not_empty(demo_dsn: str, tmp_path: Path) -> None:
    archive = tmp_path / "small.dump"
    backup.backup(demo_dsn, archive)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(archive, demo_dsn)
    with pytest.raises(backup.BackupError, match="not a pg_dump archive"):
        (tmp_path / "junk.dump").write_text("junk")
        backup.restore(tmp_path / "junk.dump", demo_dsn)


def test_the_command_line_prints_what_it_wrote(demo_dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "cli.dump"
    proc = subprocess.run([sys.executable, "-m", "cityops", "backup", "--out", str(out)], cwd=PROJECT_ROOT,
                          env={"PATH": "/usr/bin:/bin", "CITYOPS_DATABASE_URL": demo_dsn,
                               "CITYOPS_RUN_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"backup written: {out}" in proc.stdout and "incidents" in proc.stdout and out.stat().st_size > 10_000
    proc = subprocess.run([sys.executable, "-m", "cityops", "restore", str(tmp_path / "missing.dump")],
                          cwd=PROJECT_ROOT, env={"PATH": "/usr/bin:/bin", "CITYOPS_DATABASE_URL": demo_dsn,
                                                 "CITYOPS_RUN_DIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no backup at" in proc.stderr
