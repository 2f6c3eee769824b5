#!/usr/bin/env bash
# What `wrangler deploy` would upload, without uploading it (`--dry-run`, no network, no account):
# the bundle is built and checked as for a real deploy, its size printed, and the check fails if
# the compressed upload exceeds Workers' limit on the Free plan, 3 MB after compression (Cloudflare,
# "Workers limits: Worker size"; 10 MB on the Paid plan).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
LIMIT_KIB=$((3 * 1024))
out=$(mktemp -d "${TMPDIR:-/tmp}/edge-auth-dry-run-XXXXXX")
trap 'rm -rf "$out"' EXIT
log=$(WRANGLER_SEND_METRICS=false wrangler deploy --dry-run --outdir "$out" 2>&1) || {
  printf '%s\n' "$log" >&2
  echo "deploy check: wrangler deploy --dry-run failed" >&2
  exit 1
}
line=$(printf '%s\n' "$log" | grep -m1 'Total Upload:') || {
  printf '%s\n' "$log" >&2
  echo "deploy check: no upload size in wrangler's output" >&2
  exit 1
}
gzip_kib=$(printf '%s\n' "$line" | sed -E 's/.*gzip: ([0-9.]+) KiB.*/\1/')
echo "deploy check: $line (limit: ${LIMIT_KIB} KiB gzip, Workers Free)"
awk -v size="$gzip_kib" -v limit="$LIMIT_KIB" 'BEGIN { exit !(size <= limit) }' || {
  echo "deploy check: ${gzip_kib} KiB gzip is over the ${LIMIT_KIB} KiB limit" >&2
  exit 1
}
