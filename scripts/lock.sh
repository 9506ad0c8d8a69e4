#!/usr/bin/env bash
# requirements.lock: every package `make venv` installs, pinned, compiled by uv from pyproject.toml
# (the app and its dev extra, for Python 3.11+ on any platform).
#   scripts/lock.sh          rewrite requirements.lock (keeps the pins that still fit; add --upgrade to move them)
#   scripts/lock.sh --check  fail if requirements.lock is not in step with pyproject.toml
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
compile() {
  "$UV" pip compile pyproject.toml --extra dev --universal --python-version 3.11 --quiet \
    --custom-compile-command "scripts/lock.sh" "$@"
}
if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp)
  trap 'rm -f "$tmp"' EXIT
  cp requirements.lock "$tmp"
  compile -o "$tmp"
  if ! diff -u requirements.lock "$tmp"; then
    echo "requirements.lock is not in step with pyproject.toml: run scripts/lock.sh and commit it" >&2
    exit 1
  fi
  echo "requirements.lock is in step with pyproject.toml"
else
  compile -o requirements.lock "$@"
fi
