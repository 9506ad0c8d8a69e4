#!/usr/bin/env bash
# Install the system packages the service needs (Debian/Ubuntu), only when they are missing:
#   - libsqlite3-mod-spatialite: SpatiaLite for the embedded default database;
#   - with --postgis: the PostGIS extension for the local PostgreSQL server (tests on PostGIS);
#   - with --bench: wrk, the HTTP load generator of bench/http_*.py.
# Cheap when everything is present. Without root it prints what to install and fails.
set -euo pipefail

want_postgis=false
want_bench=false
for arg in "$@"; do
  case "$arg" in
    --postgis) want_postgis=true ;;
    --bench) want_bench=true ;;
    *) echo "usage: $0 [--postgis] [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
have_spatialite() {
  [[ -n "${SPATIALITE_LIBRARY_PATH:-}" && -e "${SPATIALITE_LIBRARY_PATH}" ]] && return 0
  compgen -G "/usr/lib/*/mod_spatialite.so*" >/dev/null || compgen -G "/usr/lib/mod_spatialite.so*" >/dev/null \
    || compgen -G "/usr/local/lib/mod_spatialite*" >/dev/null
}
have_spatialite || missing+=(libsqlite3-mod-spatialite)

if $want_postgis; then
  pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$pg_version" ]]; then
    echo "install-system-deps: no PostgreSQL server found under /etc/postgresql" >&2
    exit 1
  fi
  [[ -e "/usr/share/postgresql/${pg_version}/extension/postgis.control" ]] \
    || missing+=("postgresql-${pg_version}-postgis-3")
fi

if $want_bench; then
  command -v wrk >/dev/null || missing+=(wrk)
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "install-system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then
  echo "install-system-deps: installing ${missing[*]} with sudo" >&2
  sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-system-deps: missing system packages: ${missing[*]}" >&2
  echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
  echo "  macOS: brew install libspatialite postgis (then set SPATIALITE_LIBRARY_PATH)" >&2
  exit 1
fi
