-- Ingest accepts readings up to 7 days late (ingest/decode.py MAX_PAST), but the minute
-- aggregate's frequent refresh reaches back only 3 hours: a reading later than that
-- would never reach telemetry_1m. A second, hourly refresh covers the rest of the 7 days
-- (and a day of margin). TimescaleDB 2.21+ allows several refresh policies on one
-- continuous aggregate when their windows do not overlap; a refresh recomputes only the
-- buckets its invalidation log says changed, so a quiet hour costs next to nothing.
SELECT add_continuous_aggregate_policy('telemetry_1m',
    start_offset => interval '8 days', end_offset => interval '3 hours',
    schedule_interval => interval '1 hour');
