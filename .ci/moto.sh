#!/usr/bin/env bash
# Installs (if missing) moto's S3 server from PyPI, pinned, into a virtual environment, for the S3 tests (a server
# that enforces conditional writes, like AWS S3). Prints the path of `moto_server` on its last line.
set -euo pipefail
MOTO_VERSION=5.2.1
exec bash "$(dirname "$0")/pip-venv.sh" "${TARN_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-ci-venv}" \
  moto "$MOTO_VERSION" "moto[server]==$MOTO_VERSION" moto_server
