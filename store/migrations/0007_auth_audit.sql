-- Accounts can be disabled (an open session stops at its next request), and every login, failure,
-- lock-out, logout, expiry and refusal is a row of an append-only audit table: who, what, when,
-- from which address. Lock-outs are counted from these rows, so there is one record, not two.

ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

CREATE TABLE auth_events (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    username  text NOT NULL DEFAULT '',  -- as given (a failure may name no account)
    address   text NOT NULL DEFAULT '',  -- the client's address as the server saw it
    event     text NOT NULL CHECK (event IN ('login', 'login_failed', 'locked_out', 'logout', 'expired', 'refused',
                                             'unlocked', 'disabled')),
    actor     text NOT NULL DEFAULT '',  -- who did it, where not the user themself (an admin's unlock)
    detail    text NOT NULL DEFAULT ''
);
CREATE INDEX auth_events_user_at ON auth_events (username, at);
CREATE INDEX auth_events_address_at ON auth_events (address, at);

CREATE OR REPLACE FUNCTION refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER auth_events_append_only BEFORE UPDATE OR DELETE ON auth_events
    FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER auth_events_no_truncate BEFORE TRUNCATE ON auth_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();
