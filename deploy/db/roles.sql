-- 1. As a superuser: the owner (runs `python -m store migrate`, imports, registration) and the database.
CREATE ROLE cityops LOGIN PASSWORD :'owner_password';
CREATE DATABASE cityops OWNER cityops;
\connect cityops
-- TimescaleDB where the server has it (plain PostgreSQL runs the plain flavour of the migrations):
SELECT 'CREATE EXTENSION IF NOT EXISTS timescaledb'
    WHERE EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') \gexec

-- 2. The grant roles (shared by every database of the server: created once), so the logins below can join
--    them before the first migration runs.
SELECT 'CREATE ROLE cityops_ingest NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cityops_ingest') \gexec
SELECT 'CREATE ROLE cityops_alerts NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cityops_alerts') \gexec
SELECT 'CREATE ROLE cityops_dashboard NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cityops_dashboard') \gexec

-- 3. One login per runtime process: it owns nothing and has only its role's grants.
CREATE ROLE cityops_ingest_app LOGIN PASSWORD :'ingest_password' IN ROLE cityops_ingest;
CREATE ROLE cityops_alerts_app LOGIN PASSWORD :'alerts_password' IN ROLE cityops_alerts;
CREATE ROLE cityops_dashboard_app LOGIN PASSWORD :'dashboard_password' IN ROLE cityops_dashboard;

-- 4. Then, as the owner: python -m store migrate
--    and give each process its URL:
--    CITYOPS_DATABASE_URL=postgresql://cityops:…@db/cityops   (migrations, imports, registration)
--    CITYOPS_INGEST_DATABASE_URL=postgresql://cityops_ingest_app:…@db/cityops
--    CITYOPS_ALERTS_DATABASE_URL=postgresql://cityops_alerts_app:…@db/cityops
--    CITYOPS_DASHBOARD_DATABASE_URL=postgresql://cityops_dashboard_app:…@db/cityops
