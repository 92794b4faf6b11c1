#!/usr/bin/env bash
# Installs (if missing) the API fuzzer schemathesis from PyPI, pinned, into its own virtual environment, for the
# server fuzzing test (test/server/fuzz.test.ts). Prints the path of `st` on its last line.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5
venv=${TARN_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-fuzz-venv}
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq python3 python3-venv >&2
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
echo "$venv/bin/st"
