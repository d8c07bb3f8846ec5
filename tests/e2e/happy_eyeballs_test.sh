#!/bin/sh
# c-ares resolution from /etc/hosts and RFC 8305 Happy Eyeballs: the
# smarthost's name has a dead IPv6 address (SYNs dropped) and a live IPv4
# one. relayd must deliver through IPv4 after the 250 ms race delay: the
# connect timeout is a day and the dead address stays dead longer than the
# test may run, so only the race can deliver (no clock is read to judge). A private /etc/hosts is bind-mounted in a
# mount namespace; the real one is never touched.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private /etc/hosts (mount namespace)"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace here"; exit 77; }
ip -6 addr show lo 2>/dev/null | grep -q '::1' || { echo "SKIP: no IPv6 loopback"; exit 77; }
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing"; exit 77; }

PORT=$(free_port)
cat >> "$CONF" <<CONF
smarthost = dual.test:$PORT none
timeout_connect = 1d
log = $T/relayd.log
CONF
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
printf '::1 dual.test\n127.0.0.1 dual.test\n127.0.0.1 localhost\n' > "$T/hosts"
chmod 644 "$T/hosts"

/usr/bin/python3 "$RELAY_SRC/tests/dead_address.py" "$PORT" 600 > "$T/dead.out" &
dead=$!
PYTHONUNBUFFERED=1 /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Debugging > "$T/sink.out" 2>&1 &
sink=$!
trap 'kill $dead $sink 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 grep -q ready "$T/dead.out" || bad "dead IPv6 listener did not start"
wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" || bad "sink did not start"

printf 'Subject: race\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i bob@example.net
# timeout(1) only bounds a hang; it is no measure of speed.
timeout 300 unshare -m sh -c "mount --bind '$T/hosts' /etc/hosts && '$BIN/relayd' -C '$CONF' --once"
rc=$?
[ $rc != 124 ] && ok "the run ended though the IPv6 connect never does (exit $rc)" \
  || bad "still waiting for the dead IPv6 address after 300 s: no race"
contains "$T/relayd.log" "relay=dual.test[127.0.0.1]:$PORT" "delivered over IPv4 after the race"
contains "$T/relayd.log" "status=sent" "message sent"
finish
