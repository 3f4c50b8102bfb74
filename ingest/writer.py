"""One database transaction per batch: COPY, idempotent when it must be, hand-off, counters.

Telemetry is keyed (device_id, metric, ts) and events (source_system, event_id, ts), so a
redelivered message adds no row. Readings are copied straight into ``telemetry`` under a
savepoint; only when that hits a stored key (a redelivery after a restart) are they copied
again into a staging table and inserted with ON CONFLICT DO NOTHING, which costs about
twice as much. The alert inbox row (naming each pair's readings newer than its device had sent before,
so the engine can judge them in order), NOTIFY, the per-source counters and the reporters of 12345
tickets (in a table of their own) commit with the data. Rows of shared tables (device_status,
ingest_counters) are upserted in key order, so two workers writing at once queue behind each
other instead of deadlocking.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.batch import Batch, TaggedEvent
from ingest.counters import NewRows, counter_day, counter_rows, late_before
from ingest.decode import Reading

STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_staging"
    " (LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)

_COLUMNS = "ts, device_id, metric, value, district_code, township_code, grid_code"
_INSERT_TELEMETRY = (
    f"INSERT INTO telemetry ({_COLUMNS}) SELECT {_COLUMNS} FROM telemetry_staging"
    " ON CONFLICT DO NOTHING RETURNING ts, device_id, metric, value"
)
# Each device's last seen before this batch, locked as the upsert below would lock it (in key order): a batch
# of the same device committing meanwhile is waited for and seen, so the readings named new in two batches
# never overlap in time.
_SEEN_BEFORE = (
    "SELECT device_id, last_seen FROM device_status WHERE device_id IN (SELECT jsonb_array_elements_text(%s))"
    " ORDER BY device_id FOR NO KEY UPDATE"
)
# Late or out-of-order readings never move last-seen backwards (and leave the row untouched).
_LAST_SEEN = (
    "INSERT INTO device_status AS s (device_id, last_seen)"
    " SELECT e->>0, (e->>1)::timestamptz FROM jsonb_array_elements(%s) AS e ORDER BY 1"
    " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen"
    " WHERE s.last_seen IS NULL OR s.last_seen < EXCLUDED.last_seen"
)
_INSERT_EVENTS = (
    "INSERT INTO events (ts, source_system, event_id, dept, category, title, lon, lat,"
    " district_code, township_code, grid_code, near_boundary, payload)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    " RETURNING source_system, ts"
)
# A 12345 ticket's reporter, apart from the event (whose payload every role reads); a redelivery adds nothing.
_INSERT_REPORTERS = (
    "INSERT INTO event_reporters (ts, source_system, event_id, name, phone) VALUES (%s, %s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)
# status_at is when the status topic last changed the state: a retained message delivered
# again on every (re)subscribe does not move it.
_STATUS = (
    "INSERT INTO device_status AS s (device_id, online, status_at) VALUES (%s, %s, %s)"
    " ON CONFLICT (device_id) DO UPDATE SET online = EXCLUDED.online, status_at = CASE"
    " WHEN s.online IS DISTINCT FROM EXCLUDED.online THEN EXCLUDED.status_at ELSE s.status_at END"
)
_COUNTERS = (
    "INSERT INTO ingest_counters AS c (day, source, kind, received, stored, duplicates, rejected, late)"
    " SELECT %s, r.source, r.kind, r.received, r.stored, r.duplicates, r.rejected, r.late"
    " FROM jsonb_to_recordset(%s) AS r(source text, kind text, received bigint, stored bigint,"
    " duplicates bigint, rejected jsonb, late bigint) ORDER BY r.source"
    " ON CONFLICT (day, source) DO UPDATE SET received = c.received + EXCLUDED.received,"
    " stored = c.stored + EXCLUDED.stored, duplicates = c.duplicates + EXCLUDED.duplicates,"
    " rejected = ingest_add_counts(c.rejected, EXCLUDED.rejected), late = c.late + EXCLUDED.late,"
    " updated_at = now()"
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

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.readings_stored + other.readings_stored,
                           self.readings_duplicate + other.readings_duplicate,
                           self.events_stored + other.events_stored, self.dead_letters + other.dead_letters)




def _safe_text(text: str) -> str:
    """Text PostgreSQL accepts: no NUL, no lone surrogate (a dead letter's detail must never fail)."""
    return text.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")


def _event_params(t: TaggedEvent) -> tuple[object, ...]:
    e = t.event
    return (e.ts, e.source_system, e.body.event_id, e.dept, e.body.category, e.body.title, e.body.lon, e.body.lat,
            t.district_code, t.township_code, t.grid_code, t.near_boundary,
            Jsonb(e.body.model_dump(mode="json", exclude={"reporter"})))


def _copy(cur: psycopg.Cursor, table: str, readings: list[Reading]) -> None:
    with cur.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN") as copy:
        for r in readings:
            copy.write_row((r.ts, r.device_id, r.metric, r.value, r.district_code, r.township_code, r.grid_code))


Stored = tuple[datetime, str, str, float]  # a reading stored: ts, device_id, metric, value
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)  # the inbox names a reading's time in µs since the epoch: a quarter of isoformat's cost


def _store_readings(cur: psycopg.Cursor, readings: list[Reading], cutoff: datetime
                    ) -> tuple[dict[str, tuple[int, int]], list[Stored], dict[str, datetime]]:
    """Store readings, skipping keys already stored: (new rows, late rows) per device, the readings stored, and
    each device's last seen before them."""
    try:
        with cur.connection.transaction():
            _copy(cur, "telemetry", readings)
    except psycopg.errors.UniqueViolation:
        _copy(cur, "telemetry_staging", readings)
        stored: list[Stored] = cur.execute(_INSERT_TELEMETRY).fetchall()
    else:
        stored = [(r.ts, r.device_id, r.metric, r.value) for r in readings]
    new, late = Counter[str](), Counter[str]()
    for ts, device_id, _metric, _value in stored:
        new[device_id] += 1
        late[device_id] += ts < cutoff
    last_seen: dict[str, datetime] = {}
    for r in readings:
        if r.device_id not in last_seen or last_seen[r.device_id] < r.ts:
            last_seen[r.device_id] = r.ts
    # As JSON: psycopg dumps a list as an array element by element in Python, json.dumps runs in C.
    seen_before = {d: ts for d, ts in cur.execute(_SEEN_BEFORE, (Jsonb(sorted(last_seen)),)).fetchall()
                   if ts is not None}
    cur.execute(_LAST_SEEN, (Jsonb([(d, ts.isoformat()) for d, ts in last_seen.items()]),))
    return {d: (new[d], late[d]) for d in new}, stored, seen_before


def _inbox_keys(readings: list[Reading], stored: list[Stored], seen_before: dict[str, datetime]) -> list[list[Any]]:
    """The alert inbox's keys of a batch: per device and metric it carried, ``[device_id, metric, [ts, value],
    ...]`` (ts in µs since the epoch) with the readings it stored that are newer than anything their device had
    reported before (the engine judges those one by one, in time order, when it has fallen behind); a late
    reading or a duplicate is not named, and a pair with none named is ``[device_id, metric]`` (judged by its
    newest reading)."""
    named: dict[tuple[str, str], list[tuple[int, float]]] = {(r.device_id, r.metric): [] for r in readings}
    for ts, device_id, metric, value in stored:
        before = seen_before.get(device_id)
        if before is None or ts > before:
            named[(device_id, metric)].append(((ts - EPOCH) // US, value))
    return [[device_id, metric, *newer] for (device_id, metric), newer in sorted(named.items())]


def write_batch(conn: psycopg.Connection, batch: Batch) -> WriteResult:
    cutoff = late_before(batch.now)
    by_device: dict[str, tuple[int, int]] = {}
    by_system: dict[str, tuple[int, int]] = {}
    with conn.transaction(), conn.cursor() as cur:
        if batch.readings:
            by_device, stored, seen_before = _store_readings(cur, batch.readings, cutoff)
            cur.execute("INSERT INTO alert_inbox (kind, keys) VALUES ('telemetry', %s)",
                        (Jsonb(_inbox_keys(batch.readings, stored, seen_before)),))
        if batch.events:
            cur.executemany(_INSERT_EVENTS, [_event_params(t) for t in batch.events], returning=True)
            new, late = Counter[str](), Counter[str]()
            while True:
                for system, ts in cur.fetchall():
                    new[system] += 1
                    late[system] += ts < cutoff
                if not cur.nextset():
                    break
            by_system = {s: (new[s], late[s]) for s in new}
            reporters = [(t.event.ts, t.event.source_system, t.event.body.event_id, r.name, r.phone)
                         for t in batch.events if (r := t.event.body.reporter) is not None]
            if reporters:
                cur.executemany(_INSERT_REPORTERS, reporters)
            keys = sorted({(t.event.source_system, t.event.body.event_id, t.event.ts.isoformat())
                           for t in batch.events})
            cur.execute("INSERT INTO alert_inbox (kind, keys) VALUES ('event', %s)", (Jsonb(keys),))
        if batch.statuses:
            order = sorted(batch.statuses, key=lambda s: s.device_id)  # stable: one device's messages keep order
            cur.executemany(_STATUS, [(s.device_id, s.online, batch.now) for s in order])
        if batch.dead_letters:
            cur.executemany(
                "INSERT INTO dead_letters (topic, payload, reason, detail) VALUES (%s, %s, %s, %s)",
                [(_safe_text(d.topic), d.payload, d.reason.value, _safe_text(d.detail)) for d in batch.dead_letters],
            )
        new_rows = NewRows(by_device, by_system, len(batch.statuses))
        rows = counter_rows(batch.tally, new_rows)
        if rows:
            cur.execute(_COUNTERS, (counter_day(batch.now), Jsonb([
                {"source": r.source, "kind": r.kind, "received": r.received, "stored": r.stored,
                 "duplicates": r.duplicates, "rejected": r.rejected, "late": r.late} for r in rows])))
        if batch.readings or batch.events:
            cur.execute("NOTIFY alert_inbox")
    readings_stored = sum(n for n, _ in by_device.values())
    return WriteResult(readings_stored, len(batch.readings) - readings_stored,
                       sum(n for n, _ in by_system.values()), len(batch.dead_letters))
