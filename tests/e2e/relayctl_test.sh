#!/bin/sh
# relayctl's queue commands on a private instance: queue and status (text
# and JSON, and the non-zero exit for stuck mail), show, hold and release,
# retry, delete, bounce, flush.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing"; exit 77; }
SINKPORT=$(free_port)
cat >> "$CONF" <<CONF
smarthost = 127.0.0.1:$SINKPORT none
log = $T/relayd.log
retry_min = 1h
retry_max = 2h
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
RC="$BIN/relayctl -C $CONF"
send() { printf 'Subject: %s\nX-Token: %s\n\nbody\n' "$1" "$1" | "$BIN/sendmail" -C "$CONF" -i -f sender@x.test "$2"; }
send one a@x.test; send two b@x.test; send three c@x.test
ids=$(ls "$T/spool/queue" | sort)
one=$(echo "$ids" | sed -n 1p); two=$(echo "$ids" | sed -n 2p); three=$(echo "$ids" | sed -n 3p)

$RC queue > "$T/q.txt" && contains "$T/q.txt" "in 3 Requests." "queue lists three"
$RC queue --json > "$T/q.json"
/usr/bin/python3 -c "import json,sys; d=json.load(open('$T/q.json')); assert len(d)==3 and d[0]['recipients'][0]['address']=='a@x.test'" &&
  ok "queue --json parses" || bad "queue --json: $(cat "$T/q.json")"
$RC status --json > "$T/s.json"; rc=$?
[ $rc = 0 ] && ok "status: exit 0 when nothing is stuck" || bad "status exit $rc"
/usr/bin/python3 -c "import json; d=json.load(open('$T/s.json')); assert d['queued']==3 and d['stuck'] is False" &&
  ok "status --json: three queued" || bad "status --json: $(cat "$T/s.json")"
sleep 1
$RC status --max-age 0s > "$T/s.txt"; rc=$?
[ $rc = 1 ] && ok "status: exit 1 when mail is older than --max-age" || bad "status --max-age 0s: exit $rc"
contains "$T/s.txt" "STUCK" "status says stuck"

# A user who cannot read the spool is told so, with EX_NOPERM (77) as
# mailq gives, never "0 queued" and exit 0: a monitoring check run
# unprivileged would miss stuck mail. queue agrees (it said 75).
if [ "$(id -u)" = 0 ]; then
  other="setpriv --reuid=64999 --regid=64999 --clear-groups"
  for cmd in "status --max-age 1s" "status --json" "queue" "queue --json"; do
    # shellcheck disable=SC2086
    $other $RC $cmd > "$T/np.out" 2> "$T/np.err"; rc=$?
    [ $rc = 77 ] && ok "$cmd by a user who cannot read the spool: exit 77" || bad "$cmd unprivileged: exit $rc, $(cat "$T/np.out")"
    [ -s "$T/np.out" ] && bad "$cmd unprivileged printed: $(cat "$T/np.out")" || ok "$cmd unprivileged: no figures printed"
    contains "$T/np.err" "relayctl: cannot read the queue in $T/spool: only root and the relay user may see it" "$cmd unprivileged: says it cannot see"
    [ "$(wc -l < "$T/np.err")" = 1 ] && ok "$cmd unprivileged: one line" || bad "$cmd unprivileged: $(cat "$T/np.err")"
  done
  $other "$BIN/mailq" -C "$CONF" > /dev/null 2>&1; rc=$?
  [ $rc = 77 ] && ok "mailq by the same user: 77 too" || bad "mailq unprivileged: exit $rc"
else
  ok "SKIP unprivileged status: not root"
fi

$RC show "$one" > "$T/show.txt" && contains "$T/show.txt" "recipient: <a@x.test> pending" "show: recipient and state"
contains "$T/show.txt" "Subject: one" "show: the header"
$RC show ../../etc/passwd > /dev/null 2>&1; [ $? = 64 ] && ok "show refuses a path as ID" || bad "show accepted a path"

$RC hold "$one" > /dev/null && [ -f "$T/spool/hold/$one" ] && ok "hold moves the entry to hold/" || bad "hold"
"$BIN/mailq" -C "$CONF" | grep -q "^$one!" && ok "mailq marks it held" || bad "mailq does not mark held"
# A double bounce kept in failed/ (placed here by hand): marked apart
# from held mail, in mailq and in queue --json.
cp -p "$T/spool/queue/$two" "$T/spool/failed/$two"
"$BIN/mailq" -C "$CONF" > "$T/mq.txt"
grep -q "^$two%" "$T/mq.txt" && ok "mailq marks the failed entry %" || bad "mailq failed mark: $(cat "$T/mq.txt")"
grep -q "^$one! " "$T/mq.txt" && ok "mailq still marks the held one !" || bad "mailq held mark: $(cat "$T/mq.txt")"
$RC queue --json > "$T/q2.json"
/usr/bin/python3 -c "
import json; d = {e['id'] + e['state'] for e in json.load(open('$T/q2.json'))}
assert '${one}held' in d and '${two}failed' in d and '${two}queued' in d, d" &&
  ok "queue --json: held and failed told apart" || bad "queue --json states: $(cat "$T/q2.json")"
rm -f "$T/spool/failed/$two"
$RC delete "$two" > /dev/null && [ ! -e "$T/spool/queue/$two" ] && ok "delete removes the entry" || bad "delete"
$RC bounce "$three" > "$T/b.txt"
contains "$T/b.txt" "1 recipient bounced; entry removed" "bounce: returned to the sender"
[ "$(ls "$T/spool/queue" | grep -c .)" = 1 ] && ok "bounce: one notification queued" || bad "bounce: queue $(ls "$T/spool/queue")"

# Now deliver: the held one stays, the bounce goes; release then delivers it.
/usr/bin/python3 "$RELAY_SRC/tests/sink.py" --port "$SINKPORT" --out "$T/sink.out" --max-seconds 120 > "$T/ready" &
sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 grep -q ready "$T/ready"
"$BIN/relayd" -C "$CONF" --once
contains "$T/sink.out" "sender@x.test" "the bounce reached the sender"
lacks "$T/sink.out" "one a@x.test" "the held message was not delivered"
$RC release "$one" > /dev/null && [ -f "$T/spool/queue/$one" ] && ok "release moves it back" || bad "release"
"$BIN/relayd" -C "$CONF" --once
contains "$T/sink.out" "one a@x.test" "released message delivered"
$RC status > "$T/s2.txt"
grep -q "last sent:    [0-9]* s ago" "$T/s2.txt" && ok "status shows the last delivery" || bad "status: $(cat "$T/s2.txt")"

# retry: a deferred message due now again.
kill $sink; wait $sink 2>/dev/null
send four d@x.test; four=$(ls "$T/spool/queue" | sort | tail -1)
"$BIN/relayd" -C "$CONF" --once
grep -q "^next [1-9]" "$T/spool/state/$four" && ok "deferred with a next attempt" || bad "no state for the deferral"
$RC retry "$four" > /dev/null && grep -q "^next 0$" "$T/spool/state/$four" && ok "retry makes it due now" || bad "retry"
$RC flush > /dev/null && [ -e "$T/spool/queue/.flush" ] && ok "flush leaves the trigger for relayd" || bad "flush"
# relayctl test brings the smarthost up with the delivery's code
# (deliver/smarthost_client): the same checks and the same timeouts.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
chmod 644 "$T/key.pem" "$T/cert.pem"
# probe NAME TLS SCRIPT [relay.conf lines]: relayctl test against
# tests/fault_server.py, output in $T/rt.out, exit code in $rc.
probe() {
  tlsopt=""; [ "$2" = starttls ] && tlsopt="--tls-cert $T/cert.pem --tls-key $T/key.pem"
  rm -f "$T/fs.ready"
  # shellcheck disable=SC2086
  /usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/fs.ready" --max-seconds 60 \
    $tlsopt --script-inline "$3" > /dev/null 2>&1 &
  fsp=$!
  wait_for 10 test -s "$T/fs.ready"
  sed '/^smarthost/d; /^timeout_/d; /^tls_ca_file/d' "$CONF" > "$T/t.conf"
  printf 'smarthost = localhost:%s %s\ntls_ca_file = %s\n%s\n' "$(cat "$T/fs.ready")" "$2" "$T/cert.pem" "${4:-}" >> "$T/t.conf"
  chmod 644 "$T/t.conf"
  timeout 120 "$BIN/relayctl" -C "$T/t.conf" test -f s@x.test r@x.test > "$T/rt.out" 2>&1; rc=$?
  kill $fsp 2>/dev/null; wait $fsp 2>/dev/null
}
probe "starttls" starttls '{}'
[ $rc = 0 ] && ok "relayctl test over STARTTLS: exit 0" || bad "relayctl test over STARTTLS: exit $rc: $(cat "$T/rt.out")"
contains "$T/rt.out" "starttls  TLSv1." "relayctl test: the STARTTLS step is shown"
# Plaintext after the 220 to STARTTLS (CVE-2011-0411): refused with the
# delivery's words.
probe "injection" starttls '{"starttls": {"reply": "220 go ahead", "inject_after_220": "250 injected\r\n"}}'
[ $rc = 69 ] && ok "relayctl test, STARTTLS injection: exit 69" || bad "relayctl test, injection: exit $rc: $(cat "$T/rt.out")"
contains "$T/rt.out" "FAILED: server sent data after its STARTTLS reply (possible command injection)" \
  "relayctl test, STARTTLS injection: refused as a delivery refuses it"
# The greeting is awaited timeout_greeting, as a delivery awaits it, not
# timeout_command: a server that greets after 8 s fails a 2 s
# timeout_greeting even with a long timeout_command.
probe "slow greeting" none '{"greeting": {"reply": "220 late", "delay": 8}}' "timeout_greeting = 2s
timeout_command = 60s"
[ $rc = 69 ] && ok "relayctl test, slow greeting: exit 69" || bad "relayctl test, slow greeting: exit $rc: $(cat "$T/rt.out")"
grep "FAILED" "$T/rt.out" | grep -q "timeout" && ok "relayctl test, slow greeting: a timeout (timeout_greeting)" ||
  bad "relayctl test, slow greeting: $(cat "$T/rt.out")"
# A -C naming no file is a mistake, not the defaults (as sendmail -C):
# exit 78 and one line, for relayctl and relayd alike.
for prog in "relayctl status" "relayctl check" "relayd --once"; do
  $BIN/$prog -C "$T/no-such.conf" > "$T/nc.out" 2>&1; rc=$?
  [ $rc = 78 ] && [ "$(wc -l < "$T/nc.out")" = 1 ] && grep -q "no such configuration file" "$T/nc.out" \
    && ok "$prog -C a missing file: exit 78, one line" || bad "$prog -C a missing file: exit $rc: $(cat "$T/nc.out")"
done
finish
