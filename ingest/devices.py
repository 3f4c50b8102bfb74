"""Device registration: a device's site is tagged with its region codes and near-boundary flag once, here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from ingest.batch import Tagger


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    device_id: str
    device_type: str
    dept: str
    name: str
    lon: float
    lat: float
    expected_interval_s: int = 60


def register_devices(conn: psycopg.Connection, devices: Sequence[DeviceSpec], tagger: Tagger,
                     boundary_version: int | None) -> int:
    """Insert or update devices with region codes and the near-boundary flag from one vectorised tagging call."""
    if not devices:
        return 0
    codes = tagger(np.array([d.lon for d in devices]), np.array([d.lat for d in devices]))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code,"
            " grid_code, near_boundary, boundary_version, expected_interval_s)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (device_id) DO UPDATE SET device_type = EXCLUDED.device_type, dept = EXCLUDED.dept,"
            " name = EXCLUDED.name, lon = EXCLUDED.lon, lat = EXCLUDED.lat, district_code = EXCLUDED.district_code,"
            " township_code = EXCLUDED.township_code, grid_code = EXCLUDED.grid_code,"
            " near_boundary = EXCLUDED.near_boundary, boundary_version = EXCLUDED.boundary_version,"
            " expected_interval_s = EXCLUDED.expected_interval_s",
            [(d.device_id, d.device_type, d.dept, d.name, d.lon, d.lat, *c, boundary_version, d.expected_interval_s)
             for d, c in zip(devices, codes, strict=True)],
        )
    return len(devices)
