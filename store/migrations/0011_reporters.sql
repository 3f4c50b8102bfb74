-- Personal data of 12345 tickets: the reporter's name and phone, in tables of their own so the grants
-- decide who reads them (store/privacy.py: who sees them whole, how they are masked). Never in
-- events.payload, which every role reads.

-- What ingest received with an event, keyed like the event (a redelivery adds nothing).
CREATE TABLE event_reporters (
    ts            timestamptz NOT NULL,
    source_system text NOT NULL,
    event_id      text NOT NULL,
    name          text NOT NULL DEFAULT '',  -- '' when the caller gave none
    phone         text NOT NULL,  -- normalised: 13900001234 or 0735-2221234
    PRIMARY KEY (source_system, event_id, ts)
);

-- The reporter of an incident opened from such an event, copied by the engine when it opens the incident.
CREATE TABLE incident_contacts (
    incident_id bigint PRIMARY KEY REFERENCES incidents (id),
    name        text NOT NULL DEFAULT '',
    phone       text NOT NULL
);

-- ingest writes what it receives and cannot read it back; the engine copies it to the incident and reads the
-- incident's (to mask it for township apps); the dashboard reads both (and masks for whoever may not see it).
GRANT INSERT ON event_reporters TO cityops_ingest;
GRANT SELECT ON event_reporters TO cityops_alerts;
GRANT SELECT, INSERT ON incident_contacts TO cityops_alerts;
GRANT SELECT ON event_reporters, incident_contacts TO cityops_dashboard;

-- Every unmasked display is a row of the login log: 'pii_viewed', detail the incident. The constraint keeps
-- whatever earlier migrations allow, however PostgreSQL spells it, and allows this one too.
DO $$
DECLARE
    definition text := (SELECT pg_get_constraintdef(oid) FROM pg_constraint
                        WHERE conrelid = 'auth_events'::regclass AND conname = 'auth_events_event_check');
BEGIN
    ALTER TABLE auth_events DROP CONSTRAINT auth_events_event_check;
    EXECUTE 'ALTER TABLE auth_events ADD CONSTRAINT auth_events_event_check '
        || regexp_replace(definition, '^CHECK \((.*)\)$', 'CHECK (\1 OR event = ''pii_viewed'')');
END $$;

-- At most one such row per user, incident and minute: a page that polls does not flood the log.
CREATE UNIQUE INDEX auth_events_pii_viewed_once_a_minute
    ON auth_events (username, detail, date_trunc('minute', at AT TIME ZONE 'UTC')) WHERE event = 'pii_viewed';
