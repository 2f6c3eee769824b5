#!/usr/bin/env bash
# wrk, the load generator of the benchmarks, from Debian's packages when it is missing.
set -euo pipefail
if ! command -v wrk >/dev/null; then
  echo "[bench] installing wrk from Debian's packages"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi
