#!/usr/bin/env bash
# Make sure PostgreSQL server binaries with PostGIS are installed, or say exactly what to do.
# Skipped when SINKLOAD_DATABASE_URL points at an existing server.
set -euo pipefail

if [ -n "${SINKLOAD_DATABASE_URL:-}" ]; then
  exit 0
fi

have_postgis() {
  for control in /usr/share/postgresql/*/extension/postgis.control; do
    version=$(echo "$control" | cut -d/ -f5)
    [ -x "/usr/lib/postgresql/$version/bin/pg_ctl" ] && return 0
  done
  return 1
}

have_postgis && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" != "none" ]; then
    echo "PostGIS not found: installing PostgreSQL and PostGIS with apt-get" >&2
    $SUDO apt-get update -qq
    server=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
    if [ -n "$server" ]; then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$server-postgis-3" >/dev/null
    else
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql postgis >/dev/null
    fi
    have_postgis && exit 0
  fi
fi

cat >&2 <<'MSG'
sinkload needs PostgreSQL server binaries with PostGIS 3, and could not install them here.
Install them (Debian/Ubuntu: sudo apt-get install postgresql postgresql-15-postgis-3;
macOS: brew install postgresql postgis), or point SINKLOAD_DATABASE_URL at a PostGIS server,
or run `docker compose up -d db` and export SINKLOAD_DATABASE_URL=postgresql://sinkload:sinkload@localhost:5432/sinkload
MSG
exit 1
