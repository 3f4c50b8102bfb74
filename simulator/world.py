"""What the demo city's devices report at each step: pure and seeded, no clock, no I/O.

Scenarios (a rainstorm over a county, a gas leak, a fire alarm) change what chosen
devices report for a number of steps; a quiet background keeps the map alive.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from simulator.catalogue import RESERVOIR_BASE_M, RIVER_BASE_M, CatalogueDevice

SCENARIOS = ("rainstorm", "gas_leak", "fire")
HOTLINE = ("zw", "hotline12345")  # (dept, system) of the department systems whose events it plays
POLICE = ("ga", "police110")
# Callers of the feeds, clearly fake: names from a short list ("": the caller gave none), numbers of 139 0000 xxxx.
CALLERS = ("张先生", "李女士", "王建国", "刘芳", "陈伟", "杨秀英", "赵磊", "")


@dataclass(slots=True)
class Scenario:
    kind: str
    district_code: str | None  # rainstorm: the county it rains on
    device_id: str | None  # gas_leak / fire: the device that sees it
    until_step: int


@dataclass(slots=True)
class World:
    devices: list[CatalogueDevice]
    city: str
    seed: int
    step: int = 0
    scenarios: list[Scenario] = field(default_factory=list)
    _rng: np.random.Generator = field(init=False)
    _vehicle_pos: dict[str, tuple[float, float, float]] = field(init=False)  # lon, lat, heading
    _ticket_seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._vehicle_pos = {d.device_id: (d.lon, d.lat, float(self._rng.uniform(0, 2 * math.pi)))
                             for d in self.devices if d.device_type == "hazmat_vehicle"}

    def inject(self, kind: str, *, district_code: str | None = None, device_id: str | None = None,
               steps: int = 90) -> Scenario:
        if kind not in SCENARIOS:
            raise ValueError(f"unknown scenario {kind!r}; known: {', '.join(SCENARIOS)}")
        if kind == "rainstorm" and not district_code:
            raise ValueError("a rainstorm needs a district code")
        if kind != "rainstorm" and device_id is None:
            wanted = "gas_detector" if kind == "gas_leak" else "smoke_detector"
            candidates = [d.device_id for d in self.devices if d.device_type == wanted
                          and (district_code is None or d.township_code.startswith(district_code))]
            if not candidates:
                raise ValueError(f"no {wanted} in district {district_code}")
            device_id = candidates[int(self._rng.integers(len(candidates)))]
        scenario = Scenario(kind, district_code, device_id, self.step + steps)
        self.scenarios.append(scenario)
        return scenario

    def _storm_districts(self) -> set[str]:
        return {s.district_code for s in self.scenarios if s.kind == "rainstorm" and s.district_code}

    def _hit(self, kind: str, device_id: str) -> bool:
        return any(s.kind == kind and s.device_id == device_id for s in self.scenarios)

    def _value(self, d: CatalogueDevice, storm: bool) -> dict[str, float]:
        r = self._rng
        if d.device_type == "rain_gauge":
            base = r.gamma(0.3, 2.0)
            return {"rain_1h": round(float(min(base + (r.uniform(55, 95) if storm else 0.0), 399.0)), 1)}
        if d.device_type in ("river_gauge", "reservoir_gauge"):
            base = RIVER_BASE_M if d.device_type == "river_gauge" else RESERVOIR_BASE_M
            # in a storm the station stands between its 警戒水位 and 保证水位 + 0.6 m
            over = (d.lines.warning - base + r.uniform(0.0, d.lines.guarantee - d.lines.warning + 0.6)
                    if storm and d.lines is not None else 0.0)
            return {"water_level": round(float(base + r.normal(0, 0.05) + over), 2)}
        if d.device_type == "gas_detector":
            leak = self._hit("gas_leak", d.device_id)
            return {"gas_lel": round(float(r.uniform(55, 70) if leak else abs(r.normal(1.0, 0.8))), 1)}
        if d.device_type == "smoke_detector":
            return {"smoke": 1.0 if self._hit("fire", d.device_id) else 0.0}
        lon, lat, heading = self._vehicle_pos[d.device_id]
        heading += float(r.normal(0, 0.3))
        speed = float(np.clip(r.normal(55, 8), 0, 110))  # hazmat trucks mostly keep to limits
        step_deg = speed / 3600 * 10 / 111.0  # 10 s at that speed, in degrees
        lon, lat = lon + step_deg * math.cos(heading), lat + step_deg * math.sin(heading)
        if math.dist((lon, lat), (d.lon, d.lat)) > 0.08:  # stay near the home depot
            heading += math.pi
        self._vehicle_pos[d.device_id] = (lon, lat, heading)
        return {"speed_kmh": round(speed, 1), "lon": round(lon, 6), "lat": round(lat, 6)}

    def _background_incidents(self) -> None:
        """Now and then something happens somewhere, so a demo has live incidents."""
        if self.step % 30 == 5:
            self.inject("gas_leak", steps=6)
        if self.step % 45 == 20:
            self.inject("fire", steps=3)

    def messages(self, now: datetime) -> list[tuple[str, bytes]]:
        """Advance one step; the (topic, payload) pairs every device publishes at ``now``."""
        self._background_incidents()
        storms = self._storm_districts()
        ts = now.isoformat()
        out: list[tuple[str, bytes]] = []
        for d in self.devices:
            values = self._value(d, d.township_code[:6] in storms)
            body: dict[str, object] = {"ts": ts, "values": values}
            if d.device_type == "hazmat_vehicle":
                body = {"ts": ts, "values": {"speed_kmh": values["speed_kmh"]}, "lon": values["lon"],
                        "lat": values["lat"]}
            out.append((f"city/{self.city}/telemetry/{d.dept}/{d.device_type}/{d.device_id}",
                        json.dumps(body, ensure_ascii=False).encode()))
        out.extend(self._hotline(now))
        self.step += 1
        self.scenarios = [s for s in self.scenarios if s.until_step > self.step]
        return out

    def _event_topic(self, system: tuple[str, str]) -> str:
        dept, name = system
        return f"city/{self.city}/event/{dept}/{name}"

    def _hotline(self, now: datetime) -> list[tuple[str, bytes]]:
        """12345 tickets: stored as events; a few 110 reports carry a level and become incidents. Each names its
        caller (``reporter``)."""
        out = []
        subjects = ("噪音扰民", "占道经营", "路灯不亮", "垃圾清运不及时", "井盖缺失", "违章停车")
        for _ in range(int(self._rng.poisson(0.6))):
            d = self.devices[int(self._rng.integers(len(self.devices)))]
            self._ticket_seq += 1
            body = {"event_id": f"12345-{self.seed}-{self._ticket_seq}", "ts": now.isoformat(),
                    "category": "hotline", "title": str(self._rng.choice(subjects)),
                    "lon": round(d.lon + float(self._rng.normal(0, 0.003)), 6),
                    "lat": round(d.lat + float(self._rng.normal(0, 0.003)), 6), "reporter": self._caller()}
            out.append((self._event_topic(HOTLINE), json.dumps(body, ensure_ascii=False).encode()))
        if self.step % 60 == 40:
            d = self.devices[int(self._rng.integers(len(self.devices)))]
            self._ticket_seq += 1
            body = {"event_id": f"110-{self.seed}-{self._ticket_seq}", "ts": now.isoformat(),
                    "category": "public_safety", "title": "110警情：群众报警道路塌陷", "level": 3,
                    "lon": d.lon, "lat": d.lat, "reporter": self._caller()}
            out.append((self._event_topic(POLICE), json.dumps(body, ensure_ascii=False).encode()))
        return out

    def _caller(self) -> dict[str, str]:
        """Who called in the current ticket (shown masked but to the command center and the township)."""
        n = self._ticket_seq
        return {"name": CALLERS[n % len(CALLERS)], "phone": f"1390000{n % 10_000:04d}"}
