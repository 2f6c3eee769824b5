#!/usr/bin/env bash
# The benchmark's peers' own dependencies (bench/peers/*/package-lock.json), installed with
# `npm ci` when missing or older than their lock file; nothing when they are current.
set -euo pipefail
cd "$(dirname "$0")"
for lock in */package-lock.json; do
  peer="$(dirname "$lock")"
  installed="$peer/node_modules/.package-lock.json"
  if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
    echo "[bench] installing the $peer peer's dependencies (npm ci)"
    (cd "$peer" && npm ci --silent --no-audit --no-fund)
  fi
done
