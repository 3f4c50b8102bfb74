-- telemetry_1h as a view with the columns of the TimescaleDB continuous aggregate.
-- Compression and retention have no plain equivalent: `python -m ingest policies` says so.

CREATE VIEW telemetry_1h AS
SELECT date_bin(interval '1 hour', ts, timestamptz '2000-01-01') AS bucket, device_id, metric, township_code,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value, count(*) AS n
FROM telemetry
GROUP BY 1, 2, 3, 4;
