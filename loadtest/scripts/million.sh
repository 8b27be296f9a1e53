#!/usr/bin/env bash
# One million back-office transactions through the production stack, then an audit of the
# transaction log in PostgreSQL.
#
#   bash loadtest/scripts/million.sh                   # 500,000 water-bill journeys = 1,000,000 transactions
#   JOURNEYS=5000 bash loadtest/scripts/million.sh     # quick check
#   CHAOS=1 bash loadtest/scripts/million.sh           # the same through a hostile aggregator
#
# Each completed water-bill journey makes two back-office calls (bills.fetch, then
# payments.control_number), so JOURNEYS=500000 is a million transactions. The script starts
# the stack (stack.sh: Redis, PostgreSQL, a fresh database, back-office simulator, gateway),
# plays the journeys in a closed loop of CONCURRENCY phones (default 64), writing every
# completed journey's control number to $STACK_DIR/completed.csv, waits up to SETTLE_SECS
# (default 60) for the reconciler to finish transactions left `pending`, then checks from the
# database that there are:
#   - 0 missing: every completed journey's control number is recorded in `transactions`
#     (payments.control_number, outcome ok) for that session, and so is its bills.fetch;
#   - 0 duplicated: no session (`session_key`) has more than one distinct control number,
#     nor one control number under more than one request id (two sessions paying the same
#     account rightly share its bill's number);
#   - 0 pending: no transaction is left with outcome `pending`;
# and that every completed session has exactly two transactions (one ok bills.fetch, one ok
# payments.control_number) and one `ussd_sessions` row ending `completed`.
#
# CHAOS=1 (or CHAOS=<spec>, see loadtest/README.md) plays `--chaos default` (or that spec) in
# both wire formats (FORMAT=mixed unless set): a fifth of hops are duplicated, retried after a
# time-out, sent twice at once, replayed late or have their answer dropped and are resent.
# Every chaos violation (a repeated hop answered differently) fails the run too.
#
# Exit status: 0 all good; 1 a check failed (missing, duplicated, pending, a chaos violation,
# a session without exactly its two transactions...); 2 the run itself fell short (sessions
# failed at the load generator, so fewer transactions than asked were made).
# Environment: JOURNEYS, CONCURRENCY, CHAOS, CHAOS_SEED, FORMAT, SETTLE_SECS, STACK_DIR
# (default a fresh /tmp/mgov-stack.*), and what stack.sh reads (GATEWAY_ADDR,
# BACKOFFICE_LATENCY, PG_ADMIN, BENCH_DB...).
set -euo pipefail
for tool in jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

JOURNEYS="${JOURNEYS:-500000}"
CONCURRENCY="${CONCURRENCY:-64}"
SETTLE_SECS="${SETTLE_SECS:-60}"
case "${CHAOS:-}" in
  "" | 0 | off) CHAOS_SPEC=off; FORMAT="${FORMAT:-africastalking}" ;;
  1 | on) CHAOS_SPEC=default; FORMAT="${FORMAT:-mixed}" ;;
  *) CHAOS_SPEC="$CHAOS"; FORMAT="${FORMAT:-mixed}" ;;
esac
chaos_seed=()
if [ -n "${CHAOS_SEED:-}" ]; then chaos_seed=(--chaos-seed "$CHAOS_SEED"); fi

# shellcheck source=stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
stack_start

CSV="$STACK_DIR/completed.csv"
JSON="$STACK_DIR/million.json"
echo "== $JOURNEYS water-bill journeys ($((JOURNEYS * 2)) transactions), closed loop of $CONCURRENCY phones, format $FORMAT, chaos $CHAOS_SPEC"
ticks_before=$(cpu_ticks "$GATEWAY_PID")
started_ns=$(date +%s%N)
# The gateway's resident memory every 30 s during the run.
(while sleep 30; do echo "$(rss_kb "$GATEWAY_PID")"; done) >"$STACK_DIR/rss.txt" 2>/dev/null &
sampler=$!
MGOV_LOAD_HUBTEL_USERNAME=hubtel MGOV_LOAD_HUBTEL_SECRET="$HUBTEL_SECRET" \
  "$BIN/mgov-load" --url "http://$GATEWAY_ADDR" --concurrency "$CONCURRENCY" \
  --sessions "$JOURNEYS" --format "$FORMAT" --chaos "$CHAOS_SPEC" "${chaos_seed[@]}" \
  --record-completed "$CSV" --json "$JSON" --quiet \
  | tee "$STACK_DIR/million.txt"
wall_s=$(awk -v a="$started_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
ticks_after=$(cpu_ticks "$GATEWAY_PID")
rss=$(rss_kb "$GATEWAY_PID")
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true

completed=$(jq '.sessions.completed' "$JSON")
failed=$(jq '.sessions.failed' "$JSON")
hops=$(jq '.counts.hops' "$JSON")
echo
echo "== load generator"
echo "wall time               ${wall_s} s (process start to exit)"
echo "measured                $(jq '.elapsed_s' "$JSON") s"
echo "hops/s                  $(jq '.throughput.hops_per_s' "$JSON")"
echo "transactions/s          $(jq '.throughput.transactions_per_s' "$JSON")"
echo "sessions/s              $(jq '.throughput.sessions_per_s' "$JSON")"
echo "hops                    $hops"
echo "transactions (matched)  $(jq '.counts.transactions' "$JSON")"
echo "sessions                $completed completed, $failed failed"
echo "hop latency ms          p50 $(jq '.latency_ms.overall.p50' "$JSON")  p99 $(jq '.latency_ms.overall.p99' "$JSON")  p99.9 $(jq '.latency_ms.overall.p99_9' "$JSON")  max $(jq '.latency_ms.overall.max' "$JSON")"
echo "gateway CPU             $(((ticks_after - ticks_before) * 10)) ms  ($(awk -v t=$((ticks_after - ticks_before)) -v h="$hops" 'BEGIN { printf "%.3f", t * 10 / h * 1000 }') ms per 1000 hops)"
echo "gateway RSS at end      $((rss / 1024)) MB (every 30 s: $(awk '{ printf "%d ", $1 / 1024 }' "$STACK_DIR/rss.txt")MB)"
if [ "$CHAOS_SPEC" != off ]; then
  echo "chaos events            $(jq -c '.chaos.events' "$JSON") (seed $(jq '.chaos.seed' "$JSON"))"
  echo "chaos violations        $(jq '.chaos.violations_total' "$JSON") $(jq -c '.chaos.violations | with_entries(select(.value > 0))' "$JSON")"
fi

# Transactions left `pending` (a call whose outcome was not recorded yet) are the
# reconciler's to finish; give it SETTLE_SECS before the audit counts them.
pending_rows() { psql "$MGOV_DATABASE_URL" -X -qtA -c "SELECT count(*) FROM transactions WHERE outcome = 'pending'"; }
settle_start=$(date +%s)
while [ "$(pending_rows)" != 0 ] && [ $(($(date +%s) - settle_start)) -lt "$SETTLE_SECS" ]; do sleep 1; done
echo "settled                 after $(($(date +%s) - settle_start)) s ($(pending_rows) pending left)"

echo
echo "== audit of the transaction log ($BENCH_DB)"
audit="$STACK_DIR/audit.txt"
psql "$MGOV_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -P pager=off >"$audit" <<SQL
\pset format unaligned
\pset fieldsep ' '
\pset tuples_only on
CREATE TEMP TABLE done (session_id TEXT, msisdn TEXT, control_number TEXT, telco TEXT);
\copy done FROM '$CSV' WITH (FORMAT csv, HEADER true)
ALTER TABLE done ADD COLUMN session_key TEXT;
UPDATE done SET session_key = telco || ':' || session_id;
CREATE INDEX ON done (control_number);
CREATE INDEX ON done (session_key);
ANALYZE done;
CREATE TEMP TABLE issued AS
  SELECT id, session_key, msisdn, outcome, reference FROM transactions
  WHERE action = 'payments.control_number';
ANALYZE issued;
-- One line per figure: name value.
SELECT 'csv_rows', count(*) FROM done;
SELECT 'csv_distinct_sessions', count(DISTINCT session_key) FROM done;
SELECT 'csv_empty_control_numbers', count(*) FROM done WHERE coalesce(control_number, '') = '';
-- missing: a completed journey whose control number or bill fetch is not recorded for it.
SELECT 'missing_control_number', count(*) FROM done d WHERE NOT EXISTS (
  SELECT 1 FROM issued i WHERE i.reference = d.control_number AND i.session_key = d.session_key
    AND i.msisdn = d.msisdn AND i.outcome = 'ok');
SELECT 'missing_bill_fetch', count(*) FROM done d WHERE NOT EXISTS (
  SELECT 1 FROM transactions t WHERE t.session_key = d.session_key
    AND t.action = 'bills.fetch' AND t.outcome = 'ok');
-- Only a figure: journeys that drew the same account share its bill's control number.
SELECT 'control_number_under_another_session', count(*) FROM done d WHERE EXISTS (
  SELECT 1 FROM issued i WHERE i.reference = d.control_number AND i.session_key <> d.session_key);
-- duplicated: over every session, completed or not.
SELECT 'sessions_with_several_control_numbers', count(*) FROM (
  SELECT session_key FROM issued WHERE reference IS NOT NULL
  GROUP BY session_key HAVING count(DISTINCT reference) > 1) s;
-- A bill keeps its control number, so two sessions paying one account share it: a number
-- counts as duplicated when one session has it under several request ids.
SELECT 'control_numbers_under_several_ids', count(*) FROM (
  SELECT session_key, reference FROM issued WHERE reference IS NOT NULL
  GROUP BY session_key, reference HAVING count(DISTINCT id) > 1) r;
SELECT 'pending', count(*) FROM transactions WHERE outcome = 'pending';
WITH per AS (
  SELECT session_key, count(*) AS n,
         count(*) FILTER (WHERE action = 'bills.fetch' AND outcome = 'ok') AS fetched,
         count(*) FILTER (WHERE action = 'payments.control_number' AND outcome = 'ok') AS issued
  FROM transactions GROUP BY session_key
), f AS (
  SELECT count(*) FILTER (WHERE per.n = 2 AND fetched = 1 AND issued = 1) AS two,
         count(*) FILTER (WHERE per.n IS NULL OR NOT (per.n = 2 AND fetched = 1 AND issued = 1)) AS not_two,
         coalesce(sum(per.n), 0) AS total
  FROM done LEFT JOIN per ON per.session_key = done.session_key
)
SELECT unnest(ARRAY['sessions_with_exactly_two', 'sessions_not_two', 'completed_session_transactions']),
       unnest(ARRAY[two, not_two, total]) FROM f;
SELECT 'transactions_total', count(*) FROM transactions;
SELECT 'transactions_outside_completed', count(*) FROM transactions t
  WHERE NOT EXISTS (SELECT 1 FROM done WHERE done.session_key = t.session_key);
SELECT 'ussd_sessions_completed', count(*) FROM ussd_sessions u
  WHERE end_reason = 'completed'
    AND EXISTS (SELECT 1 FROM done WHERE done.session_key = u.session_key);
SELECT 'by_action ' || action || ' ' || outcome, count(*) FROM transactions GROUP BY action, outcome ORDER BY action, outcome;
SQL
cat "$audit"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$audit"; }
missing=$(($(fig missing_control_number) + $(fig missing_bill_fetch)))
duplicated=$(($(fig sessions_with_several_control_numbers) + $(fig control_numbers_under_several_ids)))
pending=$(fig pending)

echo
echo "missing                 $missing"
echo "duplicated              $duplicated"
echo "pending                 $pending"
status=0
for bad in missing duplicated pending; do
  if [ "${!bad}" != 0 ]; then
    echo "FAIL: $bad = ${!bad}"
    status=1
  fi
done
for bad in sessions_not_two csv_empty_control_numbers; do
  if [ "$(fig "$bad")" != 0 ]; then
    echo "FAIL: $bad = $(fig "$bad")"
    status=1
  fi
done
csv_rows=$(fig csv_rows)
if [ "$(fig csv_distinct_sessions)" != "$csv_rows" ]; then
  echo "FAIL: the CSV repeats sessions ($(fig csv_distinct_sessions) distinct of $csv_rows)"
  status=1
fi
if [ "$(fig ussd_sessions_completed)" != "$csv_rows" ]; then
  echo "FAIL: $(fig ussd_sessions_completed) completed ussd_sessions rows for $csv_rows completed journeys"
  status=1
fi
if [ "$csv_rows" != "$completed" ]; then
  echo "FAIL: the CSV has $csv_rows rows, the load generator completed $completed journeys"
  status=1
fi
violations=$(jq '.chaos.violations_total' "$JSON")
if [ "$violations" != 0 ]; then
  echo "FAIL: $violations chaos violations: $(jq -c '.chaos.violations | with_entries(select(.value > 0))' "$JSON")"
  jq -r '.chaos.samples[:5][] | "  e.g. " + .' "$JSON"
  status=1
fi
if grep -q '"level":"ERROR"' "$STACK_DIR/gateway.log"; then
  echo "FAIL: the gateway logged errors:"
  grep '"level":"ERROR"' "$STACK_DIR/gateway.log" | head -n 5
  status=1
fi
if [ "$status" = 0 ] && { [ "$failed" != 0 ] || [ "$completed" != "$JOURNEYS" ]; }; then
  echo "SHORT: $failed sessions failed at the load generator; $completed of $JOURNEYS journeys completed"
  status=2
fi
if [ "$status" = 0 ]; then
  echo "OK: $completed journeys, $(fig completed_session_transactions) transactions, every control number recorded exactly once, none pending"
fi
echo "files in $STACK_DIR (completed.csv, million.json, audit.txt, gateway.log)"
exit "$status"
