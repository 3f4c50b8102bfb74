"""Device registration: a device's site is tagged with its region codes and near-boundary flag once, here,
and its own attributes are kept with it (a water-level station's lines, which the level rules read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from ingest.batch import Tagger


@dataclass(frozen=True, slots=True)
class StationLines:
    """A water-level station's lines, metres on its own datum: 警戒水位 and 保证水位 at every river and
    reservoir station, and a reservoir's 汛限水位 (its flood-season limit). Stored as
    ``devices.attributes->'lines'`` (``{"warning": …, "guarantee": …, "flood_limit": …}``)."""

    warning: float  # 警戒水位
    guarantee: float  # 保证水位
    flood_limit: float | None = None  # 汛限水位 (reservoirs)

    def __post_init__(self) -> None:
        if not self.warning < self.guarantee:
            raise ValueError(f"警戒水位 {self.warning} must be below 保证水位 {self.guarantee}")
        if self.flood_limit is not None and not self.flood_limit < self.guarantee:
            raise ValueError(f"汛限水位 {self.flood_limit} must be below 保证水位 {self.guarantee}")

    def as_json(self) -> dict[str, float]:
        lines = {"warning": self.warning, "guarantee": self.guarantee}
        return lines | ({"flood_limit": self.flood_limit} if self.flood_limit is not None else {})


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    device_id: str
    device_type: str
    dept: str
    name: str
    lon: float
    lat: float
    expected_interval_s: int = 60
    lines: StationLines | None = None  # a water-level station's own lines
    gateway: str | None = None  # the gateway whose batches may carry its readings (city/<city>/gateway/<it>)

    def attributes(self) -> dict[str, Any]:
        """What is kept with the device (``devices.attributes``)."""
        return {"lines": self.lines.as_json()} if self.lines is not None else {}


def register_devices(conn: psycopg.Connection, devices: Sequence[DeviceSpec], tagger: Tagger,
                     boundary_version: int | None) -> int:
    """Insert or update devices with region codes and the near-boundary flag from one vectorised tagging call."""
    if not devices:
        return 0
    codes = tagger(np.array([d.lon for d in devices]), np.array([d.lat for d in devices]))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (device_id, device_type, dept, name, lon, lat, district_code, township_code,"
            " grid_code, near_boundary, boundary_version, expected_interval_s, attributes, gateway)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (device_id) DO UPDATE SET device_type = EXCLUDED.device_type, dept = EXCLUDED.dept,"
            " name = EXCLUDED.name, lon = EXCLUDED.lon, lat = EXCLUDED.lat, district_code = EXCLUDED.district_code,"
            " township_code = EXCLUDED.township_code, grid_code = EXCLUDED.grid_code,"
            " near_boundary = EXCLUDED.near_boundary, boundary_version = EXCLUDED.boundary_version,"
            " expected_interval_s = EXCLUDED.expected_interval_s, attributes = EXCLUDED.attributes,"
            " gateway = EXCLUDED.gateway",
            [(d.device_id, d.device_type, d.dept, d.name, d.lon, d.lat, *c, boundary_version, d.expected_interval_s,
              Jsonb(d.attributes()), d.gateway) for d, c in zip(devices, codes, strict=True)],
        )
    return len(devices)
