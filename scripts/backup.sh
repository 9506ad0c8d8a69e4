#!/usr/bin/env bash
# Back up the PostGIS database: a pg_dump custom-format archive (compressed, restorable table by table,
# in parallel). Usage: scripts/backup.sh [DATABASE_URL] [OUT_DIR]   (defaults: $DATABASE_URL, ./backups)
# Prints the archive's path. Keep archives off the database host (docs/operations.md).
set -euo pipefail
url=${1:-${DATABASE_URL:?DATABASE_URL or an argument is needed}}
out_dir=${2:-backups}
url=${url/+psycopg/}  # SQLAlchemy's driver suffix means nothing to libpq
mkdir -p "$out_dir"
db=$(basename "${url%%\?*}")
archive="$out_dir/${db}_$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --compress=6 --no-owner --file="$archive.partial" --dbname="$url"
mv "$archive.partial" "$archive"
echo "$archive"
