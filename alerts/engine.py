"""The alert engine process: one active instance (PostgreSQL advisory lock), woken by NOTIFY.

A standby instance waits on the lock and takes over when the active one dies (its session,
and with it the lock, ends). Each tick reads the clock once and passes ``now`` down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool

from alerts.evaluate import step
from alerts.rules import ThresholdRule

log = logging.getLogger("cityops.alerts")

ENGINE_LOCK_KEY = 7_244_100


class AlertEngine:
    def __init__(self, dsn: str, pool: ConnectionPool, rules: tuple[ThresholdRule, ...],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), tick_s: float = 1.0) -> None:
        self._dsn = dsn
        self._pool = pool
        self.rules = rules
        self._clock = clock
        self._tick_s = tick_s
        self._stop = threading.Event()
        self.active = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _drain(self) -> None:
        with self._pool.connection() as conn:
            while not self._stop.is_set():
                result = step(conn, self.rules, self._clock())
                if result.batches == 0:
                    return
                if result.warnings_opened or result.incidents_opened or result.warnings_cleared:
                    log.info("evaluated %d batches: %d warnings opened, %d cleared, %d incidents",
                             result.batches, result.warnings_opened, result.warnings_cleared,
                             result.incidents_opened)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, application_name="cityops-alerts-lock") as lock:
                    self._run_with(lock)
            except psycopg.OperationalError as exc:
                self.active.clear()
                log.warning("alert engine lost the database, retrying: %s", exc)
                self._stop.wait(2.0)

    def _run_with(self, lock: psycopg.Connection) -> None:
        while not self._stop.is_set():
            got = lock.execute("SELECT pg_try_advisory_lock(%s)", (ENGINE_LOCK_KEY,)).fetchone()
            if got and got[0]:
                break
            self._stop.wait(2.0)  # standby: another engine is active
        else:
            return
        self.active.set()
        log.info("alert engine active with %d rules", len(self.rules))
        lock.execute("LISTEN alert_inbox")
        while not self._stop.is_set():
            self._drain()
            for _ in lock.notifies(timeout=self._tick_s, stop_after=1):
                pass
