# Shared helpers for the end-to-end tests. Source it; it sets:
#   BIN   the built programs (from RELAY_BIN, set by ctest)
#   T     a private temporary directory, removed at exit
#   CONF  a private instance's relay.conf under $T
# and defines check/expect helpers that count failures.
set -u
BIN=${RELAY_BIN:?RELAY_BIN must point at build/bin}
T=$(mktemp -d /tmp/relay-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONF=$T/relay.conf
FAILS=0
PASSES=0

cat > "$CONF" <<CONF
spool_dir = $T/spool
domain = example.com
aliases = $T/aliases
CONF
printf 'root: admin@example.net\npostmaster: root\n' > "$T/aliases"

ok() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

# expect_exit CODE DESCRIPTION -- runs the rest of the arguments, with
# standard input from $T/in if it exists.
expect_exit() {
  want=$1; what=$2; shift 3
  if [ -f "$T/in" ]; then "$@" < "$T/in" > "$T/out" 2> "$T/err"; else "$@" < /dev/null > "$T/out" 2> "$T/err"; fi
  got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, want $want; stderr: $(cat "$T/err")"; fi
}

queue_count() { ls "$T/spool/queue" 2>/dev/null | wc -l; }
tmp_count() { ls "$T/spool/tmp" 2>/dev/null | wc -l; }
last_entry() { ls "$T/spool/queue" | sort | tail -1; }
clear_queue() { rm -f "$T"/spool/queue/* "$T"/spool/tmp/*; }

# contains FILE STRING DESCRIPTION
contains() {
  if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $1"; fi
}
lacks() {
  if grep -qF -- "$2" "$1"; then bad "$3: '$2' found in $1"; else ok "$3"; fi
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  # scripts/test prints these lines as its closing summary.
  [ -n "${RELAY_SUMMARY:-}" ] && echo "$(basename "$0" .sh): $PASSES checks passed, $FAILS failed" >> "$RELAY_SUMMARY"
  [ "$FAILS" = 0 ]
  exit $?
}

# free_port: prints a loopback TCP port nothing listens on now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# free_low_port: prints a loopback TCP port below 1024 nothing listens on
# now (root only). relay sends AUTH without TLS only to such a port, which
# no ordinary user can bind first (relay.conf(5), auth_without_tls).
free_low_port() {
  /usr/bin/python3 -c '
import socket
for p in range(1023, 600, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break'
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# a bound on how long a test may hang, not a performance assertion.
wait_for() {
  limit=$(( $1 * 10 )); shift
  n=0
  until "$@" >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -ge $limit ] && return 1
    sleep 0.1
  done
}

# relay_private_spool: makes the private spool's directories, owned by
# nobody when the test runs as root (relayd never runs as root; started as
# root it becomes the spool's owner).
relay_private_spool() {
  mkdir -p "$T/spool/tmp" "$T/spool/queue" "$T/spool/state" "$T/spool/failed" "$T/spool/corrupt" "$T/spool/hold"
  chmod 700 "$T/spool" "$T/spool"/*
  if [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"
    chown -R 65534 "$T/spool"
    chmod 644 "$T/aliases" "$CONF"
  fi
}

# fault_smarthost LOG SCRIPT: starts tests/fault_server.py on a free
# loopback port, answering as SCRIPT (JSON) says and logging to LOG, and
# makes it the instance's only smarthost, without TLS (on port $FS_PORT
# when that is set, for AUTH without TLS: free_low_port). A server started
# before by this helper is stopped first; fs is the new one's pid (the
# caller's trap kills it). Fails, with a FAIL line, if it does not start.
fault_smarthost() {
  if [ -n "${fs:-}" ]; then kill "$fs" 2>/dev/null; wait "$fs" 2>/dev/null; fi
  rm -f "$T/fs.ready"
  /usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port "${FS_PORT:-0}" --ready-file "$T/fs.ready" --log "$1" \
    --max-seconds 120 --script-inline "$2" &
  fs=$!
  wait_for 10 test -s "$T/fs.ready" || { bad "fault server ($1) did not start"; return 1; }
  sed -i '/^smarthost/d' "$CONF"
  echo "smarthost = 127.0.0.1:$(cat "$T/fs.ready") none" >> "$CONF"
}
