#!/usr/bin/env bash
# The wrangler build command: worker-build with the tools that scripts/setup.sh pinned and
# installed, so nothing is downloaded at build time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"
export PATH="$HOME/.cargo/bin:$bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$bin/esbuild"
export WASM_OPT_BIN="$bin/wasm-opt"
for tool in "$WASM_BINDGEN_BIN" "$ESBUILD_BIN" "$WASM_OPT_BIN" "$HOME/.cargo/bin/worker-build"; do
  [ -x "$tool" ] || { echo "build: $tool is missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
done
# `npm run dev` sets EDGE_AUTH_DEV_BUILD=1: a build for the edit-reload loop, without LTO and
# without the size pass of wasm-opt (seconds per rebuild; size and the last few percent of speed
# matter only for what is deployed, tested and measured).
mode=$([ "${EDGE_AUTH_DEV_BUILD:-}" = 1 ] && echo dev || echo release)
# Skipped when build/ was made from exactly these sources (everything the crate compiles in,
# api/openapi.json included) in this mode: `wrangler dev` and `wrangler deploy` run this script,
# and a rebuild would rewrite the files that a running test or dev server is reading.
stamp="$mode $( { find src api -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum Cargo.toml Cargo.lock wrangler.toml "$0"; } | sha256sum | cut -d' ' -f1)"
if [ -f build/index_bg.wasm ] && [ -f build/index.js ] && [ "$(cat build/.stamp 2>/dev/null)" = "$stamp" ]; then
  echo "build: up to date (build/.stamp)"
  exit 0
fi
rm -f build/.stamp
if [ "$mode" = dev ]; then
  # The dev loop: no LTO, 16 codegen units and incremental compilation, so a one-file change
  # recompiles in about 1.5 s instead of 4 s (BENCHMARKS.md, "Dev loop"); argon2 keeps its
  # opt-level. A target directory of its own: cargo does not copy a fresh artifact out again, so
  # two configurations sharing one directory could hand each other their wasm.
  export CARGO_TARGET_DIR="$PWD/target/dev-loop"
  export CARGO_PROFILE_RELEASE_LTO=false
  export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  export CARGO_PROFILE_RELEASE_INCREMENTAL=true
fi
worker-build --release
if [ "$mode" = dev ]; then
  echo "$stamp" > build/.stamp
  exit 0
fi
# Size: -Oz, no names section (a panic's trace shows offsets, not function names), no producers
# section. The features are those worker-build enables for workerd: rustc's wasm32 defaults plus
# the exception handling of wasm-bindgen's catch wrappers.
"$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.wasm -Oz --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
echo "$stamp" > build/.stamp
