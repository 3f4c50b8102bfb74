"""Every SQL read of the monthly data-quality report, over a caller's connection.

One call, ``read_quality``, returns a month's figures and the previous month's as frames;
``reports.quality_figures`` turns them into the numbers printed. Month bounds are in
Asia/Shanghai: ``ingest_counters.day`` is already a Shanghai day; timestamps are
compared with the month's aware start and end.

Where the numbers come from:
- messages, rows, rejects by reason, late rows: ``ingest_counters`` (per day and source);
- dead-letter examples: ``dead_letters``;
- devices online at an instant: a reading in the last 3 × the device's interval before it,
  read from ``telemetry`` (``device_status`` knows only the latest reading, not a past month's end);
- reports per device: ``telemetry_1h`` (per hour, the largest count among the device's metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg
from psycopg.rows import class_row

from ingest.health import ONLINE_FACTOR
from reports.month import Month
from store.frames import frame

DEAD_LETTER_PREVIEW = 120  # bytes of a payload shown in the report

# One row per day and source; ``rejected`` stays the {reason: messages} object, ``rejected_n`` is its sum.
# An event source is named by its system: its department is that of any stored event of the system.
_COUNTERS = """
WITH c AS (SELECT * FROM ingest_counters WHERE day >= %(first)s AND day < %(next)s),
     systems AS (SELECT s.source, (SELECT e.dept FROM events e WHERE e.source_system = s.source LIMIT 1) AS dept
                 FROM (SELECT DISTINCT source FROM c WHERE kind = 'event') AS s)
SELECT c.day, c.source, c.kind,
       CASE WHEN c.kind = 'telemetry' THEN split_part(c.source, '/', 1) ELSE systems.dept END AS dept,
       CASE WHEN c.kind = 'telemetry' THEN split_part(c.source, '/', 2) END AS device_type,
       c.received, c.stored, c.duplicates, c.late, c.rejected,
       (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(c.rejected))::bigint AS rejected_n
FROM c LEFT JOIN systems ON systems.source = c.source
ORDER BY c.day, c.source
"""

# Devices registered at %(at)s and how many had a reading in the 3 × interval before it.
_FLEET = f"""
WITH recent AS (
    SELECT device_id, max(ts) AS last_ts FROM telemetry
    WHERE ts <= %(at)s AND ts > %(at)s - (SELECT make_interval(secs => {ONLINE_FACTOR} * max(expected_interval_s))
                                          FROM devices)
    GROUP BY device_id)
SELECT count(*) AS devices,
       count(*) FILTER (WHERE r.last_ts > %(at)s - make_interval(secs => {ONLINE_FACTOR} * d.expected_interval_s))
           AS online
FROM devices d LEFT JOIN recent r ON r.device_id = d.device_id
WHERE d.registered_at <= %(at)s
"""

# Per device registered before the window ends: seconds it was registered within the window,
# readings (per hour, the largest count among its metrics) and hours with at least one reading.
_DEVICES = """
WITH hourly AS (
    SELECT device_id, bucket, max(n) AS n FROM telemetry_1h
    WHERE bucket >= %(start)s AND bucket < %(until)s GROUP BY 1, 2),
per_device AS (SELECT device_id, sum(n)::bigint AS reports, count(*) AS hours FROM hourly GROUP BY 1),
towns AS (SELECT r.code, r.name FROM regions r JOIN boundary_versions v ON v.version = r.version
          WHERE v.active AND r.level = 'township')
SELECT d.device_id, d.name, d.dept, d.device_type, d.township_code, towns.name AS township,
       d.expected_interval_s,
       extract(epoch FROM %(until)s - greatest(%(start)s, d.registered_at))::bigint AS active_s,
       coalesce(p.reports, 0) AS reports, coalesce(p.hours, 0) AS hours
FROM devices d
LEFT JOIN per_device p ON p.device_id = d.device_id
LEFT JOIN towns ON towns.code = d.township_code
WHERE d.registered_at < %(until)s
ORDER BY d.device_id
"""

# The newest dead letter of each reason in the window: what such a message looked like.
_DEAD_LETTERS = """
SELECT DISTINCT ON (reason) reason, received_at, topic, detail,
       substring(payload FROM 1 FOR %(preview)s) AS head, octet_length(payload) AS size
FROM dead_letters WHERE received_at >= %(start)s AND received_at < %(until)s
ORDER BY reason, received_at DESC, id DESC
"""


@dataclass(frozen=True, slots=True)
class Fleet:
    """Registered devices at an instant, and how many of them were online then."""

    devices: int
    online: int


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """A month's data-quality figures as read, and the previous month's for comparison.

    ``counters``: day, source, kind, dept, device_type, received, stored, duplicates, late,
    rejected ({reason: messages}), rejected_n. ``devices``: device_id, name, dept, device_type,
    township_code, township, expected_interval_s, active_s, reports, hours. ``dead_letters``:
    reason, received_at, topic, detail, head (bytes), size.
    """

    month: Month
    as_of: datetime  # the end of the window read: the month's end, or the clock while the month runs
    counters: pd.DataFrame
    devices: pd.DataFrame
    dead_letters: pd.DataFrame
    fleet: Fleet
    previous_counters: pd.DataFrame
    previous_fleet: Fleet


def _df(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return frame(cur)


def read_counters(conn: psycopg.Connection, month: Month) -> pd.DataFrame:
    return _df(conn, _COUNTERS, {"first": month.first_day, "next": month.next_first_day})


def read_fleet(conn: psycopg.Connection, at: datetime) -> Fleet:
    with conn.cursor(row_factory=class_row(Fleet)) as cur:
        fleet = cur.execute(_FLEET, {"at": at}).fetchone()
    assert fleet is not None, "an aggregate query always returns one row"
    return fleet


def read_quality(conn: psycopg.Connection, month: Month, now: datetime) -> QualityFigures:
    """The figures of ``month`` up to ``now`` (a month in progress ends at ``now``)."""
    if month.start > now:
        raise ValueError(f"{month.key} has not begun")
    until = min(month.end, now)
    window = {"start": month.start, "until": until}
    return QualityFigures(
        month=month, as_of=until,
        counters=read_counters(conn, month),
        devices=_df(conn, _DEVICES, window),
        dead_letters=_df(conn, _DEAD_LETTERS, window | {"preview": DEAD_LETTER_PREVIEW}),
        fleet=read_fleet(conn, until),
        previous_counters=read_counters(conn, month.previous()),
        previous_fleet=read_fleet(conn, month.start),
    )
