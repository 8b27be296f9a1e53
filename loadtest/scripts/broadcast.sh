#!/usr/bin/env bash
# Broadcasts through the production stack: one text, in Swahili and English, to every
# subscriber of a topic, queued in chunks, sent at the telco's pace through the telco
# simulator, delivery reports back; then an audit. Then the same again while subscribers
# text STOP, to see how many a STOP still misses.
#
#   bash loadtest/scripts/broadcast.sh                          # 100,000 subscribers, 1,000 STOPs
#   SUBSCRIBERS=2000 STOPS=50 bash loadtest/scripts/broadcast.sh  # quick check
#   STOPS=0 bash loadtest/scripts/broadcast.sh                  # the plain broadcast only
#
# The script starts the stack (sms-stack.sh: Redis, PostgreSQL, a fresh database
# mgov_bench_sms, telco-sim, the gateway with an Africa's Talking-format telco at SMS_PPS
# parts/s), creates the topic BENCH as the sending agency, writes SUBSCRIBERS subscriptions
# straight into the database (2557 and 8 digits; 80 % Swahili, 20 % English), times
# POST /v1/broadcasts/estimate, then starts a broadcast and follows GET /v1/broadcasts/{id}
# every POLL seconds until every message is final. It prints:
#   - the estimate's latency (ESTIMATES calls);
#   - as polled: when all were queued (status no longer `queued`), all sent (`done`), all final;
#   - queued/s, sent/s, delivered/s: the broadcast's messages created / with a `sent` /
#     `delivered` event, over the time from the broadcast's creation to the last of them;
#   - the gateway's CPU and PostgreSQL's (all its processes) per 1000 messages, polling included;
#   - the audit: one message per subscriber (no number twice, none that is no subscriber),
#     every message final with exactly one final event, and telco-sim's counters: it received
#     each message handed to it once.
# The STOP run (STOPS > 0) is a second broadcast to the same topic: once it is accepted, STOPS
# subscribers spread over the numbers text STOP (in random order) to /sms/$SMS_TELCO/inbound.
# For those numbers it counts who still received it (sent before the STOP arrived, or while
# it was being routed), who was held back (`cancelled`) and who was never queued (the STOP
# had removed the subscription first), and how long a STOP took to take effect.
# Exit status: 0 all good; 1 an audit failed or the gateway logged errors.
# Environment: SUBSCRIBERS (100000), STOPS (1000), ESTIMATES (5), POLL (1s), DRAIN_TIMEOUT
# (600s), and what sms-stack.sh and stack.sh read (SMS_PPS, REPORT_DELAY, TELCO_SIM_ARGS,
# GATEWAY_ADDR, PG_ADMIN, STACK_DIR...).
set -euo pipefail
for tool in jq psql curl shuf; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

SUBSCRIBERS="${SUBSCRIBERS:-100000}"
STOPS="${STOPS:-1000}"
ESTIMATES="${ESTIMATES:-5}"
POLL="${POLL:-1s}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-600s}"
TOPIC=BENCH
FINAL="'delivered', 'failed', 'expired', 'cancelled'"
[ "$STOPS" -le "$SUBSCRIBERS" ] || { echo "STOPS must not exceed SUBSCRIBERS" >&2; exit 1; }

# shellcheck source=sms-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/sms-stack.sh"

sql() { psql "$MGOV_DATABASE_URL" -X -qtA -F' ' -v ON_ERROR_STOP=1 -c "$1"; }
api_get() { curl -fsS "http://$GATEWAY_ADDR$1" -H "Authorization: Bearer $API_KEY"; }
api_post() {
  curl -fsS -X POST "http://$GATEWAY_ADDR$1" -H "Authorization: Bearer $API_KEY" \
    -H 'Content-Type: application/json' -d "$2"
}
now() { date +%s.%N; }
# Seconds since $1 (a `now`), one decimal.
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.1f", t1 - t0 }'; }
# $1 per second over $2 seconds, whole.
per_s() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
# Milliseconds of CPU per 1000 messages for $1 clock ticks and $2 messages.
per_1000() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", n ? t * 10 / n * 1000 : 0 }'; }
telco_counter() { curl -fsS "$TELCO_SIM_URL/stats" | jq -r ".$1 // 0"; }
# Messages a telco took (it gave each its own id).
handed_over() { sql "SELECT count(*) FROM messages WHERE telco_message_id IS NOT NULL"; }
unsettled_messages() { sql "SELECT count(*) FROM messages WHERE status NOT IN ($FINAL)"; }
seconds() { echo "${1%s}"; }

sms_stack_start
status=0

topic_id=$(api_post /v1/topics "{\"name\": \"$TOPIC\", \"description\": {\"sw\": \"Taarifa za majaribio\", \"en\": \"Bench notices\"}}" | jq -r .id)
sql "INSERT INTO subscriptions (topic_id, msisdn, language, channel, subscribed_at)
     SELECT '$topic_id', '2557' || lpad(n::text, 8, '0'), CASE WHEN n % 5 = 0 THEN 'en' ELSE 'sw' END, 'sms', now()
     FROM generate_series(1, $SUBSCRIBERS) AS n; ANALYZE subscriptions"
echo "topic $TOPIC ($topic_id): $(sql "SELECT string_agg(language || ' ' || n, ', ') FROM (SELECT language, count(*) AS n FROM subscriptions GROUP BY language ORDER BY language) l") subscribers"

# The request of broadcast $1: its texts name it, so that telco-sim sees no text twice.
body() {
  printf '{"topic": "%s", "text": {"sw": "Taarifa %s: maji yatakatika kesho Kinondoni 08:00-16:00.", "en": "Notice %s: no water in Kinondoni tomorrow 08:00-16:00."}}' \
    "$TOPIC" "$1" "$1"
}

estimate_latency() {
  local times=() answer="$STACK_DIR/estimate.json" n
  for _ in $(seq 1 "$ESTIMATES"); do
    times+=("$(curl -fsS -o "$answer" -w '%{time_total}' -X POST "http://$GATEWAY_ADDR/v1/broadcasts/estimate" \
      -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' -d "$(body 0)")")
  done
  n=${#times[@]}
  printf '%s\n' "${times[@]}" | sort -g | awk -v n="$n" '{ t[NR] = $1 * 1000 }
    END { printf "estimate latency        p50 %.1f ms, max %.1f ms (%d calls; ", t[int((n + 1) / 2)], t[n], n }'
  jq -r '"\(.recipients) recipients, \(.parts) parts)"' "$answer"
}

# Follows broadcast $1, posted at $2 (a `now`), until all its messages are final or
# DRAIN_TIMEOUT; sets SEEN_QUEUED, SEEN_SENT and SEEN_FINAL (seconds after $2, or "never").
follow() {
  local id=$1 t0=$2 view state unsettled t last=0
  SEEN_QUEUED=never SEEN_SENT=never SEEN_FINAL=never
  while :; do
    view=$(api_get "/v1/broadcasts/$id") || view='{}'
    t=$(since "$t0")
    state=$(jq -r '.status // "?"' <<<"$view")
    unsettled=$(jq '[.counts // {} | to_entries[] | select(.key == "queued" or .key == "sending" or .key == "sent") | .value] | add // 0' <<<"$view")
    if [ "$SEEN_QUEUED" = never ] && [ "$state" != queued ] && [ "$state" != "?" ]; then SEEN_QUEUED=$t; fi
    if [ "$SEEN_SENT" = never ] && [ "$state" = "done" ]; then SEEN_SENT=$t; fi
    if [ "$state" = "done" ] && [ "$unsettled" = 0 ]; then SEEN_FINAL=$t; break; fi
    if awk -v t="$t" -v last="$last" 'BEGIN { exit !(t - last >= 10) }'; then
      echo "  ${t} s: $state, $(jq -c '.counts' <<<"$view")"
      last=$t
    fi
    if awk -v t="$t" -v d="$(seconds "$DRAIN_TIMEOUT")" 'BEGIN { exit !(t >= d) }'; then
      echo "  DRAIN_TIMEOUT: $state, $(jq -c '.counts' <<<"$view")"
      return
    fi
    sleep "$(seconds "$POLL")"
  done
  # Other messages (STOP confirmations) settle too, so that telco-sim's counters are complete.
  while [ "$(unsettled_messages)" != 0 ] && awk -v t="$(since "$t0")" -v d="$(seconds "$DRAIN_TIMEOUT")" 'BEGIN { exit !(t < d) }'; do
    sleep 1
  done
}

# SQL: seconds from t0 to the time $1, 0 when there is none.
secs() { echo "coalesce(round(extract(epoch FROM $1 - t0)::numeric, 2), 0)"; }

# Rates of broadcast $1 from the database: "count seconds" for messages queued, with a
# `sent` event, with a `delivered` event (seconds from the broadcast's creation to the last).
rates() {
  sql "WITH b AS (SELECT created_at AS t0 FROM broadcasts WHERE id = '$1'),
       m AS (SELECT id, created_at FROM messages WHERE broadcast_id = '$1'),
       e AS (SELECT e.message_id, e.status, e.at FROM message_events e JOIN m ON m.id = e.message_id
             WHERE e.status IN ('sent', 'delivered'))
       SELECT (SELECT count(*) FROM m), $(secs "(SELECT max(created_at) FROM m)"),
              (SELECT count(DISTINCT message_id) FROM e WHERE status = 'sent'),
              $(secs "(SELECT max(at) FROM e WHERE status = 'sent')"),
              (SELECT count(DISTINCT message_id) FROM e WHERE status = 'delivered'),
              $(secs "(SELECT max(at) FROM e WHERE status = 'delivered')")
       FROM b"
}

# The audit of broadcast $1, which should have $2 messages, with what telco-sim counted while
# it went out (run_broadcast's received, handed, duplicates): prints it, and fails if wrong.
audit() {
  local id=$1 expected=$2 counts messages twice strangers unsettled finals english wrong_language
  read -r messages twice strangers unsettled finals english wrong_language <<<"$(sql "
    WITH m AS (SELECT id, recipient, status, text FROM messages WHERE broadcast_id = '$id')
    SELECT (SELECT count(*) FROM m),
      (SELECT count(*) FROM (SELECT recipient FROM m GROUP BY recipient HAVING count(*) > 1) d),
      (SELECT count(*) FROM m WHERE recipient !~ '^2557[0-9]{8}$'
         OR substr(recipient, 5)::int NOT BETWEEN 1 AND $SUBSCRIBERS),
      (SELECT count(*) FROM m WHERE status NOT IN ($FINAL)),
      (SELECT count(*) FROM (SELECT m.id FROM m LEFT JOIN message_events e ON e.message_id = m.id
         AND e.status IN ($FINAL) GROUP BY m.id HAVING count(e.message_id) <> 1) f),
      (SELECT count(*) FROM m WHERE text LIKE 'Notice %'),
      -- Every fifth number subscribed in English.
      (SELECT count(*) FROM m WHERE recipient ~ '^2557[0-9]{8}$'
         AND (text LIKE 'Notice %') <> (substr(recipient, 5)::int % 5 = 0))")"
  counts=$(sql "SELECT status || '=' || count(*) FROM messages WHERE broadcast_id = '$id' GROUP BY status ORDER BY status" | tr '\n' ' ')
  local verdict=ok
  if [ "$messages" != "$expected" ] || [ "$twice" != 0 ] || [ "$strangers" != 0 ] || [ "$unsettled" != 0 ] \
    || [ "$wrong_language" != 0 ] \
    || [ "$finals" != 0 ] || [ "$received" != "$handed" ] || [ "$duplicates" != 0 ]; then
    verdict=FAIL
    status=1
  fi
  echo "audit                   $verdict: $messages messages for $expected subscribers ($english in English, $wrong_language in the wrong language), $twice numbers twice, $strangers to no subscriber, $unsettled not final, $finals without exactly one final event; statuses ${counts% }"
  echo "audit, telco-sim        $verdict: $received messages received, $handed handed to it, $duplicates received twice"
}

# Runs broadcast $1; its STOP senders (STOPS of them) text STOP as soon as it is accepted
# when $2 is "stops". Sets BROADCAST_ID.
run_broadcast() {
  local label=$1 with_stops=${2:-} t0 gw0 pg0 gw1 pg1 handed0 received0 duplicates0
  handed0=$(handed_over)
  received0=$(telco_counter unique_messages)
  duplicates0=$(telco_counter duplicates)
  gw0=$(cpu_ticks "$GATEWAY_PID")
  pg0=$(postgres_cpu_ticks)
  t0=$(now)
  BROADCAST_ID=$(api_post /v1/broadcasts "$(body "$label")" | jq -r .id)
  echo "broadcast $BROADCAST_ID accepted in $(since "$t0") s"
  if [ "$with_stops" = stops ]; then send_stops "$t0"; fi
  follow "$BROADCAST_ID" "$t0"
  gw1=$(cpu_ticks "$GATEWAY_PID")
  pg1=$(postgres_cpu_ticks)
  handed=$(($(handed_over) - handed0))
  received=$(($(telco_counter unique_messages) - received0))
  duplicates=$(($(telco_counter duplicates) - duplicates0))
  local n queued_s sent sent_s delivered delivered_s
  read -r n queued_s sent sent_s delivered delivered_s <<<"$(rates "$BROADCAST_ID")"
  echo "polled                  all queued at $SEEN_QUEUED s, all sent at $SEEN_SENT s, all final at $SEEN_FINAL s"
  echo "queued/s                $(per_s "$n" "$queued_s")   ($n messages, the last queued ${queued_s:-?} s after the broadcast was created)"
  echo "sent/s                  $(per_s "$sent" "$sent_s")   ($sent, the last at ${sent_s:-?} s)"
  echo "delivered/s             $(per_s "$delivered" "$delivered_s")   ($delivered, the last at ${delivered_s:-?} s)"
  echo "gateway CPU             $(((gw1 - gw0) * 10)) ms ($(per_1000 $((gw1 - gw0)) "$n") ms per 1000 messages)"
  echo "PostgreSQL CPU          $(((pg1 - pg0) * 10)) ms ($(per_1000 $((pg1 - pg0)) "$n") ms per 1000 messages; every postgres process on this machine)"
}

# Posts STOP from STOPS subscribers spread evenly over the numbers, in random order, through
# the telco's incoming SMS callback, all on one connection; $1 is when the broadcast was posted.
send_stops() {
  local requests="$STACK_DIR/stops.curl" t1 codes first=yes spacing=$((SUBSCRIBERS / STOPS))
  # Four in five one below the even spacing, so that the senders are Swahili and English
  # (every fifth number) as the subscribers are.
  for i in $(seq 1 "$STOPS"); do
    printf '2557%08d\n' $((i * SUBSCRIBERS / STOPS - (spacing >= 2 && i % 5 != 0 ? 1 : 0)))
  done | shuf \
    | while read -r msisdn; do
      if [ -z "$first" ]; then echo next; fi
      first=
      printf 'url = "http://%s/sms/%s/inbound"\nuser = "%s:%s"\n' "$GATEWAY_ADDR" "$SMS_TELCO" "$SMS_TELCO" "$SMS_TELCO_SECRET"
      printf 'data = "id=bench-stop-%s&from=%%2B%s&to=15200&text=STOP"\n' "$msisdn" "$msisdn"
      printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\n'
    done >"$requests"
  t1=$(since "$1")
  codes=$(curl -K "$requests" | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')
  echo "STOPs                   $STOPS posted from $t1 s to $(since "$1") s after the broadcast: HTTP $codes"
}

# For the STOP senders: who still received broadcast $1, who was held back, who was never
# queued, and how long each STOP took from its arrival to taking effect.
stop_window() {
  read -r stored effective never cancelled got before routing after p50 worst <<<"$(sql "
    WITH s AS (SELECT i.sender, i.received_at, o.at AS stopped_at FROM inbound_messages i
               LEFT JOIN opt_outs o ON o.msisdn = i.sender WHERE i.telco_message_id LIKE 'bench-stop-%'),
    x AS (SELECT s.*, m.status, (SELECT min(e.at) FROM message_events e WHERE e.message_id = m.id
            AND e.status = 'sent') AS sent_at
          FROM s LEFT JOIN messages m ON m.recipient = s.sender AND m.broadcast_id = '$1')
    SELECT count(*), count(stopped_at), count(*) FILTER (WHERE status IS NULL),
      count(*) FILTER (WHERE status = 'cancelled'), count(sent_at),
      count(*) FILTER (WHERE sent_at < received_at),
      count(*) FILTER (WHERE sent_at >= received_at AND sent_at < stopped_at),
      count(*) FILTER (WHERE sent_at >= stopped_at),
      round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stopped_at - received_at)) * 1000)::numeric),
      round(max(extract(epoch FROM stopped_at - received_at)) * 1000)
    FROM x")"
  echo "STOP senders            $stored stored, $effective in effect: $got still received it ($before sent before their STOP arrived, $routing while it was being routed, $after recorded sent after it took effect), $cancelled held back (cancelled), $never never queued"
  echo "STOP to effect          p50 ${p50:-?} ms, max ${worst:-?} ms (arrival to the opt-out being written)"
  echo "incoming outcomes       $(sql "SELECT o || '=' || count(*) FROM (SELECT coalesce(outcome, status) AS o FROM inbound_messages) i GROUP BY o ORDER BY o" | tr '\n' ' ')"
}

echo
echo "== broadcast 1: $SUBSCRIBERS subscribers, telco at $SMS_PPS parts/s, reports after $REPORT_DELAY, polled every $POLL"
estimate_latency
run_broadcast 1
audit "$BROADCAST_ID" "$SUBSCRIBERS"

if [ "$STOPS" -gt 0 ]; then
  echo
  echo "== broadcast 2: the same, while $STOPS subscribers text STOP"
  run_broadcast 2 stops
  never=$(sql "SELECT count(*) FROM inbound_messages i WHERE i.telco_message_id LIKE 'bench-stop-%'
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.broadcast_id = '$BROADCAST_ID' AND m.recipient = i.sender)")
  audit "$BROADCAST_ID" $((SUBSCRIBERS - never))
  stop_window "$BROADCAST_ID"
fi

if grep -q '"level":"ERROR"' "$STACK_DIR/gateway.log"; then
  echo "FAIL: the gateway logged errors:"
  grep '"level":"ERROR"' "$STACK_DIR/gateway.log" | head -n 5
  status=1
fi
echo "files in $STACK_DIR (gateway.log, telco-sim.log)"
exit "$status"
