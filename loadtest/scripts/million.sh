#!/usr/bin/env bash
# One million back-office transactions through the production stack, then an audit of the
# transaction log in PostgreSQL.
#
#   bash loadtest/scripts/million.sh                 # 500,000 water-bill journeys = 1,000,000 transactions
#   JOURNEYS=5000 bash loadtest/scripts/million.sh   # quick check
#
# Each completed water-bill journey makes two back-office calls (bills.fetch, then
# payments.control_number), so JOURNEYS=500000 is a million transactions. The script starts
# the stack (stack.sh: Redis, PostgreSQL, a fresh database, back-office simulator, gateway),
# plays the journeys in a closed loop of CONCURRENCY phones (default 64), writing every
# completed journey's control number to $STACK_DIR/completed.csv, then checks from the
# database that:
#   - every control number in the CSV is recorded exactly once in `transactions`
#     (action payments.control_number, outcome ok), for that session and that number;
#   - every completed session has exactly two transactions (one ok bills.fetch, one ok
#     payments.control_number) and one `ussd_sessions` row ending `completed`.
# Exit status: 0 all good; 1 a control number lost, duplicated or recorded against the wrong
# session, or a session without exactly its two transactions; 2 the run itself fell short
# (sessions failed at the load generator, so fewer transactions than asked were made).
# Environment: JOURNEYS, CONCURRENCY, STACK_DIR (default a fresh /tmp/mgov-stack.*), and
# what stack.sh reads (GATEWAY_ADDR, BACKOFFICE_LATENCY, PG_ADMIN, BENCH_DB...).
set -euo pipefail
for tool in jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

JOURNEYS="${JOURNEYS:-500000}"
CONCURRENCY="${CONCURRENCY:-64}"

# shellcheck source=stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
stack_start

CSV="$STACK_DIR/completed.csv"
JSON="$STACK_DIR/million.json"
echo "== $JOURNEYS water-bill journeys ($((JOURNEYS * 2)) transactions), closed loop of $CONCURRENCY phones"
ticks_before=$(cpu_ticks "$GATEWAY_PID")
started_ns=$(date +%s%N)
# The gateway's resident memory every 30 s during the run.
(while sleep 30; do echo "$(rss_kb "$GATEWAY_PID")"; done) >"$STACK_DIR/rss.txt" 2>/dev/null &
sampler=$!
"$BIN/mgov-load" --url "http://$GATEWAY_ADDR" --concurrency "$CONCURRENCY" \
  --sessions "$JOURNEYS" --record-completed "$CSV" --json "$JSON" --quiet \
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

echo
echo "== audit of the transaction log ($BENCH_DB)"
audit="$STACK_DIR/audit.txt"
psql "$MGOV_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -P pager=off >"$audit" <<SQL
\pset format unaligned
\pset fieldsep ' '
\pset tuples_only on
CREATE TEMP TABLE done (session_id TEXT, msisdn TEXT, control_number TEXT);
\copy done FROM '$CSV' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON done (control_number);
ANALYZE done;
-- One line per figure: name value.
SELECT 'csv_rows', count(*) FROM done;
SELECT 'csv_distinct_control_numbers', count(DISTINCT control_number) FROM done;
SELECT 'csv_empty_control_numbers', count(*) FROM done WHERE coalesce(control_number, '') = '';
WITH cn AS (
  SELECT reference, count(*) AS n, min(session_key) AS session_key, min(msisdn) AS msisdn
  FROM transactions
  WHERE action = 'payments.control_number' AND outcome = 'ok'
  GROUP BY reference
), f AS (
  SELECT count(*) FILTER (WHERE cn.n IS NULL) AS missing,
         count(*) FILTER (WHERE cn.n > 1) AS duplicated,
         count(*) FILTER (WHERE cn.n = 1 AND (cn.session_key <> 'africastalking:' || done.session_id
                                              OR cn.msisdn <> done.msisdn)) AS wrong_session
  FROM done LEFT JOIN cn ON cn.reference = done.control_number
)
SELECT unnest(ARRAY['missing', 'duplicated', 'wrong_session']),
       unnest(ARRAY[missing, duplicated, wrong_session]) FROM f;
WITH per AS (
  SELECT session_key, count(*) AS n,
         count(*) FILTER (WHERE action = 'bills.fetch' AND outcome = 'ok') AS fetched,
         count(*) FILTER (WHERE action = 'payments.control_number' AND outcome = 'ok') AS issued
  FROM transactions GROUP BY session_key
), f AS (
  SELECT count(*) FILTER (WHERE per.n = 2 AND fetched = 1 AND issued = 1) AS two,
         count(*) FILTER (WHERE per.n IS NULL OR NOT (per.n = 2 AND fetched = 1 AND issued = 1)) AS not_two,
         coalesce(sum(per.n), 0) AS total
  FROM done LEFT JOIN per ON per.session_key = 'africastalking:' || done.session_id
)
SELECT unnest(ARRAY['sessions_with_exactly_two', 'sessions_not_two', 'completed_session_transactions']),
       unnest(ARRAY[two, not_two, total]) FROM f;
SELECT 'transactions_total', count(*) FROM transactions;
SELECT 'transactions_outside_completed', count(*) FROM transactions t
  WHERE NOT EXISTS (SELECT 1 FROM done WHERE 'africastalking:' || done.session_id = t.session_key);
SELECT 'ussd_sessions_completed', count(*) FROM ussd_sessions u
  WHERE end_reason = 'completed'
    AND EXISTS (SELECT 1 FROM done WHERE 'africastalking:' || done.session_id = u.session_key);
SELECT 'by_action ' || action || ' ' || outcome, count(*) FROM transactions GROUP BY action, outcome ORDER BY action, outcome;
SQL
cat "$audit"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$audit"; }

echo
status=0
csv_rows=$(fig csv_rows)
for bad in missing duplicated wrong_session sessions_not_two csv_empty_control_numbers; do
  if [ "$(fig "$bad")" != 0 ]; then
    echo "FAIL: $bad = $(fig "$bad")"
    status=1
  fi
done
if [ "$(fig csv_distinct_control_numbers)" != "$csv_rows" ]; then
  echo "FAIL: the CSV repeats control numbers ($(fig csv_distinct_control_numbers) distinct of $csv_rows)"
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
  echo "OK: $completed journeys, $(fig completed_session_transactions) transactions, every control number recorded exactly once"
fi
echo "files in $STACK_DIR (completed.csv, million.json, audit.txt, gateway.log)"
exit "$status"
