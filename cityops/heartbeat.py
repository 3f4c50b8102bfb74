"""A process's heartbeat row (store/migrations/0013_process_heartbeats.sql): every few seconds it writes
whether it is ready and what it measures of itself, so the admin page can show every process of the
system, on any machine, from the database they all share.

The beat runs on a thread of its own with its own connection: a process busy with a long batch still
beats, and one that lost the database says so in its readiness once it is back (the row's age says it
in the meantime). A clean stop deletes the row; a killed process leaves it, silent, for the operator.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from cityops.probe import Probe, Readiness

log = logging.getLogger("cityops.heartbeat")

BEAT_EVERY_S = 5.0

_UPSERT = """
INSERT INTO process_heartbeats (component, process, host, pid, started_at, beat_at, ready, detail)
VALUES (%(component)s, %(process)s, %(host)s, %(pid)s, %(started_at)s, %(beat_at)s, %(ready)s, %(detail)s)
ON CONFLICT (component, process) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
    started_at = EXCLUDED.started_at, beat_at = EXCLUDED.beat_at, ready = EXCLUDED.ready, detail = EXCLUDED.detail
"""


def beat(conn: psycopg.Connection, component: str, process: str, started_at: datetime, readiness: Readiness,
         now: datetime) -> None:
    conn.execute(_UPSERT, {"component": component, "process": process, "host": socket.gethostname(),
                           "pid": os.getpid(), "started_at": started_at, "beat_at": now,
                           "ready": readiness.ready,
                           "detail": json.dumps(readiness.as_json(), ensure_ascii=False, default=str)})


class Heartbeat:
    def __init__(self, dsn: str, component: str, process: str, probe: Probe, *,
                 every_s: float = BEAT_EVERY_S, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._dsn = dsn
        self.component = component
        self.process = process
        self._probe = probe
        self._every_s = every_s
        self._clock = clock
        self.started_at = clock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{component}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every_s + 5)

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        failing = False
        while True:
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5,
                                           application_name=f"cityops-{self.component}-heartbeat")
                beat(conn, self.component, self.process, self.started_at, self._readiness(), self._clock())
                if failing:
                    log.info("heartbeat written again")
                failing = False
            except psycopg.Error as exc:
                if not failing:  # once per outage, not every beat
                    log.warning("heartbeat not written (%s): the admin page will show this process as silent", exc)
                failing = True
                if conn is not None:
                    conn.close()
                conn = None
            if self._stop.wait(self._every_s):
                break
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # a clean stop is no news: the row goes (kill -9 leaves it)
                conn.execute("DELETE FROM process_heartbeats WHERE component = %s AND process = %s",
                             (self.component, self.process))
            conn.close()

    def _readiness(self) -> Readiness:
        try:
            return self._probe()
        except Exception as exc:  # a failing probe is a not-ready process, still alive enough to say so
            return Readiness({"probe": False}, {"error": str(exc)})
