#!/bin/sh
# The second door: relayd's SMTP listener on loopback, driven by clients
# this project did not write (swaks, Python's smtplib): the dialogue with
# pipelining, refusals, no SMTP smuggling, the client's uid in the log, a
# non-loopback address refused, and a bounded load test whose messages all
# end up delivered, none lost or doubled.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing"; exit 77; }
command -v swaks >/dev/null || { echo "SKIP: swaks missing"; exit 77; }

SINKPORT=$(free_port)
LPORT=$(free_port)
cat >> "$CONF" <<CONF
smarthost = 127.0.0.1:$SINKPORT none
listen = 127.0.0.1:$LPORT
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
/usr/bin/python3 "$RELAY_SRC/tests/sink.py" --port "$SINKPORT" --out "$T/sink.out" --max-seconds 300 > "$T/sink.ready" &
sink=$!
"$BIN/relayd" -C "$CONF" &
relayd=$!
trap 'kill $sink $relayd 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 grep -q ready "$T/sink.ready" || bad "sink did not start"
wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$LPORT),1)" || bad "listener not up"
delivered() { n=$(cut -d' ' -f1 "$T/sink.out" 2>/dev/null | sort -u | grep -c "^$1"); echo "${n:-0}"; }

# 1. swaks, pipelined, two recipients (one through the aliases).
swaks --server "127.0.0.1:$LPORT" --from a@x.test --to b@x.test,root --pipeline \
  --header "X-Token: swaks1" --body "over the listener" > "$T/swaks.out" 2>&1
[ $? = 0 ] && ok "swaks: accepted" || bad "swaks failed: $(tail -5 "$T/swaks.out")"
contains "$T/swaks.out" "250 2.0.0 Ok: queued as" "swaks: 250 only after queueing"
wait_for 20 grep -q "swaks1 admin@example.net" "$T/sink.out" && ok "delivered, root through the aliases" || bad "swaks message not delivered"
contains "$T/relayd.log" "connect from localhost[127.0.0.1]:" "client logged"
contains "$T/relayd.log" "uid=$(id -u)" "the client's local uid logged"
contains "$T/relayd.log" "client=localhost[127.0.0.1]" "queue line names the client"
# relay-deliver's line names the submitter as the queue file records it
# (as mailq does), not the file's owner: the listener's child that wrote
# the file runs as the spool's owner (65534 here when run as root).
contains "$T/relayd.log" "nrcpt=2, uid=$(id -u) (queue active)" "delivery line: the submitting uid from the queue file"

# 2. Refusals and smuggling.
/usr/bin/python3 "$RELAY_SRC/tests/listener_load.py" "$LPORT" refused > "$T/refused.out"
contains "$T/refused.out" "553 5.1.3" "RCPT TO:<> refused with 553"
/usr/bin/python3 "$RELAY_SRC/tests/listener_load.py" "$LPORT" smuggle > "$T/smuggle.out"
contains "$T/smuggle.out" "250 2.0.0 Ok: queued as" "smuggling attempt: one message"
wait_for 20 grep -q "^smuggle1 " "$T/sink.out" || true
lacks "$T/sink.out" "victim@x.test" "the smuggled transaction never happened"

# 3. Load: 5 clients x 20 messages, all delivered exactly once.
/usr/bin/python3 "$RELAY_SRC/tests/listener_load.py" "$LPORT" 5 20 > "$T/load.out"
cat "$T/load.out"
lacks "$T/load.out" "error:" "load: no client errors"
if wait_for 60 sh -c "[ \$(cut -d' ' -f1 '$T/sink.out' | sort -u | grep -c '^load-') -ge 100 ]"; then
  ok "load: 100 of 100 delivered"
else
  bad "load: $(delivered load-) of 100 delivered"
fi
dups=$(grep '^load-' "$T/sink.out" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && ok "load: no duplicates" || bad "load: $dups duplicates"
[ -n "${RELAY_SUMMARY:-}" ] && sed 's/^/listener load: /' "$T/load.out" >> "$RELAY_SUMMARY"

# 4. A non-loopback address is refused at start, however it is written
#    (review found "127.1" binding 0.0.0.0).
for a in 127.1 127.example.com 0.0.0.0 "[::]"; do
  sed "s/^listen = .*/listen = $a:$LPORT/" "$CONF" > "$T/bad.conf"
  "$BIN/relayd" -C "$T/bad.conf" --once 2>/dev/null; rc=$?
  [ $rc = 78 ] && ok "listen = $a refused (78)" || bad "listen = $a: exit $rc"
done
sed "s/^listen = .*/listen = 0.0.0.0:$LPORT/" "$CONF" > "$T/open.conf"
"$BIN/relayd" -C "$T/open.conf" --once 2> "$T/open.err"; rc=$?
[ $rc = 78 ] && ok "listen on 0.0.0.0 refused (78)" || bad "non-loopback listen: exit $rc"
contains "$T/open.err" "not a loopback address" "clear reason"
finish
