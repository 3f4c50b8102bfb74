"""Device health: online from data (recent readings) and from the retained status topic.

A device is online from data when its last reading is younger than ``ONLINE_FACTOR`` ×
its expected reporting interval, judged at an instant the caller passes in: ``ONLINE_SQL``
is that rule for the dashboard's queries, and the monthly report's reads apply the same
factor. The status topic (``online``/``offline``, retained, with the offline message as
last will) is kept beside it, not merged: a gateway can keep reporting a device whose own
link is down. The SQL function ``device_health(as_of)`` (migration 0003) applies the same
rule; a test holds the two together.
"""

from __future__ import annotations

ONLINE_FACTOR = 3
# Online from data in SQL: needs devices ``d`` LEFT JOINed to device_status ``s`` and the parameter %(now)s.
ONLINE_SQL = f"(s.last_seen > %(now)s - make_interval(secs => {ONLINE_FACTOR} * d.expected_interval_s))"


def online_percent(online: int, devices: int) -> float | None:
    """在线率: the percentage of ``devices`` online, to one decimal; None when there are none."""
    return round(100 * online / devices, 1) if devices else None
