-- Each long-running process says it is alive every few seconds (cityops/heartbeat.py): one row per process,
-- so the admin page shows every worker of every machine, its readiness and its lag, from the database all of
-- them share, without knowing their addresses.
CREATE TABLE process_heartbeats (
    component  text NOT NULL CHECK (component IN ('ingest', 'alerts', 'dashboard')),
    process    text NOT NULL,  -- the instance: ingest worker's client id, alert engine's name, dashboard host:pid
    host       text NOT NULL,
    pid        integer NOT NULL,
    started_at timestamptz NOT NULL,
    beat_at    timestamptz NOT NULL,
    ready      boolean NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',  -- what the component measures of itself (lag, leader, buffer …)
    PRIMARY KEY (component, process)
);

-- Each runtime role writes its own component's rows only (row security: a compromised dashboard cannot
-- report the ingest workers healthy); the dashboard reads them all for the admin page.
ALTER TABLE process_heartbeats ENABLE ROW LEVEL SECURITY;
CREATE POLICY heartbeat_read ON process_heartbeats FOR SELECT USING (true);
CREATE POLICY heartbeat_insert ON process_heartbeats FOR INSERT
    WITH CHECK (pg_has_role(current_user, 'cityops_' || component, 'MEMBER'));
CREATE POLICY heartbeat_update ON process_heartbeats FOR UPDATE
    USING (pg_has_role(current_user, 'cityops_' || component, 'MEMBER'))
    WITH CHECK (pg_has_role(current_user, 'cityops_' || component, 'MEMBER'));
CREATE POLICY heartbeat_delete ON process_heartbeats FOR DELETE  -- a clean stop removes its own row
    USING (pg_has_role(current_user, 'cityops_' || component, 'MEMBER'));
GRANT SELECT, INSERT, UPDATE, DELETE ON process_heartbeats TO cityops_ingest, cityops_alerts, cityops_dashboard;

-- When each user last made a request (written at most every 30 s per session): the dashboard's
-- active-sessions figure counts it the same whichever worker answers.
ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
