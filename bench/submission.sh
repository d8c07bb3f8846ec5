#!/bin/sh
# bench/submission.sh: SMTP submission over STARTTLS + AUTH PLAIN, relay's
# listener beyond loopback (relayd, which starts relay-smtpd per client)
# side by side with Postfix's smtpd (Cyrus SASL, sasldb, smtpd_tls_auth_only),
# in one run, in a private network namespace (nothing leaves it). The same
# client drives both: tests/remote_client.py load, C clients each sending M
# messages in one session, certificate verification off on both sides.
# Reports messages per second (queued: the 250 after the dot) and the ratio,
# and the resident memory of the per-client server process during a session.
#
#   bench/submission.sh [BUILD_DIR]      as root; BUILD_DIR defaults to
#                                        build-bench (built Release if missing)
#   SUB_CLIENTS=4 SUB_MESSAGES=100 SUB_ROUNDS=3 bench/submission.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BENCH_IN_NETNS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "bench/submission.sh: run as root (network namespace, Postfix)" >&2; exit 1; }
  BENCH_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
BUILD=${1:-$ROOT/build-bench}
C=${SUB_CLIENTS:-4}
M=${SUB_MESSAGES:-100}
ROUNDS=${SUB_ROUNDS:-3}
PY=/usr/bin/python3
CLIENT=$ROOT/tests/remote_client.py
log() { echo "submission: $*" >&2; }

if [ ! -x "$BUILD/bin/relay-smtpd" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRELAY_TESTS=OFF > /dev/null &&
    cmake --build "$BUILD" -j2 > /dev/null || { log "build failed"; exit 1; }
fi
ip link set lo up
ip addr add 192.0.2.1/32 dev lo
ip addr add 192.0.2.2/32 dev lo
W=$(mktemp -d /tmp/relay-submission.XXXXXX)
chmod 755 "$W"
# shellcheck source=../tests/e2e/postfix_harness.sh
. "$ROOT/tests/e2e/postfix_harness.sh"
cleanup() {
  [ -n "${RELAYD:-}" ] && kill "$RELAYD" 2> /dev/null
  [ -n "${SINK:-}" ] && kill "$SINK" 2> /dev/null
  pf_stop_all
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
pf_install || { log "cannot install postfix"; exit 1; }
pf_make_ca "$W/ca" || exit 1

# Postfix: TLS, Cyrus SASL from sasldb, AUTH required to relay.
PPORT=$(pf_free_port)
pf_start "$W/pf" "$PPORT" "sasl=alice:s3cret" authrequired maxtime=900 || { log "postfix did not start"; exit 1; }

# relay: the same certificate, a users file, relaying to smtp-sink.
SPORT=$(pf_free_port)
smtp-sink -c "127.0.0.1:$SPORT" 256 > /dev/null 2>&1 &
SINK=$!
RPORT=$(pf_free_port)
R=$W/relay
mkdir -p "$R/spool/tmp" "$R/spool/queue" "$R/spool/state" "$R/spool/failed" "$R/spool/corrupt" "$R/spool/hold"
chmod 700 "$R/spool" "$R/spool"/*
cp "$W/ca/server.pem" "$W/ca/server.key" "$R/"
printf 'alice:%s\n' "$(openssl passwd -6 s3cret)" > "$R/users"
printf 'root: postmaster@example.net\n' > "$R/aliases"
cat > "$R/relay.conf" <<CONF
spool_dir = $R/spool
domain = example.com
aliases = $R/aliases
smarthost = 127.0.0.1:$SPORT none
listen = 192.0.2.1:$RPORT
listen_allow = 192.0.2.2/32
listen_tls_cert_file = $R/server.pem
listen_tls_key_file = $R/server.key
listen_auth_users = $R/users
listen_max_connections = 50
log = $R/relayd.log
CONF
chmod 755 "$R"
chmod 644 "$R/relay.conf" "$R/aliases" "$R/server.pem"
chmod 600 "$R/server.key" "$R/users"
: > "$R/relayd.log"
chown -R nobody "$R/spool" "$R/server.key" "$R/users" "$R/relayd.log"
"$BUILD/bin/relayd" -C "$R/relay.conf" &
RELAYD=$!
i=0
until $PY -c "import socket; socket.create_connection(('192.0.2.1',$RPORT),1)" 2> /dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { log "relayd did not listen"; exit 1; }; sleep 0.1
done

# RSS of the process serving one authenticated session (KiB).
session_rss() { # SERVER PORT SOURCE PROCESS-NAME
  $PY "$CLIENT" hold "$1" "$2" "$3" - alice s3cret > "$W/hold.out" 2>&1 &
  h=$!
  i=0
  until grep -q ready "$W/hold.out"; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
  ps -o rss= -C "$4" | sort -n | tail -1 | tr -d ' '
  wait $h
}
RSS_RELAY=$(session_rss 192.0.2.1 "$RPORT" 192.0.2.2 relay-smtpd)
RSS_PF=$(session_rss 127.0.0.1 "$PPORT" 127.0.0.1 smtpd)

rate() { # SERVER PORT SOURCE
  $PY "$CLIENT" load "$1" "$2" "$3" - "$C" "$M" alice s3cret > "$W/load.out" 2>&1
  grep -q '^error:' "$W/load.out" && { log "$(cat "$W/load.out")"; echo 0; return; }
  sed -n 's/.*, \([0-9]*\) msg\/s queued/\1/p' "$W/load.out"
}
RELAY_RATES="" PF_RATES=""
n=1
while [ $n -le "$ROUNDS" ]; do
  RELAY_RATES="$RELAY_RATES $(rate 192.0.2.1 "$RPORT" 192.0.2.2)"
  PF_RATES="$PF_RATES $(rate 127.0.0.1 "$PPORT" 127.0.0.1)"
  n=$((n + 1))
done
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
MR=$(median "$RELAY_RATES")
MP=$(median "$PF_RATES")
echo "Submission over STARTTLS + AUTH PLAIN, $C clients x $M messages, $ROUNDS rounds (median msg/s queued):"
echo "  relay (relay-smtpd): $MR msg/s   rounds:$RELAY_RATES"
echo "  Postfix smtpd:       $MP msg/s   rounds:$PF_RATES"
awk -v r="$MR" -v p="$MP" 'BEGIN { if (p > 0) printf "  ratio relay/Postfix: %.2f\n", r / p }'
echo "RSS of the process serving one authenticated session: relay-smtpd ${RSS_RELAY} KiB, Postfix smtpd ${RSS_PF} KiB"
