#!/bin/sh
# Health that survives (issue 18): a dead first smarthost is not tried
# first in the runs after the one that found it dead, relayctl status
# shows it, a flush and a success clear it; and relayctl status counts
# hold/ and failed/ entries, with --max-age calling them stuck.
. "$(dirname "$0")/lib.sh"

# Two fault servers: A refuses the session on its first two connections
# (421 at the greeting) and works from the third; B always works.
start_fs() {  # NAME SCRIPT
  rm -f "$T/$1.ready"
  /usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/$1.ready" --log "$T/$1.log" \
    --max-seconds 300 --script-inline "$2" > /dev/null 2>&1 &
  eval "pid_$1=$!"
  wait_for 10 test -s "$T/$1.ready" || bad "fault server $1 did not start"
}
pid_a=; pid_b=
trap 'kill $pid_a $pid_b 2>/dev/null; rm -rf "$T"' EXIT
start_fs a '{"connections": {"1": {"greeting": "421 4.3.2 not now"}, "2": {"greeting": "421 4.3.2 still not"}}}'
start_fs b '{}'
A=127.0.0.1:$(cat "$T/a.ready"); B=127.0.0.1:$(cat "$T/b.ready")
cat >> "$CONF" <<CONF
smarthost = $A none
smarthost = $B none
log = $T/relayd.log
max_connections = 1
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
RC="$BIN/relayctl -C $CONF"
send() { printf 'Subject: %s\n\nbody\n' "$1" | "$BIN/sendmail" -C "$CONF" -i -f s@x.test "${2:-r@x.test}"; }
connects() { grep -c '"event": "connect"' "$T/$1.log"; }
messages() { grep -c '"event": "message"' "$T/$1.log"; }
field() {  # JSON-FILE PYTHON-EXPRESSION-ON-d
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# Run 1: A refuses, B takes the message.
send one
"$BIN/relayd" -C "$CONF" --once
[ "$(connects a)" = 1 ] && ok "run 1 tried the first smarthost" || bad "run 1: A connects $(connects a)"
[ "$(messages b)" = 1 ] && ok "run 1 delivered through the second" || bad "run 1: B messages $(messages b)"
grep -q "^host $A failures 1$" "$T/spool/state/.health" && ok "state/.health: A failed once" ||
  bad "state/.health: $(cat "$T/spool/state/.health")"
grep -q "^host $B sent_total 1$" "$T/spool/state/.health" && ok "state/.health: B sent one" ||
  bad "state/.health: $(cat "$T/spool/state/.health")"

# Runs 2 and 3: A is not tried first (not at all: B answers), B delivers.
for run in 2 3; do
  send "run$run"
  "$BIN/relayd" -C "$CONF" --once
  [ "$(connects a)" = 1 ] && ok "run $run did not try the dead first smarthost" || bad "run $run: A connects $(connects a)"
  [ "$(messages b)" = "$run" ] && ok "run $run delivered through the second" || bad "run $run: B messages $(messages b)"
done

$RC status > "$T/st.txt"
contains "$T/st.txt" "smarthost $A: DOWN since" "status: the first smarthost is down"
contains "$T/st.txt" "(1 failure in a row): server greeting: 421 4.3.2 not now" "status: its failures and last error"
contains "$T/st.txt" "smarthost $B: up, last success" "status: the second is up"
contains "$T/st.txt" "3 sent, 0 deferred, 0 bounced" "status: the second's counters"
$RC status --json > "$T/st.json"
[ "$(field "$T/st.json" "d['smarthosts'][0]['up'], d['smarthosts'][0]['failures'], d['smarthosts'][1]['sent_total']")" = "False 1 3" ] &&
  ok "status --json: smarthost health" || bad "status --json: $(cat "$T/st.json")"

# A flush gives the first smarthost its chance again (it refuses once
# more: one failure, counted anew, not two); the next flush finds it back.
$RC flush > /dev/null
send four
"$BIN/relayd" -C "$CONF" --once
[ "$(connects a)" = 2 ] && ok "after a flush the first smarthost is tried first again" || bad "flush: A connects $(connects a)"
grep -q "^host $A failures 1$" "$T/spool/state/.health" && ok "the flush cleared the count (1, not 2)" ||
  bad "after flush: $(grep "^host $A failures" "$T/spool/state/.health")"
$RC flush > /dev/null
send five
"$BIN/relayd" -C "$CONF" --once
[ "$(messages a)" = 1 ] && ok "the first smarthost, back, takes the mail" || bad "A messages $(messages a)"
grep -q "^host $A failures 0$" "$T/spool/state/.health" && grep -q "^host $A down_since 0$" "$T/spool/state/.health" &&
  ok "a success clears the failures" || bad "after success: $(grep "^host $A" "$T/spool/state/.health")"
$RC status > "$T/st.txt"
contains "$T/st.txt" "smarthost $A: up, last success" "status: the first smarthost is up again"

# Held and failed entries are stuck mail too: with queue/ empty, an old
# entry in hold/ or failed/ makes status --max-age exit 1.
[ "$(queue_count)" = 0 ] || bad "queue not empty: $(ls "$T/spool/queue")"
kill "$pid_b" 2>/dev/null; wait "$pid_b" 2>/dev/null; pid_b=
kill "$pid_a" 2>/dev/null; wait "$pid_a" 2>/dev/null; pid_a=
send held
held=$(last_entry)
$RC hold "$held" > /dev/null || bad "hold $held"
[ "$(queue_count)" = 0 ] && ok "queue/ empty, one entry held" || bad "queue: $(ls "$T/spool/queue")"
sleep 1
$RC status --max-age 0s > "$T/st.txt"; rc=$?
[ $rc = 1 ] && ok "status --max-age: an old held entry is stuck (exit 1)" || bad "held: exit $rc: $(cat "$T/st.txt")"
contains "$T/st.txt" "STUCK: the oldest held entry has waited longer than 0 s" "status says the held entry is stuck"
contains "$T/st.txt" "oldest held:  $held, " "status shows the oldest held entry"
$RC status --max-age 1h > /dev/null; rc=$?
[ $rc = 0 ] && ok "status --max-age 1h: a young held entry is not stuck" || bad "held, 1h: exit $rc"
$RC status --json --max-age 0s > "$T/st.json"; rc=$?
[ $rc = 1 ] && [ "$(field "$T/st.json" "d['held'], d['held_oldest_id'] == '$held', d['held_oldest_age_seconds'] >= 1, d['stuck'], d['stuck_parts']")" = "1 True True True ['held']" ] &&
  ok "status --json: held count, oldest, stuck" || bad "status --json held: exit $rc: $(cat "$T/st.json")"
$RC release "$held" > /dev/null
mv "$T/spool/queue/$held" "$T/spool/failed/$held"
$RC status --json --max-age 0s > "$T/st.json"; rc=$?
[ $rc = 1 ] && [ "$(field "$T/st.json" "d['failed'], d['failed_oldest_id'] == '$held', d['stuck_parts']")" = "1 True ['failed']" ] &&
  ok "status --json: an old failed entry is stuck" || bad "status --json failed: exit $rc: $(cat "$T/st.json")"
$RC status --max-age 0s > "$T/st.txt"
contains "$T/st.txt" "STUCK: the oldest failed entry has waited longer than 0 s" "status says the failed entry is stuck"
rm -f "$T/spool/failed/$held"
$RC status --max-age 0s > /dev/null; rc=$?
[ $rc = 0 ] && ok "status: nothing anywhere, nothing stuck" || bad "empty spool: exit $rc"
finish
