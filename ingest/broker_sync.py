"""Keep the embedded broker's password and ACL files equal to the broker_accounts registry.

The files are rebuilt whole from the live accounts and mosquitto re-reads them on SIGHUP: no
restart, no connection dropped but those whose account is gone, no message lost. A change to
the table notifies ``broker_accounts`` (migration 0009), so a device registered while the system
runs can connect within a second; changes that come together are rebuilt once. ``LocalAccounts``
does the same for a broker whose accounts live in the process (a test session's, a benchmark's).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from cityops.localserver import LocalMosquitto
from cityops.mqtt import wait_until_accepted, write_credentials
from cityops.settings import MqttAddress
from ingest.broker_accounts import live
from ingest.broker_acl import BrokerAccount, hash_password, new_password, render

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


class LocalAccounts:
    """Accounts kept by this process instead of a database: a test session's or a benchmark's own broker.

    ``login`` creates an account on first use, installs the files, reloads the broker and waits until
    it accepts the account; the passwords also go to ``credentials`` for child processes.
    """

    def __init__(self, broker: LocalMosquitto, city: str, credentials: Path | None = None) -> None:
        self._broker, self._city, self.credentials = broker, city, credentials
        self._accounts: dict[str, tuple[BrokerAccount, str, str]] = {}  # name → (account, hash, password)
        self._lock = threading.Lock()

    def login(self, account: BrokerAccount) -> MqttAddress:
        with self._lock:
            known = self._accounts.get(account.username)
            if known is None:
                password = new_password()
                self._accounts[account.username] = (account, hash_password(password), password)
                files = render(self._city, [(a, h) for a, h, _ in self._accounts.values()])
                self._broker.install(files.passwords, files.acl)
                self._broker.reload()
                if self.credentials is not None:
                    write_credentials(self.credentials, {account.username: password})
                wait_until_accepted(self._address(account.username))
            elif known[0] != account:
                raise ValueError(f"{account.username!r} is already an account with other grants: {known[0]}")
            return self._address(account.username)

    def _address(self, username: str) -> MqttAddress:
        return MqttAddress("127.0.0.1", self._broker.port, username, self._accounts[username][2])
