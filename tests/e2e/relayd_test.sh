#!/bin/sh
# relayd against a real SMTP server it did not write (Python's aiosmtpd,
# Debian's python3-aiosmtpd) on a loopback port: daemon pickup through
# inotify, connection reuse, deferral and retry, sendmail -q, SIGTERM.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 77; }

PORT=$(free_port)
SINK=$T/sink.out
cat >> "$CONF" <<CONF
smarthost = 127.0.0.1:$PORT none
log = $T/relayd.log
max_connections = 1
retry_min = 1s
retry_max = 2s
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"

sink_pid=
start_sink() {
  PYTHONUNBUFFERED=1 /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Debugging >> "$SINK" 2>&1 &
  sink_pid=$!
  wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)"
}
stop_sink() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=; }
relayd_pid=
cleanup() { stop_sink; [ -n "$relayd_pid" ] && kill "$relayd_pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
received() { n=$(grep -c '^---------- MESSAGE FOLLOWS' "$SINK" 2>/dev/null); echo "${n:-0}"; }
send() { printf 'Subject: %s\n\n%s body\n' "$1" "$1" | "$BIN/sendmail" -C "$CONF" -i "${2:-bob@example.net}"; }

start_sink

# 1. Daemon mode: a new entry is picked up through inotify, no -q needed.
"$BIN/relayd" -C "$CONF" &
relayd_pid=$!
wait_for 10 grep -q starting "$T/relayd.log" || bad "relayd did not start"
send first
if wait_for 30 sh -c "[ \$(grep -c '^---------- MESSAGE FOLLOWS' '$SINK') -ge 1 ]"; then
  ok "daemon picked up and delivered a new message"
else
  bad "daemon did not deliver: $(cat "$T/relayd.log")"
fi
contains "$SINK" "Subject: first" "the smarthost got the message"
wait_for 10 sh -c "! ls '$T/spool/queue' | grep -q ." && ok "queue empty after delivery" || bad "queue not empty"
contains "$T/relayd.log" "status=sent (250 OK)" "Postfix-style sent line"
contains "$T/relayd.log" ": removed" "removed line"

# 2. SIGTERM: relayd exits, promptly, with status 0.
kill -TERM $relayd_pid
wait $relayd_pid; rc=$?; relayd_pid=
[ $rc = 0 ] && ok "SIGTERM: clean exit" || bad "SIGTERM: exit $rc"

# 3. Connection reuse: 20 queued messages go over one connection.
: > "$SINK"
i=0; while [ $i -lt 20 ]; do send "batch$i"; i=$((i+1)); done
"$BIN/relayd" -C "$CONF" --once
[ "$(received)" = 20 ] && ok "20 messages delivered by one --once run" || bad "received $(received) of 20"
peers=$(grep '^X-Peer:' "$SINK" | sort -u | wc -l)
[ "$peers" = 1 ] && ok "all 20 over one connection" || bad "$peers connections for 20 messages"

# 4. Smarthost down: deferred with the reason, kept, then delivered once
#    by sendmail -q when it is back.
stop_sink
: > "$SINK"
send deferred carol@example.net
"$BIN/relayd" -C "$CONF" --once
[ "$(ls "$T/spool/queue" | wc -l)" = 1 ] && ok "message kept while the smarthost is down" || bad "message lost or not queued"
contains "$T/relayd.log" "status=deferred" "deferral logged"
"$BIN/mailq" -C "$CONF" > "$T/mailq.out"
contains "$T/mailq.out" "carol@example.net" "mailq shows the pending recipient"
contains "$T/mailq.out" "Connection refused" "mailq shows the last error"
start_sink
"$BIN/sendmail" -C "$CONF" -q
[ "$(received)" = 1 ] && ok "delivered once after the smarthost came back" || bad "received $(received)"
[ -z "$(ls "$T/spool/queue")" ] && ok "queue empty" || bad "queue not empty"
[ -z "$(ls "$T/spool/state")" ] && ok "state file removed" || bad "state left"

# 5. -odq: queued, not delivered, until a queue run.
: > "$SINK"
printf 'Subject: held\n\nb\n' | "$BIN/sendmail" -C "$CONF" -odq -i dave@example.net
sed -i 's/^retry_min = .*/retry_min = 1h/; s/^retry_max = .*/retry_max = 2h/' "$CONF"
"$BIN/relayd" -C "$CONF" --once
[ "$(received)" = 0 ] && ok "-odq message not delivered by a normal run" || bad "-odq delivered at once"
"$BIN/sendmail" -C "$CONF" -q
[ "$(received)" = 1 ] && ok "-odq message delivered by sendmail -q" || bad "-odq not flushed"
# 6. A queue entry relayd cannot parse is moved aside, never delivered
#    half, and the rest of the queue still flows.
: > "$SINK"
printf 'relay-queue 1\nid 00000000000000000000\ngarbage\n' > "$T/spool/queue/6610FFFFFFFFF000000"
[ "$(id -u)" = 0 ] && chown 65534 "$T/spool/queue/6610FFFFFFFFF000000"
send after-corrupt
"$BIN/relayd" -C "$CONF" --once
[ -f "$T/spool/corrupt/6610FFFFFFFFF000000" ] && ok "corrupt entry moved to corrupt/" || bad "corrupt entry not moved aside"
contains "$T/relayd.log" "corrupt queue entry moved" "corrupt entry logged"
[ "$(received)" = 1 ] && ok "the good message still delivered" || bad "good message not delivered"

# 7. Entries in tmp/ that are not regular files (planted: a directory with
#    a file in it, a FIFO, a symlink), old enough for the sweep: each is
#    named once per run with what it is, left alone, and mail still flows.
: > "$SINK"; : > "$T/relayd.log"
mkdir "$T/spool/tmp/planted-dir"; echo keep > "$T/spool/tmp/planted-dir/inside"
mkfifo "$T/spool/tmp/planted-fifo"; ln -s /etc/passwd "$T/spool/tmp/planted-link"
touch -h -d '2000-01-01 00:00:00' "$T/spool/tmp/planted-dir" "$T/spool/tmp/planted-fifo" "$T/spool/tmp/planted-link"
for run in 1 2; do
  send "tmp-odd-$run"
  "$BIN/relayd" -C "$CONF" --once; rc=$?
  [ $rc = 0 ] && ok "run $run with odd entries in tmp/: exit 0" || bad "run $run with odd entries in tmp/: exit $rc"
  [ "$(received)" = $run ] && ok "run $run: the message is delivered" || bad "run $run: received $(received)"
  for what in "planted-dir: a directory" "planted-fifo: a FIFO" "planted-link: a symbolic link"; do
    n=$(grep -c "tmp/${what%%:*}" "$T/relayd.log")
    [ "$n" = $run ] && ok "run $run: tmp/${what%%:*} logged once in this run" || bad "run $run: tmp/${what%%:*} logged $n times in $run runs"
    contains "$T/relayd.log" "tmp/$what, not a temporary file; left alone" "tmp/${what%%:*}: the line says what it is"
  done
done
lacks "$T/relayd.log" "removed temporary file $T/spool/tmp/planted" "no odd entry is reported as removed"
[ -f "$T/spool/tmp/planted-dir/inside" ] && ok "the planted directory and its file are left alone" || bad "the planted directory was changed"
[ -p "$T/spool/tmp/planted-fifo" ] && [ -L "$T/spool/tmp/planted-link" ] && ok "the FIFO and the symlink are left alone" ||
  bad "the FIFO or the symlink was removed"
finish
