"""Time allowed to sign for, to finish and to verify an incident, by level and category.

Level 1 (红 I) is the most urgent. A category can tighten the defaults: a flood or a
fire does not wait as long as a hotline complaint.
"""

from __future__ import annotations

from datetime import timedelta

Windows = tuple[timedelta, timedelta, timedelta]  # sign, finish, verify

M, H = timedelta(minutes=1), timedelta(hours=1)

BY_LEVEL: dict[int, Windows] = {
    1: (15 * M, 4 * H, 1 * H),
    2: (30 * M, 8 * H, 2 * H),
    3: (1 * H, 24 * H, 4 * H),
    4: (2 * H, 72 * H, 8 * H),
}

# Multiplier per category on the level's windows.
CATEGORY_FACTOR: dict[str, float] = {
    "flood": 0.5,
    "public_safety": 0.5,
    "production_safety": 0.75,
    "hotline": 2.0,
}


def windows(level: int, category: str = "") -> Windows:
    factor = CATEGORY_FACTOR.get(category, 1.0)
    sign, finish, verify = BY_LEVEL[level]
    return sign * factor, finish * factor, verify * factor
