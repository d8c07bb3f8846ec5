#!/bin/sh
# TLS to the smarthost, against real Postfix instances (postfix_harness.sh,
# its test CA). Shows: SMTPS (implicit TLS, smtpd_tls_wrappermode) delivers,
# and STARTTLS against it does not; tls_min_version = 1.3 refuses a server
# that allows only TLS 1.2 (no MAIL sent, deferred) and delivers to one that
# allows 1.3, while the default (1.2) delivers to the 1.2 server; the client
# certificate (tls_cert_file, tls_key_file) reaches the server, which
# verifies it against the CA (Postfix's Received header and log, with
# smtpd_tls_ask_ccert), and none is sent without them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
# A client certificate signed by the test CA (extendedKeyUsage clientAuth).
(
  cd "$T/ca" || exit 1
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key 2>> err.log &&
  openssl req -new -key client.key -subj /CN=relay-client.test -out client.csr 2>> err.log &&
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > client.ext &&
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.pem 2>> err.log
) || { bad "could not make the client certificate"; finish; }
chmod -R a+rX "$T/ca"
chown 65534 "$T/ca/client.key"; chmod 600 "$T/ca/client.key"

relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
cp "$CONF" "$T/base.conf"
# mkconf SMARTHOST [LINE...]: $CONF = lib.sh's base + this smarthost + LINEs.
mkconf() {
  { cat "$T/base.conf"; echo "smarthost = $1"; echo "tls_ca_file = $T/ca/ca.pem"
    echo "log = $T/relayd.log"; echo "timeout_connect = 10s"; echo "timeout_command = 10s"
    shift; for l in "$@"; do echo "$l"; done; } > "$CONF"
  chmod 644 "$CONF"
}
send() { printf 'Subject: %s\n\n%s body\n' "$1" "$1" | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org "$2"; }
run() { : > "$T/relayd.log"; "$BIN/relayd" -C "$CONF" --once > "$T/relayd.err" 2>&1; }
queued() { ls "$T/spool/queue" | wc -l; }
clear_spool() { rm -f "$T"/spool/queue/* "$T"/spool/state/*; }
# delivered DIR RCPT: the path of the message Postfix in DIR delivered to RCPT.
delivered() { for m in $(pf_messages "$1"); do [ "$(pf_rcpt "$m")" = "$2" ] && echo "$m"; done; }
no_mail() { if grep -q 'from=<' "$(pf_log "$1")"; then bad "$2: the server saw a transaction"; else ok "$2: no MAIL reached the server"; fi; }

# 1. SMTPS: Postfix in wrapper mode (TLS from the first byte, as on 465).
P=$(pf_free_port)
pf_start "$T/smtps" "$P" set:smtpd_tls_wrappermode=yes || { bad "smtps: postfix did not start"; finish; }
mkconf "localhost:$P smtps"
send smtps smtps@example.org
run; rc=$?
[ $rc = 0 ] && ok "smtps: relayd --once exit 0" || bad "smtps: relayd exit $rc: $(cat "$T/relayd.err")"
wait_for 20 test -n "$(delivered "$T/smtps" smtps@example.org)"
m=$(delivered "$T/smtps" smtps@example.org)
[ -n "$m" ] && ok "smtps: delivered" || bad "smtps: not delivered: $(tail -3 "$T/relayd.log")"
[ -n "$m" ] && contains "$m" "with ESMTPS" "smtps: Postfix received it over TLS"
contains "$T/relayd.log" "TLS connection to localhost[127.0.0.1]:$P: TLSv1." "smtps: relayd logged the TLS connection"
contains "$T/relayd.log" "verified" "smtps: the certificate was verified"
lacks "$T/relayd.log" "STARTTLS" "smtps: no STARTTLS"
# The same server named with starttls: the client waits for a greeting
# that comes only inside TLS; deferred, nothing delivered.
clear_spool
mkconf "localhost:$P starttls" "timeout_greeting = 2s"
send smtps-as-starttls wrongmode@example.org
run
[ "$(queued)" = 1 ] && ok "starttls against an smtps port: kept" || bad "starttls against an smtps port: $(queued) queued"
contains "$T/relayd.log" "status=deferred" "starttls against an smtps port: deferred"
[ -z "$(delivered "$T/smtps" wrongmode@example.org)" ] && ok "starttls against an smtps port: not delivered" || bad "delivered in the wrong mode"
pf_stop "$T/smtps"
clear_spool

# 2. tls_min_version: a server that allows TLS 1.2 at most, and one that
#    allows 1.3.
P12=$(pf_free_port)
pf_start "$T/tls12" "$P12" "set:smtpd_tls_protocols=>=TLSv1 <=TLSv1.2" "set:smtpd_tls_mandatory_protocols=>=TLSv1 <=TLSv1.2" ||
  { bad "tls12: postfix did not start"; finish; }
mkconf "localhost:$P12" "tls_min_version = 1.3"
send min13 min13@example.org
run
[ "$(queued)" = 1 ] && ok "tls_min_version = 1.3, server at most 1.2: kept" || bad "tls_min_version 1.3 vs 1.2: $(queued) queued"
contains "$T/relayd.log" "status=deferred" "tls_min_version = 1.3, server at most 1.2: deferred"
grep 'status=deferred' "$T/relayd.log" | grep -qi 'tls\|version\|handshake\|protocol' &&
  ok "tls_min_version = 1.3: the reason is about TLS: $(grep -o 'status=deferred.*' "$T/relayd.log" | head -1)" ||
  bad "tls_min_version = 1.3: reason: $(grep 'status=deferred' "$T/relayd.log")"
no_mail "$T/tls12" "tls_min_version = 1.3, server at most 1.2"
# The default floor (1.2) takes that server (the retry made due at once:
# its state, with the time of the next attempt, removed).
mkconf "localhost:$P12"
rm -f "$T"/spool/state/*
run
wait_for 20 test -n "$(delivered "$T/tls12" min13@example.org)"
[ -n "$(delivered "$T/tls12" min13@example.org)" ] && ok "default tls_min_version (1.2): delivered to the 1.2 server" ||
  bad "default tls_min_version: not delivered: $(tail -3 "$T/relayd.log")"
contains "$T/relayd.log" ": TLSv1.2 " "default tls_min_version: TLS 1.2 used"
mkconf "localhost:$P12" "tls_min_version = 1.2"
send min12 min12@example.org
run
wait_for 20 test -n "$(delivered "$T/tls12" min12@example.org)"
[ -n "$(delivered "$T/tls12" min12@example.org)" ] && ok "tls_min_version = 1.2: delivered to the 1.2 server" || bad "tls_min_version = 1.2: not delivered"
pf_stop "$T/tls12"
clear_spool
P13=$(pf_free_port)
pf_start "$T/tls13" "$P13" || { bad "tls13: postfix did not start"; finish; }
mkconf "localhost:$P13" "tls_min_version = 1.3"
send min13ok min13ok@example.org
run
wait_for 20 test -n "$(delivered "$T/tls13" min13ok@example.org)"
[ -n "$(delivered "$T/tls13" min13ok@example.org)" ] && ok "tls_min_version = 1.3, server allows 1.3: delivered" ||
  bad "tls_min_version = 1.3 vs 1.3: not delivered: $(tail -3 "$T/relayd.log")"
contains "$T/relayd.log" ": TLSv1.3 " "tls_min_version = 1.3: TLS 1.3 used"
pf_stop "$T/tls13"
clear_spool

# 3. The client certificate: Postfix asks for one (smtpd_tls_ask_ccert),
#    verifies it against the test CA and names it in its Received header.
fp=$(openssl x509 -in "$T/ca/client.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
PC=$(pf_free_port)
pf_start "$T/ccert" "$PC" set:smtpd_tls_ask_ccert=yes "set:smtpd_tls_CAfile=$T/ca/ca.pem" \
  set:smtpd_tls_fingerprint_digest=sha256 "set:smtpd_tls_loglevel=2" || { bad "ccert: postfix did not start"; finish; }
mkconf "localhost:$PC" "tls_cert_file = $T/ca/client.pem" "tls_key_file = $T/ca/client.key"
send ccert ccert@example.org
run; rc=$?
[ $rc = 0 ] && ok "client certificate: relayd --once exit 0" || bad "client certificate: relayd exit $rc: $(cat "$T/relayd.err")"
wait_for 20 test -n "$(delivered "$T/ccert" ccert@example.org)"
m=$(delivered "$T/ccert" ccert@example.org)
[ -n "$m" ] && ok "client certificate: delivered" || bad "client certificate: not delivered: $(tail -3 "$T/relayd.log")"
[ -n "$m" ] && contains "$m" '(Client CN "relay-client.test", Issuer "Relay Test ca" (verified OK))' \
  "client certificate: Postfix verified relay's certificate (Received header)"
contains "$(pf_log "$T/ccert")" "$fp" "client certificate: Postfix logged its SHA-256 fingerprint"
# Without tls_cert_file, no certificate is sent.
mkconf "localhost:$PC"
send noccert noccert@example.org
run
wait_for 20 test -n "$(delivered "$T/ccert" noccert@example.org)"
m=$(delivered "$T/ccert" noccert@example.org)
[ -n "$m" ] && ok "no client certificate configured: delivered" || bad "no client certificate: not delivered"
[ -n "$m" ] && lacks "$m" "relay-client.test" "no client certificate configured: none reached the server"
pf_stop "$T/ccert"
finish
