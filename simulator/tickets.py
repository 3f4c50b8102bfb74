"""12345 tickets of the demo city: realistic kinds and words, a few genuine hotspots among background noise.

Pure and seeded (the caller's generator and step), no clock, no I/O. The background is spread thin over the
whole city (about 0.2 a step around random devices, a kilometre or so off), so it seldom gathers five of a kind
within 500 m in a week; each day a few spots (``SPOTS``, chosen from the seed and the day) draw tickets of one
kind within about 150 m, one every few minutes, so the engine's hotspot rule (≥ 5 within 500 m in 7 days)
forms a hotspot at each within the first hour of the demo, and later tickets join it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

Point = tuple[float, float]  # lon, lat

# The kinds of complaint (the event's title) and what callers say (the ticket's text).
COMPLAINTS: dict[str, tuple[str, ...]] = {
    "噪音扰民": ("夜间工地施工噪音大，影响休息", "广场舞音响声音过大，晚上十点后仍未停止",
             "楼下烧烤店深夜喧哗", "KTV 噪音扰民，凌晨仍有唱歌声"),
    "占道经营": ("流动摊贩占用人行道摆摊", "商铺出店经营，货物堆放在人行道上", "早市摊位占用机动车道，影响通行"),
    "垃圾清运": ("小区垃圾桶满溢，两天未清运", "路边建筑垃圾堆放多日无人清理", "垃圾中转站异味大，清运不及时"),
    "路灯不亮": ("路段路灯连续多晚不亮，夜间出行不安全", "小区门口路灯损坏", "路灯白天亮、晚上不亮"),
    "积水": ("下雨后路面积水严重，车辆无法通行", "地下通道积水", "排水口堵塞，雨后积水不退"),
    "违章停车": ("车辆长期占用消防通道", "路口违停严重，造成拥堵", "人行道上停满车辆，行人只能走机动车道"),
    "井盖缺失": ("人行道井盖缺失，存在安全隐患", "井盖破损松动，车辆经过声响大"),
    "油烟扰民": ("餐馆油烟直排，影响楼上住户", "夜市烧烤油烟大"),
}
KINDS = tuple(COMPLAINTS)
BACKGROUND_PER_STEP = 0.2  # tickets a step across the city
BACKGROUND_SIGMA_DEG = 0.008  # about 0.8 km around a device
SPOTS = 3  # genuine hotspots a day
SPOT_PER_STEP = 0.03  # a spot's tickets a step (one every ~5 min at the demo's 10 s)
SPOT_SIGMA_DEG = 0.0012  # about 130 m around the spot
STEPS_A_DAY = 8640  # the demo's steps of 10 s


@dataclass(frozen=True, slots=True)
class Spot:
    """A genuine hotspot: one kind of complaint at one place."""

    complaint: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Drawn:
    """A ticket as the hotline system sends it (the caller is the feed's own)."""

    complaint: str
    text: str
    lon: float
    lat: float


def spots(seed: int, day: int, anchors: Sequence[Point]) -> tuple[Spot, ...]:
    """The day's genuine hotspots, at anchors (devices' sites) chosen from the seed and the day."""
    if not anchors:
        return ()
    r = random.Random(f"tickets:{seed}:{day}")
    return tuple(Spot(r.choice(KINDS), *anchors[i]) for i in r.sample(range(len(anchors)), min(SPOTS, len(anchors))))


def draw(rng: np.random.Generator, seed: int, step: int, anchors: Sequence[Point]) -> list[Drawn]:
    """The tickets of one step: background ones anywhere, and the day's spots' own."""
    out: list[Drawn] = []
    if not anchors:
        return out

    def ticket(complaint: str, lon: float, lat: float, sigma: float) -> Drawn:
        words = COMPLAINTS[complaint]
        return Drawn(complaint, words[int(rng.integers(len(words)))], round(lon + float(rng.normal(0, sigma)), 6),
                     round(lat + float(rng.normal(0, sigma)), 6))

    for _ in range(int(rng.poisson(BACKGROUND_PER_STEP))):
        lon, lat = anchors[int(rng.integers(len(anchors)))]
        out.append(ticket(KINDS[int(rng.integers(len(KINDS)))], lon, lat, BACKGROUND_SIGMA_DEG))
    for spot in spots(seed, step // STEPS_A_DAY, anchors):
        if rng.random() < SPOT_PER_STEP:
            out.append(ticket(spot.complaint, spot.lon, spot.lat, SPOT_SIGMA_DEG))
    return out


HISTORY_FORMING = 5  # the tickets a history hotspot formed from, in the days before its incident
HISTORY_LATER = 4  # at most this many joined it after
HISTORY_SIGMA_DEG = 0.0012


@dataclass(frozen=True, slots=True)
class PastTicket:
    """A ticket of the demo's history: when, what, and who called (clearly fake)."""

    ts: datetime
    drawn: Drawn
    caller: str
    phone: str


def history(seed: int, n: int, complaint: str, lon: float, lat: float, created: datetime,
            now: datetime) -> list[PastTicket]:
    """The tickets of the history's hotspot incident ``n`` (opened at ``created``): five of its kind nearby in
    the three days before (the last just before), and up to four that joined it in the half day after (none at
    or after ``now``)."""
    from simulator.world import CALLERS  # the live feed's callers (world imports this module)

    r = random.Random(f"tickets:history:{seed}:{n}")
    rng = np.random.default_rng(r.getrandbits(32))
    words = COMPLAINTS.get(complaint, ("",))
    before = sorted(created - timedelta(hours=r.uniform(0.2, 72)) for _ in range(HISTORY_FORMING - 1))
    times = [*before, created - timedelta(minutes=r.uniform(1, 10))]
    times += sorted(created + timedelta(hours=r.uniform(0.5, 12)) for _ in range(r.randint(0, HISTORY_LATER)))
    out = []
    for k, ts in enumerate(t for t in times if t < now):
        drawn = Drawn(complaint, r.choice(words), round(lon + float(rng.normal(0, HISTORY_SIGMA_DEG)), 6),
                      round(lat + float(rng.normal(0, HISTORY_SIGMA_DEG)), 6))
        out.append(PastTicket(ts.replace(microsecond=0), drawn, r.choice(CALLERS),
                              f"1390000{(n * 10 + k) % 10_000:04d}"))
    return out
