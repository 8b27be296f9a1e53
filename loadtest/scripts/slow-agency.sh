#!/usr/bin/env bash
# The slow-agency drill of BENCHMARKS.md, on the production stack of stack.sh, with DAWASA's
# back office (the water bill) in a simulator of its own and RITA's and NIDA's in another:
#
#   bash loadtest/scripts/slow-agency.sh        # about 1 minute; results in $OUT/summary.md
#
# WATER_PHONES (64) phones play the water bill for BEFORE + SLOW + AFTER seconds. After
# BEFORE (10) seconds DAWASA's back office answers in SLOW_LATENCY (6s) for SLOW (10)
# seconds, then recovers. CASE_PHONES (16) phones play the case status at RITA in three
# back-to-back runs: before, during and after the slow window. Once DAWASA's breaker is open
# (or PROBE_AFTER seconds into the window if no breaker opens), PROBE_PHONES (8) more phones
# play the water bill that ends on the "not available" screen for PROBE (4) seconds, to time
# how long a citizen is held on that hop. The gateway's own logs (sessions, transactions)
# then give throughput per quarter second around the window.
# Environment: OUT (a fresh /tmp/mgov-drill.*), the settings above, AFTER (20), and what
# stack.sh reads; MGOV_* settings of the gateway pass through (breaker settings included).
set -euo pipefail
for tool in jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

OUT="${OUT:-$(mktemp -d /tmp/mgov-drill.XXXXXX)}"
mkdir -p "$OUT"
WATER_PHONES="${WATER_PHONES:-64}"
CASE_PHONES="${CASE_PHONES:-16}"
PROBE_PHONES="${PROBE_PHONES:-8}"
BEFORE="${BEFORE:-10}"
SLOW="${SLOW:-10}"
AFTER="${AFTER:-20}"
PROBE="${PROBE:-4}"
PROBE_AFTER="${PROBE_AFTER:-4}"
SLOW_LATENCY="${SLOW_LATENCY:-6s}"
# Its own database and ports, so that it can run next to bench.sh or million.sh.
export BENCH_DB="${BENCH_DB:-mgov_drill}"
export GATEWAY_ADDR="${GATEWAY_ADDR:-127.0.0.1:8190}"
export BACKOFFICE_ADDR="${BACKOFFICE_ADDR:-127.0.0.1:9190}"
WATER_ADDR="${WATER_ADDR:-127.0.0.1:9191}"
export STACK_DIR="${STACK_DIR:-$OUT/stack}"
export BACKOFFICE_URL_dawasa="http://$WATER_ADDR/"
export RUST_LOG="${RUST_LOG:-warn,mgov::backoffice=info}"
mkdir -p "$STACK_DIR"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JOURNEYS="$HERE/../journeys"

# shellcheck source=stack.sh
source "$HERE/stack.sh"

log() { echo "[$(date +%T.%3N)] $*" >&2; }
now() { date +%s.%N; }

stack_start
"$BIN/backoffice-sim" --listen "$WATER_ADDR" --secret "$STACK_SECRET" \
  >"$STACK_DIR/water-backoffice.log" 2>&1 &
STACK_PIDS+=($!)
wait_http "http://$WATER_ADDR/healthz"

GW="http://$GATEWAY_ADDR"
# A run in which no journey completes exits 1; the drill reports it all the same.
load() { "$BIN/mgov-load" --url "$GW" --quiet "$@" || true; }
breaker_open() {
  curl -fs "$GW/metrics" | grep -q '^mgov_backoffice_breaker_state{agency="dawasa"} 2'
}

log "water: $WATER_PHONES phones for $((BEFORE + SLOW + AFTER)) s"
load --journey "$JOURNEYS/water-bill.toml" --concurrency "$WATER_PHONES" \
  --duration "$((BEFORE + SLOW + AFTER))s" --json "$OUT/water.json" >"$OUT/water.txt" &
WATER_LOAD=$!
T_START=$(now)
load --journey "$JOURNEYS/case-status.toml" --concurrency "$CASE_PHONES" \
  --duration "${BEFORE}s" --json "$OUT/case-before.json" >"$OUT/case-before.txt"

log "DAWASA's back office answers in $SLOW_LATENCY for $SLOW s"
curl -fs -XPOST "http://$WATER_ADDR/admin/latency" -H 'content-type: application/json' \
  -d "{\"latency\":\"$SLOW_LATENCY\",\"for\":\"${SLOW}s\"}" >/dev/null
T_SLOW=$(now) # the slow answers are in force from (just before) here
load --journey "$JOURNEYS/case-status.toml" --concurrency "$CASE_PHONES" \
  --duration "${SLOW}s" --json "$OUT/case-during.json" >"$OUT/case-during.txt" &
CASE_LOAD=$!

T_OPEN=""
until [ -n "$T_OPEN" ] || awk -v a="$(now)" -v b="$T_SLOW" -v p="$PROBE_AFTER" 'BEGIN { exit !(a - b >= p) }'; do
  if breaker_open; then T_OPEN=$(now); fi
  sleep 0.05
done
T_PROBE=$(now)
log "probe: $PROBE_PHONES phones on the unavailable water bill for $PROBE s (breaker open: ${T_OPEN:+yes}${T_OPEN:-no})"
load --journey "$JOURNEYS/water-unavailable.toml" --concurrency "$PROBE_PHONES" \
  --duration "${PROBE}s" --json "$OUT/water-probe.json" >"$OUT/water-probe.txt"
wait "$CASE_LOAD"

log "case status after the window"
load --journey "$JOURNEYS/case-status.toml" --concurrency "$CASE_PHONES" \
  --duration "${AFTER}s" --json "$OUT/case-after.json" >"$OUT/case-after.txt" &
CASE_LOAD=$!
wait "$WATER_LOAD" "$CASE_LOAD"
curl -fs "$GW/metrics" | grep -E '^mgov_backoffice_(breaker|calls)' >"$OUT/metrics.txt" || true
sleep 2 # the journal commits what the last hops recorded

# Completed journeys per service in quarter-second bins, time relative to the window's end.
T_END=$(awk -v t="$T_SLOW" -v s="$SLOW" 'BEGIN { printf "%.3f", t + s }')
psql "$MGOV_DATABASE_URL" -qAt -F ' ' >"$OUT/completed.txt" <<SQL
SELECT service_id, floor((extract(epoch FROM ended_at) - $T_END) * 4) / 4, count(*)
FROM ussd_sessions WHERE end_reason = 'completed' GROUP BY 1, 2 ORDER BY 1, 2;
SQL
psql "$MGOV_DATABASE_URL" -qAt -F ' ' >"$OUT/dialled-in-window.txt" <<SQL
SELECT service_id, end_reason, count(*) FROM ussd_sessions
WHERE extract(epoch FROM started_at) BETWEEN $T_SLOW AND $T_END GROUP BY 1, 2 ORDER BY 1, 2;
SQL
psql "$MGOV_DATABASE_URL" -qAt -F ' ' >"$OUT/transactions.txt" <<SQL
SELECT agency_id, outcome, attempts = 0 AS not_called,
       CASE WHEN extract(epoch FROM created_at) < $T_SLOW THEN 'before'
            WHEN extract(epoch FROM created_at) < $T_END THEN 'during' ELSE 'after' END AS phase,
       count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms),
       percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms)
FROM transactions GROUP BY 1, 2, 3, 4 ORDER BY 1, 4, 2, 3;
SQL
grep -h 'circuit breaker' "$STACK_DIR/gateway.log" >"$OUT/breaker.log" || true
# Each change of the breaker, in seconds from the start of the window.
jq -r '"\(.timestamp) \(.fields.message)"' "$OUT/breaker.log" | while read -r at message; do
  awk -v a="$(date -d "$at" +%s.%N)" -v b="$T_SLOW" -v m="$message" 'BEGIN { printf "%+.1f s %s\n", a - b, m }'
done >"$OUT/breaker-timeline.txt"

# Baseline: water journeys per second over the last BEFORE-2 seconds before the window.
# Recovery: the start of the first one-second span after the window's end with at least 90%
# of it, in quarter-second steps.
read -r BASELINE RECOVERY <<<"$(awk -v before="$BEFORE" -v slow="$SLOW" '
  $1 == "maji" { n[$2] += $3 }
  END {
    from = -slow - before + 2; to = -slow
    for (t in n) if (t + 0 >= from && t + 0 < to) base += n[t]
    base /= (to - from)
    for (x = 0; x <= 60; x += 0.25) {
      sum = 0
      for (t in n) if (t + 0 >= x && t + 0 < x + 1) sum += n[t]
      if (sum >= 0.9 * base) { printf "%.1f %.2f\n", base, x; exit }
    }
    printf "%.1f never\n", base
  }' "$OUT/completed.txt")"

step() { jq -r --arg j "$2" --argjson i "$3" \
  '.latency_ms.steps[] | select(.journey == $j and .index == $i) | "\(.count) hops, p50 \(.p50) ms, p99 \(.p99) ms, max \(.max) ms"' "$1"; }
phase() { jq -r '"\(.sessions.completed) completed, \(.sessions.failed) failed, \(.throughput.sessions_per_s)/s; hop p50 \(.latency_ms.overall.p50) ms, p99 \(.latency_ms.overall.p99) ms"' "$1"; }
{
  echo "# Slow-agency drill"
  echo
  echo "gateway commit $(git -C "$ROOT" rev-parse --short HEAD); window: DAWASA answers in $SLOW_LATENCY for $SLOW s"
  echo "breaker open $(if [ -n "$T_OPEN" ]; then awk -v a="$T_OPEN" -v b="$T_SLOW" 'BEGIN { printf "%.1f s", a - b }'; else echo never; fi) into the window"
  echo
  echo "- case status (RITA), before:  $(phase "$OUT/case-before.json")"
  echo "- case status (RITA), during:  $(phase "$OUT/case-during.json")"
  echo "- case status (RITA), after:   $(phase "$OUT/case-after.json")"
  echo "- water bill, account hop (bills.fetch) while DAWASA is unavailable: $(step "$OUT/water-probe.json" water-unavailable 3)"
  echo "- water bill (whole run): $(phase "$OUT/water.json")"
  echo "- water journeys/s before the window: $BASELINE; back to 90% $RECOVERY s after the window ended"
  echo
  echo "DAWASA's breaker (seconds from the start of the window):"
  sed 's/^/    /' "$OUT/breaker-timeline.txt"
  echo
  echo "Journeys dialled in the window, by service and end:"
  sed 's/^/    /' "$OUT/dialled-in-window.txt"
  echo
  echo "Transactions (agency outcome not_called phase count p50_ms p99_ms):"
  sed 's/^/    /' "$OUT/transactions.txt"
  echo
  echo "Breaker metrics at the end:"
  sed 's/^/    /' "$OUT/metrics.txt"
} | tee "$OUT/summary.md"
echo "raw results in $OUT" >&2
