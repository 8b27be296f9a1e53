#!/usr/bin/env bash
# SMS through the production stack: agencies' requests to POST /v1/messages, the dispatcher
# sending through the telco simulator, delivery reports back, then an audit.
#
#   bash loadtest/scripts/sms.sh                       # 100,000 messages with 1 recipient per request, then with 100
#   MESSAGES=2000 bash loadtest/scripts/sms.sh         # quick check
#   RECIPIENTS=100 RATE=50 bash loadtest/scripts/sms.sh  # open loop: 50 requests/s of 100 recipients
#
# The script starts the stack (sms-stack.sh: Redis, PostgreSQL, a fresh database
# mgov_bench_sms, telco-sim, the gateway with an Africa's Talking-format telco at SMS_PPS
# parts/s), then for each count in RECIPIENTS runs `mgov-load sms` with MESSAGES messages,
# following the dispatch in the database, and prints per run:
#   - accepted/s (messages answered 202 over the submitting time), request p50/p99;
#   - sent/s and delivered/s (messages with a `sent` / `delivered` event, over the time from
#     the first request to the last such event), and the time from acceptance
#     (messages.created_at) to the delivery report (the `delivered` event's `at`), p50/p99;
#   - the gateway's CPU per 1000 messages and PostgreSQL's (all its processes, whoever's);
#   - the audit: every accepted message in a final status, with exactly one final event, none
#     left non-final after DRAIN_TIMEOUT, and telco-sim's counters: each received once.
# Exit status: 0 all good; 1 an audit failed (a message lost, left non-final, settled twice,
# or received twice); 2 requests failed, so fewer messages than asked were accepted.
# Environment: MESSAGES (100000), RECIPIENTS ("1 100"), CONCURRENCY (4; closed loop) or RATE
# (requests/s; open loop), DRAIN_TIMEOUT (300s), OUT (where the JSON of each run goes;
# default $STACK_DIR), and what sms-stack.sh and stack.sh read (SMS_PPS, REPORT_DELAY,
# TELCO_SIM_ARGS, GATEWAY_ADDR, PG_ADMIN, STACK_DIR...).
set -euo pipefail
for tool in jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

MESSAGES="${MESSAGES:-100000}"
RECIPIENTS="${RECIPIENTS:-1 100}"
CONCURRENCY="${CONCURRENCY:-4}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-300s}"
if [ -n "${RATE:-}" ]; then pacing=(--rate "$RATE"); else pacing=(--concurrency "$CONCURRENCY"); fi

# shellcheck source=sms-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/sms-stack.sh"
sms_stack_start
OUT="${OUT:-$STACK_DIR}"
mkdir -p "$OUT"

status=0
for recipients in $RECIPIENTS; do
  json="$OUT/sms-r$recipients.json"
  command=("$BIN/mgov-load" sms --url "http://$GATEWAY_ADDR" --recipients "$recipients"
    "${pacing[@]}" --messages "$MESSAGES" --database-url "$MGOV_DATABASE_URL"
    --telco-sim "$TELCO_SIM_URL" --drain-timeout "$DRAIN_TIMEOUT" --json "$json" --quiet)
  echo
  echo "== $MESSAGES messages, $recipients recipient(s) per request, ${pacing[*]}, telco at $SMS_PPS parts/s, reports after $REPORT_DELAY"
  echo "\$ MGOV_LOAD_API_KEY=mgk_... ${command[*]}"
  gw0=$(cpu_ticks "$GATEWAY_PID")
  pg0=$(postgres_cpu_ticks)
  run_status=0
  MGOV_LOAD_API_KEY="$API_KEY" "${command[@]}" | tee "$OUT/sms-r$recipients.txt" || run_status=$?
  gw1=$(cpu_ticks "$GATEWAY_PID")
  pg1=$(postgres_cpu_ticks)
  if [ ! -s "$json" ]; then
    echo "FAIL: mgov-load wrote no results (exit $run_status)"
    status=1
    continue
  fi
  accepted=$(json_fig "$json" .submit.accepted)
  echo "accepted/s              $(json_fig "$json" .submit.accepted_per_s)   (request ms p50 $(json_fig "$json" .submit.latency_ms.p50), p99 $(json_fig "$json" .submit.latency_ms.p99))"
  echo "sent/s                  $(json_fig "$json" .dispatch.sent.per_s)"
  echo "delivered/s             $(json_fig "$json" .dispatch.delivered.per_s)"
  echo "acceptance to report    p50 $(json_fig "$json" .dispatch.accepted_to_delivered_ms.p50) ms, p99 $(json_fig "$json" .dispatch.accepted_to_delivered_ms.p99) ms"
  echo "gateway CPU             $(((gw1 - gw0) * 10)) ms ($(awk -v t=$((gw1 - gw0)) -v n="$accepted" 'BEGIN { printf "%.1f", n ? t * 10 / n * 1000 : 0 }') ms per 1000 messages)"
  echo "PostgreSQL CPU          $(((pg1 - pg0) * 10)) ms (every postgres process on this machine)"
  echo "audit                   $(jq -c '{ok, failures, statuses: .dispatch.statuses, duplicates: .telco.duplicates}' "$json")"
  # A failed audit (1) outranks a short run (2).
  if [ "$run_status" = 1 ] || { [ "$run_status" != 0 ] && [ "$status" = 0 ]; }; then status=$run_status; fi
done
if grep -q '"level":"ERROR"' "$STACK_DIR/gateway.log"; then
  echo "FAIL: the gateway logged errors:"
  grep '"level":"ERROR"' "$STACK_DIR/gateway.log" | head -n 5
  status=1
fi
echo "files in $OUT (sms-r*.json, sms-r*.txt) and $STACK_DIR (gateway.log, telco-sim.log)"
exit "$status"
