#!/usr/bin/env bash
# Installs (if missing) and starts PostgreSQL on loopback, with a role and database `tarn` for the test suite.
# Prints the connection URL on its last line.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$ver" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -qtAc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='tarn') THEN CREATE ROLE tarn LOGIN PASSWORD 'tarn' CREATEDB; END IF; END \\\$\\\$;\"" >&2
su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname='tarn'\"" | grep -q 1 ||
  su postgres -c "psql -p $port -qtAc 'CREATE DATABASE tarn OWNER tarn'" >&2
echo "postgres://tarn:tarn@127.0.0.1:$port/tarn"
