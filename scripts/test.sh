#!/usr/bin/env bash
# Every check, from a fresh clone: setup, formatting, lints (host and wasm32), unit tests, the
# release build with a deploy dry run, the web client's type check, unit tests and bundle, the
# black-box and browser tests against the compiled worker in workerd with local D1, and the
# contract fuzzer against the same worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n[test] %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (host)"
cargo clippy --all-targets --locked -- -D warnings
step "cargo clippy (wasm32)"
cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
step "unit tests (cargo test)"
cargo test --locked
step "importer build (host)"
cargo build --locked --bin import-flask-users
step "release build and deploy check (wrangler deploy --dry-run: builds, bundles, sizes the upload)"
bash scripts/deploy-check.sh
step "web client: type check (tsc --noEmit), unit tests (node --test), bundle"
tsc --noEmit -p client
node --test client/test/*.test.ts
node client/build.mjs
step "black-box and browser tests (node --test, workerd + local D1; Chromium for tests/browser_*)"
node --test --test-concurrency=2 tests/*.test.mjs
step "contract fuzzer (schemathesis against api/openapi.json, about 2.5 minutes)"
bash scripts/fuzz.sh
