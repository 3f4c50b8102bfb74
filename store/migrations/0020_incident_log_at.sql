-- 考核 and the leader cockpit read the incidents with a move in a period (incident_log.at): without this index
-- each such read scanned the whole log.
CREATE INDEX IF NOT EXISTS incident_log_at ON incident_log (at);
