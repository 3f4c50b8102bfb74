-- An hourly continuous aggregate, and compression and retention policies with default
-- intervals; `python -m ingest policies --compress-after 7d --retain 365d` changes them.

-- Straight from telemetry (not from telemetry_1m): an average of averages would need the
-- counts to weigh them. The refresh window reaches back 8 days because ingest accepts
-- readings up to 7 days old; refreshes only recompute buckets that changed.
CREATE MATERIALIZED VIEW telemetry_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', ts) AS bucket, device_id, metric, township_code,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value, count(*) AS n
FROM telemetry
GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1h',
    start_offset => interval '8 days', end_offset => interval '1 hour',
    schedule_interval => interval '30 minutes');

-- Compressed chunks keep one segment per device and metric, newest first: the shape of
-- every dashboard query. Late readings into compressed chunks still insert (and
-- ON CONFLICT DO NOTHING still deduplicates them).
ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id, metric',
                           timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('telemetry', compress_after => interval '7 days');
SELECT add_retention_policy('telemetry', drop_after => interval '365 days');
