#!/bin/sh
# relayd against a hostile smarthost (tests/fault_server.py): every stage
# failing with 4xx and 5xx, refused and reset connections, drops after the
# final dot, stalls, STARTTLS stripped or followed by injected bytes, AUTH
# only before TLS, 535, malformed, overlong, endless, NUL and mixed-code
# replies, SIZE too small, a bounce that fails too, and XOAUTH2 and
# OAUTHBEARER with a 4 KB token. Each scenario asserts the outcome:
# deferred (kept), bounced, or delivered; and where it matters that no MAIL
# or AUTH was sent.
. "$(dirname "$0")/lib.sh"
FS="/usr/bin/python3 $RELAY_SRC/tests/fault_server.py"

# A certificate for "localhost" that relay trusts through tls_ca_file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
  { echo "SKIP: openssl cannot make a test certificate"; exit 77; }
chmod 644 "$T/key.pem" "$T/cert.pem"
printf 'postmaster: pm@x.test\n' > "$T/aliases"
cat >> "$CONF" <<CONF
log = $T/relayd.log
tls_ca_file = $T/cert.pem
timeout_greeting = 2s
timeout_command = 2s
timeout_data_init = 2s
timeout_data_done = 2s
timeout_data_block = 2s
retry_min = 1h
retry_max = 2h
CONF
relay_private_spool
printf 'tok-%04d' 0 > /dev/null
head -c 3000 /dev/zero | tr '\0' 'T' > "$T/token"   # a 3000-byte token: 4 KB in base64
printf '#!/bin/sh\ncat %s\n' "$T/token" > "$T/token.sh"; chmod 755 "$T/token.sh"; chmod 644 "$T/token"

fs_pid=
cleanup_fs() { [ -n "$fs_pid" ] && kill "$fs_pid" 2>/dev/null; wait "$fs_pid" 2>/dev/null; fs_pid=; }
trap 'cleanup_fs; rm -rf "$T"' EXIT

# scenario NAME TLS(none|starttls) SCRIPT-JSON [extra relay.conf lines]
# Starts the fault server, queues one message to a@x.test (plus any
# recipients in $RCPTS), runs relayd --once, and leaves the fault server's
# log in $T/fs.log and relayd's in $T/relayd.log for the checks.
scenario() {
  name=$1; tls=$2; script=$3; extra=${4:-}
  cleanup_fs
  rm -f "$T"/spool/queue/* "$T"/spool/state/* "$T"/spool/failed/* "$T/fs.log" "$T/ready"
  : > "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
  tlsopt=""
  [ "$tls" = starttls ] && tlsopt="--tls-cert $T/cert.pem --tls-key $T/key.pem"
  # shellcheck disable=SC2086
  $FS --port 0 --ready-file "$T/ready" --log "$T/fs.log" --max-seconds 60 $tlsopt --script-inline "$script" &
  fs_pid=$!
  wait_for 10 test -s "$T/ready" || { bad "$name: fault server did not start"; return; }
  port=$(cat "$T/ready")
  sed '/^smarthost/d; /^auth_/d; /^max_connections/d' "$CONF" > "$T/s.conf"
  echo "smarthost = localhost:$port $tls" >> "$T/s.conf"
  [ -n "$extra" ] && printf '%s\n' "$extra" >> "$T/s.conf"
  chmod 644 "$T/s.conf"
  printf 'Subject: %s\n\nbody of %s\n' "$name" "$name" |
    "$BIN/sendmail" -C "$T/s.conf" -i -f sender@x.test a@x.test ${RCPTS:-}
  "$BIN/relayd" -C "$T/s.conf" --once 2>> "$T/relayd.err"
  echo "--- $name"
}
queued() { ls "$T/spool/queue" | wc -l; }
mails() { n=$(grep -c '"verb": "MAIL"' "$T/fs.log" 2>/dev/null); echo "${n:-0}"; }
kept() { [ "$(queued)" -ge 1 ] && ok "$1: message kept" || bad "$1: message not kept"; }
deferred() { kept "$1"; contains "$T/relayd.log" "status=deferred" "$1: deferred"; lacks "$T/relayd.log" "status=bounced" "$1: not bounced"; }
no_mail() { [ "$(mails)" = 0 ] && ok "$1: no MAIL sent" || bad "$1: MAIL was sent"; }

# Session stages: a 4xx or 5xx before MAIL defers, never bounces.
scenario "greeting 421" none '{"greeting": "421 4.3.2 busy"}'; deferred "greeting 421"; no_mail "greeting 421"
scenario "greeting 554" none '{"greeting": "554 5.7.1 go away"}'; deferred "greeting 554"; no_mail "greeting 554"
scenario "ehlo 4xx" none '{"ehlo": "421 4.3.0 later"}'; deferred "ehlo 4xx"
scenario "ehlo 5xx falls back to HELO" none '{"ehlo": "502 5.5.1 no ehlo"}'
contains "$T/fs.log" '"verb": "HELO"' "HELO after a 5xx to EHLO"; [ "$(queued)" = 0 ] && ok "delivered after HELO" || bad "not delivered after HELO"

# Transaction stages.
scenario "mail 4xx" none '{"mail": "451 4.3.0 later"}'; deferred "mail 4xx"
scenario "mail 5xx" none '{"mail": "553 5.7.1 sender refused"}'
contains "$T/relayd.log" "status=bounced" "mail 5xx: bounced"; contains "$T/relayd.log" "sender non-delivery notification" "mail 5xx: bounce queued"
RCPTS="b@x.test c@x.test" scenario "5xx for one of three" none '{"rcpt": {"addresses": {"b@x.test": "550 5.1.1 no such user"}}}'
contains "$T/relayd.log" "to=<b@x.test>, relay=localhost[127.0.0.1]:$port, delay=" "one of three: b@ logged"
contains "$T/relayd.log" "dsn=5.1.1, status=bounced" "one of three: b@ bounced"
[ "$(grep -c 'status=sent' "$T/relayd.log")" -ge 2 ] && ok "one of three: two delivered" || bad "one of three: not two delivered"
scenario "rcpt 4xx" none '{"rcpt": "450 4.2.0 mailbox busy"}'; deferred "rcpt 4xx"
scenario "data 4xx" none '{"data": "451 4.3.0 later"}'; deferred "data 4xx"
scenario "data 5xx" none '{"data": "554 5.6.0 no"}'; contains "$T/relayd.log" "status=bounced" "data 5xx: bounced"
scenario "dot 4xx" none '{"end_of_data": "452 4.3.1 full"}'; deferred "dot 4xx"
scenario "dot 5xx" none '{"end_of_data": "552 5.3.4 too big"}'; contains "$T/relayd.log" "status=bounced" "dot 5xx: bounced"

# Connections that break.
sed '/^smarthost/d' "$CONF" > "$T/r.conf"; echo "smarthost = localhost:$(free_port) none" >> "$T/r.conf"; chmod 644 "$T/r.conf"
rm -f "$T"/spool/queue/*; : > "$T/relayd.log"
printf 'Subject: refused\n\nb\n' | "$BIN/sendmail" -C "$T/r.conf" -i a@x.test; "$BIN/relayd" -C "$T/r.conf" --once
deferred "connection refused"; contains "$T/relayd.log" "Connection refused" "connection refused: reason logged"
scenario "reset mid-DATA" none '{"data": {"reply": "354 go", "action": "reset"}}'; deferred "reset mid-DATA"
lacks "$T/relayd.log" "possible duplicate" "reset mid-DATA: no duplicate warning"
scenario "drop after the final dot" none '{"end_of_data": {"action": "drop"}}'; deferred "drop after dot"
contains "$T/relayd.log" "possible duplicate" "drop after dot: possible duplicate logged"

# Stalls: a per-stage timeout, then a deferral.
for st in greeting ehlo mail rcpt data end_of_data; do
  scenario "stall at $st" none "{\"$st\": {\"action\": \"stall\", \"seconds\": 30}}"
  deferred "stall at $st"; contains "$T/relayd.log" "timeout" "stall at $st: timeout logged"
done
# A stalled connection does not hold up the others.
cleanup_fs; rm -f "$T"/spool/queue/* "$T"/spool/state/* "$T/fs.log" "$T/ready"; : > "$T/relayd.log"
$FS --port 0 --ready-file "$T/ready" --log "$T/fs.log" --max-seconds 60 \
  --script-inline '{"connections": {"1": {"mail": {"action": "stall", "seconds": 30}}}}' &
fs_pid=$!; wait_for 10 test -s "$T/ready"; port=$(cat "$T/ready")
sed '/^smarthost/d' "$CONF" > "$T/s.conf"; printf 'smarthost = localhost:%s none\nmax_connections = 2\n' "$port" >> "$T/s.conf"; chmod 644 "$T/s.conf"
for i in 1 2 3; do printf 'Subject: flow %s\n\nb\n' $i | "$BIN/sendmail" -C "$T/s.conf" -i a$i@x.test; done
"$BIN/relayd" -C "$T/s.conf" --once
[ "$(grep -c 'status=sent' "$T/relayd.log")" = 2 ] && ok "stall: the other messages flowed" || bad "stall held up the queue: $(grep -c 'status=sent' "$T/relayd.log") sent"
[ "$(queued)" = 1 ] && ok "stall: the stalled message is kept" || bad "stall: $(queued) queued"

# TLS: STARTTLS stripped, and bytes injected after the 220.
scenario "STARTTLS not offered" starttls '{"ehlo": {"capabilities": ["PIPELINING", "AUTH PLAIN"]}}'
deferred "STARTTLS not offered"; no_mail "STARTTLS not offered"; lacks "$T/fs.log" '"verb": "AUTH"' "STARTTLS not offered: no AUTH"
scenario "bytes after the STARTTLS 220" starttls '{"starttls": {"reply": "220 go ahead", "inject_after_220": "250-injected\r\n250 ok\r\n"}}'
deferred "STARTTLS injection"; no_mail "STARTTLS injection"; contains "$T/relayd.log" "after its STARTTLS reply" "STARTTLS injection: reason logged"
scenario "verified STARTTLS" starttls '{}'
[ "$(queued)" = 0 ] && ok "STARTTLS with a trusted certificate: delivered" || bad "STARTTLS delivery failed: $(tail -2 "$T/relayd.log")"
contains "$T/fs.log" '"sni": "localhost"' "SNI sent"

# AUTH.
printf 'secret-password\n' > "$T/pw"; chmod 600 "$T/pw"; [ "$(id -u)" = 0 ] && chown 65534 "$T/pw"
AUTHCONF="auth_user = me@x.test
auth_password_file = $T/pw
auth_mechanisms = PLAIN"
scenario "AUTH only before TLS" starttls '{"ehlo": {"capabilities": ["STARTTLS", "AUTH PLAIN"]}, "ehlo_tls": {"capabilities": ["PIPELINING"]}}' "$AUTHCONF"
deferred "AUTH only before TLS"; lacks "$T/fs.log" '"event": "auth"' "AUTH only before TLS: no credentials sent"
scenario "535 on AUTH" starttls '{"ehlo": {"capabilities": ["STARTTLS", "AUTH PLAIN"]}, "auth": "535 5.7.8 bad credentials"}' "$AUTHCONF"
deferred "535"; contains "$T/relayd.log" "authentication failed" "535: clear log line"
grep -qx "host localhost:$port auth_failing 1" "$T/spool/state/.health" && ok "535: state/.health says AUTH is failing" ||
  bad "535: state/.health: $(grep "localhost:$port" "$T/spool/state/.health")"
scenario "AUTH PLAIN over TLS" starttls '{"ehlo": {"capabilities": ["STARTTLS", "AUTH PLAIN"]}}' "$AUTHCONF"
grep -qx "host localhost:$port auth_failing 0" "$T/spool/state/.health" && ok "AUTH accepted: state/.health says so" ||
  bad "AUTH accepted: state/.health: $(grep "localhost:$port" "$T/spool/state/.health")"
[ "$(queued)" = 0 ] && ok "AUTH PLAIN: delivered" || bad "AUTH PLAIN: not delivered"
contains "$T/fs.log" '"mechanism": "PLAIN", "tls": true' "AUTH PLAIN only under TLS"
for mech in XOAUTH2 OAUTHBEARER; do
  scenario "$mech 4 KB token" starttls "{\"ehlo\": {\"capabilities\": [\"STARTTLS\", \"AUTH $mech PLAIN\"]}}" "auth_user = me@x.test
auth_password_command = $T/token.sh
auth_mechanisms = $mech"
  [ "$(queued)" = 0 ] && ok "$mech: delivered" || bad "$mech: not delivered: $(tail -3 "$T/relayd.log")"
  # The fault server logs the decoded response; \u0001 separates fields.
  if grep -q "auth=Bearer $(cat "$T/token")\\\\u0001" "$T/fs.log"; then ok "$mech: the whole 3000-byte token arrived"; else bad "$mech: token not received whole"; fi
  lacks "$T/relayd.log" "TTTTTTTTTT" "$mech: the token is not in the log"
done

# Regressions from review. A worker closing its connection (slow QUIT)
# while another entry becomes due must not hang the run.
sed -i 's/^retry_min = .*/retry_min = 1s/; s/^retry_max = .*/retry_max = 1s/' "$CONF"
RCPTS="later@x.test" scenario "slow QUIT with a due retry" none '{"rcpt": {"addresses": {"later@x.test": "450 4.2.0 later"}}, "quit": {"reply": "221 bye", "delay": 4}}' "max_connections = 1"
timeout 60 "$BIN/relayd" -C "$T/s.conf" --once; rc=$?
[ $rc != 124 ] && ok "slow QUIT: the run ends (no hang)" || bad "slow QUIT: relay-deliver hung"
sed -i 's/^retry_min = .*/retry_min = 1h/; s/^retry_max = .*/retry_max = 2h/' "$CONF"
# Control characters in an AUTH keyword never reach the log raw.
scenario "escape in AUTH" starttls '{"ehlo": {"capabilities": ["STARTTLS", "AUTH \u001b]2;owned\u0007"]}}' "$AUTHCONF"
deferred "escape in AUTH"
# A password command that hangs is given up on (timeout_command).
# It would hang for an hour: that the scenario ends at all, and that the
# command is gone afterwards, show it was given up on (no clock is read).
mkdir -p "$T/hang"; chmod 1777 "$T/hang"   # the command runs as the relay user
printf '#!/bin/sh\necho $$ > "%s/hang/pid"\nexec sleep 3600\n' "$T" > "$T/hang.sh"; chmod 755 "$T/hang.sh"
scenario "hanging password command" starttls '{"ehlo": {"capabilities": ["STARTTLS", "AUTH PLAIN"]}}' "auth_user = me@x.test
auth_password_command = $T/hang.sh"
hang=$(cat "$T/hang/pid" 2>/dev/null)
if [ -z "$hang" ]; then bad "hanging password command: it never ran"
elif wait_for 10 sh -c "! kill -0 $hang"; then ok "hanging password command: not waited for, and killed"
else bad "hanging password command still running after the run"; kill "$hang" 2>/dev/null; fi
contains "$T/relayd.log" "auth_password_command timed out" "hanging password command: reason logged"
deferred "hanging password command"

# Malformed, overlong, endless, NUL and mixed-code replies: protocol
# errors, deferred, and nothing raw in the log.
scenario "garbage greeting" none '{"greeting": {"action": "garbage", "bytes": "hello\u0000\u00ff\r\n"}}'; deferred "garbage greeting"
scenario "reply over 512 bytes" none '{"ehlo": {"action": "long_line", "length": 5000}}'; deferred "long reply"
scenario "endless multi-line reply" none '{"ehlo": {"action": "endless"}}'; deferred "endless reply"
scenario "NUL in a reply" none '{"mail": {"action": "nul"}}'; deferred "NUL reply"
scenario "mixed codes" none '{"mail": ["250-ok", "451 4.3.0 mixed"]}'; deferred "mixed codes"
if tr -d '\n\t -~' < "$T/relayd.log" | grep -q .; then bad "unprintable bytes in relayd's log"; else ok "relayd's log is printable"; fi

# SIZE smaller than the message: bounced before MAIL.
scenario "SIZE too small" none '{"ehlo": {"capabilities": ["PIPELINING", "SIZE 100"]}}'
contains "$T/relayd.log" "dsn=5.3.4, status=bounced" "SIZE: bounced with 5.3.4"
# The bounce (over 100 bytes too) is refused the same way: no MAIL at all.
[ "$(mails)" = 0 ] && ok "SIZE: nothing sent" || bad "SIZE: MAIL count $(mails)"

# 8-bit content for a server without 8BITMIME: converted to
# quoted-printable (single-part text), never sent as 8-bit.
cleanup_fs; rm -f "$T"/spool/queue/* "$T"/spool/state/* "$T/fs.log" "$T/ready"; : > "$T/relayd.log"
$FS --port 0 --ready-file "$T/ready" --log "$T/fs.log" --max-seconds 60 \
  --script-inline '{"ehlo": {"capabilities": ["PIPELINING", "SIZE 100000"]}}' &
fs_pid=$!; wait_for 10 test -s "$T/ready"; port=$(cat "$T/ready")
sed '/^smarthost/d' "$CONF" > "$T/s.conf"; echo "smarthost = localhost:$port none" >> "$T/s.conf"; chmod 644 "$T/s.conf"
printf 'Subject: accents\nContent-Type: text/plain; charset=UTF-8\n\ncaf\303\251 cr\303\250me\n' | "$BIN/sendmail" -C "$T/s.conf" -i a@x.test
"$BIN/relayd" -C "$T/s.conf" --once
contains "$T/fs.log" 'Content-Transfer-Encoding: quoted-printable' "8-bit downgrade: QP declared"
contains "$T/fs.log" 'caf=C3=A9 cr=C3=A8me' "8-bit downgrade: body encoded"
lacks "$T/fs.log" 'BODY=8BITMIME' "8-bit downgrade: no BODY=8BITMIME to a 7-bit server"
[ "$(queued)" = 0 ] && ok "8-bit downgrade: delivered" || bad "8-bit downgrade: not delivered"

# The converted message is larger than the queued one: SIZE= declares the
# converted size, to a server that holds the client to SIZE (552 after the
# dot for more data than declared, as strict MTAs do).
# downgrade_size LIMIT: queues an 8-bit message of about 2 KB (about 6 KB
# once converted) and runs relayd against a 7-bit server with SIZE LIMIT.
downgrade_size() {
  cleanup_fs; rm -f "$T"/spool/queue/* "$T"/spool/state/* "$T/fs.log" "$T/ready"; : > "$T/relayd.log"
  $FS --port 0 --ready-file "$T/ready" --log "$T/fs.log" --max-seconds 60 \
    --script-inline '{"enforce_size": true, "ehlo": {"capabilities": ["PIPELINING", "SIZE '"$1"'"]}}' &
  fs_pid=$!; wait_for 10 test -s "$T/ready"; port=$(cat "$T/ready")
  sed '/^smarthost/d' "$CONF" > "$T/s.conf"; echo "smarthost = localhost:$port none" >> "$T/s.conf"; chmod 644 "$T/s.conf"
  { printf 'Subject: grows\nContent-Type: text/plain; charset=UTF-8\n\n'
    i=0; while [ $i -lt 32 ]; do printf 'caf\303\251 \303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\n'; i=$((i+1)); done
  } | "$BIN/sendmail" -C "$T/s.conf" -i -f sender@x.test a@x.test
  "$BIN/relayd" -C "$T/s.conf" --once
}
downgrade_size 100000
# SIZE= against the data the server received (no dot-stuffed lines here,
# so the two are equal).
sizes=$(/usr/bin/python3 -c '
import json, re, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("event") == "message":
        m = re.search(r"SIZE=(\d+)", r["mail_params"])
        print(m.group(1) if m else "none", r["data_bytes"], r["reply"])
' "$T/fs.log")
set -- $sizes
[ "${1:-}" = "${2:-x}" ] && ok "downgrade SIZE: SIZE=$1 is the converted size" \
  || bad "downgrade SIZE: declared SIZE=${1:-none}, sent ${2:-nothing} bytes"
[ "$(queued)" = 0 ] && ok "downgrade SIZE: delivered to a server enforcing SIZE" \
  || bad "downgrade SIZE: not delivered: $(grep -o 'reply": "[^"]*' "$T/fs.log" | tail -1)"
lacks "$T/relayd.log" "status=bounced" "downgrade SIZE: not bounced"
# A limit the queued message fits and the converted one does not: bounced
# before MAIL, with the converted size named.
downgrade_size 3000
contains "$T/relayd.log" "dsn=5.3.4, status=bounced" "downgrade SIZE over the limit: bounced with 5.3.4"
contains "$T/relayd.log" "(converted to 7-bit) exceeds the server's limit of 3000" "downgrade SIZE over the limit: reason names the conversion"
[ "$(grep -c '"verb": "MAIL", "line": "MAIL FROM:<sender@x.test>' "$T/fs.log")" = 0 ] \
  && ok "downgrade SIZE over the limit: no MAIL for the message" || bad "downgrade SIZE over the limit: MAIL sent"

# A bounce that fails too: to the postmaster, and when that fails, kept in
# failed/ for the admin. No storm: a bounded number of transactions.
scenario "failing bounce" none '{"rcpt": "550 5.1.1 nobody here"}'
"$BIN/relayd" -C "$T/s.conf" --once
[ "$(ls "$T/spool/failed" | wc -l)" -ge 1 ] && ok "failing bounce: kept in failed/" || bad "failing bounce: nothing in failed/"
[ "$(queued)" = 0 ] && ok "failing bounce: no bounce loop in the queue" || bad "failing bounce: $(queued) still queued"
[ "$(mails)" -le 3 ] && ok "failing bounce: $(mails) transactions, no storm" || bad "failing bounce: $(mails) transactions"
"$BIN/mailq" -C "$T/s.conf" > "$T/mailq.out"
grep -q '^[0-9A-F]\{13\}[0-9A-V]\{6\}%' "$T/mailq.out" && ok "mailq shows the kept failure with % (not held's !)" || bad "mailq does not show failed/ with %: $(cat "$T/mailq.out")"
cleanup_fs
finish
