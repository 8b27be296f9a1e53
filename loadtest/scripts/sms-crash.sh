#!/usr/bin/env bash
# Crash drill of the SMS outbox: queue MESSAGES (100,000) messages, `kill -9` the gateway
# while the dispatcher is sending them, start it again, wait, then count what was lost and
# what the telco received twice.
#
#   bash loadtest/scripts/sms-crash.sh                      # 100,000 messages
#   MESSAGES=2000 SMS_PPS=500 bash loadtest/scripts/sms-crash.sh  # quick check
#
# The telco is registered at SMS_PPS parts/s (default 2000, so that 100,000 messages take
# about 50 s to send and the kill lands mid-dispatch). `mgov-load sms` queues the messages
# (RECIPIENTS per request, default 100) and follows them in the database; once every request
# is answered the script waits until KILL_AFTER (default a third) of them were sent, then
# kills the gateway with SIGKILL, notes the statuses at that moment, starts it again after
# DOWN_SECS (2), and lets mgov-load drain (DRAIN_TIMEOUT, 300s: the dispatcher's claims of
# the killed process lapse after 60 s and are sent again).
#
# Expected: 0 lost (every accepted message final, with exactly one final event, and
# received by the telco). Duplicates at the telco are the documented window: a message the
# telco took just before the kill, whose claim was not yet settled, is sent again when the
# claim lapses. At most the claims held at the kill (`sending` then) can be repeated; more
# than that fails the drill.
# Exit status: 0 as expected; 1 messages lost or more duplicates than the window allows.
# Environment: MESSAGES, RECIPIENTS, CONCURRENCY (4), SMS_PPS, KILL_AFTER (0.33), DOWN_SECS,
# DRAIN_TIMEOUT, and what sms-stack.sh and stack.sh read.
set -euo pipefail
for tool in jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

MESSAGES="${MESSAGES:-100000}"
RECIPIENTS="${RECIPIENTS:-100}"
CONCURRENCY="${CONCURRENCY:-4}"
SMS_PPS="${SMS_PPS:-2000}"
KILL_AFTER="${KILL_AFTER:-0.33}"
DOWN_SECS="${DOWN_SECS:-2}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-300s}"

# shellcheck source=sms-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/sms-stack.sh"
sms_stack_start

json="$STACK_DIR/crash.json"
command=("$BIN/mgov-load" sms --url "http://$GATEWAY_ADDR" --recipients "$RECIPIENTS"
  --concurrency "$CONCURRENCY" --messages "$MESSAGES" --database-url "$MGOV_DATABASE_URL"
  --telco-sim "$TELCO_SIM_URL" --drain-timeout "$DRAIN_TIMEOUT" --json "$json")
echo "== crash drill: $MESSAGES messages, $RECIPIENTS per request, telco at $SMS_PPS parts/s, kill -9 after ${KILL_AFTER} of them were sent"
echo "\$ MGOV_LOAD_API_KEY=mgk_... ${command[*]}"
MGOV_LOAD_API_KEY="$API_KEY" "${command[@]}" >"$STACK_DIR/crash.txt" 2>"$STACK_DIR/crash-progress.txt" &
load_pid=$!

# mgov-load's progress says `draining` once every request was answered.
until grep -qs draining "$STACK_DIR/crash-progress.txt"; do
  kill -0 "$load_pid" 2>/dev/null || { cat "$STACK_DIR/crash-progress.txt" "$STACK_DIR/crash.txt"; echo "FAIL: mgov-load ended before the kill"; exit 1; }
  sleep 0.2
done
sent_count() { psql "$MGOV_DATABASE_URL" -X -qtA -c "SELECT count(*) FROM messages WHERE status NOT IN ('queued', 'sending')"; }
threshold=$(awk -v m="$MESSAGES" -v k="$KILL_AFTER" 'BEGIN { printf "%d", m * k }')
until [ "$(sent_count)" -ge "$threshold" ]; do sleep 0.05; done

kill -9 "$GATEWAY_PID"
wait "$GATEWAY_PID" 2>/dev/null || true
at_kill=$(sms_statuses)
sending_at_kill=$(psql "$MGOV_DATABASE_URL" -X -qtA -c "SELECT count(*) FROM messages WHERE status = 'sending'")
echo "killed the gateway (pid $GATEWAY_PID) with SIGKILL; statuses then: $at_kill"
sleep "$DOWN_SECS"
stack_gateway
echo "started it again (pid $GATEWAY_PID); draining"

load_status=0
wait "$load_pid" || load_status=$?
cat "$STACK_DIR/crash.txt"
[ -s "$json" ] || { echo "FAIL: mgov-load wrote no results (exit $load_status)"; exit 1; }

accepted=$(json_fig "$json" .submit.accepted)
lost=$(jq '.audit.missing + .audit.non_final + ([.telco.unique_messages // 0, .audit.accepted] | if .[0] < .[1] then .[1] - .[0] else 0 end)' "$json")
settled_twice=$(jq '(.audit.several_final_events // 0) + (.audit.status_disagrees // 0) + (.audit.no_final_event // 0)' "$json")
duplicates=$(json_fig "$json" '.telco.duplicates // 0')
echo
echo "== crash drill"
echo "accepted                $accepted"
echo "at the kill             $at_kill"
echo "lost                    $lost (not final after the drain, missing, or never received by the telco)"
echo "settled twice           $settled_twice (several final events, or a status its final event does not say)"
echo "duplicates at the telco $duplicates (window: at most the $sending_at_kill claims held at the kill)"
echo "statuses after          $(jq -c .dispatch.statuses "$json"), drained in $(json_fig "$json" .dispatch.drain_s) s"
status=0
if [ "$lost" != 0 ] || [ "$settled_twice" != 0 ]; then
  echo "FAIL: $lost lost, $settled_twice settled twice"
  status=1
fi
if [ "$duplicates" -gt "$sending_at_kill" ]; then
  echo "FAIL: $duplicates duplicates, more than the $sending_at_kill messages in flight at the kill"
  status=1
fi
if [ "$status" = 0 ]; then
  echo "OK: nothing lost; $duplicates sent twice, within the window of the kill"
fi
echo "files in $STACK_DIR (crash.json, crash.txt, crash-progress.txt, gateway.log, telco-sim.log)"
exit "$status"
