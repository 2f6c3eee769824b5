#!/usr/bin/env bash
# `npm run bench:profile`: V8's CPU profile of GET /health, GET /me, PUT /update-profile and
# POST /refresh under `wrangler dev` (bench/profile.mjs). It profiles the dev build, whose wasm
# keeps its function names (the size pass strips them); a later `npm test` or `npm run bench`
# rebuilds the release build. Reports only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
bash bench/install-wrk.sh
EDGE_AUTH_DEV_BUILD=1 bash scripts/build.sh >/dev/null
node bench/profile.mjs "$@"
