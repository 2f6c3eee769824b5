#!/usr/bin/env bash
# The contract fuzzer: schemathesis generates requests from api/openapi.json, valid and invalid,
# against the compiled worker (tests/fuzz/serve.mjs), and fails on any answer the document does
# not describe, any valid request refused, any invalid one accepted, and any 5xx. About 2.5
# minutes (tests/fuzz/schemathesis.toml); extra arguments go to `schemathesis run`.
# Needs the release build (scripts/build.sh) and scripts/setup.sh's .venv-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-fuzz/bin/schemathesis ] || { echo "fuzz: .venv-fuzz is missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
[ -f build/index.js ] || { echo "fuzz: build/index.js is missing; run 'bash scripts/build.sh' first" >&2; exit 1; }
exec node tests/fuzz/serve.mjs "$@"
