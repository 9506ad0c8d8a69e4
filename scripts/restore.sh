#!/usr/bin/env bash
# Restore a scripts/backup.sh archive into a NEW database (never over a live one).
# Usage: scripts/restore.sh ARCHIVE TARGET_DATABASE_URL
# The target database must not exist: it is created (with PostGIS) and the archive restored into it;
# point DATABASE_URL at it once the drill (scripts/restore-drill.sh) or your checks are content.
set -euo pipefail
archive=${1:?archive}
target=${2:?target database URL}
target=${target/+psycopg/}
base=${target%%\?*}
name=$(basename "$base")
server="${base%/*}/postgres"
exists=$(psql --dbname="$server" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")
if [[ $exists == 1 ]]; then
  echo "restore: database $name exists; restore into a new database" >&2
  exit 1
fi
psql --dbname="$server" -q -c "CREATE DATABASE \"$name\""
# The archive creates the postgis extension itself (with its spatial_ref_sys rows).
pg_restore --exit-on-error --no-owner --jobs=2 --dbname="$target" "$archive"
psql --dbname="$target" -q -c "ANALYZE"
echo "restored $archive into $name"
