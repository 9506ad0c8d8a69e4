#!/usr/bin/env bash
# The restore drill: back up DATABASE_URL, restore the archive into a scratch database on the same
# server, compare the row count of every table, then drop the scratch database.
# Usage: scripts/restore-drill.sh [DATABASE_URL]   (exit 0: every count matched)
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:-${DATABASE_URL:?DATABASE_URL or an argument is needed}}
url=${url/+psycopg/}
base=${url%%\?*}
scratch="$(basename "$base")_drill_$(date -u +%s)_$$"
scratch_url="${base%/*}/$scratch"
server="${base%/*}/postgres"
tmp=$(mktemp -d)
trap 'psql --dbname="$server" -q -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
archive=$(scripts/backup.sh "$url" "$tmp")
scripts/restore.sh "$archive" "$scratch_url" >/dev/null
counts() {
  psql --dbname="$1" -At -c "
    SELECT string_agg(format('SELECT %L, count(*) FROM %I.%I', c.relname, n.nspname, c.relname),
                      ' UNION ALL ' ORDER BY c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname = 'public'" | psql --dbname="$1" -At -F ' '
}
counts "$url" | sort > "$tmp/source.txt"
counts "$scratch_url" | sort > "$tmp/restored.txt"
if ! diff -u "$tmp/source.txt" "$tmp/restored.txt"; then
  echo "restore drill: FAILED (row counts differ)" >&2
  exit 1
fi
echo "restore drill: OK — $(wc -l < "$tmp/source.txt") tables, $(awk '{s+=$2} END {print s}' "$tmp/source.txt") rows, archive $(du -h "$archive" | cut -f1)"
