"""Known metrics with their physical ranges: a value outside is a broken sensor, not an emergency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    unit: str
    low: float
    high: float


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("rain_1h", "mm", 0.0, 400.0),  # rainfall in the last hour; world record ~305 mm
        Metric("water_level", "m", -10.0, 3000.0),  # stage above datum
        Metric("gas_lel", "%LEL", 0.0, 100.0),
        Metric("smoke", "", 0.0, 1.0),  # 0 clear, 1 alarm
        Metric("temperature", "°C", -50.0, 150.0),
        Metric("speed_kmh", "km/h", 0.0, 250.0),
        Metric("heading", "°", 0.0, 360.0),  # a vehicle's, clockwise from north
        Metric("lon", "°", -180.0, 180.0),
        Metric("lat", "°", -90.0, 90.0),
        Metric("battery", "%", 0.0, 100.0),
    ]
}
