-- 应急响应 (issue 12): the command center declares, changes and lifts an emergency response level (Ⅳ级 → Ⅰ级)
-- for the whole city or one district, each time as a directive to the townships it covers (alerts.directives).
-- Append-only: the level in force in a scope is its newest row's (NULL: lifted).
CREATE TABLE response_levels (
    id            bigserial PRIMARY KEY,
    district_code text,                                      -- NULL: the whole city
    level         smallint CHECK (level BETWEEN 1 AND 4),    -- 1 = Ⅰ级 (the highest); NULL: lifted
    note          text NOT NULL DEFAULT '',
    declared_by   text NOT NULL,
    declared_at   timestamptz NOT NULL,
    directive_id  bigint NOT NULL REFERENCES directives (id)
);
CREATE INDEX response_levels_scope ON response_levels (district_code, id DESC);
CREATE TRIGGER response_levels_append_only BEFORE UPDATE OR DELETE ON response_levels
    FOR EACH ROW EXECUTE FUNCTION refuse_log_change();

-- The command desk writes it (with its directive); the engine reads nothing of it.
GRANT SELECT, INSERT ON response_levels TO cityops_dashboard;
GRANT USAGE ON SEQUENCE response_levels_id_seq TO cityops_dashboard;
