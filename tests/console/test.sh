#!/usr/bin/env bash
# The console's browser tests: Debian's Chromium (scripts/deps browser installs it) driven by
# Playwright against a `herald up --with-mocks` the test starts (build the binary first:
# cargo build --bins --all-features). Screenshots land in tests/console/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --silent
fi
npm test
