-- 七张问题清单 (issue 12): a root cause recorded at 核查结案, the same root cause recurring in one grid or one
-- category flagged as a recurring problem (问题清单) with its own 整改 → 验收 loop and log, and the watch
-- rules it may feed (预警预防: a lower threshold in one grid for a season).

-- The managed list of root causes (根源分类), edited by the admin; a retired one stays for the incidents that
-- name it but is no longer offered.
CREATE TABLE root_causes (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> ''),
    name_en     text NOT NULL DEFAULT '',
    retired     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO root_causes (name, name_en) VALUES
    ('设施老化失修', 'Ageing or unmaintained facility'),
    ('排水能力不足', 'Insufficient drainage'),
    ('企业主体责任不落实', 'Operator neglects its duties'),
    ('违规作业', 'Unsafe or unlicensed work'),
    ('日常巡查不到位', 'Inspections not done'),
    ('设备故障误报', 'Faulty device, false alarm'),
    ('极端天气', 'Extreme weather'),
    ('管理职责不清', 'Unclear responsibility');

-- The verify row names its root cause (details.root_cause, the list's id): recurrence reads them by cause.
CREATE INDEX incident_log_root_cause ON incident_log (((details ->> 'root_cause')::integer), at)
    WHERE action = 'verify' AND details ? 'root_cause';

-- A recurring problem: one root cause in one grid (scope 'grid', the grid's code) or one category (scope
-- 'category', its code) within the configured window. Its state and counters as alerts.rectification's
-- transition leaves them; the log below is the truth, replayed by the tests.
CREATE TABLE rectifications (
    id             bigserial PRIMARY KEY,
    root_cause_id  integer NOT NULL REFERENCES root_causes (id),
    scope          text NOT NULL CHECK (scope IN ('grid', 'category')),
    scope_code     text NOT NULL,
    status         text NOT NULL CHECK (status IN ('rectifying', 'reported', 'accepted')),
    owner_unit     text NOT NULL,              -- 整改责任单位: a township or a department unit code
    deadline       timestamptz NOT NULL,       -- 整改时限
    incident_ids   bigint[] NOT NULL,          -- the incidents that made it recur, and those that joined later
    district_code  text,                       -- the district of the owner's township (a district desk's own)
    return_count   integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- One open problem per root cause and scope: a further recurrence joins it instead of opening another.
CREATE UNIQUE INDEX rectifications_one_open ON rectifications (root_cause_id, scope, scope_code)
    WHERE status <> 'accepted';
CREATE INDEX rectifications_open_deadline ON rectifications (deadline) WHERE status <> 'accepted';

CREATE TABLE rectification_log (
    id                bigserial PRIMARY KEY,
    rectification_id  bigint NOT NULL REFERENCES rectifications (id),
    at                timestamptz NOT NULL,
    actor             text NOT NULL,
    role              text NOT NULL,
    unit              text,
    source            text NOT NULL DEFAULT 'web',
    action            text NOT NULL,
    from_status       text,
    to_status         text NOT NULL,
    note              text NOT NULL DEFAULT '',
    details           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX rectification_log_of ON rectification_log (rectification_id, id);
CREATE TRIGGER rectification_log_append_only BEFORE UPDATE OR DELETE ON rectification_log
    FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER rectification_log_no_truncate BEFORE TRUNCATE ON rectification_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();

-- 预警预防: a threshold rule's levels replaced in one grid from starts_at until ends_at (the engine's
-- alerts.watch), made from a recurring problem and logged in its log (action 'watch').
CREATE TABLE watch_rules (
    id                bigserial PRIMARY KEY,
    rectification_id  bigint NOT NULL REFERENCES rectifications (id),
    rule_id           text NOT NULL,
    grid_code         text NOT NULL CHECK (length(grid_code) = 12),
    levels            jsonb NOT NULL,          -- [{"level": 2, "at_least": 16.0}, ...], validated whole
    clear_below       double precision NOT NULL,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL
);
CREATE INDEX watch_rules_until ON watch_rules (ends_at, starts_at);

-- An admin's change of the list is a row of the login log as the account changes are ('root_cause_changed').
DO $$
DECLARE
    definition text := (SELECT pg_get_constraintdef(oid) FROM pg_constraint
                        WHERE conrelid = 'auth_events'::regclass AND conname = 'auth_events_event_check');
BEGIN
    ALTER TABLE auth_events DROP CONSTRAINT auth_events_event_check;
    EXECUTE 'ALTER TABLE auth_events ADD CONSTRAINT auth_events_event_check '
        || regexp_replace(definition, '^CHECK \((.*)\)$', 'CHECK (\1 OR event = ''root_cause_changed'')');
END $$;

-- The dashboard (and the demo's simulated desk, which connects as it) records causes, runs the loop and makes
-- watch rules; the engine reads the watch rules only.
GRANT SELECT, INSERT, UPDATE ON root_causes, rectifications TO cityops_dashboard;
GRANT SELECT, INSERT ON rectification_log, watch_rules TO cityops_dashboard;
GRANT SELECT ON watch_rules TO cityops_alerts;
GRANT USAGE ON SEQUENCE root_causes_id_seq, rectifications_id_seq, rectification_log_id_seq, watch_rules_id_seq
    TO cityops_dashboard;
