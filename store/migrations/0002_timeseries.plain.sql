-- Plain PostgreSQL: the tables stay ordinary tables, indexed by time, and a view stands
-- where TimescaleDB keeps a continuous aggregate, so every query reads the same names.
CREATE INDEX telemetry_ts ON telemetry (ts DESC);

CREATE INDEX events_ts ON events (ts DESC);

CREATE VIEW telemetry_1m AS
SELECT date_bin(interval '1 minute', ts, timestamptz '2000-01-01') AS bucket, device_id, metric, township_code,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value, count(*) AS n
FROM telemetry
GROUP BY 1, 2, 3, 4;
