-- 部门 (行业主管部门): units incidents are dispatched to besides the townships, e.g. 水利局 for water levels,
-- 交通运输局 for hazardous goods. Each handles some categories: an incident of one of them, dispatched to a
-- township, gets the department as 协办 (store/departments.py, alerts/incidents.py); the command desk may also
-- dispatch or transfer to it. Its unit code (dept-<code>) stands where a township code stands on an incident.
CREATE TABLE departments (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9]{1,20}$'),
    name        text NOT NULL,
    categories  text[] NOT NULL DEFAULT '{}'
);
GRANT SELECT ON departments TO cityops_ingest, cityops_alerts, cityops_dashboard;

-- Department staff sign in with their department's unit, as township staff with their township's.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('command', 'township', 'department', 'leader', 'admin'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_unit_check
    CHECK ((role IN ('township', 'department')) = (township_code IS NOT NULL));

-- A unit's desk lists the incidents it assists (协办) beside its own: assist_units @> ARRAY[unit].
CREATE INDEX incidents_assist_units ON incidents USING gin (assist_units);
