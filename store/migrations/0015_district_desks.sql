-- 区县指挥中心 (issue 18): a district's command desk, its escalations, and the dispatch window of 待分拨.

-- A district desk's staff sign in scoped to one district (6-digit code), as township staff to a township.
ALTER TABLE users ADD COLUMN district_code text;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('command', 'district', 'township', 'department', 'leader', 'admin'));
ALTER TABLE users ADD CONSTRAINT users_district_check
    CHECK ((role = 'district') = (district_code IS NOT NULL));

-- Whose district desk an incident is on: the district of the township it is with (after a 退单 too: the
-- township stays recorded), else the district of its point (alerts.lifecycle.desk_district, the same rule).
ALTER TABLE incidents ADD COLUMN desk_district text GENERATED ALWAYS AS (
    CASE WHEN township_code ~ '^[0-9]{9}$' THEN left(township_code, 6) ELSE district_code END) STORED;
CREATE INDEX incidents_desk_district ON incidents (desk_district, status);

-- 分拨时限: set when an incident enters 待分拨 (立案, 退单), cleared when it leaves (alerts.deadlines.dispatch_window).
ALTER TABLE incidents ADD COLUMN dispatch_deadline timestamptz;
-- Whom its escalation reached (district | city | leader) until its status moves on; shown on that desk.
ALTER TABLE incidents ADD COLUMN escalated_to text CHECK (escalated_to IN ('district', 'city', 'leader'));
CREATE INDEX incidents_escalated ON incidents (escalated_to) WHERE escalated_to IS NOT NULL;
