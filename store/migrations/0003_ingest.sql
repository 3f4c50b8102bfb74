-- Ingest, both flavours: per-source counters and device health. The flavour files add
-- telemetry_1h (a view, or a continuous aggregate with compression and retention).

-- Per-source counters for the data-quality page and the monthly report, upserted by ingest
-- in the same transaction as each batch (ingest/counters.py defines sources and units).
-- received and rejected count MQTT messages; stored, duplicates and late count rows.
CREATE TABLE ingest_counters (
    day         date NOT NULL,                       -- Asia/Shanghai calendar day of ingest
    source      text NOT NULL,                       -- dept/device_type, source_system, (status), (bad_topic)
    kind        text NOT NULL CHECK (kind IN ('telemetry', 'event', 'status', 'bad_topic')),
    received    bigint NOT NULL DEFAULT 0,
    stored      bigint NOT NULL DEFAULT 0,
    duplicates  bigint NOT NULL DEFAULT 0,
    rejected    jsonb NOT NULL DEFAULT '{}'::jsonb,  -- dead-letter reason → messages
    late        bigint NOT NULL DEFAULT 0,           -- stored rows whose ts is > 10 min before ingest
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, source)
);

-- Adds two {reason: count} objects key by key.
CREATE FUNCTION ingest_add_counts(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
    FROM (SELECT key, sum(value::bigint) AS total
          FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS both_sides
          GROUP BY key) AS sums
$$;

-- Device health as of a given instant (pass now() or the caller's clock). Online from
-- data: the last reading is younger than 3 × the device's expected interval. Online from the
-- status topic: the retained online/offline message (last will), NULL if never sent;
-- status_at is when that state last changed. ingest/health.py holds the same rule.
CREATE FUNCTION device_health(as_of timestamptz)
RETURNS TABLE (device_id text, device_type text, dept text, district_code text, township_code text,
               grid_code text, expected_interval_s integer, last_seen timestamptz, online_data boolean,
               online_status boolean, status_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT d.device_id, d.device_type, d.dept, d.district_code, d.township_code, d.grid_code,
           d.expected_interval_s, s.last_seen,
           coalesce(s.last_seen > as_of - make_interval(secs => 3 * d.expected_interval_s), false),
           s.online, s.status_at
    FROM devices AS d LEFT JOIN device_status AS s ON s.device_id = d.device_id
$$;
