"""One database transaction per batch: COPY into a staging table, idempotent insert, hand-off.

Telemetry is keyed (device_id, metric, ts) and events (source_system, event_id, ts), so a
redelivered message adds no row. The alert inbox row and NOTIFY commit with the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from ingest.decode import DeadLetter, Event, Reading, Status

STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_staging"
    " (LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)


def prepare_connection(conn: psycopg.Connection) -> None:
    """Pool ``configure`` hook: each ingest connection gets its own staging table."""
    conn.execute(STAGING_DDL)
    conn.commit()


@dataclass(frozen=True, slots=True)
class WriteResult:
    readings_stored: int
    readings_duplicate: int
    events_stored: int
    dead_letters: int


@dataclass(frozen=True, slots=True)
class TaggedEvent:
    event: Event
    district_code: str | None
    township_code: str | None
    grid_code: str | None


def write_batch(
    conn: psycopg.Connection,
    readings: Sequence[Reading],
    events: Sequence[TaggedEvent],
    statuses: Sequence[Status],
    dead_letters: Sequence[DeadLetter],
) -> WriteResult:
    stored = events_stored = 0
    with conn.transaction(), conn.cursor() as cur:
        if readings:
            with cur.copy(
                "COPY telemetry_staging (ts, device_id, metric, value, district_code, township_code, grid_code)"
                " FROM STDIN"
            ) as copy:
                for r in readings:
                    copy.write_row((r.ts, r.device_id, r.metric, r.value, r.district_code, r.township_code,
                                    r.grid_code))
            cur.execute(
                "INSERT INTO telemetry (ts, device_id, metric, value, district_code, township_code, grid_code,"
                " ingested_at) SELECT ts, device_id, metric, value, district_code, township_code, grid_code,"
                " statement_timestamp() FROM telemetry_staging ON CONFLICT DO NOTHING")
            stored = cur.rowcount
            # Late or out-of-order readings never move last-seen backwards.
            cur.execute(
                "INSERT INTO device_status (device_id, last_seen, online, status_at)"
                " SELECT device_id, max(ts), true, max(ts) FROM telemetry_staging GROUP BY device_id"
                " ON CONFLICT (device_id) DO UPDATE SET last_seen = GREATEST(device_status.last_seen,"
                " EXCLUDED.last_seen)"
            )
            pairs = sorted({(r.device_id, r.metric) for r in readings})
            cur.execute("INSERT INTO alert_inbox (kind, keys) VALUES ('telemetry', %s)", (Jsonb(pairs),))
        if events:
            cur.executemany(
                "INSERT INTO events (ts, source_system, event_id, dept, category, title, lon, lat,"
                " district_code, township_code, grid_code, payload)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(t.event.ts, t.event.source_system, t.event.body.event_id, t.event.dept, t.event.body.category,
                  t.event.body.title, t.event.body.lon, t.event.body.lat, t.district_code, t.township_code,
                  t.grid_code, Jsonb(t.event.body.model_dump(mode="json"))) for t in events],
            )
            events_stored = cur.rowcount  # psycopg sums rowcount over executemany
            keys = sorted({(t.event.source_system, t.event.body.event_id, t.event.ts.isoformat()) for t in events})
            cur.execute("INSERT INTO alert_inbox (kind, keys) VALUES ('event', %s)", (Jsonb(keys),))
        if statuses:
            cur.executemany(
                "INSERT INTO device_status (device_id, online, status_at) VALUES (%s, %s, now())"
                " ON CONFLICT (device_id) DO UPDATE SET online = EXCLUDED.online, status_at = EXCLUDED.status_at",
                [(s.device_id, s.online) for s in statuses],
            )
        if dead_letters:
            cur.executemany(
                "INSERT INTO dead_letters (topic, payload, reason, detail) VALUES (%s, %s, %s, %s)",
                [(d.topic, d.payload, d.reason.value, d.detail) for d in dead_letters],
            )
        if readings or events:
            cur.execute("NOTIFY alert_inbox")
    return WriteResult(stored, len(readings) - stored, events_stored, len(dead_letters))
