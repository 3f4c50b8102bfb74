#!/bin/sh
# deploy/compose.yaml's db: run once by the image's entrypoint when it initialises an empty data volume
# (/docker-entrypoint-initdb.d/, after the image's own TimescaleDB scripts), as the superuser.
# It runs roles.sql, which is `python -m store roles` verbatim (tests/deploy/test_db_init.py keeps
# the two equal and runs this script on a fresh cluster): the owner `cityops` and its database, the
# NOLOGIN grant roles the migrations grant to (cityops_ingest, cityops_alerts, cityops_dashboard) and one
# login per runtime process in its role (cityops_ingest_app, cityops_alerts_app, cityops_dashboard_app),
# with the passwords of the db service's environment (deploy/.env). The migrations then run as the owner.
# Executable on purpose: the entrypoint sources a script that is not, and it must not inherit this one's shell.
set -e
psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_password="${DB_OWNER_PASSWORD:?set DB_OWNER_PASSWORD}" \
    -v ingest_password="${DB_INGEST_PASSWORD:?set DB_INGEST_PASSWORD}" \
    -v alerts_password="${DB_ALERTS_PASSWORD:?set DB_ALERTS_PASSWORD}" \
    -v dashboard_password="${DB_DASHBOARD_PASSWORD:?set DB_DASHBOARD_PASSWORD}" \
    -f "${ROLES_SQL:-/cityops/roles.sql}"
