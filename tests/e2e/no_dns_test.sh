#!/bin/sh
# A smarthost written as an address literal (127.0.0.1, [::1]) is reached
# with no DNS query at all. c-ares 1.18, asked for any family, sent
# "127.0.0.1" to the nameservers in resolv.conf as a name: every new
# connection asked a server beyond loopback, and when that server was slow
# the delivery waited for its timeout (10 s stalls in bench/run's drain).
# Here relayd runs in a mount namespace whose resolv.conf names a trap on
# loopback (tests/dns_trap.py) that logs every query and refuses it; the
# real /etc/resolv.conf is never touched. The control run, a smarthost
# given by a name that is not in hosts, shows the trap sees queries.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private resolv.conf (mount namespace)"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace here"; exit 77; }
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing"; exit 77; }
/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))' 2>/dev/null ||
  { echo "SKIP: 127.0.0.1:53 (udp) is in use"; exit 77; }

PORT=$(free_port)
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$T/hosts"
chmod 644 "$T/resolv.conf" "$T/hosts"
: > "$T/queries"
/usr/bin/python3 "$RELAY_SRC/tests/dns_trap.py" 127.0.0.1 53 "$T/queries" > "$T/trap.out" 2>&1 &
trap_pid=$!
PYTHONUNBUFFERED=1 /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Debugging > "$T/sink.out" 2>&1 &
sink=$!
sink6=""
trap 'kill $trap_pid $sink $sink6 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 grep -q ready "$T/trap.out" || bad "the DNS trap did not start"
wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" || bad "sink did not start"

base=$(cat "$CONF")
# run SMARTHOST: one message to it, relayd --once with the private resolver.
run() {
  printf '%s\nsmarthost = %s none\nlog = %s\n' "$base" "$1" "$T/relayd.log" > "$CONF"
  printf 'Subject: dns\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i bob@example.net
  # timeout(1) only bounds a hang; it is no measure of speed.
  timeout 300 unshare -m sh -c "mount --bind '$T/resolv.conf' /etc/resolv.conf &&
    mount --bind '$T/hosts' /etc/hosts && '$BIN/relayd' -C '$CONF' --once"
}

for round in 1 2 3; do run "127.0.0.1:$PORT"; done
[ "$(queue_count)" = 0 ] && ok "three messages to 127.0.0.1 delivered" || bad "$(queue_count) left in the queue"
[ ! -s "$T/queries" ] && ok "no DNS query for the IPv4 literal" || bad "DNS queries for a literal: $(tr '\n' ' ' < "$T/queries")"

if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
  PORT6=$(free_port)
  PYTHONUNBUFFERED=1 /usr/bin/python3 -m aiosmtpd -n -l "::1:$PORT6" -c aiosmtpd.handlers.Debugging > "$T/sink6.out" 2>&1 &
  sink6=$!
  wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('::1',$PORT6),1)" || bad "IPv6 sink did not start"
  : > "$T/queries"
  run "[::1]:$PORT6"
  [ "$(queue_count)" = 0 ] && ok "a message to [::1] delivered" || bad "$(queue_count) left after [::1]"
  [ ! -s "$T/queries" ] && ok "no DNS query for the IPv6 literal" || bad "DNS queries for [::1]: $(tr '\n' ' ' < "$T/queries")"
else
  echo "note: no IPv6 loopback here; [::1] not tried"
fi

# Control: a name that is in no hosts file goes to the (trap) nameserver,
# so an empty query log above means no query, not a deaf trap.
run "mx.test:$PORT"
grep -q '^mx\.test ' "$T/queries" && ok "the trap sees the query for a name (mx.test)" \
  || bad "the trap saw no query for mx.test: the checks above prove nothing"
[ "$(queue_count)" = 1 ] && ok "the message to an unresolvable name stays queued" || bad "queue has $(queue_count), want 1"
finish
