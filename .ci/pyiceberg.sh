#!/usr/bin/env bash
# Installs (if missing) PyIceberg from PyPI, pinned, with pyarrow, into a virtual environment of its own, for the
# Iceberg REST catalog tests (a real Iceberg client against `tarn serve`). Prints the path of its python on its last
# line.
set -euo pipefail
PYICEBERG_VERSION=0.12.0
venv=${TARN_PYICEBERG_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-pyiceberg-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pyiceberg') != '$PYICEBERG_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyiceberg[pyarrow]==$PYICEBERG_VERSION" >&2
fi
echo "$venv/bin/python"
