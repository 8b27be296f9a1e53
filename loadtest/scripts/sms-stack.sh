#!/usr/bin/env bash
# Starts the SMS production stack on this machine, as separate processes: Redis and
# PostgreSQL (started if they are not running), a fresh database $BENCH_DB (mgov_bench_sms),
# the telco simulator (telco-sim, Africa's Talking format) with its delivery reports pointed
# at the gateway, and the gateway (release build, Postgres + Redis, synchronous_commit as the
# server has it: on by default). Registered with the `mgov` CLI: the telco `smsbench` (SMS
# through telco-sim at SMS_PPS parts/s, 20000 by default, the default route and prefix
# 25574), the agencies of the demo menus, and an API key of dawasa, the sending agency.
# Source it: `source loadtest/scripts/sms-stack.sh`; it stops what it started when the shell
# exits. Afterwards: API_KEY (not exported: the gateway and the CLI refuse MGOV_* variables
# they do not know, so pass it to mgov-load on its command line as
# MGOV_LOAD_API_KEY="$API_KEY"), TELCO_SIM_URL, GATEWAY_PID, TELCO_SIM_PID, and
# SMS_TELCO_SECRET: the HTTP Basic password (user $SMS_TELCO) of the telco's callbacks,
# delivery reports and incoming SMS (/sms/$SMS_TELCO/inbound).
# Environment: SMS_PPS, REPORT_DELAY (1s..3s: each delivery report comes that long after
# the send, as a handset's does; 0ms makes nearly every report come before the dispatcher
# has recorded the send, the early-report path), TELCO_ADDR (127.0.0.1:9292), TELCO_SIM_ARGS
# (more telco-sim flags, e.g. "--outcomes delivered=95,failed=5"), and what stack.sh reads.
set -euo pipefail

BENCH_DB="${BENCH_DB:-mgov_bench_sms}"
TELCO_ADDR="${TELCO_ADDR:-127.0.0.1:9292}"
SMS_PPS="${SMS_PPS:-20000}"
REPORT_DELAY="${REPORT_DELAY:-1s..3s}"
SMS_TELCO=smsbench
SMS_AGENCY=dawasa
# shellcheck source=stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

sms_stack_start() {
  stack_services
  stack_build
  stack_database
  TELCO_SIM_URL="http://$TELCO_ADDR"
  # What the gateway presents to telco-sim's send API, and what telco-sim presents with its
  # delivery reports (the callback secret `mgov telcos add` generates).
  local sms_key
  sms_key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  SMS_TELCO_SECRET=$("$BIN/mgov" telcos add "$SMS_TELCO" \
    --format africastalking --sms-url "$TELCO_SIM_URL/version1/messaging" \
    --sms-username mgov-bench --sms-secret "$sms_key" --sms-parts-per-second "$SMS_PPS" \
    --sms-prefix 25574 --sms-default true \
    | sed -n 's/^HTTP Basic password: \([^ ]*\).*/\1/p')
  # Reports retried for about a minute, so that a gateway restarted by a drill gets them.
  # shellcheck disable=SC2086 # TELCO_SIM_ARGS is a list of flags
  TELCO_AT_API_KEY="$sms_key" TELCO_AT_REPORT_PASSWORD="$SMS_TELCO_SECRET" \
    "$BIN/telco-sim" --listen "$TELCO_ADDR" --at-username mgov-bench \
    --at-report-url "http://$GATEWAY_ADDR/sms/$SMS_TELCO/dlr" \
    --at-report-username "$SMS_TELCO" --report-attempts 7 --report-delay "$REPORT_DELAY" \
    --keep-messages 1000 ${TELCO_SIM_ARGS:-} >"$STACK_DIR/telco-sim.log" 2>&1 &
  TELCO_SIM_PID=$!
  STACK_PIDS+=("$TELCO_SIM_PID")
  wait_http "$TELCO_SIM_URL/healthz"
  STACK_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  stack_agencies
  API_KEY=$("$BIN/mgov" agencies key create "$SMS_AGENCY" | sed -n 's/^API key for [^:]*: \(mgk_[^ ]*\).*/\1/p')
  [ -n "$API_KEY" ] || { echo "no API key was issued for $SMS_AGENCY" >&2; exit 1; }
  : >"$STACK_DIR/gateway.log"
  stack_gateway
}

# Counts of the messages by status, as one line: `queued=10 sent=5 ...`.
sms_statuses() {
  psql "$MGOV_DATABASE_URL" -X -qtA -F= -c "SELECT status, count(*) FROM messages GROUP BY status ORDER BY status" | tr '\n' ' '
}

# One figure of mgov-load's JSON, e.g. `json_fig run.json .submit.accepted_per_s`.
json_fig() { jq -r "$2" "$1"; }

# CPU seconds (user + system) of the PostgreSQL server's processes so far.
postgres_cpu_ticks() {
  local total=0 pid
  for pid in $(pgrep -x postgres || true); do
    total=$((total + $(cpu_ticks "$pid" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
