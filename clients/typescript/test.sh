#!/usr/bin/env bash
# Builds the client and runs its tests against a real Herald that the tests start (herald up
# --with-mocks). Needs Node 20+ with npm, nats-server on PATH (../../scripts/deps nats), and the
# herald binary already built: $HERALD_BIN, else ${CARGO_TARGET_DIR:-../../target}/debug/herald
# (cd ../.. && cargo build --bins --all-features).
set -euo pipefail
cd "$(dirname "$0")"

repo=$(cd ../.. && pwd)
herald=${HERALD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/herald}
if [[ ! -x $herald ]]; then
  echo "test.sh: no herald binary at $herald; build it first: (cd $repo && cargo build --bins --all-features), or set HERALD_BIN" >&2
  exit 1
fi
export HERALD_BIN=$herald

if [[ ! -d node_modules ]]; then
  npm ci
fi
npm run build
npm test
