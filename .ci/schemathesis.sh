#!/usr/bin/env bash
# Installs (if missing) the API fuzzer schemathesis from PyPI, pinned, into its own virtual environment, for the
# server fuzzing test (test/server/fuzz.test.ts). Prints the path of `st` on its last line.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5
exec bash "$(dirname "$0")/pip-venv.sh" "${TARN_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-fuzz-venv}" \
  schemathesis "$SCHEMATHESIS_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" st
