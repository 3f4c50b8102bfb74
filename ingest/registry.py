"""Device registry cache: registered devices with their site and region codes.

Loaded whole at start; a miss asks the database once (a device registered after start)
and remembers the answer briefly so a flood of unknown ids cannot flood the database.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg.rows import kwargs_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ingest.decode import DeviceInfo, DeviceLookupUnavailable

_SELECT = "SELECT device_id, device_type, lon, lat, district_code, township_code, grid_code, gateway FROM devices"


def _entry(*, device_id: str, **info: Any) -> tuple[str, DeviceInfo]:
    """A row of ``_SELECT`` as (device id, what ingest needs to know of it)."""
    return device_id, DeviceInfo(**info)


_ENTRY = kwargs_row(_entry)


class DeviceRegistry:
    def __init__(self, pool: ConnectionPool, *, negative_ttl: float = 30.0) -> None:
        self._pool = pool
        self._known: dict[str, DeviceInfo] = {}
        self._unknown_until: dict[str, float] = {}
        self._negative_ttl = negative_ttl

    def refresh(self) -> int:
        with self._pool.connection() as conn, conn.cursor(row_factory=_ENTRY) as cur:
            self._known = dict(cur.execute(_SELECT).fetchall())
        self._unknown_until.clear()
        return len(self._known)

    def __call__(self, device_id: str) -> DeviceInfo | None:
        info = self._known.get(device_id)
        if info is not None:
            return info
        if self._unknown_until.get(device_id, 0.0) > time.monotonic():
            return None
        try:
            with self._pool.connection(timeout=5) as conn, conn.cursor(row_factory=_ENTRY) as cur:
                row = cur.execute(_SELECT + " WHERE device_id = %s", (device_id,)).fetchone()
        except (psycopg.Error, PoolTimeout) as exc:
            raise DeviceLookupUnavailable(f"device registry unavailable: {type(exc).__name__}: {exc}") from exc
        if row is None:
            self._unknown_until[device_id] = time.monotonic() + self._negative_ttl
            return None
        _, info = row
        self._known[device_id] = info
        return info
