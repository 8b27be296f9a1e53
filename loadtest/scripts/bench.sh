#!/usr/bin/env bash
# The figures of BENCHMARKS.md, on the production stack of stack.sh (Redis sessions, the
# PostgreSQL transaction log, the back-office simulator as its own process):
#
#   bash loadtest/scripts/bench.sh          # about 7 minutes; results in $OUT/summary.md
#
# (a) sustained hops/s, full water-bill journey, closed loop: each of CONCURRENCIES once,
#     then the best of them REPEATS times (WARMUP + DURATION each);
# (b) hop latency in an open loop at half the sustained sessions/s (REPEATS times), with the
#     CPU split as in (d);
# (c) gateway VmRSS and Redis used_memory with 10,000 and 100,000 live sessions left
#     mid-dialogue (journeys/hold.toml), on a fresh stack each time (REPEATS times); then
#     the same with the gateway's in-process session store instead of Redis;
# (d) gateway CPU per 1000 hops over the measured part of each run of (a), and the CPU split
#     between the processes of the stack over a window inside the measured part.
# Every figure is reported as the median of REPEATS runs, with the raw values.
# Environment: OUT (default a fresh /tmp/mgov-bench.*), CONCURRENCIES ("16 32 64 128 256 512"),
# REPEATS (3), WARMUP (5), DURATION (20) in seconds, and what stack.sh reads.
set -euo pipefail
for tool in jq psql curl redis-cli pgrep; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

OUT="${OUT:-$(mktemp -d /tmp/mgov-bench.XXXXXX)}"
mkdir -p "$OUT"
CONCURRENCIES="${CONCURRENCIES:-16 32 64 128 256 512}"
REPEATS="${REPEATS:-3}"
WARMUP="${WARMUP:-5}"
DURATION="${DURATION:-20}"
export STACK_DIR="${STACK_DIR:-$OUT/stack}"
mkdir -p "$STACK_DIR"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOLD="$HERE/../journeys/hold.toml"

# shellcheck source=stack.sh
source "$HERE/stack.sh"

log() { echo "[$(date +%T)] $*" >&2; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
jqn() { jq -r "$1" "$2"; }

# Every process of the stack, as `name pid...` lines; the load generator's pid is $1.
stack_processes() {
  echo "gateway $GATEWAY_PID"
  echo "mgov-load $1"
  echo "backoffice-sim ${STACK_PIDS[0]}"
  echo "postgres $(pgrep -x postgres | tr '\n' ' ')"
  echo "redis $(pgrep -x redis-server | tr '\n' ' ')"
}

# `name ticks` for each process group, then `busy`/`steal`/`all` ticks of the whole machine
# from /proc/stat, then `ns` the time of the snapshot.
snapshot() {
  stack_processes "$1" | while read -r name pids; do
    local sum=0
    for pid in $pids; do sum=$((sum + $(cpu_ticks "$pid" 2>/dev/null || echo 0))); done
    echo "$name $sum"
  done
  # cpu  user nice system idle iowait irq softirq steal guest guest_nice
  awk '/^cpu / { print "busy", $2 + $3 + $4 + $7 + $8; print "steal", $9;
                 print "all", $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
  echo "ns $(date +%s%N)"
}

# Cores used by each name between two snapshots.
split() {
  awk 'NR == FNR { a[$1] = $2; next }
       { b[$1] = $2; order[++n] = $1 }
       END {
         secs = (b["ns"] - a["ns"]) / 1e9; named = 0
         for (i = 1; i <= n; i++) {
           k = order[i]; if (k == "ns" || k == "all") continue
           c = (b[k] - a[k]) / 100 / secs
           if (k != "busy" && k != "steal") named += c
           printf "%s %.3f\n", k, c
         }
         printf "other %.3f\nwindow_s %.1f\n", (b["busy"] - a["busy"]) / 100 / secs - named, secs
       }' "$1" "$2"
}

# One run of the full journey; $1 name, then the load options (--concurrency N or --rate R).
# Writes $OUT/$1.json and $OUT/$1.cpu: the CPU split over a window inside the measured part,
# the gateway's CPU ms per 1000 measured hops, and its resident memory after the run.
measured_run() {
  local name="$1"; shift
  local gw0
  "$BIN/mgov-load" --url "http://$GATEWAY_ADDR" "$@" --warmup "${WARMUP}s" \
    --duration "${DURATION}s" --json "$OUT/$name.json" --quiet >"$OUT/$name.txt" &
  local lpid=$!
  sleep "$WARMUP"
  gw0=$(cpu_ticks "$GATEWAY_PID")
  snapshot "$lpid" >"$OUT/$name.snap0"
  sleep $((DURATION - 3))
  snapshot "$lpid" >"$OUT/$name.snap1"
  wait "$lpid"
  local gw1 hops
  gw1=$(cpu_ticks "$GATEWAY_PID")
  hops=$(jqn .counts.hops "$OUT/$name.json")
  {
    split "$OUT/$name.snap0" "$OUT/$name.snap1"
    awk -v t=$((gw1 - gw0)) -v h="$hops" 'BEGIN { printf "gateway_ms_per_1000_hops %.2f\n", t * 10 / h * 1000 }'
    echo "gateway_rss_mb_after $(($(rss_kb "$GATEWAY_PID") / 1024))"
  } >"$OUT/$name.cpu"
  log "$name: $*: $(jqn .throughput.hops_per_s "$OUT/$name.json") hops/s," \
    "p50 $(jqn .latency_ms.overall.p50 "$OUT/$name.json") p99 $(jqn .latency_ms.overall.p99 "$OUT/$name.json") ms," \
    "failed $(jqn .sessions.failed "$OUT/$name.json") late $(jqn .sessions.late "$OUT/$name.json")" \
    "dropped $(jqn .sessions.dropped "$OUT/$name.json"); $(tr '\n' ' ' <"$OUT/$name.cpu")"
}
closed_run() { measured_run "$2" --concurrency "$1"; }
open_run() { measured_run "$2" --rate "$1"; }

redis_used() { redis-cli -h 127.0.0.1 info memory | awk -F: '/^used_memory:/ { print $2 + 0 }'; }
live_in_redis() { redis-cli -h 127.0.0.1 zcard "${MGOV_REDIS_PREFIX}deadlines"; }
# Drops every key the last stack left in Redis (live sessions), so the next starts empty.
redis_forget() {
  redis-cli -h 127.0.0.1 --scan --pattern "${MGOV_REDIS_PREFIX}*" | xargs -r -n 1000 redis-cli -h 127.0.0.1 unlink >/dev/null
}

# Leaves $1 more sessions live mid-dialogue.
hold() {
  "$BIN/mgov-load" --url "http://$GATEWAY_ADDR" --journey "$HOLD" --concurrency 32 \
    --sessions "$1" --quiet >"$OUT/hold-$1.txt"
  grep -q "$1 completed" "$OUT/hold-$1.txt" || { cat "$OUT/hold-$1.txt" >&2; exit 1; }
}

# Restarts the gateway with the in-process session store (no MGOV_REDIS_URL).
gateway_in_process_sessions() {
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true
  env -u MGOV_REDIS_URL "$BIN/mgov" serve >"$STACK_DIR/gateway-memory-store.log" 2>&1 &
  GATEWAY_PID=$!
  STACK_PIDS+=("$GATEWAY_PID")
  wait_http "http://$GATEWAY_ADDR/readyz"
}

# One memory measurement on a fresh stack; $1 name, $2 "redis" or "memory" (session store).
memory_run() {
  local name="$1" store="$2"
  stack_stop; redis_forget
  stack_start 2>>"$OUT/stack.log"
  if [ "$store" = memory ]; then gateway_in_process_sessions; fi
  sleep 2
  local rss0 red0
  rss0=$(rss_kb "$GATEWAY_PID"); red0=$(redis_used)
  hold 10000
  local rss10 red10 live10
  rss10=$(rss_kb "$GATEWAY_PID"); red10=$(redis_used); live10=$(live_in_redis)
  hold 90000
  local rss100 red100 live100
  rss100=$(rss_kb "$GATEWAY_PID"); red100=$(redis_used); live100=$(live_in_redis)
  printf 'rss0_kb %s\nrss10k_kb %s\nrss100k_kb %s\nredis0 %s\nredis10k %s\nredis100k %s\nlive10k %s\nlive100k %s\n' \
    "$rss0" "$rss10" "$rss100" "$red0" "$red10" "$red100" "$live10" "$live100" >"$OUT/$name.mem"
  log "$name ($store sessions): gateway RSS $((rss0 / 1024)) -> $((rss10 / 1024)) -> $((rss100 / 1024)) MB;" \
    "redis used_memory $((red0 / 1048576)) -> $((red10 / 1048576)) -> $((red100 / 1048576)) MiB;" \
    "live in redis $live10, $live100"
}

machine() {
  echo "- nproc: $(nproc); memory: $(free -m | awk '/^Mem:/ { print $2 }') MiB"
  echo "- CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "($(awk -F': ' '/^flags/ { n = split($2, f, " "); for (i = 1; i <= n; i++) if (f[i] == "hypervisor") { print "virtual machine"; exit } }' /proc/cpuinfo))"
  echo "- kernel: $(uname -r)"
  echo "- PostgreSQL: $(psql "$PG_ADMIN" -XAtc 'SHOW server_version') (synchronous_commit $(psql "$PG_ADMIN" -XAtc 'SHOW synchronous_commit'), fsync $(psql "$PG_ADMIN" -XAtc 'SHOW fsync'))"
  echo "- Redis: $(redis-server --version | sed 's/ sha=.*//')"
  echo "- rustc: $(rustc --version)"
}

trap 'stack_stop; redis_forget' EXIT

machine >"$OUT/machine.md"
cat "$OUT/machine.md" >&2
stack_start

# (a) + (d): pick the concurrency, then repeat the best.
best=""; best_hops=0
for c in $CONCURRENCIES; do
  closed_run "$c" "pick-c$c"
  h=$(jqn .throughput.hops_per_s "$OUT/pick-c$c.json")
  if awk -v a="$h" -v b="$best_hops" 'BEGIN { exit !(a > b) }'; then best=$c; best_hops=$h; fi
done
log "best concurrency: $best ($best_hops hops/s)"
for r in $(seq 1 "$REPEATS"); do closed_run "$best" "sustained-$r"; done

vals() { for r in $(seq 1 "$REPEATS"); do jqn "$1" "$OUT/$2-$r.json"; done | tr '\n' ' '; }
cpuvals() { for r in $(seq 1 "$REPEATS"); do awk -v k="$1" '$1 == k { print $2 }' "$OUT/$2-$r.cpu"; done | tr '\n' ' '; }
memvals() { for r in $(seq 1 "$REPEATS"); do awk -v k="$1" -v d="$3" '$1 == k { printf (d == 1 ? "%d\n" : "%.1f\n"), $2 / d }' "$OUT/$2-$r.mem"; done | tr '\n' ' '; }
row() { local v; v="$2"; echo "| $1 | $(echo "$v" | median) | $v |"; }

sessions_median=$(vals .throughput.sessions_per_s sustained | median)
rate=$(awk -v s="$sessions_median" 'BEGIN { printf "%d", s / 2 }')

# (b): open loop at half the sustained rate.
for r in $(seq 1 "$REPEATS"); do open_run "$rate" "half-$r"; done

# (c): memory with live sessions, Redis store then in-process store.
for r in $(seq 1 "$REPEATS"); do memory_run "mem-redis-$r" redis; done
for r in $(seq 1 "$REPEATS"); do memory_run "mem-inproc-$r" memory; done
stack_stop; redis_forget

{
  echo "## Machine"
  cat "$OUT/machine.md"
  echo
  echo "## (a) sustained, closed loop, full water-bill journey (${WARMUP} s warm-up + ${DURATION} s)"
  echo
  echo "| concurrency | hops/s | p50 ms | p99 ms | failed | gateway ms/1000 hops | cores used by others |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for c in $CONCURRENCIES; do
    f="$OUT/pick-c$c.json"
    echo "| $c | $(jqn .throughput.hops_per_s "$f") | $(jqn .latency_ms.overall.p50 "$f") | $(jqn .latency_ms.overall.p99 "$f") | $(jqn .sessions.failed "$f") |" \
      "$(awk '$1 == "gateway_ms_per_1000_hops" { print $2 }' "$OUT/pick-c$c.cpu") | $(awk '$1 == "other" { print $2 }' "$OUT/pick-c$c.cpu") |"
  done
  echo
  echo "Best concurrency $best, $REPEATS runs:"
  echo
  echo "| figure | median | runs |"
  echo "| --- | --- | --- |"
  row "hops/s" "$(vals .throughput.hops_per_s sustained)"
  row "sessions/s" "$(vals .throughput.sessions_per_s sustained)"
  row "transactions/s" "$(vals .throughput.transactions_per_s sustained)"
  row "hop p50 ms" "$(vals .latency_ms.overall.p50 sustained)"
  row "hop p99 ms" "$(vals .latency_ms.overall.p99 sustained)"
  row "failed sessions" "$(vals .sessions.failed sustained)"
  echo
  echo "## (b) open loop at $rate sessions/s (half the sustained median), ${WARMUP} s warm-up + ${DURATION} s"
  echo
  echo "| figure | median | runs |"
  echo "| --- | --- | --- |"
  row "hops/s" "$(vals .throughput.hops_per_s half)"
  row "hop p50 ms" "$(vals .latency_ms.overall.p50 half)"
  row "hop p90 ms" "$(vals .latency_ms.overall.p90 half)"
  row "hop p99 ms" "$(vals .latency_ms.overall.p99 half)"
  row "hop p99.9 ms" "$(vals .latency_ms.overall.p99_9 half)"
  row "late arrivals" "$(vals .sessions.late half)"
  row "dropped arrivals" "$(vals .sessions.dropped half)"
  row "failed sessions" "$(vals .sessions.failed half)"
  row "menu hop (#1 press 1) p99 ms" "$(vals '.latency_ms.steps[1].p99' half)"
  row "bills.fetch hop (#3) p99 ms" "$(vals '.latency_ms.steps[3].p99' half)"
  row "control number hop (#4) p99 ms" "$(vals '.latency_ms.steps[4].p99' half)"
  for k in busy gateway mgov-load backoffice-sim postgres redis other; do
    row "cores: $k" "$(cpuvals "$k" half)"
  done
  echo
  echo "## (c) memory with live sessions (journeys/hold.toml), fresh stack each run"
  echo
  echo "| figure | median | runs |"
  echo "| --- | --- | --- |"
  row "Redis store: gateway RSS MB, idle" "$(memvals rss0_kb mem-redis 1024)"
  row "Redis store: gateway RSS MB, 10,000 live" "$(memvals rss10k_kb mem-redis 1024)"
  row "Redis store: gateway RSS MB, 100,000 live" "$(memvals rss100k_kb mem-redis 1024)"
  row "Redis used_memory MiB, before" "$(memvals redis0 mem-redis 1048576)"
  row "Redis used_memory MiB, 10,000 live" "$(memvals redis10k mem-redis 1048576)"
  row "Redis used_memory MiB, 100,000 live" "$(memvals redis100k mem-redis 1048576)"
  row "sessions live in Redis (deadline set), 10,000 run" "$(memvals live10k mem-redis 1)"
  row "sessions live in Redis (deadline set), 100,000 run" "$(memvals live100k mem-redis 1)"
  row "in-process store: gateway RSS MB, idle" "$(memvals rss0_kb mem-inproc 1024)"
  row "in-process store: gateway RSS MB, 10,000 live" "$(memvals rss10k_kb mem-inproc 1024)"
  row "in-process store: gateway RSS MB, 100,000 live" "$(memvals rss100k_kb mem-inproc 1024)"
  echo
  echo "## (d) CPU during the sustained runs (cores busy, of $(nproc); window inside the measured part)"
  echo
  echo "| figure | median | runs |"
  echo "| --- | --- | --- |"
  row "gateway CPU ms per 1000 hops" "$(cpuvals gateway_ms_per_1000_hops sustained)"
  for k in gateway mgov-load backoffice-sim postgres redis other busy steal; do
    row "cores: $k" "$(cpuvals "$k" sustained)"
  done
  row "gateway RSS MB after the run" "$(cpuvals gateway_rss_mb_after sustained)"
} >"$OUT/summary.md"
cat "$OUT/summary.md"
echo "raw results in $OUT" >&2
