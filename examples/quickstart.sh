#!/usr/bin/env bash
# The quickstart: a fresh lake in a temporary directory; sample taxi data imported on a branch; the example pipeline
# run on that branch as one transaction; the branch merged into main; the result queried on main and at the
# previous commit.
set -euo pipefail
cd "$(dirname "$0")/.."
export TARN_HOME="${TARN_HOME:-$(mktemp -d -t tarn-quickstart-XXXXXX)}"
data="$TARN_HOME/sample-data"
tarn() { node bin/tarn.js "$@"; }
step() { printf '\n== %s\n' "$*"; }

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
tarn run -p examples/taxi

step "what alice.ingest has that main lacks, then merge it"
tarn branch diff alice.ingest main
tarn checkout main
tarn branch merge alice.ingest --into main

step "query main"
tarn query "SELECT zone_name, borough, trips, avg_fare, revenue FROM zone_stats ORDER BY trips DESC" --max-rows 5
tarn query --explain "SELECT count(*) FROM trips WHERE pickup_ts >= TIMESTAMP '2026-01-05' AND pickup_ts < TIMESTAMP '2026-01-06'"
tarn query "SELECT count(*) AS trips_on_jan_5 FROM trips WHERE pickup_ts >= TIMESTAMP '2026-01-05' AND pickup_ts < TIMESTAMP '2026-01-06'"

step "history and jobs"
tarn log main -n 5
tarn job ls
echo
echo "The lake stays in $TARN_HOME; try: TARN_HOME=$TARN_HOME node bin/tarn.js query \"SELECT count(*) FROM trips\" -r main~1  (main before the run landed)"
