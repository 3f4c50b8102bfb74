-- The same relations on plain PostgreSQL: ordinary tables and a view where TimescaleDB
-- would keep a continuous aggregate, so every query reads the same names.
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
CREATE INDEX telemetry_ts ON telemetry (ts DESC);

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
CREATE INDEX events_ts ON events (ts DESC);

CREATE VIEW telemetry_1m AS
SELECT date_bin(interval '1 minute', ts, timestamptz '2000-01-01') AS bucket, device_id, metric, township_code,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value, count(*) AS n
FROM telemetry
GROUP BY 1, 2, 3, 4;
