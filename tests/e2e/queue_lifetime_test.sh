#!/bin/sh
# queue_lifetime against a real Postfix (postfix_harness.sh) that answers
# 450 for one recipient: the message is kept while it is younger than its
# lifetime, and bounced, with the last error, once it is older; the bounce
# reaches the sender through the same smarthost. The clock is moved with
# libfaketime (as dates_test does), never waited for: queue_lifetime = 1d,
# runs at +20 h (kept) and +25 h (bounced). queue_lifetime = 0 bounces at
# the first temporary failure, with no clock moved.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances"; exit 77; }
command -v faketime > /dev/null || { echo "SKIP: faketime is not installed"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }
# libfaketime is preloaded; a sanitizer build wants its runtime first.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
chmod -R a+rX "$T/ca"
P=$(pf_free_port)
pf_start "$T/pf" "$P" defer=later@example.org defer=zero@example.org || { bad "postfix did not start"; finish; }
cat >> "$CONF" <<CONF
smarthost = localhost:$P
tls_ca_file = $T/ca/ca.pem
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
queue_lifetime = 1d
CONF
chmod 644 "$CONF"
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"

queued() { ls "$T/spool/queue" | wc -l; }
# at OFFSET: relayd --once with the clock moved by OFFSET (libfaketime's
# "+25h"); the monotonic clock, which time-outs use, is left alone.
at() { : > "$T/relayd.log"; faketime -m --exclude-monotonic -f "$1" "$BIN/relayd" -C "$CONF" --once > "$T/relayd.err" 2>&1; }
# bounce_to SENDER: the path of a bounce Postfix delivered to SENDER.
bounce_to() { for m in $(pf_messages "$T/pf"); do [ "$(pf_rcpt "$m")" = "$1" ] && echo "$m"; done; }

printf 'Subject: lifetime\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org later@example.org
at +0
[ "$(queued)" = 1 ] && ok "450: the message is kept" || bad "450: $(queued) queued"
contains "$T/relayd.log" "status=deferred (450 4.2.0" "450: deferred with the server's reply"

at +20h
[ "$(queued)" = 1 ] && ok "at +20 h (lifetime 1 d): still kept" || bad "at +20 h: $(queued) queued: $(cat "$T/relayd.log")"
contains "$T/relayd.log" "status=deferred" "at +20 h: deferred again (the server was asked)"
lacks "$T/relayd.log" "status=bounced" "at +20 h: not bounced"
[ -z "$(bounce_to sender@example.org)" ] && ok "at +20 h: no bounce sent" || bad "at +20 h: a bounce reached the sender"

at +25h
contains "$T/relayd.log" "to=<later@example.org>" "at +25 h: the recipient is logged"
contains "$T/relayd.log" "status=bounced" "at +25 h (lifetime 1 d): bounced"
grep 'status=bounced' "$T/relayd.log" | grep -q 'expired' &&
  ok "at +25 h: the bounce says the message expired" || bad "at +25 h: $(grep status= "$T/relayd.log")"
at +25h   # the bounce itself
wait_for 20 test -n "$(bounce_to sender@example.org)"
b=$(bounce_to sender@example.org | head -1)
if [ -n "$b" ]; then
  ok "the bounce reached the sender through the smarthost"
  contains "$b" "Return-Path: <>" "the bounce has the null sender"
  contains "$b" "Final-Recipient: rfc822; later@example.org" "the bounce names the recipient"
  contains "$b" "Action: failed" "the bounce says failed"
  contains "$b" "450 4.2.0" "the bounce carries the last error"
  contains "$b" "Subject: lifetime" "the bounce returns the original"
else
  bad "no bounce reached sender@example.org: $(cat "$T/relayd.log")"
fi
[ "$(queued)" = 0 ] && ok "the queue is empty after the bounce" || bad "$(queued) left in the queue"

# queue_lifetime = 0: the first temporary failure bounces, at today's date.
pf_clear "$T/pf"
sed -i 's/^queue_lifetime = .*/queue_lifetime = 0/' "$CONF"
printf 'Subject: zero\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org zero@example.org
at +0
contains "$T/relayd.log" "to=<zero@example.org>" "lifetime 0: the recipient is logged"
contains "$T/relayd.log" "status=bounced" "lifetime 0: bounced at the first 450"
at +0
wait_for 20 test -n "$(bounce_to sender@example.org)" && ok "lifetime 0: the bounce reached the sender" || bad "lifetime 0: no bounce"
[ "$(queued)" = 0 ] && ok "lifetime 0: the queue is empty" || bad "lifetime 0: $(queued) left"
finish
