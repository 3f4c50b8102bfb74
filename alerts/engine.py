"""The alert engine process: one active instance (PostgreSQL advisory lock), woken by NOTIFY.

A standby instance waits on the lock and takes over when the active one dies (its
session, and with it the lock, ends). Evaluation runs as data commits; one timer reads
the clock once per tick and passes ``now`` down (silent devices, overdue incidents).
The MQTT outbox is drained after each round, so township apps hear of dispatches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool

from alerts.evaluate import step, tick
from alerts.observe import AlertMetrics
from alerts.outbox import Publisher, drain_outbox
from alerts.rules import Rule

log = logging.getLogger("cityops.alerts")

ENGINE_LOCK_KEY = 7_244_100


class AlertEngine:
    def __init__(self, dsn: str, pool: ConnectionPool, rules: tuple[Rule, ...], *,
                 publisher: Publisher | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 wake_s: float = 1.0, tick_s: float = 10.0, standby_poll_s: float = 2.0,
                 listen: bool = True, metrics: AlertMetrics | None = None) -> None:
        self._dsn = dsn
        self._pool = pool
        self.rules = rules
        self._publisher = publisher
        self._clock = clock
        self._wake_s = wake_s
        self._tick_s = tick_s
        self._standby_poll_s = standby_poll_s
        self._listen = listen  # False: poll every wake_s only (the benchmark's baseline)
        self._stop = threading.Event()
        self.active = threading.Event()
        self._metrics = metrics

    def stop(self) -> None:
        self._stop.set()

    def _drain(self) -> None:
        with self._pool.connection() as conn:
            while not self._stop.is_set():
                batches, t = step(conn, self.rules, self._clock())
                if batches == 0:
                    return
                if self._metrics is not None:
                    self._metrics.evaluated(batches, t)
                if t.incidents or t.relevelled:
                    self._announce()  # under steady load the inbox never empties: tell the townships now
                if t.opened or t.cleared or t.incidents or t.relevelled or t.suppressed:
                    log.info("evaluated %d batches: %d warnings opened, %d cleared, %d incidents, %d level changes,"
                             " %d suppressed", batches, t.opened, t.cleared, t.incidents, t.relevelled, t.suppressed)

    def _tick(self) -> None:
        with self._pool.connection() as conn:
            t = tick(conn, self.rules, self._clock())
            if self._metrics is not None:
                self._metrics.record(t)
            if t.opened or t.cleared:
                log.info("timer: %d warnings opened, %d cleared", t.opened, t.cleared)

    def _announce(self) -> None:
        if self._publisher is not None:
            with self._pool.connection() as conn:
                drain_outbox(conn, self._publisher)

    def _set_active(self, active: bool) -> None:
        if active:
            self.active.set()
        else:
            self.active.clear()
        if self._metrics is not None:
            self._metrics.leader.set(1 if active else 0)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, application_name="cityops-alerts-lock") as lock:
                    self._run_with(lock)
            except psycopg.OperationalError as exc:
                self._set_active(False)
                log.warning("alert engine lost the database, retrying: %s", exc)
                self._stop.wait(2.0)

    def _run_with(self, lock: psycopg.Connection) -> None:
        while not self._stop.is_set():
            got = lock.execute("SELECT pg_try_advisory_lock(%s)", (ENGINE_LOCK_KEY,)).fetchone()
            if got and got[0]:
                break
            self._stop.wait(self._standby_poll_s)  # standby: another engine is active
        else:
            return
        self._set_active(True)
        log.info("alert engine active with %d rules", len(self.rules))
        if self._listen:
            lock.execute("LISTEN alert_inbox")
        next_tick = 0.0
        while not self._stop.is_set():
            self._drain()
            if time.monotonic() >= next_tick:
                self._tick()
                next_tick = time.monotonic() + self._tick_s
            self._announce()
            if self._listen:
                for _ in lock.notifies(timeout=self._wake_s, stop_after=1):
                    pass
            else:
                self._stop.wait(self._wake_s)
