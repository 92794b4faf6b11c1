#!/usr/bin/env bash
# Installs tarn's Python package (python/) in editable mode with its development tools (pytest, ruff, mypy, uv,
# polars, pandas) into the current python3, so that the Python tests and the Python-model tests can run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e './python[dev]'
