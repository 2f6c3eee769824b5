#!/usr/bin/env bash
# Imports the users of the Flask API's users.db into D1:
#   npm run import-users -- path/to/users.db --local     (the `wrangler dev` database)
#   npm run import-users -- path/to/users.db --remote    (production)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec cargo run --quiet --locked --release --bin import-flask-users -- "$@"
