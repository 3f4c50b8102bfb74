-- 网格员 (issue 18): grid members report what they see (巡查上报) and check the work on site (核查) in their grids.

-- A grid member signs in scoped to its grids (12-digit codes), as a district desk to its district.
ALTER TABLE users ADD COLUMN grid_codes text[];
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('command', 'district', 'township', 'department', 'grid', 'leader', 'admin'));
ALTER TABLE users ADD CONSTRAINT users_grid_check
    CHECK ((role = 'grid') = (coalesce(cardinality(grid_codes), 0) > 0));

-- Who reported a grid report (its 待受理 row, then the incident): the reporter's page lists its own reports,
-- a declined one with the desk's reason.
ALTER TABLE incidents ADD COLUMN reported_by text;
CREATE INDEX incidents_reported_by ON incidents (reported_by, created_at DESC) WHERE reported_by IS NOT NULL;
-- A grid's incidents (its member's page, and the desk's likely-duplicate check of a report).
CREATE INDEX incidents_grid_status ON incidents (grid_code, status);
