"""Device health: online from data (recent readings) and from the retained status topic.

A device is online from data when its last reading is younger than ``ONLINE_FACTOR`` ×
its expected reporting interval, judged at an instant the caller passes in (the same
rule as the dashboard's ``ONLINE_SQL``). The status
topic (``online``/``offline``, retained, with the offline message as last will) is kept
beside it, not merged: a gateway can keep reporting a device whose own link is down.
The SQL function ``device_health(as_of)`` (migration 0003) applies the same rule; a test
holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row

ONLINE_FACTOR = 3


def online_from_data(last_seen: datetime | None, expected_interval_s: int, now: datetime) -> bool:
    return last_seen is not None and last_seen > now - timedelta(seconds=ONLINE_FACTOR * expected_interval_s)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    device_id: str
    device_type: str
    dept: str
    district_code: str | None
    township_code: str | None
    grid_code: str | None
    expected_interval_s: int
    last_seen: datetime | None
    online_data: bool
    online_status: bool | None  # None: the device never published a status
    status_at: datetime | None  # when the status topic last changed the state


def assess(device_id: str, device_type: str, dept: str, codes: tuple[str | None, str | None, str | None],
           expected_interval_s: int, last_seen: datetime | None, online_status: bool | None,
           status_at: datetime | None, now: datetime) -> DeviceHealth:
    return DeviceHealth(device_id, device_type, dept, *codes, expected_interval_s, last_seen,
                        online_from_data(last_seen, expected_interval_s, now), online_status, status_at)


def read_device_health(conn: psycopg.Connection, now: datetime) -> list[DeviceHealth]:
    """Every registered device's health as of ``now``, computed by the database."""
    with conn.cursor(row_factory=class_row(DeviceHealth)) as cur:  # columns named as in migration 0003
        return cur.execute("SELECT * FROM device_health(%s) ORDER BY device_id", (now,)).fetchall()


def online_rate(health: list[DeviceHealth]) -> float | None:
    """在线率 from data: the share of devices online, None when there are none."""
    return sum(h.online_data for h in health) / len(health) if health else None
