"""The demo's 12345 feed (simulator.tickets) against the hotspot rule's placement (alerts.hotspots.plan): the
day's genuine spots become hotspots within the hour, the background noise seldom does. Pure: seeded draws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from alerts.hotspots import Hotspot, Ticket, metres, plan
from simulator import tickets

T0 = datetime(2026, 6, 1, tzinfo=UTC)
STEP = timedelta(seconds=10)


def anchors() -> list[tuple[float, float]]:
    """Device sites over a county-sized area (as the demo's catalogue spreads them)."""
    r = np.random.default_rng(7)
    return [(112.9 + float(x), 25.7 + float(y)) for x, y in r.uniform(0, 0.4, size=(300, 2))]


def test_the_feed_speaks_in_kinds_and_words_of_12345() -> None:
    r = np.random.default_rng(1)
    drawn = [d for step in range(2000) for d in tickets.draw(r, 1, step, anchors())]
    assert {d.complaint for d in drawn} == set(tickets.KINDS)
    assert {"噪音扰民", "占道经营", "垃圾清运", "路灯不亮", "积水", "违章停车"} <= set(tickets.KINDS)
    assert all(d.text in tickets.COMPLAINTS[d.complaint] for d in drawn)
    assert tickets.spots(1, 0, anchors()) == tickets.spots(1, 0, anchors()) != tickets.spots(1, 1, anchors())


def test_the_days_spots_become_hotspots_within_the_hour_and_the_noise_seldom() -> None:
    seed, sites = 20261122, anchors()
    r = np.random.default_rng(seed)
    pool: list[Ticket] = []
    hotspots: list[Hotspot] = []
    formed_at: list[int] = []
    for step in range(6 * 360):  # six hours of the demo
        now = T0 + step * STEP
        new = [Ticket("hotline12345", f"{step}-{i}", now, d.complaint, d.lon, d.lat)
               for i, d in enumerate(tickets.draw(r, seed, step, sites))]
        pool += new
        p = plan(new, hotspots, pool, radius_m=500, at_least=5, since=now - timedelta(days=7))
        taken = {t.key for t, _ in p.joins} | {m.key for c in p.clusters for m in c.members}
        pool = [t for t in pool if t.key not in taken]
        for c in p.clusters:
            hotspots.append(Hotspot(len(hotspots), c.seed.complaint, c.seed.lon, c.seed.lat))
            formed_at.append(step)
    spots = tickets.spots(seed, 0, sites)
    at_spot = [any(h.complaint == s.complaint and metres(h.lon, h.lat, s.lon, s.lat) < 500 for h in hotspots)
               for s in spots]
    assert all(at_spot), (spots, hotspots)
    assert len(hotspots) <= len(spots) + 1  # the noise: at most one chance cluster in six hours
    assert sorted(formed_at)[len(spots) - 1] < 2 * 360  # every spot's within two hours
