-- Accounts managed on the admin page: a password an admin set (a new account, a reset) must be changed
-- by its user at the next login, and every account change is a row of the append-only login log, with
-- the admin as actor and the account as username.
--
-- The new column inherits the table-level grants of 0008_roles.sql (the dashboard's SELECT, INSERT,
-- UPDATE on users; nothing for ingest or the engine), so no grant is needed here.

ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- The events the constraint allows already are kept, whichever they are: a database may have run a later
-- migration first (0011 adds 'pii_viewed'). Its definition reads ARRAY['login'::text, …] as 0007 wrote it, or
-- '{login,…}'::text[] as 0011 writes it; the new one is written the first way, which 0011 reads.
DO $$
DECLARE
    definition text := (SELECT pg_get_constraintdef(oid) FROM pg_constraint
                        WHERE conrelid = 'auth_events'::regclass AND conname = 'auth_events_event_check');
    allowed text[];
BEGIN
    SELECT array_agg(DISTINCT e ORDER BY e) INTO allowed FROM (
        SELECT m[1] FROM regexp_matches(definition, '''([a-z_]+)''', 'g') AS m
        UNION SELECT unnest(string_to_array(m[1], ',')) FROM regexp_matches(definition, '\{([a-z_,]+)\}', 'g') AS m
        UNION SELECT unnest(ARRAY['password_changed', 'password_reset', 'account_created', 'account_changed',
                                  'account_disabled', 'account_enabled'])) AS found(e);
    ALTER TABLE auth_events DROP CONSTRAINT auth_events_event_check;
    EXECUTE format('ALTER TABLE auth_events ADD CONSTRAINT auth_events_event_check CHECK (event IN (%s))',
                   (SELECT string_agg(quote_literal(e), ', ') FROM unnest(allowed) AS e));
END $$;

-- The admin page filters the log by event, newest first.
CREATE INDEX auth_events_event_id ON auth_events (event, id);
