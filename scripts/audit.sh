#!/usr/bin/env bash
# The dependency audit: pip-audit against requirements.lock (exactly what `make venv` installs).
# Fails on any known vulnerability except the accepted ones in .ci/audit-accepted.txt (one advisory id
# per line, then its reason; `#` starts a comment). If the advisory service cannot be reached, nothing
# was audited: that is said loudly, and it fails only with AUDIT_REQUIRED=1 (a workplace whose network
# reaches only package indexes cannot query it).
set -uo pipefail
cd "$(dirname "$0")/.."
ignores=()
while read -r id _reason; do
  [[ -z "$id" || "$id" == \#* ]] && continue
  ignores+=(--ignore-vuln "$id")
done < .ci/audit-accepted.txt
out=$(mktemp)
trap 'rm -f "$out"' EXIT
.venv/bin/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off \
  --desc off "${ignores[@]}" >"$out" 2>&1
status=$?
cat "$out"
packages=$(grep -oE '^[A-Za-z0-9._-]+==' requirements.lock | sort -u | wc -l)
unreachable=$(grep -c "could not be audited" "$out" || true)
if (( unreachable * 10 >= packages * 9 )); then  # (almost) nothing could be looked up
  echo "dependency audit NOT PERFORMED: the advisory service could not be reached ($unreachable of $packages packages skipped)" >&2
  [[ "${AUDIT_REQUIRED:-0}" == "1" ]] && exit 1
  exit 0
fi
if [[ "$unreachable" -gt 0 ]]; then
  echo "dependency audit: $unreachable package(s) could not be audited (see above)" >&2
fi
exit "$status"
