-- Telemetry and events as TimescaleDB hypertables with a per-minute continuous aggregate.
CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day');

SELECT create_hypertable('events', 'ts', chunk_time_interval => interval '7 days');

CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', ts) AS bucket, device_id, metric, township_code,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value, count(*) AS n
FROM telemetry
GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1m',
    start_offset => interval '3 hours', end_offset => interval '1 minute',
    schedule_interval => interval '1 minute');
