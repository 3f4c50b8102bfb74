-- 协办 and the closure guard (issue 18).

-- Each assisting unit's part of an incident past 待签收: {"<unit>": "signed" | "done"} (alerts.lifecycle.Part),
-- written with the 协办签收 / 协办反馈 log rows that move it; a unit of assist_units missing here has not signed.
ALTER TABLE incidents ADD COLUMN assist_parts jsonb NOT NULL DEFAULT '{}'::jsonb;

-- 核查结案 checks every warning attached to the incident (a grouped incident carries several) that is still open.
CREATE INDEX warnings_open_by_incident ON warnings (incident_id) WHERE status = 'open';
