#!/bin/sh
# The smarthost pause survives a relayd restart (issue 18 item 4): a run
# that finds the only smarthost refusing pauses deliveries; relayd is
# restarted; its first run keeps the pause (no connection, the mail
# waits); a flush lifts it and the mail goes. What holds it across the
# restart is the host health in state/.health: the next run reads the
# refused smarthost's failures and skips it until its penalty ends.
. "$(dirname "$0")/lib.sh"

# The smarthost refuses the first session at the greeting, then works.
rm -f "$T/c.ready"
/usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/c.ready" --log "$T/c.log" \
  --max-seconds 300 --script-inline '{"connections": {"1": {"greeting": "421 4.3.2 not now"}}}' > /dev/null 2>&1 &
pid_c=$!
pid_d=
trap 'kill $pid_c $pid_d 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 test -s "$T/c.ready" || bad "fault server did not start"
C=127.0.0.1:$(cat "$T/c.ready")
cat >> "$CONF" <<CONF
smarthost = $C none
log = $T/relayd.log
retry_min = 1h
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
connects() { grep -c '"event": "connect"' "$T/c.log"; }
messages() { grep -c '"event": "message"' "$T/c.log"; }
health_inode() { stat -c %i "$T/spool/state/.health" 2>/dev/null; }
start_relayd() { "$BIN/relayd" -C "$CONF" > "$T/relayd.out" 2>&1 & pid_d=$!; }
stop_relayd() { kill "$pid_d" 2>/dev/null; wait "$pid_d" 2>/dev/null; pid_d=; }

printf 'Subject: paused\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i -f s@x.test r@x.test
start_relayd
wait_for 20 grep -q "^host $C pause_until [1-9]" "$T/spool/state/.health" &&
  ok "the refused session paused the smarthost (state/.health)" || bad "no pause: $(cat "$T/spool/state/.health" 2>&1)"
[ "$(connects)" = 1 ] && ok "one session tried" || bad "connects: $(connects)"
stop_relayd

# Restart: the first run (it rewrites state/.health when it ends) must
# keep the pause.
before=$(health_inode)
start_relayd
wait_for 20 sh -c "[ \"\$(stat -c %i '$T/spool/state/.health')\" != '$before' ]" ||
  bad "the first run after the restart did not end"
[ "$(connects)" = 1 ] && ok "after a restart the paused smarthost is not tried" ||
  bad "after restart: connects $(connects), messages $(messages)"
[ "$(queue_count)" = 1 ] && ok "the mail waits" || bad "queue: $(queue_count)"
grep -q "^host $C pause_until [1-9]" "$T/spool/state/.health" && ok "the pause is still stored" ||
  bad "pause gone: $(grep "^host $C" "$T/spool/state/.health")"

# relayctl flush lifts it: the mail goes.
"$BIN/relayctl" -C "$CONF" flush > /dev/null
wait_for 20 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/c.log') = 1 ]" &&
  ok "a flush lifts the pause and the mail goes" || bad "after flush: messages $(messages)"
wait_for 10 sh -c "[ \$(ls '$T/spool/queue' | wc -l) = 0 ]" && ok "queue empty" || bad "queue: $(queue_count)"
stop_relayd
finish
