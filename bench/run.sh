#!/usr/bin/env bash
# The benchmark: builds the release worker, serves it with `wrangler dev` on a local D1, loads it
# with wrk from a second process, compares argon2id in wasm (V8) with native, and times token
# signing and verification in wasm, and compares it with better-auth and the floor (bench/peers.mjs;
# `--peers-only`, or `npm run bench:peers`, runs that comparison alone), then the OAuth server with
# @cloudflare/workers-oauth-provider (bench/oauth_peers.mjs; `--oauth-peers-only` runs it alone).
# Writes bench/results/latest.{json,md}. Reports only; it asserts nothing about timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

bash bench/install-wrk.sh
bash bench/peers/install.sh

bash scripts/build.sh >/dev/null
if [ "${1:-}" = "--peers-only" ]; then
  echo "[bench] building the argon2 benchmark's wasm (the peer comparison's bare hash)"
  (cd bench/argon2 && cargo build --release --quiet --lib --target wasm32-unknown-unknown)
  exec node bench/peers.mjs
fi
if [ "${1:-}" = "--oauth-peers-only" ]; then
  exec node bench/oauth_peers.mjs
fi
echo "[bench] building the argon2 benchmark (native, wasm, wasm+simd128)"
(
  cd bench/argon2
  cargo build --release --quiet --bin argon2-native
  cargo build --release --quiet --lib --target wasm32-unknown-unknown
  RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR=target/simd \
    cargo build --release --quiet --lib --target wasm32-unknown-unknown
)
echo "[bench] building the token benchmark (EdDSA and HS256 through jwt-compact, wasm)"
(cd bench/ed25519 && cargo build --release --quiet --target wasm32-unknown-unknown)
node bench/bench.mjs "$@"
node bench/oauth_peers.mjs
