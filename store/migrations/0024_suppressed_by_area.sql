-- Inhibited warnings are recorded (issue 18): while a township-wide no_data warning stands for its silent devices,
-- each device's own offline warning it holds back is one row, naming that area warning: once per episode (the
-- area warning), when it was first held back, not again at every tick. A leader or the command center reads
-- them on the incident of the area warning.
ALTER TABLE suppressed_warnings ADD COLUMN warning_id bigint REFERENCES warnings (id);
CREATE UNIQUE INDEX suppressed_warnings_episode ON suppressed_warnings (warning_id, subject)
    WHERE warning_id IS NOT NULL;

-- A new boundary version re-tags (issue 18): the alert engine re-tags the fixed devices and the open incidents
-- tagged with another version once per activation (alerts.retag), an incident whose township changed flagged
-- for the desk through the lifecycle (属地变更). retagged_at: when that was done for this activation (NULL: due).
ALTER TABLE boundary_versions ADD COLUMN retagged_at timestamptz;
GRANT UPDATE (retagged_at) ON boundary_versions TO cityops_alerts;
GRANT UPDATE (district_code, township_code, grid_code, near_boundary, boundary_version) ON devices TO cityops_alerts;
