-- Core relational schema: geography, devices, ingest records, warnings, incidents, users.

CREATE TABLE boundary_versions (
    version     integer PRIMARY KEY,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    note        text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT false
);
-- Exactly one active boundary version at a time.
CREATE UNIQUE INDEX boundary_versions_one_active ON boundary_versions (active) WHERE active;

CREATE TABLE regions (
    version      integer NOT NULL REFERENCES boundary_versions (version),
    level        text NOT NULL CHECK (level IN ('district', 'township', 'grid')),
    code         text NOT NULL,
    name         text NOT NULL,
    parent_code  text,
    illustrative boolean NOT NULL DEFAULT false,  -- 示意: generated, not an official boundary
    geom_wkb     bytea NOT NULL,                  -- WGS84 polygon, full precision
    label_lon    double precision NOT NULL,
    label_lat    double precision NOT NULL,
    PRIMARY KEY (version, code),
    CHECK ((level = 'district' AND length(code) = 6)
        OR (level = 'township' AND length(code) = 9)
        OR (level = 'grid' AND length(code) = 12))
);
CREATE INDEX regions_level ON regions (version, level);

CREATE TABLE devices (
    device_id           text PRIMARY KEY,
    device_type         text NOT NULL,
    dept                text NOT NULL,
    name                text NOT NULL,
    lon                 double precision NOT NULL,
    lat                 double precision NOT NULL,
    district_code       text,
    township_code       text,
    grid_code           text,
    boundary_version    integer,
    expected_interval_s integer NOT NULL DEFAULT 60 CHECK (expected_interval_s > 0),
    registered_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_township ON devices (township_code);

CREATE TABLE device_status (
    device_id   text PRIMARY KEY,
    last_seen   timestamptz,
    online      boolean,
    status_at   timestamptz
);

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    reason      text NOT NULL,
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX dead_letters_received ON dead_letters (received_at);

-- Transactional hand-off from ingest to the alert engine: ingest inserts one row per
-- committed batch in the same transaction as the data; the engine deletes the rows it
-- has evaluated in the same transaction as its warnings. No ordering holes, no loss.
CREATE TABLE alert_inbox (
    id          bigserial PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('telemetry', 'event')),
    keys        jsonb NOT NULL
);

CREATE TABLE warnings (
    id             bigserial PRIMARY KEY,
    rule_id        text NOT NULL,
    subject        text NOT NULL,            -- device id (or area code for area rules)
    level          smallint NOT NULL CHECK (level BETWEEN 1 AND 4),  -- 1 红 I … 4 蓝 IV
    status         text NOT NULL CHECK (status IN ('open', 'cleared')),
    title          text NOT NULL,
    metric         text,
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    cleared_at     timestamptz,
    first_value    double precision,
    peak_value     double precision,
    last_value     double precision,
    occurrences    integer NOT NULL DEFAULT 1,
    lon            double precision,
    lat            double precision,
    district_code  text,
    township_code  text,
    grid_code      text,
    incident_id    bigint
);
-- One open warning per rule and subject, enforced here rather than by luck.
CREATE UNIQUE INDEX warnings_one_open ON warnings (rule_id, subject) WHERE status = 'open';
CREATE INDEX warnings_opened ON warnings (opened_at DESC);

CREATE TABLE incidents (
    id               bigserial PRIMARY KEY,
    title            text NOT NULL,
    category         text NOT NULL,
    level            smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    status           text NOT NULL,
    source_kind      text NOT NULL CHECK (source_kind IN ('warning', 'event', 'manual')),
    source_ref       text UNIQUE,  -- 'warning:<id>' or 'event:<system>:<id>': one incident per cause
    warning_id       bigint REFERENCES warnings (id),
    lon              double precision,
    lat              double precision,
    district_code    text,
    township_code    text,
    grid_code        text,
    boundary_version integer,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    sign_deadline    timestamptz,
    finish_deadline  timestamptz,
    rework_count     integer NOT NULL DEFAULT 0,
    version          integer NOT NULL DEFAULT 0  -- optimistic lock: each transition bumps it
);
CREATE INDEX incidents_township_status ON incidents (township_code, status);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_created ON incidents (created_at DESC);

-- Append-only: the timeline a leader reviews is read from here and nothing else.
CREATE TABLE incident_log (
    id           bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    role         text NOT NULL,
    unit         text,
    source       text NOT NULL CHECK (source IN ('web', 'mqtt', 'api', 'system')),
    action       text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    note         text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_log_incident ON incident_log (incident_id, id);

CREATE FUNCTION refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incident_log_append_only BEFORE UPDATE OR DELETE ON incident_log
    FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER incident_log_no_truncate BEFORE TRUNCATE ON incident_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();

CREATE TABLE incident_attachments (
    id           bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    log_id       bigint REFERENCES incident_log (id),
    filename     text NOT NULL,
    content_type text NOT NULL,
    data         bytea NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    username       text PRIMARY KEY,
    display_name   text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('command', 'township', 'leader', 'admin')),
    township_code  text,
    CHECK ((role = 'township') = (township_code IS NOT NULL))
);
