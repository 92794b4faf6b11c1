#!/usr/bin/env bash
# Installs (if missing) moto's S3 server from PyPI, pinned, into a virtual environment, for the S3 tests (a server
# that enforces conditional writes, like AWS S3). Prints the path of `moto_server` on its last line.
set -euo pipefail
MOTO_VERSION=5.2.1
venv=${TARN_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-ci-venv}
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq python3 python3-venv >&2
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
echo "$venv/bin/moto_server"
