#!/usr/bin/env bash
# `npm run bench:engines`: argon2's wasm in node 22, node 25 and bare workerd, with and without
# explicit bounds checks (bench/engines/engines.mjs). Node 25 comes from npm's `node` package into
# bench/engines/.node25 once. Reports only.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
node25="bench/engines/.node25/node_modules/.bin/node"
if [ ! -x "$node25" ]; then
  npm install --silent --no-audit --no-fund --prefix bench/engines/.node25 node@25.9.0
fi
(cd bench/argon2 && cargo build --release --quiet --lib --target wasm32-unknown-unknown)
node bench/engines/engines.mjs "$node25" node_modules/@cloudflare/workerd-linux-64/bin/workerd \
  bench/argon2/target/wasm32-unknown-unknown/release/argon2_bench.wasm "${ENGINE_ROUNDS:-7}"
