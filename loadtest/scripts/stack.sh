#!/usr/bin/env bash
# Starts the production stack on this machine for load runs, as separate processes:
# Redis and PostgreSQL (started if they are not running), a fresh database, the back-office
# simulator, and the gateway with two telcos (africastalking and hubtel, one per wire format)
# and every agency the demo menus use registered through `mgov`. An agency's back office can be put
# elsewhere with BACKOFFICE_URL_<agency> (e.g. BACKOFFICE_URL_dawasa=http://127.0.0.1:9091/);
# STACK_SECRET is the agencies' signing secret.
# Source it: `source loadtest/scripts/stack.sh`; it stops what it started when the shell exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/target/release"
STACK_DIR="${STACK_DIR:-$(mktemp -d /tmp/mgov-stack.XXXXXX)}"
GATEWAY_ADDR="${GATEWAY_ADDR:-127.0.0.1:8090}"
BACKOFFICE_ADDR="${BACKOFFICE_ADDR:-127.0.0.1:9090}"
BENCH_DB="${BENCH_DB:-mgov_bench}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
BACKOFFICE_LATENCY="${BACKOFFICE_LATENCY:-0ms}"
STACK_PIDS=()

stack_stop() {
  for pid in "${STACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STACK_PIDS=()
}
trap stack_stop EXIT

stack_services() {
  pg_isready -q -h 127.0.0.1 -p 5432 \
    || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
    || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL is not reachable" >&2; exit 1; }
  redis-cli -h 127.0.0.1 ping | grep -q PONG || { echo "Redis is not reachable" >&2; exit 1; }
}

stack_build() {
  (cd "$ROOT" && cargo build --release --workspace --bins --quiet)
}

wait_http() {
  for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "nothing answers at $1" >&2; exit 1
}

# Registers a telco named after its wire format and prints its HTTP Basic secret.
telco_secret() {
  "$BIN/mgov" telcos add "$1" --format "$1" | sed -n 's/^HTTP Basic password: \([^ ]*\).*/\1/p'
}

# A fresh database $BENCH_DB, migrated, and the gateway's settings for it, exported.
stack_database() {
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB"
  export MGOV_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$BENCH_DB"
  export MGOV_REDIS_URL="redis://127.0.0.1:6379"
  export MGOV_REDIS_PREFIX="bench-$$:"
  export MGOV_LISTEN="$GATEWAY_ADDR"
  export MGOV_LOG_FORMAT=json
  export RUST_LOG="${RUST_LOG:-warn}"
  "$BIN/mgov" migrate >/dev/null
}

# Registers every agency the demo menus use (the gateway refuses menus whose agency is not
# registered), signing with $STACK_SECRET.
stack_agencies() {
  for agency in dawasa rita nida ilala kinondoni; do
    local url_setting="BACKOFFICE_URL_$agency"
    "$BIN/mgov" agencies add "$agency" --name "$agency" \
      --backoffice-url "${!url_setting:-http://$BACKOFFICE_ADDR/}" \
      --signing-secret "$STACK_SECRET" >/dev/null
  done
}

# Starts `mgov serve` (again, after a crash drill's kill: its log goes on in the same file)
# and waits until it is ready; GATEWAY_PID is its pid.
stack_gateway() {
  "$BIN/mgov" serve >>"$STACK_DIR/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  STACK_PIDS+=("$GATEWAY_PID")
  export GATEWAY_PID
  wait_http "http://$GATEWAY_ADDR/readyz"
  echo "stack up: gateway pid $GATEWAY_PID at $GATEWAY_ADDR, logs in $STACK_DIR" >&2
}

stack_start() {
  stack_services
  stack_build
  stack_database
  STACK_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  "$BIN/backoffice-sim" --listen "$BACKOFFICE_ADDR" --secret "$STACK_SECRET" \
    --latency "$BACKOFFICE_LATENCY" >"$STACK_DIR/backoffice.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_http "http://$BACKOFFICE_ADDR/healthz"
  export MGOV_LOAD_USERNAME=africastalking
  MGOV_LOAD_SECRET="$(telco_secret africastalking)"
  export MGOV_LOAD_SECRET
  # The hubtel-format telco's secret, for runs in both formats. Not exported: the gateway
  # refuses MGOV_* variables it does not know, so pass it to mgov-load on its command line as
  # MGOV_LOAD_HUBTEL_USERNAME=hubtel MGOV_LOAD_HUBTEL_SECRET="$HUBTEL_SECRET".
  HUBTEL_SECRET="$(telco_secret hubtel)"
  stack_agencies
  : >"$STACK_DIR/gateway.log"
  stack_gateway
}

# Resident memory (kB) and CPU time (clock ticks, user + system) of a process.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
