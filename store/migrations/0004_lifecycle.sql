-- The full closed loop: postponement, verification deadlines, escalation tiers, 协办 units,
-- merges, routing by area × category, maintenance windows, directives and an MQTT outbox.

ALTER TABLE incidents
    ADD COLUMN verify_deadline timestamptz,
    ADD COLUMN paused_at timestamptz,
    ADD COLUMN escalation_tier smallint NOT NULL DEFAULT 0,
    ADD COLUMN assist_units text[] NOT NULL DEFAULT '{}',
    ADD COLUMN merged_into bigint REFERENCES incidents (id),
    ADD COLUMN group_key text;  -- a burst of warnings of one kind in one township shares one incident
CREATE INDEX incidents_open_deadlines ON incidents (status) WHERE status NOT IN ('closed', 'merged');
CREATE INDEX incidents_group ON incidents (group_key, created_at) WHERE group_key IS NOT NULL;

-- Every breach under a warning is still counted: one row per occurrence.
CREATE TABLE warning_occurrences (
    id          bigserial PRIMARY KEY,
    warning_id  bigint NOT NULL REFERENCES warnings (id),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    peak_value  double precision,
    level       smallint NOT NULL
);
CREATE UNIQUE INDEX warning_occurrences_one_open ON warning_occurrences (warning_id) WHERE ended_at IS NULL;
ALTER TABLE warnings ADD COLUMN downgrade_since timestamptz;  -- the value fell: hold before downgrading

-- Responsibility: area × category (× asset owner) → unit. The most specific row wins;
-- without one an incident goes to the township that contains the point.
CREATE TABLE responsibility (
    id            bigserial PRIMARY KEY,
    area_code     text NOT NULL,               -- a district, township or grid code (prefix match)
    category      text NOT NULL DEFAULT '*',
    asset_owner   text NOT NULL DEFAULT '*',
    unit_code     text NOT NULL,               -- township code (or a department unit code)
    note          text NOT NULL DEFAULT '',
    UNIQUE (area_code, category, asset_owner)
);

-- Maintenance windows: a device or an area whose warnings are expected and suppressed.
CREATE TABLE maintenance_windows (
    id          bigserial PRIMARY KEY,
    device_id   text,
    area_code   text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason      text NOT NULL CHECK (reason <> ''),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((device_id IS NULL) <> (area_code IS NULL))
);
CREATE TABLE suppressed_warnings (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    rule_id     text NOT NULL,
    subject     text NOT NULL,
    cause       text NOT NULL,              -- maintenance:<id> or inhibited:<rule>:<area>
    level       smallint
);

-- 政令一键智达: a directive to all or chosen townships, each must acknowledge.
CREATE TABLE directives (
    id          bigserial PRIMARY KEY,
    title       text NOT NULL CHECK (title <> ''),
    body        text NOT NULL DEFAULT '',
    issued_by   text NOT NULL,
    issued_at   timestamptz NOT NULL,
    ack_within  interval NOT NULL DEFAULT interval '30 minutes'
);
CREATE TABLE directive_targets (
    directive_id     bigint NOT NULL REFERENCES directives (id),
    township_code    text NOT NULL,
    acked_at         timestamptz,
    acked_by         text,
    escalation_tier  smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (directive_id, township_code)
);
CREATE TABLE directive_log (
    id            bigserial PRIMARY KEY,
    directive_id  bigint NOT NULL REFERENCES directives (id),
    township_code text,
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,            -- issue, ack, remind, escalate
    note          text NOT NULL DEFAULT ''
);
CREATE TRIGGER directive_log_append_only BEFORE UPDATE OR DELETE ON directive_log
    FOR EACH ROW EXECUTE FUNCTION refuse_log_change();

-- Outbound MQTT (dispatch and directives for township apps), written in the same
-- transaction as the move, published and marked by the engine: nothing is announced
-- that did not commit, nothing committed goes unannounced.
CREATE TABLE mqtt_outbox (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    payload       jsonb NOT NULL,
    published_at  timestamptz
);
CREATE INDEX mqtt_outbox_pending ON mqtt_outbox (id) WHERE published_at IS NULL;
