#!/usr/bin/env bash
# The quickstart: builds a fresh lake in a temporary directory, works on a branch, merges it and reads the history.
# It grows with the product: once pipelines land it imports sample data, runs the example pipeline on a branch,
# merges it and queries the result.
set -euo pipefail
cd "$(dirname "$0")/.."
export TARN_HOME="${TARN_HOME:-$(mktemp -d -t tarn-quickstart-XXXXXX)}"
tarn() { node bin/tarn.js "$@"; }

echo "== lake in $TARN_HOME"
tarn init
tarn checkout -b alice.dev
tarn namespace create sales
tarn namespace create marketing
echo "== what alice.dev has that main lacks"
tarn branch diff alice.dev main
tarn checkout main
tarn branch merge alice.dev --into main -m "Bring in alice's namespaces"
tarn tag create v1
echo "== history of main"
tarn log main
echo "== namespaces at v1"
tarn namespace ls -r v1
tarn info
