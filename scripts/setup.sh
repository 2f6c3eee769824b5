#!/usr/bin/env bash
# Installs everything the worker needs to build, serve and test, from crates.io, npm and (for the
# contract fuzzer only) PyPI.
# Idempotent: each step checks first and returns at once when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

# 1. The wasm target of the machine's Rust toolchain.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. Node packages: wrangler, Node 22 for npm scripts, esbuild, binaryen's wasm-opt, Miniflare.
stamp=node_modules/.setup-stamp
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  # `npm install`, not `npm ci`: npm's lock omits other platforms' optional workerd builds, which
  # `npm ci` then refuses; with the lock present `npm install` still installs its exact versions.
  say "installing node packages"
  npm install --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi

# 3. wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
  cargo install --locked --quiet wasm-bindgen-cli --version "$bindgen_version"
fi

# 4. worker-build at the version of the worker crate in Cargo.lock.
worker_version=$(awk '/^name = "worker"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(worker-build --version 2>/dev/null)" != "$worker_version" ]; then
  say "installing worker-build $worker_version (a few minutes, once)"
  cargo install --locked --quiet worker-build --version "$worker_version"
fi

# 5. Local-only settings for `wrangler dev` in .dev.vars (never committed, never deployed): every
#    setting of .dev.vars.example that .dev.vars lacks is added; an empty value becomes a random
#    secret (for JWT_SIGNING_KEY, a new Ed25519 key from scripts/keygen.mjs). Settings already
#    there are kept.
touch .dev.vars
while IFS= read -r line; do
  case "$line" in [A-Z]*=*) ;; *) continue ;; esac
  name=${line%%=*}
  grep -q "^$name=" .dev.vars && continue
  if [ "$name" = JWT_SIGNING_KEY ] && [ "${line#*=}" = '""' ]; then
    line="$name='$(node scripts/keygen.mjs --private)'"
  elif [ "${line#*=}" = '""' ]; then
    line="$name=\"$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')\""
  fi
  say "adding $name to .dev.vars"
  printf '%s\n' "$line" >> .dev.vars
done < .dev.vars.example
# 6. Chromium for the browser tests (tests/browser_*.test.mjs), from Debian's packages: a test
#    tool's own browser download does not work without the open internet.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing chromium from Debian's packages (the browser tests drive it; once)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    say "chromium is missing: the browser tests need it (sudo apt-get install -y chromium)"
  fi
fi
# 7. The contract fuzzer (scripts/fuzz.sh): schemathesis and its dependencies at exactly the
#    versions of tests/fuzz/requirements.txt, from PyPI, in a virtual environment of its own
#    (ignored by git) made with the machine's python3. A stamp holds the list's digest.
venv=.venv-fuzz
requirements_sum=$(sha256sum tests/fuzz/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/schemathesis" ] || [ "$(cat "$venv/.setup-stamp" 2>/dev/null)" != "$requirements_sum" ]; then
  say "installing schemathesis in $venv (tests/fuzz/requirements.txt)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt
  echo "$requirements_sum" > "$venv/.setup-stamp"
fi
say "ready"
