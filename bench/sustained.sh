#!/usr/bin/env bash
# The sustained-load run (bench/sustained.mjs): the release worker under `wrangler dev`, loaded for
# SUSTAINED_MINUTES (default 10). Writes bench/results/sustained.{json,md}. Reports only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
bash bench/install-wrk.sh
bash scripts/build.sh >/dev/null
node bench/sustained.mjs "$@"
