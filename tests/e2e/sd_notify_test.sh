#!/bin/sh
# relayd and systemd's notify protocol (sd_notify(3), the documented
# datagram on $NOTIFY_SOCKET; relayd links no libsystemd). systemd itself
# cannot run here (no systemd as PID 1 in the test machine or container),
# so tests/notify_socket.py plays its part: it binds the socket and logs
# every datagram. Shown: READY=1 once relayd watches the queue, WATCHDOG=1
# every half of WATCHDOG_USEC, for a path and for an abstract ('@') socket;
# a relayd stopped with SIGSTOP (a hang) sends no WATCHDOG=1 for more than
# two intervals, which is what makes systemd (WatchdogSec=) restart it,
# and pets again after SIGCONT; WATCHDOG_PID naming another process means
# no watchdog; a bad NOTIFY_SOCKET is one warning and no change; STOPPING=1
# at SIGTERM; the variables do not reach relayd's children. The unit file
# says Type=notify and WatchdogSec= (systemd_units_test verifies it).
. "$(dirname "$0")/lib.sh"
cat >> "$CONF" <<CONF
log = $T/relayd.log
smarthost = 127.0.0.1:1 none
spool_min_free = 1000000G
alert_command = env | grep -v '^PWD=\\|^SHLVL=\\|^_=' > $T/out/alert.env
CONF
mkdir -m 777 "$T/out"
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
chmod 755 "$T"
ns=; rd=
cleanup() {
  [ -n "$rd" ] && kill -CONT "$rd" 2>/dev/null && kill "$rd" 2>/dev/null
  [ -n "$ns" ] && kill "$ns" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# start_socket ADDRESS LOG: the stand-in for systemd's notify socket.
start_socket() {
  rm -f "$T/ns.ready"
  /usr/bin/python3 "$RELAY_SRC/tests/notify_socket.py" "$1" "$2" "$T/ns.ready" &
  ns=$!
  wait_for 10 test -f "$T/ns.ready" || bad "notify socket $1 did not start"
}
stop_socket() { kill "$ns" 2>/dev/null; wait "$ns" 2>/dev/null; ns=; }
# start_relayd SOCKET USEC [PID]: relayd as systemd starts it; PID
# defaults to relayd's own (the shell's, kept by exec).
start_relayd() {
  NOTIFY_SOCKET=$1 WATCHDOG_USEC=$2 WD_PID=${3:-} sh -c \
    'WATCHDOG_PID=${WD_PID:-$$}; export WATCHDOG_PID; unset WD_PID; exec "$0" -C "$1"' "$BIN/relayd" "$CONF" &
  rd=$!
}
stop_relayd() { kill "$rd" 2>/dev/null; wait "$rd" 2>/dev/null; rd=; }
pets() { grep -c ' WATCHDOG=1$' "$1"; }

# 1. A path socket: READY=1, then regular pets (interval 0.4 s: one every 0.2 s).
L=$T/notify.log; : > "$L"
start_socket "$T/notify" "$L"
start_relayd "$T/notify" 400000
wait_for 20 grep -q ' READY=1$' "$L" && ok "READY=1 received" || bad "no READY=1: $(cat "$L")"
wait_for 20 sh -c "[ \$(grep -c ' WATCHDOG=1\$' '$L') -ge 5 ]" && ok "WATCHDOG=1 keeps coming ($(pets "$L") so far)" \
  || bad "fewer than 5 WATCHDOG=1: $(cat "$L")"
[ "$(head -1 "$L" | cut -d' ' -f2)" = READY=1 ] && ok "READY=1 comes first" || bad "first message: $(head -1 "$L")"
# The variables are relayd's alone: its children do not see them. The
# alert command (a spool_space alert: spool_min_free is set far above any
# disk) writes its whole environment: PATH, nothing else.
wait_for 20 test -s "$T/out/alert.env" && ok "the alert command ran" || bad "no alert command ran: $(cat "$T/relayd.log")"
[ "$(cat "$T/out/alert.env")" = "PATH=/usr/bin:/bin" ] && ok "its environment is PATH=/usr/bin:/bin only (no NOTIFY_SOCKET, no WATCHDOG_*)" \
  || bad "alert command environment: $(cat "$T/out/alert.env")"

# 2. A hang: SIGSTOP. No pet for well over two intervals (0.8 s); this
# waits 2 s. Then SIGCONT: pets resume.
kill -STOP "$rd"
sleep 0.3  # a datagram already in flight lands first
before=$(pets "$L")
sleep 2
after=$(pets "$L")
[ "$after" = "$before" ] && ok "a stopped relayd sends no WATCHDOG=1 for 2 s (5 intervals): systemd would restart it" \
  || bad "WATCHDOG=1 while stopped: $before then $after"
kill -CONT "$rd"
wait_for 20 sh -c "[ \$(grep -c ' WATCHDOG=1\$' '$L') -gt $after ]" && ok "pets resume after SIGCONT" || bad "no pet after SIGCONT"

# 3. SIGTERM: STOPPING=1, exit 0.
kill -TERM "$rd"; wait "$rd"; rc=$?; rd=
[ $rc = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
wait_for 10 grep -q ' STOPPING=1$' "$L" && ok "STOPPING=1 sent" || bad "no STOPPING=1"
stop_socket

# 4. An abstract socket ('@name').
L=$T/abstract.log; : > "$L"
name="@relay-notify-test-$$"
start_socket "$name" "$L"
start_relayd "$name" 400000
wait_for 20 grep -q ' READY=1$' "$L" && ok "abstract socket: READY=1" || bad "abstract socket: no READY=1"
wait_for 20 sh -c "[ \$(grep -c ' WATCHDOG=1\$' '$L') -ge 3 ]" && ok "abstract socket: WATCHDOG=1" || bad "abstract socket: no pets"
stop_relayd; stop_socket

# 5. WATCHDOG_PID of another process: ready, but no pets (not our watchdog).
L=$T/otherpid.log; : > "$L"
start_socket "$T/notify2" "$L"
start_relayd "$T/notify2" 200000 1
wait_for 20 grep -q ' READY=1$' "$L" && ok "WATCHDOG_PID=1: READY=1 still sent" || bad "WATCHDOG_PID=1: no READY"
wait_for 20 grep -q 'delivery by' "$T/relayd.log"
sleep 1  # 10 intervals of 0.1 s: none may come
[ "$(pets "$L")" = 0 ] && ok "WATCHDOG_PID naming another process: no WATCHDOG=1" || bad "pets for another pid: $(cat "$L")"
stop_relayd; stop_socket

# 6. A NOTIFY_SOCKET that is no socket address: one warning, relayd runs.
: > "$T/relayd.log"
start_relayd "vsock:2:999" 400000
wait_for 20 grep -q 'starting' "$T/relayd.log" && ok "bad NOTIFY_SOCKET: relayd runs" || bad "bad NOTIFY_SOCKET: relayd did not start"
contains "$T/relayd.log" "NOTIFY_SOCKET 'vsock:2:999' is not a path or an @abstract socket name" "bad NOTIFY_SOCKET: one warning naming it"
kill -0 "$rd" 2>/dev/null && ok "bad NOTIFY_SOCKET: still running" || bad "bad NOTIFY_SOCKET: relayd ended"
stop_relayd

# 7. The unit.
U=$RELAY_SRC/conf/systemd/relayd.service
grep -q '^Type=notify$' "$U" && ok "relayd.service: Type=notify" || bad "relayd.service: not Type=notify"
grep -q '^WatchdogSec=' "$U" && ok "relayd.service: WatchdogSec= set" || bad "relayd.service: no WatchdogSec="
finish
