"""Keep the embedded broker's password and ACL files equal to the broker_accounts registry.

The files are rebuilt whole from the live accounts and mosquitto re-reads them on SIGHUP: no
restart, no connection dropped but those whose account is gone, no message lost. A change to
the table notifies ``broker_accounts`` (migration 0009), so a device registered while the system
runs can connect within a second; changes that come together are rebuilt once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import psycopg

from cityops.localserver import LocalMosquitto
from ingest.broker_accounts import live
from ingest.broker_acl import render

log = logging.getLogger("cityops.ingest.broker_sync")
_SETTLE_S = 0.2  # after a notice, wait this long for the rest of a burst of changes


@dataclass(frozen=True, slots=True)
class Rebuilt:
    accounts: int
    seconds: float  # read, rendered, written and signalled


def rebuild(conn: psycopg.Connection, broker: LocalMosquitto, city: str) -> Rebuilt:
    start = time.perf_counter()
    accounts = live(conn)
    conn.commit()  # end the read: a connection that waits for notices must not sit in a transaction
    files = render(city, accounts)
    broker.install(files.passwords, files.acl)
    broker.reload()
    return Rebuilt(len(accounts), time.perf_counter() - start)


def keep_in_sync(dsn: str, broker: LocalMosquitto, city: str, stop: threading.Event) -> None:
    """Rebuild now and after every change until ``stop``; a lost database connection raises (the
    supervisor restarts this process, which rebuilds at start)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("LISTEN broker_accounts")  # before the first rebuild: no change can fall between
        while not stop.is_set():
            done = rebuild(conn, broker, city)
            log.info("broker accounts rebuilt: %d live, %.0f ms; mosquitto reloaded", done.accounts,
                     done.seconds * 1000)
            if not _wait_for_change(conn, stop):
                return


def _wait_for_change(conn: psycopg.Connection, stop: threading.Event) -> bool:
    while not stop.is_set():
        if list(conn.notifies(timeout=0.5, stop_after=1)):
            for _ in conn.notifies(timeout=_SETTLE_S):
                pass  # the rest of a burst: one rebuild covers it
            return True
    return False
