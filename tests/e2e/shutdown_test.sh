#!/bin/sh
# SIGTERM while the smarthost has a message and has not yet answered its
# final dot: relayd must wait for that answer (up to timeout_data_done)
# rather than abandon the transaction after its grace period, else the
# message stays queued and goes out a second time after the restart.
# tests/fault_server.py answers the final dot 6 s late, twice the 3 s
# grace; the verdict comes from what it logged, not from a clock.
. "$(dirname "$0")/lib.sh"
cat >> "$CONF" <<CONF
log = $T/relayd.log
retry_min = 1s
retry_max = 1s
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
fs= relayd=
trap 'kill $fs $relayd 2>/dev/null; rm -rf "$T"' EXIT
fault_smarthost "$T/fs.log" \
  '{"default": {"end_of_data": {"reply": "250 2.0.0 Ok: queued late", "delay": 6}}}' || finish
messages() { n=$(grep -c '"event": "message"' "$T/fs.log" 2>/dev/null); echo "${n:-0}"; }

printf 'Subject: stop at the dot\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i rcpt@example.net
"$BIN/relayd" -C "$CONF" &
relayd=$!
# The smarthost logs the message before it (slowly) answers the dot.
wait_for 30 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs.log') -ge 1 ]" \
  && ok "the smarthost has the message; its reply is pending" || bad "the message never reached the smarthost"
kill -TERM $relayd
# A hang guard only: relayd is to exit once the late reply has come.
if wait_for 60 sh -c "! kill -0 $relayd"; then ok "relayd stopped after SIGTERM"; else bad "relayd still running 60 s after SIGTERM"; fi
wait $relayd 2>/dev/null
contains "$T/relayd.log" "s for the smarthost's reply to 1 message(s) already sent" "the wait for the reply is logged"
contains "$T/relayd.log" "status=sent (250 2.0.0 Ok: queued late)" "the late reply was read and recorded"
lacks "$T/relayd.log" "possible duplicate" "no possible duplicate"
[ "$(queue_count)" = 0 ] && ok "queue empty" || bad "still queued: $(ls "$T/spool/queue")"

# The restart sends nothing again.
"$BIN/relayd" -C "$CONF" --flush 2>>"$T/relayd.err"
[ "$(messages)" = 1 ] && ok "the smarthost got the message once" || bad "the smarthost got it $(messages) times"

# A SIGTERM before any content is sent still ends the run at once: the
# message waits at MAIL (stalled), is abandoned, and is sent later.
fault_smarthost "$T/fs2.log" '{"default": {"mail": {"action": "stall", "seconds": 100}}}'
: > "$T/relayd.log"
printf 'Subject: stop before the content\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i rcpt@example.net
"$BIN/relayd" -C "$CONF" &
relayd=$!
wait_for 30 grep -q '"verb": "MAIL"' "$T/fs2.log" && ok "stalled at MAIL" || bad "MAIL never came"
kill -TERM $relayd
if wait_for 30 sh -c "! kill -0 $relayd"; then ok "relayd stopped (transaction before the content abandoned)"; else bad "relayd still running"; fi
lacks "$T/relayd.log" "already sent" "no wait for a message not sent"
[ "$(queue_count)" = 1 ] && ok "the message is still queued" || bad "queue: $(ls "$T/spool/queue")"

# A SIGTERM while the content is on its way (a smarthost that stops
# reading after 354, so relay's writes block): without its final dot the
# message cannot be the smarthost's, so the transfer is broken at once
# rather than waited for (timeout_data_block per block, then the dot).
kill $relayd 2>/dev/null; wait $relayd 2>/dev/null
"$BIN/relayctl" -C "$CONF" delete "$(ls "$T/spool/queue" | head -1)" >/dev/null
fault_smarthost "$T/fs3.log" \
  '{"default": {"ehlo": {"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]},
                "data": {"reply": "354 go ahead", "action": "deaf", "seconds": 100}}}'
echo "message_size_limit = 100M" >> "$CONF"
: > "$T/relayd.log"
# 40 MB: more than the loopback socket buffers can hold unread.
{ printf 'Subject: stop in the content\n\n'; yes 'a line of content to fill the socket buffers, seventy-five bytes long...' | head -c 40000000; } |
  "$BIN/sendmail" -C "$CONF" -i rcpt@example.net || bad "40 MB message not queued"
"$BIN/relayd" -C "$CONF" &
relayd=$!
wait_for 30 grep -q '"action": "deaf"' "$T/fs3.log" && ok "the smarthost stopped reading after 354" || bad "DATA never came"
sleep 1  # let the writes fill the buffers (the verdict below is from the log)
kill -TERM $relayd
if wait_for 60 sh -c "! kill -0 $relayd"; then ok "relayd stopped"; else bad "relayd still running 60 s after SIGTERM"; fi
lacks "$T/relayd.log" "already sent" "no wait for a message whose dot was never sent"
lacks "$T/relayd.log" "status=sent" "nothing recorded as sent"
[ "$(queue_count)" = 1 ] && ok "the message is still queued" || bad "queue: $(ls "$T/spool/queue")"
finish
