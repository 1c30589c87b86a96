#!/bin/sh
# First start: create Superset's metadata and its admin; register the warehouse as the analyst login.
# The warehouse URI is built here from the environment and handed to Superset; it is never printed.
set -eu
superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
    --firstname admin --lastname sinkload --email admin@localhost >/dev/null 2>&1 || true
superset init >/dev/null
superset set_database_uri -d sinkload \
    -u "postgresql+psycopg2://${SINKLOAD_ANALYST_USER}:${SINKLOAD_ANALYST_PASSWORD}@db:5432/sinkload" >/dev/null
exec superset run --host 0.0.0.0 --port 8088 --with-threads
