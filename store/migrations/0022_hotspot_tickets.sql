-- 12345 民声呼应 (issue 12): a hotspot of repeated complaints is one proactive-governance incident (主动治理) that
-- lists its tickets. Each ticket (an event, keyed as events are) belongs to at most one hotspot: the cluster it
-- formed or the one it arrived inside later. A ticket's outcome is its hotspot incident's (read through this).
CREATE TABLE hotspot_tickets (
    ts            timestamptz NOT NULL,
    source_system text NOT NULL,
    event_id      text NOT NULL,
    incident_id   bigint NOT NULL REFERENCES incidents (id),
    attached_at   timestamptz NOT NULL,  -- when the engine attached it (the engine's clock, like the log's)
    PRIMARY KEY (source_system, event_id, ts)
);
-- The incident page lists a hotspot's tickets; the engine reads the newest one for the hotspot's quiet window.
CREATE INDEX hotspot_tickets_incident ON hotspot_tickets (incident_id, ts);
-- The engine looks for unattached complaints of a kind near a new one within the window.
CREATE INDEX IF NOT EXISTS events_category_title_ts ON events (category, title, ts);

GRANT SELECT, INSERT ON hotspot_tickets TO cityops_alerts;
GRANT SELECT ON hotspot_tickets TO cityops_dashboard;
