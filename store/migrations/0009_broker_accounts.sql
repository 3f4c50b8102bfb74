-- MQTT broker accounts: the registry the broker's password and ACL files are rebuilt from
-- (ingest/broker_accounts.py). One row per device, gateway, department system, township app
-- and service; only a password hash is kept (mosquitto's $7$ PBKDF2-SHA512). A retired account
-- stays for the record and is left out of the broker's files at the next rebuild.

CREATE TABLE broker_accounts (
    username      text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('device', 'gateway', 'bridge', 'system', 'township', 'ingest',
                                                'alerts', 'simulator')),
    publish       text[] NOT NULL DEFAULT '{}',   -- topic filters it may publish on
    subscribe     text[] NOT NULL DEFAULT '{}',   -- topic filters whose messages it may receive
    password_hash text NOT NULL,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz
);

-- Any change wakes the process that rebuilds the broker's files (one notice per statement).
CREATE FUNCTION broker_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('broker_accounts', '');
    RETURN NULL;
END $$;
CREATE TRIGGER broker_accounts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON broker_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION broker_accounts_changed();

-- Registration (issuing, retiring) runs as the owner; the rebuild runs as ingest's role and only reads.
GRANT SELECT ON broker_accounts TO cityops_ingest;
