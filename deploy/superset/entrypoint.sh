#!/bin/sh
# Every start: bring Superset's metadata up to date and make sure the admin exists, then serve with gunicorn.
# The warehouse, its datasets, charts and dashboard come from the bundle, imported through the REST API by
# `sinkload superset bootstrap` (docs/operations.md): no database URI or password passes through here.
set -eu
superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
    --firstname admin --lastname sinkload --email admin@localhost >/dev/null 2>&1 || true
superset init >/dev/null
exec gunicorn --bind 0.0.0.0:8088 --workers "${SUPERSET_WORKERS:-2}" --threads 4 --timeout 120 \
    --access-logfile - "superset.app:create_app()"
