#!/usr/bin/env bash
# Lints (ruff, mypy strict) and tests (pytest) tarn's Python package.
set -euo pipefail
cd "$(dirname "$0")/../python"
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
python3 -m pytest -q
