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
exec worker-build --release
