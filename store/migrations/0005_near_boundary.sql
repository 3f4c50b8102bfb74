-- Near a township border: the point may belong to the neighbour (a GPS fix is often 10–30 m
-- off), so the dispatcher confirms the area. Set at ingest or registration from the same
-- tagging call as the region codes; an incident inherits it from its event or device, an
-- amended location recomputes it, and 确认属地 (confirm_area, logged) clears it.
-- A constant default adds the column without rewriting rows, hypertable chunks included.

ALTER TABLE devices ADD COLUMN near_boundary boolean NOT NULL DEFAULT false;

ALTER TABLE events ADD COLUMN near_boundary boolean NOT NULL DEFAULT false;

ALTER TABLE incidents ADD COLUMN near_boundary boolean NOT NULL DEFAULT false;
