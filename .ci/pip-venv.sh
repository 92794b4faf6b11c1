#!/usr/bin/env bash
# Installs (if missing) one pinned PyPI package into a virtual environment of its own and prints the path of one of
# its programs on its last line. Usage: pip-venv.sh VENV_DIR DISTRIBUTION VERSION REQUIREMENT PROGRAM
# (e.g. pip-venv.sh ~/.cache/tarn-ci-venv moto 5.2.1 'moto[server]==5.2.1' moto_server).
set -euo pipefail
venv=$1 dist=$2 version=$3 requirement=$4 program=$5
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq python3 python3-venv >&2
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$dist') != '$version')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
fi
echo "$venv/bin/$program"
