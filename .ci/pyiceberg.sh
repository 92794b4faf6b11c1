#!/usr/bin/env bash
# Installs (if missing) PyIceberg from PyPI, pinned, with pyarrow, into a virtual environment of its own, for the
# Iceberg REST catalog tests (a real Iceberg client against `tarn serve`). Prints the path of its python on its last
# line.
set -euo pipefail
PYICEBERG_VERSION=0.12.0
exec bash "$(dirname "$0")/pip-venv.sh" \
  "${TARN_PYICEBERG_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn-pyiceberg-venv}" \
  pyiceberg "$PYICEBERG_VERSION" "pyiceberg[pyarrow]==$PYICEBERG_VERSION" python
