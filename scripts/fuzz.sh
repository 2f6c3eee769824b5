#!/usr/bin/env bash
# The contract fuzzer: schemathesis generates requests from the OpenAPI document the worker serves,
# valid and invalid, against the compiled worker (tests/fuzz/serve.mjs), and fails on any answer
# the document does not describe, any valid request refused, any invalid one accepted, and any
# 5xx. Twice: with the admin API, passkeys and social sign-in off (their routes left out of the
# served document), then on; about 2.5 minutes in all (tests/fuzz/serve.mjs, SECONDS). Extra
# arguments go to both `schemathesis run`s.
# Needs the release build (scripts/build.sh) and scripts/setup.sh's .venv-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-fuzz/bin/schemathesis ] || { echo "fuzz: .venv-fuzz is missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
[ -f build/index.js ] || { echo "fuzz: build/index.js is missing; run 'bash scripts/build.sh' first" >&2; exit 1; }
# Both run whatever the first finds; the script fails if either did.
status=0
for config in off on; do
  node tests/fuzz/serve.mjs --config "$config" "$@" || status=1
done
exit "$status"
