#!/usr/bin/env bash
# The quickstart: a fresh lake in a temporary directory; sample taxi data imported on a branch; the example pipeline
# (SQL -> Python -> TypeScript -> SQL) run on that branch as one transaction; the branch merged into main; the result
# queried on main and at the previous commit. The Python model needs Python 3.10+ and uv (installed here with pip when
# it is missing); its environment (just pyarrow) is built once, on the first run, and cached under the lake.
set -euo pipefail
cd "$(dirname "$0")/.."
export TARN_HOME="${TARN_HOME:-$(mktemp -d -t tarn-quickstart-XXXXXX)}"
data="$TARN_HOME/sample-data"
tarn() { node bin/tarn.js "$@"; }
step() { printf '\n== %s\n' "$*"; }

fail() {
  printf 'quickstart: %s\n' "$*" >&2
  exit 1
}

# The Python model runs in a virtual environment that uv builds from this machine's python3.
command -v python3 >/dev/null 2>&1 || fail "python3 is not on PATH: install Python 3.10 or newer"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  fail "the Python model needs Python 3.10 or newer; python3 is $(python3 --version 2>&1)"
# Without uv on PATH: pip installs it (system or virtual environment, else the user's site, else a directory of its
# own when this Python is externally managed), and PATH gains the directory of its binary.
uv_tools="${XDG_DATA_HOME:-$HOME/.local/share}/tarn/uv"
install_uv() {
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
  if python3 -m pip install --quiet uv 2>/dev/null || python3 -m pip install --quiet --user uv 2>/dev/null; then
    python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null && return 0
  fi
  python3 -m pip install --quiet --target "$uv_tools" uv >&2 && echo "$uv_tools/bin/uv"
}
if ! command -v uv >/dev/null 2>&1; then
  if [ -x "$uv_tools/bin/uv" ]; then
    uv_bin="$uv_tools/bin/uv"
  else
    step "install uv, which builds the Python model's environment: python3 -m pip install uv"
    uv_bin="$(install_uv)" ||
      fail "could not install uv with pip; install it (pipx install uv, or see https://docs.astral.sh/uv/) and rerun"
  fi
  PATH="$(dirname "$uv_bin"):$PATH"
  export PATH
  echo "using $(uv --version) from $uv_bin"
fi

step "a fresh lake in $TARN_HOME"
tarn init
node examples/taxi/generate.mjs "$data" --trips 20000

step "import the sample data on branch alice.ingest"
tarn checkout -b alice.ingest
tarn table create trips --from "$data/trips.parquet" --partitioned-by "day(pickup_ts)"
tarn table create zones --from "$data/zones.csv"

step "the pipeline plan (nothing runs)"
tarn run -p examples/taxi --dry-run

step "run the pipeline on alice.ingest: one transaction on a run branch, merged only if every check passes"
echo "(the first run builds the Python model's environment with uv: a few seconds, then cached)"
tarn run -p examples/taxi

step "what alice.ingest has that main lacks, then merge it"
tarn branch diff alice.ingest main
tarn checkout main
tarn branch merge alice.ingest --into main

step "query main"
tarn query "SELECT zone_name, borough, trips, avg_fare, revenue FROM zone_stats ORDER BY trips DESC" --max-rows 5
# the end of the SQL -> Python -> TypeScript -> SQL chain: trips_clean -> fare_bands.py -> zones_enriched.ts -> here
tarn query "SELECT * FROM borough_summary"
tarn query --explain "SELECT count(*) FROM trips WHERE pickup_ts >= TIMESTAMP '2026-01-05' AND pickup_ts < TIMESTAMP '2026-01-06'"
tarn query "SELECT count(*) AS trips_on_jan_5 FROM trips WHERE pickup_ts >= TIMESTAMP '2026-01-05' AND pickup_ts < TIMESTAMP '2026-01-06'"

step "history and jobs"
tarn log main -n 5
tarn job ls
echo
echo "The lake stays in $TARN_HOME; try: TARN_HOME=$TARN_HOME node bin/tarn.js query \"SELECT count(*) FROM trips\" -r main~1  (main before the run landed)"
