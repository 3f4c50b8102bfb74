"""The demo city's devices, placed deterministically (seeded) inside the township layer.

Every river station carries its own 警戒水位 and 保证水位, and each county has one reservoir station
with its 汛限水位 too; each hazardous-goods vehicle its plate, company and UN cargo class (each seeded apart
from the positions, so adding them moved no other device)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from ingest.devices import DeviceSpec, StationLines

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


RESERVOIR = ("reservoir_gauge", "sl", "水库水位站", 300)  # one per county, in a seeded township of it
RIVER_BASE_M = 1.2  # a quiet river's stage (the simulator's), below every station's lines
RESERVOIR_BASE_M = 18.0  # a reservoir's quiet stage, below its 汛限水位


# UN classes of dangerous goods (GB 6944 / 联合国《关于危险货物运输的建议书》) with a typical load each.
CARGO: dict[int, str] = {1: "民用爆炸物品", 2: "液化石油气", 3: "汽油", 4: "硫磺", 5: "过氧化氢", 6: "农药",
                         7: "放射性同位素", 8: "硫酸", 9: "锂电池"}
COMPANIES = ("郴州市安达危险品运输有限公司（示意）", "湘南通运物流有限公司（示意）", "郴州恒顺化工储运有限公司（示意）",
             "林邑危货运输有限公司（示意）")


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    """What a hazardous-goods vehicle is registered with (``devices.attributes``)."""

    plate: str  # 湘L: 郴州's plates
    company: str
    cargo_class: int  # UN class 1–9
    cargo: str

    def as_json(self) -> dict[str, Any]:
        return {"plate": self.plate, "company": self.company, "cargo_class": self.cargo_class, "cargo": self.cargo}


def vehicle_facts(rng: np.random.Generator, n: int) -> VehicleFacts:
    """Mostly 3 (flammable liquids: fuel) and 2 (gases), as the roads carry them; plates 湘L·D<5 digits> (seeded)."""
    cargo_class = int(rng.choice(list(CARGO), p=[0.02, 0.25, 0.45, 0.03, 0.04, 0.06, 0.01, 0.10, 0.04]))
    return VehicleFacts(f"湘L·D{(n * 7919 + int(rng.integers(10_000))) % 100_000:05d}",
                        COMPANIES[int(rng.integers(len(COMPANIES)))], cargo_class, CARGO[cargo_class])


@dataclass(frozen=True, slots=True)
class CatalogueDevice(DeviceSpec):
    township_code: str = ""  # where the catalogue placed it; registration tags it for real
    vehicle: VehicleFacts | None = None  # a hazardous-goods vehicle's plate, company and cargo

    def attributes(self) -> dict[str, Any]:
        return DeviceSpec.attributes(self) | (self.vehicle.as_json() if self.vehicle is not None else {})


def river_lines(rng: np.random.Generator) -> StationLines:
    """警戒水位 0.9–1.7 m above the quiet stage, 保证水位 0.8–1.4 m above that."""
    warning = round(RIVER_BASE_M + float(rng.uniform(0.9, 1.7)), 2)
    return StationLines(warning=warning, guarantee=round(warning + float(rng.uniform(0.8, 1.4)), 2))


def reservoir_lines(rng: np.random.Generator) -> StationLines:
    """汛限水位 1–2 m above the quiet stage, then 警戒水位 and 保证水位 above it."""
    flood_limit = round(RESERVOIR_BASE_M + float(rng.uniform(1.0, 2.0)), 2)
    warning = round(flood_limit + float(rng.uniform(0.8, 1.5)), 2)
    return StationLines(warning=warning, guarantee=round(warning + float(rng.uniform(1.0, 2.0)), 2),
                        flood_limit=flood_limit)


def build_catalogue(townships: gpd.GeoDataFrame, seed: int = 20261122) -> list[CatalogueDevice]:
    """Devices for every township, at seeded random points inside it (same seed, same city)."""
    rng = np.random.default_rng(seed)
    line_rng = np.random.default_rng([seed, 1])  # the stations' lines: apart, so positions stay as they were
    vehicle_rng = np.random.default_rng([seed, 3])
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
                    lines=river_lines(line_rng) if kind == "river_gauge" else None,
                    township_code=row.code,
                    vehicle=vehicle_facts(vehicle_rng, len(devices)) if kind == "hazmat_vehicle" else None,
                ))
    kind, dept, label, interval = RESERVOIR
    reservoir_rng = np.random.default_rng([seed, 2])
    for _district, group in ordered.groupby(ordered["code"].str[:6], sort=True):
        row = group.iloc[int(reservoir_rng.integers(len(group)))]
        sampled = gpd.GeoSeries([row.geometry]).sample_points(1, rng=reservoir_rng).iloc[0]
        pt = next(iter(getattr(sampled, "geoms", [sampled])))
        devices.append(CatalogueDevice(
            device_id=f"reservoir-{row['code']}-1", device_type=kind, dept=dept, name=f"{row['name']}{label}1号",
            lon=round(pt.x, 6), lat=round(pt.y, 6), expected_interval_s=interval,
            lines=reservoir_lines(line_rng), township_code=row["code"]))
    return devices
