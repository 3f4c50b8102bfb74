-- Inhibited warnings are recorded (issue 18): while a township-wide no_data warning stands for its silent devices,
-- each device's own offline warning it holds back is one row, naming that area warning: once per episode (the
-- area warning), when it was first held back, not again at every tick. A leader or the command center reads
-- them on the incident of the area warning.
ALTER TABLE suppressed_warnings ADD COLUMN warning_id bigint REFERENCES warnings (id);
CREATE UNIQUE INDEX suppressed_warnings_episode ON suppressed_warnings (warning_id, subject)
    WHERE warning_id IS NOT NULL;
