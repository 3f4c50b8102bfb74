"""/healthz, /readyz, /metrics over real HTTP, and the heartbeat row each runtime role may write."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from prometheus_client import CollectorRegistry, Counter

from cityops.heartbeat import Heartbeat, beat
from cityops.probe import Readiness, answer, serve
from tests.fix_db import AsRole, one
from tests.fix_system import new_database, wait_until


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_readiness_is_every_check() -> None:
    assert Readiness({"database": True, "broker": True}).ready
    assert not Readiness({"database": True, "broker": False}).ready
    assert Readiness({"database": True}, {"leader": False}).as_json() == {
        "ready": True, "checks": {"database": True}, "leader": False}


def test_a_probe_that_raises_is_not_ready() -> None:
    def broken() -> Readiness:
        raise RuntimeError("pool closed")

    reply = answer("/readyz", broken, CollectorRegistry())
    assert reply.status == 503
    assert json.loads(reply.body) == {"ready": False, "error": "pool closed"}
    assert answer("/nope", broken, CollectorRegistry()).status == 404


@pytest.fixture
def endpoint() -> Iterator[tuple[str, dict[str, bool], Counter]]:
    checks = {"database": True, "broker": True}
    registry = CollectorRegistry()
    counter = Counter("cityops_test_things", "things counted", registry=registry)
    server = serve(0, lambda: Readiness(dict(checks), {"leader": True}), registry)
    yield f"http://127.0.0.1:{server.server_address[1]}", checks, counter
    server.shutdown()
    server.server_close()


def test_endpoints_over_http(endpoint: tuple[str, dict[str, bool], Counter]) -> None:
    url, checks, counter = endpoint
    assert get(f"{url}/healthz") == (200, b'{"alive": true}')
    status, body = get(f"{url}/readyz")
    assert status == 200 and json.loads(body) == {"ready": True, "checks": checks, "leader": True}
    checks["broker"] = False  # the broker went away: not ready, and the reply says which dependency
    status, body = get(f"{url}/readyz")
    assert status == 503 and json.loads(body)["checks"] == {"database": True, "broker": False}
    counter.inc(3)
    status, body = get(f"{url}/metrics")
    assert status == 200 and "cityops_test_things_total 3.0" in body.decode()
    assert get(f"{url}/healthz/../etc")[0] == 404


@pytest.fixture(scope="module")
def heartbeat_db(pg_dsn: str) -> str:
    return new_database(pg_dsn)


def test_heartbeat_thread_writes_and_refreshes_its_row(heartbeat_db: str, as_role: AsRole) -> None:
    ready = {"broker": True}
    heart = Heartbeat(as_role(heartbeat_db, "ingest"), "ingest", "ingest-hb-test",
                      lambda: Readiness(dict(ready), {"lag_s": 0.4}), every_s=0.2).start()
    try:
        with psycopg.connect(heartbeat_db, autocommit=True) as conn:
            def row() -> tuple[bool, dict[str, object], datetime] | None:
                found = conn.execute("SELECT ready, detail, beat_at FROM process_heartbeats WHERE process = %s",
                                     ("ingest-hb-test",)).fetchone()
                return (found[0], found[1], found[2]) if found else None

            first = wait_until("first heartbeat", row, timeout=10)
            assert first[0] is True and first[1]["lag_s"] == 0.4
            ready["broker"] = False
            later = wait_until("a not-ready beat", lambda: (r := row()) and not r[0] and r, timeout=10)
            assert later[2] > first[2] and later[1]["checks"] == {"broker": False}
            heart.stop()  # a clean stop takes its row away; a killed process's stays, silent
            assert row() is None
    finally:
        heart.stop()


@pytest.mark.parametrize("role", ["ingest", "alerts", "dashboard"])
def test_each_role_writes_only_its_own_component(heartbeat_db: str, as_role: AsRole, role: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(as_role(heartbeat_db, role), autocommit=True) as conn:
        beat(conn, role, f"{role}-own", now - timedelta(minutes=1), Readiness({"database": True}), now)
        for other in {"ingest", "alerts", "dashboard"} - {role}:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                beat(conn, other, f"{role}-posing-as-{other}", now, Readiness({"database": True}), now)
            # nor take over a row the other component wrote
            conn.execute("UPDATE process_heartbeats SET ready = false WHERE component = %s", (other,))
        assert one(conn, "SELECT count(*) FROM process_heartbeats WHERE component = %s", (role,))[0] >= 1
    with psycopg.connect(heartbeat_db) as conn:
        assert one(conn, "SELECT count(*) FROM process_heartbeats WHERE process LIKE %s", ("%posing%",))[0] == 0
        assert one(conn, "SELECT count(*) FROM process_heartbeats WHERE process LIKE '%%-own' AND NOT ready")[0] == 0
