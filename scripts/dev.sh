#!/usr/bin/env bash
# Sets everything up and serves the worker on http://localhost:8787 with `wrangler dev`, on a local
# D1 with every migration applied. Extra arguments go to `wrangler dev` (e.g. --var NAME:VALUE).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# CI=true: apply without the interactive confirmation (the local database only).
CI=true wrangler d1 migrations apply DB --local
# A development build: no wasm-opt size pass on each rebuild (scripts/build.sh).
EDGE_AUTH_DEV_BUILD=1 exec wrangler dev "$@"
