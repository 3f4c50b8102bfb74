"""The demo city's devices, placed deterministically (seeded) inside the township layer."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from ingest.devices import DeviceSpec

# (device_type, dept, Chinese name, per township, expected reporting interval s). The intervals are the
# field's: automatic rain and level stations report every 5 minutes, NB-IoT gas detectors too, smoke
# detectors send a heartbeat an hour, a hazmat vehicle's terminal every 30 s while it drives. The live
# simulator sends faster (every 10 s) so the demo moves; the month of history keeps to these.
KINDS: tuple[tuple[str, str, str, int, int], ...] = (
    ("rain_gauge", "qx", "雨量站", 1, 300),
    ("river_gauge", "sl", "水位站", 1, 300),
    ("gas_detector", "yj", "燃气监测点", 1, 300),
    ("smoke_detector", "xf", "烟感", 2, 3600),
    ("hazmat_vehicle", "jt", "危货车辆", 1, 30),
)


@dataclass(frozen=True, slots=True)
class CatalogueDevice(DeviceSpec):
    township_code: str = ""  # where the catalogue placed it; registration tags it for real


def build_catalogue(townships: gpd.GeoDataFrame, seed: int = 20261122) -> list[CatalogueDevice]:
    """Devices for every township, at seeded random points inside it (same seed, same city)."""
    rng = np.random.default_rng(seed)
    devices: list[CatalogueDevice] = []
    ordered = townships.sort_values("code").reset_index(drop=True)
    for kind, dept, label, per_township, interval in KINDS:
        points = ordered.geometry.sample_points(per_township, rng=rng)
        for row, multipoint in zip(ordered.itertuples(), points, strict=True):
            pts = list(getattr(multipoint, "geoms", [multipoint]))
            for i, pt in enumerate(pts, start=1):
                devices.append(CatalogueDevice(
                    device_id=f"{kind.split('_')[0]}-{row.code}-{i}",
                    device_type=kind, dept=dept, name=f"{row.name}{label}{i}号",
                    lon=round(pt.x, 6), lat=round(pt.y, 6), expected_interval_s=interval,
                    township_code=row.code,
                ))
    return devices
