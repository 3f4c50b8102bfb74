"""The pools' check on a real server: a connection handed back a moment ago is not pinged again; one idle
longer, or never handed back, is, so a connection the server dropped is found before a caller gets it."""

from __future__ import annotations

import time

import psycopg
import pytest

from store.db import FRESH_S, _CheckWhenIdle, make_pool


def test_only_a_connection_idle_for_a_while_is_pinged(pg_dsn: str) -> None:
    now = [100.0]
    idle = _CheckWhenIdle(fresh_s=2.0, clock=lambda: now[0])
    with psycopg.connect(pg_dsn, autocommit=True) as conn, psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):  # never handed back: pinged, the drop is found
            idle.check(conn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn, psycopg.connect(pg_dsn, autocommit=True) as admin:
        idle.check(conn)  # alive: nothing raised
        idle.reset(conn)
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        now[0] += 1.0
        idle.check(conn)  # handed back a second ago: not pinged (the drop is not seen yet)
        now[0] += 1.5
        with pytest.raises(psycopg.OperationalError):  # idle 2.5 s: pinged, the drop is found
            idle.check(conn)


def test_a_pool_replaces_the_connections_a_restart_dropped(pg_dsn: str) -> None:
    pool = make_pool(pg_dsn, "check-test", min_size=2, max_size=2)
    try:
        with pool.connection() as conn:
            pids = {conn.info.backend_pid}
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = 'cityops-check-test'")
        time.sleep(FRESH_S + 0.5)  # longer than FRESH_S: the pool pings, finds them dropped, and connects anew
        for _ in range(4):
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
                assert conn.info.backend_pid not in pids
    finally:
        pool.close()
