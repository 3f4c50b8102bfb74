-- Telemetry and events as TimescaleDB hypertables with a per-minute continuous aggregate.
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE telemetry (
    ts             timestamptz NOT NULL,
    device_id      text NOT NULL,
    metric         text NOT NULL,
    value          double precision NOT NULL,
    district_code  text,
    township_code  text,
    grid_code      text,
    ingested_at    timestamptz NOT NULL DEFAULT now(),  -- when ingest stored it: lateness and latency
    PRIMARY KEY (device_id, metric, ts)
);
SELECT create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day');

CREATE TABLE events (
    ts             timestamptz NOT NULL,
    source_system  text NOT NULL,
    event_id       text NOT NULL,
    dept           text NOT NULL,
    category       text NOT NULL,
    title          text NOT NULL,
    lon            double precision,
    lat            double precision,
    district_code  text,
    township_code  text,
    grid_code      text,
    payload        jsonb NOT NULL,
    PRIMARY KEY (source_system, event_id, ts)
);
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
