"""One named connection pool per process; a connection idle for a while is checked before use."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

import psycopg
from psycopg_pool import ConnectionPool

FRESH_S = 2.0  # a connection given back this recently answered a moment ago: it is not pinged again


class _CheckWhenIdle:
    """The pool's ``check`` and ``reset``: ping (one round trip) only a connection that has been idle longer than
    ``fresh_s``. A busy dashboard worker takes a connection back within milliseconds, and the ping on every
    checkout was a quarter of a township poll's work (issue 19). A server that restarted (seconds) leaves
    every connection idle longer than that, so each is pinged and replaced before use, as before."""

    def __init__(self, fresh_s: float = FRESH_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._fresh_s = fresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()

    def reset(self, conn: psycopg.Connection) -> None:
        with self._lock:
            self._returned[conn] = self._clock()

    def check(self, conn: psycopg.Connection) -> None:
        with self._lock:
            returned = self._returned.get(conn)
        if returned is None or self._clock() - returned > self._fresh_s:
            ConnectionPool.check_connection(conn)


def make_pool(
    dsn: str,
    name: str,
    *,
    min_size: int = 1,
    max_size: int = 4,
    configure: Callable[[psycopg.Connection], None] | None = None,
    timeout: float = 30.0,
) -> ConnectionPool:
    idle = _CheckWhenIdle()
    pool = ConnectionPool(
        dsn,
        name=name,
        min_size=min_size,
        max_size=max_size,
        check=idle.check,
        reset=idle.reset,
        configure=configure,
        kwargs={"application_name": f"cityops-{name}"},
        open=False,
    )
    pool.open(wait=True, timeout=timeout)
    return pool
