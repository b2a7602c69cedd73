#!/usr/bin/env bash
# Runs the Python client's tests against a real Herald: makes clients/python/.venv if missing,
# installs the package with its test extras, then runs pytest (arguments are passed on).
# Needs a built herald binary (`cargo build --bins --all-features` at the repository root, or
# HERALD_BIN); installs nats-server if missing (scripts/deps nats), which `herald up` starts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

herald="${HERALD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/herald}"
if [[ ! -x "$herald" ]]; then
    echo "test.sh: no herald binary at $herald" >&2
    echo "  build it first: (cd $repo && cargo build --bins --all-features), or set HERALD_BIN" >&2
    exit 1
fi
"$repo/scripts/deps" nats

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    rm -rf .venv
    if ! "$python" -m venv .venv >/dev/null 2>&1; then
        # Debian's python3 without python3-venv has no ensurepip: make the venv without pip and
        # give it pip with the system's own (pip --python installs into the venv).
        rm -rf .venv
        "$python" -m venv --without-pip .venv
        "$python" -m pip --python .venv/bin/python install --quiet pip
    fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
HERALD_BIN="$herald" exec .venv/bin/python -m pytest "$@"
