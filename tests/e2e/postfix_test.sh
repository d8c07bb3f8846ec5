#!/bin/sh
# relayd against a real SMTP server this project did not write: Postfix from
# Debian, started by the test with its own configuration on loopback ports,
# offering STARTTLS with a certificate from a CA the test creates. Shows:
# verified delivery; wrong CA, wrong host name and no STARTTLS all defer
# (with no MAIL sent); 4xx then success delivers once; a 5xx for one of
# three recipients bounces that one (the bounce reaches the sender) and
# delivers two; many messages over one connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
chmod -R a+rX "$T/ca"
P=$(pf_free_port)
pf_start "$T/pf" "$P" reject=bad@example.org defer=later@example.org || { bad "postfix did not start"; finish; }

cat >> "$CONF" <<CONF
smarthost = localhost:$P
tls_ca_file = $T/ca/ca.pem
log = $T/relayd.log
max_connections = 1
retry_min = 1s
retry_max = 2s
CONF
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
send() { subj=$1; shift; printf 'Subject: %s\n\n%s body\n' "$subj" "$subj" | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org "$@"; }
run() { "$BIN/relayd" -C "$CONF" --once; }
queued() { ls "$T/spool/queue" | wc -l; }
delivered_to() { n=0; for m in $(pf_messages "$T/pf"); do [ "$(pf_rcpt "$m")" = "$1" ] && n=$((n+1)); done; echo $n; }

# 1. Verified STARTTLS delivery.
send verified alice@example.org
run
pf_wait_count "$T/pf" 1 20 && ok "delivered through Postfix" || bad "nothing arrived"
[ "$(delivered_to alice@example.org)" = 1 ] && ok "envelope recipient alice@example.org" || bad "wrong recipient"
contains "$T/relayd.log" "TLS connection to localhost[127.0.0.1]:$P: TLSv1." "TLS logged"
contains "$T/relayd.log" "verified" "certificate verified"
m=$(pf_messages "$T/pf" | head -1)
contains "$m" "with ESMTPS" "Postfix saw STARTTLS"
contains "$m" "Subject: verified" "message content arrived"
[ "$(queued)" = 0 ] && ok "queue empty" || bad "queue not empty"

# 2. A 5xx for one of three recipients: that one bounces, two are delivered,
#    and the bounce (from <>) reaches the sender through the same smarthost.
pf_clear "$T/pf"
send three a@example.org bad@example.org c@example.org
run
run   # the bounce
pf_wait_count "$T/pf" 3 20 || true
[ "$(delivered_to a@example.org)" = 1 ] && [ "$(delivered_to c@example.org)" = 1 ] && ok "two recipients delivered" || bad "good recipients not delivered"
[ "$(delivered_to bad@example.org)" = 0 ] && ok "rejected recipient not delivered" || bad "rejected one delivered"
contains "$T/relayd.log" "to=<bad@example.org>" "bounce logged for bad@"
contains "$T/relayd.log" "status=bounced (550 5.1.1" "bounce carries the server's reply"
b=""
for f in $(pf_messages "$T/pf"); do [ "$(pf_rcpt "$f")" = sender@example.org ] && b=$f; done
if [ -n "$b" ]; then
  ok "bounce delivered to the sender"
  contains "$b" "Return-Path: <>" "bounce has the null sender"
  contains "$b" "report-type=delivery-status" "bounce is an RFC 3464 report"
  contains "$b" "Final-Recipient: rfc822; bad@example.org" "bounce names the failed recipient"
  contains "$b" "Status: 5.1.1" "bounce carries the status"
  contains "$b" "Subject: three" "bounce includes the original"
else
  bad "no bounce reached sender@example.org"
fi
[ "$(queued)" = 0 ] && ok "queue empty after bounce" || bad "queue not empty"

# 3. 4xx, then success: delivered exactly once.
pf_clear "$T/pf"
send deferred-then-ok later@example.org
run
[ "$(queued)" = 1 ] && ok "4xx: message kept" || bad "4xx: message not kept"
contains "$T/relayd.log" "to=<later@example.org>, relay=localhost[127.0.0.1]:$P, delay=" "deferral logged with relay"
pf_accept "$T/pf" later@example.org
"$BIN/sendmail" -C "$CONF" -q
pf_wait_count "$T/pf" 1 20 || true
[ "$(delivered_to later@example.org)" = 1 ] && ok "delivered once after the 4xx" || bad "delivered $(delivered_to later@example.org) times"

# 4. Connection reuse: ten messages, one connection. Postfix's smtpd logs
#    a summary per connection ("disconnect from ... mail=10 rcpt=10").
pf_clear "$T/pf"
i=0; while [ $i -lt 10 ]; do send "reuse$i" r$i@example.org; i=$((i+1)); done
run
pf_wait_count "$T/pf" 10 30 || true
[ "$(pf_count "$T/pf")" = 10 ] && ok "ten delivered" || bad "$(pf_count "$T/pf") of ten delivered"
wait_for 10 grep -q 'disconnect from .* mail=10 rcpt=10 data=10' "$(pf_log "$T/pf")" &&
  ok "ten messages over one connection (one STARTTLS)" || bad "not one connection: $(grep disconnect "$(pf_log "$T/pf")" | tail -3)"

# 5. Certificates that must not be trusted, and a server without STARTTLS:
#    each defers, the message stays, and no MAIL reaches the server.
check_refused() {  # DESCRIPTION CONF-LINE PF-OPTION EXPECTED-LOG
  desc=$1; P2=$(pf_free_port)
  pf_start "$T/pf-$P2" "$P2" $3 || { bad "$desc: postfix did not start"; return; }
  sed "s/^smarthost = .*/smarthost = localhost:$P2/" "$CONF" > "$T/c2.conf"
  [ -n "$2" ] && echo "$2" >> "$T/c2.conf"
  chmod 644 "$T/c2.conf"
  : > "$T/relayd.log"
  printf 'Subject: refused\n\nb\n' | "$BIN/sendmail" -C "$T/c2.conf" -i x@example.org
  "$BIN/relayd" -C "$T/c2.conf" --once
  [ "$(queued)" = 1 ] && ok "$desc: message kept" || bad "$desc: message not kept"
  contains "$T/relayd.log" "$4" "$desc: reason logged"
  contains "$T/relayd.log" "status=deferred" "$desc: deferred, not bounced"
  if grep -q 'MAIL FROM\|from=<' "$(pf_log "$T/pf-$P2")" 2>/dev/null; then bad "$desc: the server saw a transaction"; else ok "$desc: no MAIL sent"; fi
  pf_stop "$T/pf-$P2"
  rm -f "$T"/spool/queue/* "$T"/spool/state/*
}
check_refused "wrong CA" "tls_ca_file = $T/ca/wrongca.pem" "" "certificate verification failed"
check_refused "wrong host name" "" "cert=wronghost" "certificate verification failed"
check_refused "expired certificate" "" "cert=expired" "certificate verification failed"
check_refused "self-signed certificate" "" "cert=selfsigned" "certificate verification failed"
check_refused "no STARTTLS" "" "notls" "does not offer STARTTLS"

# A pinned self-signed certificate is trusted through its fingerprint
# alone, under TLS 1.2 as well as 1.3 (review found 1.2 failing).
fp=$(openssl x509 -in "$T/ca/selfsigned.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
P3=$(pf_free_port)
pf_start "$T/pf-pin" "$P3" cert=selfsigned "set:smtpd_tls_protocols=!TLSv1.3" || bad "pinned: postfix did not start"
sed "s/^smarthost = .*/smarthost = localhost:$P3/; /^tls_ca_file/d" "$CONF" > "$T/pin.conf"
echo "tls_fingerprint = sha256:$fp" >> "$T/pin.conf"; chmod 644 "$T/pin.conf"
: > "$T/relayd.log"
printf 'Subject: pinned\n\nb\n' | "$BIN/sendmail" -C "$T/pin.conf" -i pin@example.org
"$BIN/relayd" -C "$T/pin.conf" --once
contains "$T/relayd.log" "TLSv1.2" "pinned: TLS 1.2 used"
contains "$T/relayd.log" "pinned" "pinned: trusted by fingerprint"
contains "$T/relayd.log" "status=sent" "pinned self-signed certificate under TLS 1.2: delivered"
pf_stop "$T/pf-pin"
# A server that speaks only TLS 1.0: relay's floor is 1.2, so the
# handshake (or STARTTLS itself) fails and nothing is sent.
check_refused "TLS 1.0 only" "" "set:smtpd_tls_protocols=TLSv1 set:smtpd_tls_mandatory_protocols=TLSv1" "TLS"
finish
