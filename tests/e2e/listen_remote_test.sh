#!/bin/sh
# The listener beyond loopback (`listen_allow`), in a network namespace
# this test makes, so that nothing listens or connects outside it: lo up,
# with 192.0.2.1 (relay's address), 192.0.2.2 and 192.0.2.4 (allowed
# clients) and 192.0.2.3 (a client on no allowed network). Clients this
# project did not write (swaks, Python's smtplib and ssl, fail2ban-regex)
# show: refusal at connect for other networks; no MAIL without STARTTLS,
# no MAIL without AUTH or an accepted client certificate; AUTH PLAIN and
# LOGIN against a crypt(3) users file; client certificates by CA and by
# fingerprint; no command injection through STARTTLS; a session ended
# after repeated wrong passwords; a bounded load over TLS+AUTH, every
# message delivered once; an smtps address (TLS at connect) with the same
# rules; an address refused at connect once its wrong passwords across
# sessions reach listen_auth_failure_limit, and the shipped fail2ban
# filter matching the log lines of this very run.
if [ -z "${RELAY_IN_NETNS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
  command -v unshare >/dev/null && command -v ip >/dev/null || { echo "SKIP: unshare or ip missing"; exit 77; }
  unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace here"; exit 77; }
  RELAY_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing"; exit 77; }
command -v swaks >/dev/null || { echo "SKIP: swaks missing"; exit 77; }
ip link set lo up
for a in 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4; do ip addr add $a/32 dev lo; done

# Certificates: a CA, relay's server certificate, a client certificate the
# CA signed, a self-signed one nobody trusts, and a self-signed one pinned.
cd "$T"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key; key server.key; key client.key; key rogue.key; key pinned.key
openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=relay-test-ca 2>/dev/null
printf 'subjectAltName=DNS:mx.test,IP:192.0.2.1\n' > server.ext
openssl req -new -key server.key -subj /CN=mx.test 2>/dev/null |
  openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null
openssl req -new -key client.key -subj /CN=client1.test 2>/dev/null |
  openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null
openssl req -x509 -new -key rogue.key -out rogue.pem -days 2 -subj /CN=client1.test 2>/dev/null
openssl req -x509 -new -key pinned.key -out pinned.pem -days 2 -subj /CN=pinned.test 2>/dev/null
PIN=$(openssl x509 -in pinned.pem -noout -fingerprint -sha256 | sed 's/.*=//')
[ -s server.pem ] && [ -s client.pem ] && [ -n "$PIN" ] || { bad "could not make test certificates"; finish; }
printf 'alice:%s\n# a comment\nbob:%s\n' "$(openssl passwd -6 's3cret')" "$(openssl passwd -5 'hunter2')" > users
cd - >/dev/null

SINKPORT=$(free_port)
LPORT=$(free_port)
RPORT=$(free_port)
SPORT=$(free_port)
cat >> "$CONF" <<CONF
smarthost = 127.0.0.1:$SINKPORT none
listen = 127.0.0.1:$LPORT, 192.0.2.1:$RPORT, 192.0.2.1:$SPORT smtps
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
CONF
cp "$CONF" "$T/loopback-only.conf"
LSPORT=$(free_port)
cat >> "$CONF" <<CONF
listen = 127.0.0.1:$LSPORT smtps
listen_allow = 192.0.2.2/32, 192.0.2.4/32
listen_auth_failure_limit = 8
listen_tls_cert_file = $T/server.pem
listen_tls_key_file = $T/server.key
listen_auth_users = $T/users
listen_client_ca = $T/ca.pem
listen_client_fingerprint = sha256:$PIN
listen_max_connections = 4
CONF
relay_private_spool
touch "$T/relayd.log"
chown 65534 "$T/relayd.log" "$T/server.key" "$T/users"
chmod 600 "$T/server.key" "$T/users"
chmod 644 "$CONF" "$T"/*.pem

# 1. Configuration: beyond loopback only with everything in place.
"$BIN/relayd" -C "$T/loopback-only.conf" 2> "$T/err1"; rc=$?
[ $rc = 78 ] && ok "192.0.2.1 without listen_allow: refused (78)" || bad "no listen_allow: exit $rc"
contains "$T/err1" "listen_allow" "the reason names listen_allow"
grep -v '^listen_auth_users\|^listen_client' "$CONF" > "$T/noauth.conf"
"$BIN/relayd" -C "$T/noauth.conf" 2> "$T/err2"; rc=$?
[ $rc = 78 ] && ok "listen_allow without any way to authenticate: refused (78)" || bad "no auth: exit $rc"
grep -v '^listen_tls' "$CONF" > "$T/notls.conf"
"$BIN/relayd" -C "$T/notls.conf" 2> "$T/err3"; rc=$?
[ $rc = 78 ] && ok "listen_allow without a certificate: refused (78)" || bad "no cert: exit $rc"
chmod 640 "$T/server.key"
"$BIN/relayd" -C "$CONF" 2> "$T/err4"; rc=$?
[ $rc = 78 ] && ok "a group-readable listener key: refused (78)" || bad "key mode 640: exit $rc"
contains "$T/err4" "chmod 600" "the reason says what to run"
chmod 600 "$T/server.key"
"$BIN/relayctl" -C "$CONF" check > "$T/check.out" 2>&1
contains "$T/check.out" "listener beyond loopback: ok (2 listen_allow networks, 2 users, client CA, 1 client fingerprints)" \
  "relayctl check: the listener's certificate and users load"
contains "$T/check.out" "listen   192.0.2.1:$SPORT: smtps (TLS at connect)" "relayctl check: the smtps address"
contains "$T/check.out" "listen   192.0.2.1:$RPORT: starttls" "relayctl check: the STARTTLS address"
contains "$T/check.out" "listen_auth_failure_limit: a client is refused after 8 wrong passwords in 3600s" \
  "relayctl check: the failure limit"
sed 's/^listen = .*/listen = 192.0.2.1:465 tls/' "$CONF" > "$T/badmode.conf"
"$BIN/relayctl" -C "$T/badmode.conf" check > "$T/check3.out" 2>&1; rc=$?
[ $rc = 78 ] && ok "relayctl check: an unknown listener TLS mode is a config error (78)" || bad "bad mode: exit $rc"
contains "$T/check3.out" "unknown listener TLS mode 'tls' (use starttls or smtps)" "the reason names the modes"
cp "$T/users" "$T/users.good"
echo 'carol:plaintext' >> "$T/users"
"$BIN/relayctl" -C "$CONF" check > "$T/check2.out" 2>&1
contains "$T/check2.out" "line 4: expected 'name:\$id\$...'" "relayctl check: a bad users line is named"
cp "$T/users.good" "$T/users"

/usr/bin/python3 "$RELAY_SRC/tests/sink.py" --port "$SINKPORT" --out "$T/sink.out" --messages "$T" \
  --max-seconds 300 > "$T/sink.ready" &
sink=$!
"$BIN/relayd" -C "$CONF" &
relayd=$!
trap 'kill $sink $relayd 2>/dev/null; rm -rf "$T"' EXIT
wait_for 10 grep -q ready "$T/sink.ready" || bad "sink did not start"
wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('192.0.2.1',$RPORT),1)" || bad "listener not up"
# A session counts against its pool until relayd has reaped it, a moment
# after its client saw the close. Each client below starts when no
# relay-smtpd (a zombie included) is left from the one before, so that
# only the steps that mean to fill the pool (10 and 11) ever do.
smtpd_idle() {
  wait_for 30 sh -c "! pgrep -P $relayd -x relay-smtpd >/dev/null" ||
    bad "relay-smtpd sessions still running: $(pgrep -a -P $relayd)"
}
RC() { smtpd_idle; /usr/bin/python3 "$RELAY_SRC/tests/remote_client.py" "$@"; }
SW() { smtpd_idle; swaks --server 192.0.2.1:$RPORT --from app@remote.test --to ops@example.net --timeout 30 "$@"; }
SS() {
  smtpd_idle
  swaks --server 192.0.2.1:$SPORT --tlsc --local-interface 192.0.2.2 --from app@remote.test --to ops@example.net --timeout 30 "$@"
}

# 2. A client on no allowed network: refused before any SMTP.
SW --local-interface 192.0.2.3 > "$T/other.out" 2>&1
contains "$T/other.out" "554 5.7.1 access denied" "192.0.2.3: 554 at connect"
wait_for 20 grep -q "reject: connect from unknown\[192.0.2.3\]" "$T/relayd.log" && ok "refusal logged" || bad "refusal not logged"

# 3. An allowed client in the clear: STARTTLS offered, AUTH not, MAIL refused.
SW --local-interface 192.0.2.2 > "$T/clear.out" 2>&1
contains "$T/clear.out" "250-STARTTLS" "STARTTLS offered"
lacks "$T/clear.out" "AUTH PLAIN" "AUTH not offered in the clear"
contains "$T/clear.out" "530 5.7.0 Must issue a STARTTLS command first" "MAIL in the clear: 530"
SW --local-interface 192.0.2.2 --auth PLAIN --auth-user alice --auth-password s3cret \
  --quit-after AUTH > "$T/clearauth.out" 2>&1
lacks "$T/clearauth.out" "235 " "no password accepted in the clear"

# 4. TLS without AUTH: MAIL refused.
SW --local-interface 192.0.2.2 --tls > "$T/tlsonly.out" 2>&1
contains "$T/tlsonly.out" "250-AUTH PLAIN LOGIN" "AUTH offered under TLS"
contains "$T/tlsonly.out" "530 5.7.0 Authentication required" "MAIL under TLS without AUTH: 530"

# 5. AUTH: a wrong password, then PLAIN and LOGIN with the right ones.
SW --local-interface 192.0.2.2 --tls --auth PLAIN --auth-user alice --auth-password wrong > "$T/wrong.out" 2>&1
contains "$T/wrong.out" "535 5.7.8" "wrong password: 535"
contains "$T/relayd.log" "AUTH failed for user=alice" "failure logged with the user"
SW --local-interface 192.0.2.2 --tls --auth PLAIN --auth-user alice --auth-password s3cret \
  --header "X-Token: plain1" > "$T/plain.out" 2>&1
contains "$T/plain.out" "250 2.0.0 Ok: queued as" "AUTH PLAIN (sha512-crypt): queued"
SW --local-interface 192.0.2.2 --tls --auth LOGIN --auth-user bob --auth-password hunter2 \
  --header "X-Token: login1" > "$T/login.out" 2>&1
contains "$T/login.out" "250 2.0.0 Ok: queued as" "AUTH LOGIN (sha256-crypt): queued"
wait_for 20 grep -q "^plain1 ops@example.net" "$T/sink.out" && ok "PLAIN message delivered" || bad "plain1 not delivered"
wait_for 20 grep -q "^login1 ops@example.net" "$T/sink.out" && ok "LOGIN message delivered" || bad "login1 not delivered"
lacks "$T/plain1.eml" "Authenticated sender" "no login name in Received by default (as Postfix)"
contains "$T/plain1.eml" "with ESMTPSA id" "Received says ESMTPSA"
contains "$T/plain1.eml" "(unknown [192.0.2.2])" "Received names the client's address"
contains "$T/relayd.log" "client=unknown[192.0.2.2]" "queue line names the client"
contains "$T/relayd.log" "sasl_username=alice" "queue line names the user"

# 6. Client certificates: signed by listen_client_ca, pinned, and rogue.
echo "listen_auth_header = yes" >> "$CONF"  # relay-smtpd reads it for each client
SW --local-interface 192.0.2.2 --tls --tls-cert "$T/client.pem" --tls-key "$T/client.key" \
  --header "X-Token: cert1" > "$T/cert.out" 2>&1
contains "$T/cert.out" "250 2.0.0 Ok: queued as" "CA-signed client certificate: queued without AUTH"
contains "$T/relayd.log" "accepted by listen_client_ca" "logged as accepted by the CA"
SW --local-interface 192.0.2.2 --tls --tls-cert "$T/pinned.pem" --tls-key "$T/pinned.key" \
  --header "X-Token: pin1" > "$T/pin.out" 2>&1
contains "$T/pin.out" "250 2.0.0 Ok: queued as" "pinned client certificate: queued without AUTH"
contains "$T/relayd.log" "accepted by fingerprint" "logged as accepted by fingerprint"
SW --local-interface 192.0.2.2 --tls --tls-cert "$T/rogue.pem" --tls-key "$T/rogue.key" > "$T/rogue.out" 2>&1
contains "$T/rogue.out" "530 5.7.0 Authentication required" "self-signed certificate with the same name: 530"
contains "$T/relayd.log" "not accepted" "rogue certificate logged as not accepted"
wait_for 20 grep -q "^cert1 " "$T/sink.out" && ok "certificate message delivered" || bad "cert1 not delivered"
contains "$T/cert1.eml" "(Authenticated sender: client1.test)" "listen_auth_header = yes: Received names the certificate"

# 7. Python's smtplib, verifying relay's certificate against the CA.
RC send 192.0.2.1 $RPORT 192.0.2.2 "$T/ca.pem" py1 alice s3cret \
  > "$T/py.out" 2>&1
contains "$T/py.out" "sent py1 refused {}" "smtplib: STARTTLS (verified) + AUTH + send"
wait_for 20 grep -q "^py1 " "$T/sink.out" && ok "smtplib message delivered" || bad "py1 not delivered"

# 8. No command injection through STARTTLS.
RC inject 192.0.2.1 $RPORT 192.0.2.2 "$T/ca.pem" > "$T/inject.out" 2>&1
contains "$T/inject.out" "starttls: 220 2.0.0 Ready to start TLS" "STARTTLS answered alone"
contains "$T/inject.out" "after tls: 221" "the MAIL pipelined in the clear was never answered"

# 8b. No SMTP smuggling through relay-smtpd either (issue 22): after
#     STARTTLS and AUTH, every line end other than <CR><LF> around a dot,
#     and a dot split across TCP segments, leaves one message from the one
#     real MAIL; the "transaction" behind the dot is text of that message.
#     And an EHLO that is no domain stays out of Received.
PROBE() { smtpd_idle; /usr/bin/python3 "$RELAY_SRC/tests/smtp_probe.py" tcp 192.0.2.1 "$RPORT" --source 192.0.2.2 \
  --tls "$T/ca.pem" alice s3cret -- "$@"; }
rsmuggle() {  # VARIANT SEGMENT...: the segments go between "line" and the smuggled commands
  v=$1; shift
  PROBE "EHLO c\\r\\nMAIL FROM:<app@remote.test>\\r\\nRCPT TO:<ops@example.net>\\r\\nDATA\\r\\nX-Token: rs-$v\\r\\n\\r\\nline" "$@" \
    "MAIL FROM:<evil@remote.test>\\r\\nRCPT TO:<victim@example.net>\\r\\nDATA\\r\\nX-Token: evil-$v\\r\\n\\r\\nx\\r\\n.\\r\\nQUIT\\r\\n" \
    > "$T/rs-$v.out" 2>&1
  contains "$T/rs-$v.out" "summary: queued=1 mail_ok=1" "relay-smtpd $v: one message, one MAIL transaction"
}
rsmuggle lf-dot-lf '\n.\n'
rsmuggle lf-dot-crlf '\n.\r\n'
rsmuggle cr-dot-crlf '\r.\r\n'
rsmuggle crlf-dot-lf '\r\n.\n'
rsmuggle crlf-dot-cr '\r\n.\r'
rsmuggle split-lf-dot-crlf '\n' '.' '\r\n'
rsmuggle split-crlf-dot-cr '\r\n' '.' '\r'
for v in lf-dot-lf lf-dot-crlf cr-dot-crlf crlf-dot-lf crlf-dot-cr split-lf-dot-crlf split-crlf-dot-cr; do
  wait_for 20 grep -q "^rs-$v " "$T/sink.out" || true
  [ "$(grep -c "^rs-$v " "$T/sink.out")" = 1 ] && ok "relay-smtpd $v: delivered once" || bad "relay-smtpd $v: $(grep -c "^rs-$v " "$T/sink.out") deliveries"
  contains "$T/rs-$v.eml" "MAIL FROM:<evil@remote.test>" "relay-smtpd $v: the smuggled commands are message text"
done
lacks "$T/sink.out" "victim@example.net" "relay-smtpd: the smuggled recipient got nothing"
lacks "$T/sink.out" "evil-" "relay-smtpd: no smuggled message"
PROBE "EHLO trusted.example.com (localhost [127.0.0.1] uid 0)\\r\\nMAIL FROM:<app@remote.test>\\r\\nRCPT TO:<ops@example.net>\\r\\n" \
  "DATA\\r\\nX-Token: rehlo\\r\\n\\r\\nx\\r\\n.\\r\\nQUIT\\r\\n" > "$T/rehlo.out" 2>&1
wait_for 20 grep -q "^rehlo " "$T/sink.out" && ok "forged EHLO: message delivered" || bad "rehlo not delivered"
contains "$T/rehlo.eml" "Received: from unknown (unknown [192.0.2.2])" "relay-smtpd: a forged EHLO is left out of Received"
lacks "$T/rehlo.eml" "trusted.example.com" "relay-smtpd: the fake name is nowhere in the message"
wait_for 20 grep -q "is not a domain or address literal" "$T/relayd.log" && ok "relay-smtpd: the forged EHLO is logged" ||
  bad "relay-smtpd: no log line for the forged EHLO"

# 8c. Source routes and address literals, as on the other doors
#     (smtp_doors_test.sh): <@a:> is no null sender, a broken route or
#     literal is refused naming the problem, a valid route is stripped.
PROBE "EHLO c\\r\\nMAIL FROM:<@a:>\\r\\nMAIL FROM:<@:a@b>\\r\\nMAIL FROM:<@r.example:app@remote.test>\\r\\n" \
  "RCPT TO:<@a:>\\r\\nRCPT TO:<x@[1.2.3]>\\r\\nRCPT TO:<@r.example,@s.example:ops@example.net>\\r\\n" \
  "DATA\\r\\nX-Token: rroute\\r\\n\\r\\nx\\r\\n.\\r\\nQUIT\\r\\n" > "$T/rroute.out" 2>&1
contains "$T/rroute.out" "501 5.1.7 bad sender address <@a:>: a source route with no mailbox" "relay-smtpd: MAIL FROM:<@a:> refused, not <>"
contains "$T/rroute.out" "501 5.1.7 bad sender address <@:a@b>: an empty domain in the source route" "relay-smtpd: <@:a@b> refused"
contains "$T/rroute.out" "501 5.1.3 bad recipient address <@a:>: a source route with no mailbox" "relay-smtpd: RCPT TO:<@a:> refused"
contains "$T/rroute.out" "501 5.1.3 bad recipient address <x@[1.2.3]>: a bad address literal" "relay-smtpd: <x@[1.2.3]> refused"
contains "$T/rroute.out" "summary: queued=1 mail_ok=1" "relay-smtpd: the routed sender and recipient give one message"
wait_for 20 grep -q "^rroute ops@example.net" "$T/sink.out" && ok "relay-smtpd: the route is stripped from the recipient" ||
  bad "relay-smtpd: rroute not delivered to ops@example.net: $(grep '^rroute' "$T/sink.out")"

# 9. Guessing: the session ends after three wrong passwords.
RC brute 192.0.2.1 $RPORT 192.0.2.2 "$T/ca.pem" alice > "$T/brute.out" 2>&1
contains "$T/brute.out" "closed after 3 wrong passwords" "421 after 3 wrong passwords"

# 10. Loopback clients keep the loopback rules (no TLS, no AUTH), and
#     remote clients (logged in or not) cannot use up their connections.
smtpd_idle
/usr/bin/python3 - "$RPORT" > "$T/crowd.out" 2>&1 <<'PY' &
import socket, sys, time
conns = []
for i in range(4):
    s = socket.create_connection(("192.0.2.1", int(sys.argv[1])), timeout=10, source_address=("192.0.2.2", 0))
    print(f"remote {i + 1}:", s.recv(200).decode().split(" ")[0], flush=True)
    conns.append(s)
extra = socket.create_connection(("192.0.2.1", int(sys.argv[1])), timeout=10, source_address=("192.0.2.2", 0))
print("fifth remote:", extra.recv(200).decode().strip(), flush=True)
print("holding", len(conns), flush=True)
time.sleep(4)
PY
crowd=$!
wait_for 20 grep -q holding "$T/crowd.out"
swaks --server 127.0.0.1:$LPORT --from a@x.test --to b@x.test --header "X-Token: local1" > "$T/local.out" 2>&1
contains "$T/local.out" "250 2.0.0 Ok: queued as" "loopback client served without AUTH while 4 remote sessions fill their pool"
wait $crowd
[ "$(grep -c '^remote [1-4]: 220$' "$T/crowd.out")" = 4 ] && ok "four remote sessions served" ||
  bad "four remote sessions served: $(cat "$T/crowd.out")"
contains "$T/crowd.out" "fifth remote: 421 4.7.0 too many connections" "the remote pool was full"

# 11. Load over TLS+AUTH: 4 clients x 10 messages, each delivered once.
RC load 192.0.2.1 $RPORT 192.0.2.2 "$T/ca.pem" 4 10 alice s3cret \
  > "$T/load.out" 2>&1
cat "$T/load.out"
lacks "$T/load.out" "error:" "load: no client errors"
if wait_for 60 sh -c "[ \$(grep -c '^rload-' '$T/sink.out') -ge 40 ]"; then ok "load: 40 of 40 delivered"
else bad "load: $(grep -c '^rload-' "$T/sink.out") of 40 delivered"; fi
dups=$(grep '^rload-' "$T/sink.out" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && ok "load: no duplicates" || bad "load: $dups duplicates"
[ -n "${RELAY_SUMMARY:-}" ] && sed 's/^/remote listener load: /' "$T/load.out" >> "$RELAY_SUMMARY"

# 12. smtps (RFC 8314): TLS at connect, then the rules of the STARTTLS
#     path. 192.0.2.2 has 4 wrong passwords so far; 3 more here (one by
#     swaks; smtplib's login tries PLAIN, then LOGIN).
SS --auth PLAIN --auth-user alice --auth-password s3cret --header "X-Token: smtps1" > "$T/smtps.out" 2>&1
contains "$T/smtps.out" "250-AUTH PLAIN LOGIN" "smtps: AUTH offered at once"
lacks "$T/smtps.out" "STARTTLS" "smtps: STARTTLS not offered"
contains "$T/smtps.out" "250 2.0.0 Ok: queued as" "swaks --tlsc + AUTH PLAIN: queued"
SS > "$T/smtps-noauth.out" 2>&1
contains "$T/smtps-noauth.out" "530 5.7.0 Authentication required" "swaks --tlsc without AUTH: MAIL refused (530)"
SS --auth LOGIN --auth-user bob --auth-password wrong > "$T/smtps-wrong.out" 2>&1
contains "$T/smtps-wrong.out" "535 5.7.8" "swaks --tlsc, wrong password: 535"
SS --tls-cert "$T/client.pem" --tls-key "$T/client.key" --header "X-Token: smtps2" > "$T/smtps-cert.out" 2>&1
contains "$T/smtps-cert.out" "250 2.0.0 Ok: queued as" "swaks --tlsc with a client certificate: queued without AUTH"
RC smtps 192.0.2.1 $SPORT 192.0.2.2 "$T/ca.pem" smtps3 alice s3cret > "$T/pys.out" 2>&1
contains "$T/pys.out" "STARTTLS offered: False AUTH offered: True" "SMTP_SSL: EHLO offers AUTH, not STARTTLS"
contains "$T/pys.out" "smtps sent smtps3 refused {}" "SMTP_SSL (verified) + AUTH + send"
RC smtps-noauth 192.0.2.1 $SPORT 192.0.2.2 "$T/ca.pem" > "$T/pys-noauth.out" 2>&1
contains "$T/pys-noauth.out" "smtps no auth: refused 530 5.7.0 Authentication required" "SMTP_SSL without AUTH: MAIL refused"
RC smtps-wrong 192.0.2.1 $SPORT 192.0.2.2 "$T/ca.pem" alice > "$T/pys-wrong.out" 2>&1
contains "$T/pys-wrong.out" "smtps wrong password: refused 535 5.7.8" "SMTP_SSL, wrong password: 535"
smtpd_idle
/usr/bin/python3 - "$SPORT" > "$T/smtps-plain.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("192.0.2.1", int(sys.argv[1])), timeout=30, source_address=("192.0.2.2", 0))
s.sendall(b"EHLO plain.test\r\nMAIL FROM:<x@remote.test>\r\n")
data = b""
while True:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:  # the server's TLS alert, unread bytes left
        break
    if not chunk:
        break
    data += chunk
print("plain client got SMTP:", b"220" in data or b"250" in data)
PY
contains "$T/smtps-plain.out" "plain client got SMTP: False" "smtps: a client in the clear gets no SMTP"
wait_for 10 grep -q "192.0.2.2\]:[0-9]* (TLS handshake failed" "$T/relayd.log" && ok "the failed handshake is logged" ||
  bad "no 'TLS handshake failed' in the log"
for tok in smtps1 smtps2 smtps3; do
  wait_for 20 grep -q "^$tok " "$T/sink.out" && ok "$tok delivered" || bad "$tok not delivered"
done
contains "$T/smtps1.eml" "with ESMTPSA id" "smtps: Received says ESMTPSA"

# 13. Guessing across sessions: 192.0.2.4 tries three sessions of three
#     wrong passwords; at 8 (listen_auth_failure_limit) relayd refuses
#     the address at connect, on every listener beyond loopback, while
#     192.0.2.2 (7 wrong passwords) is still served.
for i in 1 2 3; do
  RC brute 192.0.2.1 $RPORT 192.0.2.4 "$T/ca.pem" alice > "$T/guess$i.out" 2>&1
done
contains "$T/guess3.out" "closed after 3 wrong passwords" "third guessing session: 421 after 3 wrong passwords"
if wait_for 20 grep -q "unknown\[192.0.2.4\]: 8 authentication failures in 3600s" "$T/relayd.log"; then
  ok "relayd logged the address reaching the limit"
else bad "no limit line for 192.0.2.4 in the log"; fi
RC greeting 192.0.2.1 $RPORT 192.0.2.4 "$T/ca.pem" > "$T/guess4.out" 2>&1
contains "$T/guess4.out" "greeting: 421 4.7.0 too many authentication failures" "192.0.2.4 refused at connect (421)"
# On the smtps address the refusal is a close before the handshake: a
# reply in the clear would reach a TLS client as a broken handshake.
RC smtps-connect 192.0.2.1 $SPORT 192.0.2.4 "$T/ca.pem" > "$T/guess5.out" 2>&1
contains "$T/guess5.out" "smtps connect: closed before a greeting" "... on the smtps address too, closed before TLS"
RC silent 192.0.2.1 $SPORT 192.0.2.4 "$T/ca.pem" > "$T/guess6.out" 2>&1
contains "$T/guess6.out" "silent: 0 bytes before the close" "... with not a byte in the clear"
if wait_for 10 grep -q "reject: connect from unknown\[192.0.2.4\]:[0-9]*: too many authentication failures" "$T/relayd.log" &&
   [ "$(grep -c 'reject: connect from unknown\[192.0.2.4\]:[0-9]*: too many authentication failures' "$T/relayd.log")" = 3 ]; then
  ok "the three refusals logged"
else bad "want three refusal lines for 192.0.2.4: $(grep 'reject: connect' "$T/relayd.log")"; fi
RC smtps-connect 192.0.2.1 $SPORT 192.0.2.2 "$T/ca.pem" > "$T/smtps-ok.out" 2>&1
contains "$T/smtps-ok.out" "smtps connect: served 250" "192.0.2.2 still served on the smtps address"
contains "$T/relayd.log" "reject: connect from unknown[192.0.2.4]:" "refusal logged with the address"
RC send 192.0.2.1 $RPORT 192.0.2.2 "$T/ca.pem" after1 alice s3cret > "$T/after.out" 2>&1
contains "$T/after.out" "sent after1 refused {}" "192.0.2.2, under the limit, still served"

# 14. The shipped fail2ban filter, on this run's log: every wrong password
#     and every refusal for guessing, with the right address.
if command -v fail2ban-regex >/dev/null; then
  want=$(grep -cE ': AUTH failed for user=|: too many authentication failures$' "$T/relayd.log")
  fail2ban-regex "$T/relayd.log" "$RELAY_SRC/conf/fail2ban/filter.d/relay-smtpd.conf" > "$T/f2b.out" 2>&1
  got=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$T/f2b.out")
  [ "$want" = 19 ] && ok "19 lines to match (7 for 192.0.2.2, 9 + 3 refusals for 192.0.2.4)" || bad "want 19 lines, the log has $want"
  [ "$got" = "$want" ] && ok "fail2ban-regex: $got of $want lines matched" || bad "fail2ban-regex matched '$got' of $want: $(cat "$T/f2b.out")"
  fail2ban-regex --print-all-matched "$T/relayd.log" "$RELAY_SRC/conf/fail2ban/filter.d/relay-smtpd.conf" > "$T/f2b-all.out" 2>&1
  hosts=$(grep -o 'unknown\[[0-9.]*\]' "$T/f2b-all.out" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  [ "$hosts" = " 7 unknown[192.0.2.2]; 12 unknown[192.0.2.4];" ] && ok "matched per address: $hosts" || bad "matched per address: $hosts"
  [ -n "${RELAY_SUMMARY:-}" ] && grep '^Lines:' "$T/f2b.out" | sed 's/^/fail2ban-regex relay-smtpd.conf: /' >> "$RELAY_SUMMARY"
else
  echo "skip: fail2ban-regex not installed; the filter is not checked"
fi

# 15. Loopback clients of an smtps address share 127.0.0.1: their wrong
#     passwords are not counted across sessions (Postfix exempts
#     $mynetworks from anvil), so nine of them lock no local program out.
for i in 1 2 3; do
  RC smtps-brute 127.0.0.1 $LSPORT 127.0.0.1 - alice > "$T/lguess$i.out" 2>&1
done
contains "$T/lguess3.out" "closed after 3 wrong passwords" "loopback smtps: each session still ends after 3 wrong passwords"
RC smtps-connect 127.0.0.1 $LSPORT 127.0.0.1 - > "$T/lguess4.out" 2>&1
contains "$T/lguess4.out" "smtps connect: served 250" "loopback smtps: still served after 9 wrong passwords"
lacks "$T/relayd.log" "unknown[127.0.0.1]: " "no limit line for loopback"
finish
