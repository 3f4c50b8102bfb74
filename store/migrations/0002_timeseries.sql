-- Telemetry and the event stream: the same tables in both flavours. The flavour files make
-- them hypertables with continuous aggregates, or index them and add views of the same names.

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
