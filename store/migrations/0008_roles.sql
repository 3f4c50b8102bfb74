-- Least privilege. The long-running processes connect as roles of their own with only the grants
-- below; the owner (who runs these migrations) owns every table, so no runtime role can drop a table,
-- disable a trigger or truncate anything, and none may UPDATE or DELETE the logs (incident_log,
-- directive_log, auth_events): the append-only triggers stay for the owner, the missing privilege
-- stops everyone else even if a trigger were gone.
--
-- The roles are created NOLOGIN when missing (the embedded server creates them as login roles with
-- generated passwords first); production grants them to its own login roles, see
-- `python -m store roles`. A migration that adds a table grants its roles in the same file.

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cityops_ingest', 'cityops_alerts', 'cityops_dashboard'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO cityops_ingest, cityops_alerts, cityops_dashboard;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO cityops_ingest, cityops_alerts, cityops_dashboard;
GRANT SELECT ON schema_migrations TO cityops_ingest, cityops_alerts, cityops_dashboard;

-- ingest: telemetry, events, dead letters and counters in, region tagging and device lookups out.
GRANT SELECT ON devices, regions, boundary_versions TO cityops_ingest;
GRANT SELECT, INSERT ON telemetry, events, dead_letters, alert_inbox TO cityops_ingest;
GRANT SELECT, INSERT, UPDATE ON device_status, ingest_counters TO cityops_ingest;

-- alerts: reads what the rules need; writes warnings, incidents and their log, directives' reminders,
-- the outbox it publishes, and consumes the inbox ingest fills.
GRANT SELECT ON devices, device_status, regions, boundary_versions, telemetry, telemetry_1m, telemetry_1h, events,
    responsibility, maintenance_windows, incident_log, directive_log, directives TO cityops_alerts;
GRANT SELECT, INSERT, UPDATE ON warnings, warning_occurrences, incidents, directive_targets, mqtt_outbox
    TO cityops_alerts;
GRANT SELECT, INSERT ON suppressed_warnings, incident_log, directive_log TO cityops_alerts;
GRANT SELECT, UPDATE, DELETE ON alert_inbox TO cityops_alerts;  -- UPDATE: claimed FOR UPDATE SKIP LOCKED

-- dashboard: reads everything it shows; acts on incidents and directives through the same lifecycle
-- code as the engine (so the same grants for those), stores photos, manages accounts, records logins.
GRANT SELECT ON devices, device_status, regions, boundary_versions, telemetry, telemetry_1m, telemetry_1h, events,
    dead_letters, ingest_counters, responsibility, maintenance_windows, warnings, warning_occurrences,
    suppressed_warnings, alert_inbox TO cityops_dashboard;
GRANT SELECT, INSERT, UPDATE ON incidents, directives, directive_targets, users TO cityops_dashboard;
GRANT SELECT, INSERT ON incident_log, directive_log, incident_attachments, mqtt_outbox, auth_events
    TO cityops_dashboard;
