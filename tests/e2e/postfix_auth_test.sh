#!/bin/sh
# relayd logs in to a real Postfix (Cyrus SASL, users in a sasldb, AUTH only
# after STARTTLS, relaying only for clients that logged in). Shows: each of
# SCRAM-SHA-256, CRAM-MD5, PLAIN and LOGIN logs in and delivers; USER@REALM
# works too; a wrong password defers (kept, listed by mailq, not bounced) and
# after the fix one flush delivers it once; the secret stays out of the log
# even with -v; a mode 644 password file stops relayd (exit 78);
# auth_password_command; one login for five messages on one connection;
# failover from a dead smarthost to a live one; and an ordinary user's
# sendmail and mailq work while that user cannot read the password file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances and to switch users"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }
for p in saslpasswd2 setpriv swaks; do
  command -v $p > /dev/null || { echo "SKIP: $p missing (sasl2-bin, util-linux, swaks)"; exit 77; }
done
[ -e /usr/lib/x86_64-linux-gnu/sasl2/libsasldb.so ] || ls /usr/lib/*/sasl2/libsasldb.so > /dev/null 2>&1 ||
  { echo "SKIP: the Cyrus sasldb plugin is missing (libsasl2-modules-db)"; exit 77; }

USER_=relayuser
PW='Tr0ub4dor-3-zq7Secret'
PWB64=$(printf '%s' "$PW" | base64 -w0)
PLAINB64=$(printf '\0%s\0%s' "$USER_" "$PW" | base64 -w0)
U=12345   # an ordinary user that owns nothing here

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
chmod -R a+rX "$T/ca"
P=$(pf_free_port)
pf_start "$T/pf" "$P" "sasl=$USER_:$PW" authrequired reject=bad@example.org ||
  { bad "postfix did not start"; finish; }
MAILLOG=$(pf_log "$T/pf")

# The instance itself: AUTH only after STARTTLS, nothing relayed without it.
sw() { swaks --timeout 20 --server "127.0.0.1:$P" --helo client.test --from s@example.org "$@" > "$T/sw.out" 2>&1; }
sw --to x@example.org
lacks "$T/sw.out" "AUTH" "no AUTH offered before STARTTLS"
sw -tls --to x@example.org
contains "$T/sw.out" "250-AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN" "AUTH offered after STARTTLS"
contains "$T/sw.out" "554 5.7.1 <x@example.org>: Recipient address rejected: Access denied" \
  "without AUTH nothing is relayed"
[ "$(pf_count "$T/pf")" = 0 ] && ok "nothing delivered without AUTH" || bad "delivered without AUTH"

cp "$CONF" "$T/base.conf"
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
SECRET=$T/relay.secret
printf '%s\n' "$PW" > "$SECRET"; chown 65534:65534 "$SECRET"; chmod 600 "$SECRET"

# mkconf [LINE...]: $CONF = lib.sh's base + the smarthost + a login + LINEs.
# A LINE "-auth_password_file" leaves that key out.
mkconf() {
  pwline="auth_password_file = $SECRET"
  for l in "$@"; do [ "$l" = -auth_password_file ] && pwline=""; done
  {
    cat "$T/base.conf"
    echo "smarthost = localhost:$P"
    echo "tls_ca_file = $T/ca/ca.pem"
    echo "log = $T/relayd.log"
    echo "max_connections = 1"
    echo "retry_min = 1s"
    echo "retry_max = 2s"
    echo "auth_user = $USER_"
    [ -n "$pwline" ] && echo "$pwline"
    for l in "$@"; do [ "$l" = -auth_password_file ] || echo "$l"; done
  } > "$CONF"
  chmod 644 "$CONF"
}
send() { subj=$1; shift; printf 'Subject: %s\n\n%s body\n' "$subj" "$subj" | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org "$@"; }
run() { "$BIN/relayd" -C "$CONF" --once "$@" 2> "$T/relayd.err"; rc_=$?; cat "$T/relayd.err" >> "$T/all.log"; return $rc_; }
# new_log: keep relayd's log so far in $T/all.log and start it afresh.
new_log() { cat "$T/relayd.log" >> "$T/all.log"; : > "$T/relayd.log"; }
queued() { ls "$T/spool/queue" | wc -l; }
delivered_to() { n=0; for m in $(pf_messages "$T/pf"); do [ "$(pf_rcpt "$m")" = "$1" ] && n=$((n+1)); done; echo $n; }
# login_of RCPT: "METHOD USERNAME" of the login under which Postfix took the
# message relayd sent to RCPT (the queue ID from relayd's status=sent line,
# then that ID's "client=..., sasl_method=..., sasl_username=..." line).
login_of() {
  id=$(grep -F "to=<$1>," "$T/relayd.log" | grep -F "status=sent" | sed -n 's/.*queued as \([0-9A-Za-z]*\)).*/\1/p' | tail -1)
  [ -n "$id" ] && sed -n "s/.* $id: client=.*, sasl_method=\([^,]*\), sasl_username=\(.*\)\$/\1 \2/p" "$MAILLOG"
}
# no_secret FILE...: the password, and its base64 forms as PLAIN and LOGIN send them.
no_secret() {
  what=$1; shift
  if cat "$@" 2> /dev/null | grep -qF -e "$PW" -e "$PWB64" -e "$PLAINB64"; then
    bad "$what: the secret (or its base64) is in $*"
  else
    ok "$what: the secret is not in $*"
  fi
}

# 1. Each mechanism, forced with auth_mechanisms = that one.
for mech in SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN; do
  r=m-$(echo $mech | tr 'A-Z' 'a-z')@example.org
  mkconf "auth_mechanisms = $mech"
  send "$mech" "$r"
  run; rc=$?
  [ $rc = 0 ] && ok "$mech: relayd --once exit 0" || bad "$mech: relayd exit $rc: $(cat "$T/relayd.err")"
  wait_for 20 test "$(delivered_to "$r")" -ge 1
  [ "$(delivered_to "$r")" = 1 ] && ok "$mech: delivered to $r" ||
    bad "$mech: delivered $(delivered_to "$r") times; relayd: $(tail -3 "$T/relayd.log")"
  got=$(login_of "$r")
  [ "$got" = "$mech $USER_" ] && ok "$mech: Postfix took it with sasl_method=$mech, sasl_username=$USER_" ||
    bad "$mech: login '$got'"
  contains "$(pf_messages "$T/pf" | tail -1)" "with ESMTPSA id" "$mech: Received: ESMTPSA (authenticated, TLS)"
  [ "$(queued)" = 0 ] && ok "$mech: queue empty" || bad "$mech: $(queued) left in the queue"
done

# 2. USER@REALM: the sasldb realm is the instance's myhostname.
mkconf "auth_mechanisms = PLAIN" && sed -i "s/^auth_user = .*/auth_user = $USER_@$PF_SASL_REALM/" "$CONF"
send realm realm@example.org
run
wait_for 20 test "$(delivered_to realm@example.org)" -ge 1
[ "$(delivered_to realm@example.org)" = 1 ] && ok "auth_user = $USER_@$PF_SASL_REALM delivers" || bad "USER@REALM not delivered"
got=$(login_of realm@example.org)
[ "$got" = "PLAIN $USER_@$PF_SASL_REALM" ] && ok "Postfix logged sasl_username=$USER_@$PF_SASL_REALM" || bad "USER@REALM login '$got'"

# 3. -v logs the SMTP dialogue but nothing of the login, whichever mechanism.
for mech in PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5; do
  new_log
  mkconf "auth_mechanisms = $mech"
  send "verbose $mech" "v-$mech@example.org"
  run -v
  wait_for 20 test "$(delivered_to "v-$mech@example.org")" -ge 1 && ok "-v $mech: delivered" || bad "-v $mech: not delivered"
  contains "$T/relayd.log" "> MAIL FROM:<sender@example.org>" "-v $mech: the dialogue is logged"
  contains "$T/relayd.log" "(authentication data hidden)" "-v $mech: the login is logged as hidden"
  no_secret "-v $mech" "$T/relayd.log" "$T/relayd.err"
done

# 4. auth_password_command instead of the file.
cat > "$T/pwcmd" <<EOF
#!/bin/sh
printf '%s\n' '$PW'
EOF
chown 65534:65534 "$T/pwcmd"; chmod 700 "$T/pwcmd"
mkconf -auth_password_file "auth_password_command = $T/pwcmd" "auth_mechanisms = CRAM-MD5"
send command cmd@example.org
run -v
wait_for 20 test "$(delivered_to cmd@example.org)" -ge 1
[ "$(delivered_to cmd@example.org)" = 1 ] && ok "auth_password_command: delivered" ||
  bad "auth_password_command: not delivered: $(tail -3 "$T/relayd.log")"
got=$(login_of cmd@example.org)
[ "$got" = "CRAM-MD5 $USER_" ] && ok "auth_password_command: Postfix logged the CRAM-MD5 login" ||
  bad "auth_password_command: login '$got'"
no_secret "auth_password_command -v" "$T/relayd.log" "$T/relayd.err"

# 5. One login per connection: five messages, one connection, auth=1.
pf_clear "$T/pf"
mkconf "auth_mechanisms = SCRAM-SHA-256"
i=0; while [ $i -lt 5 ]; do send "five$i" "five$i@example.org"; i=$((i+1)); done
run
pf_wait_count "$T/pf" 5 30 || true
[ "$(pf_count "$T/pf")" = 5 ] && ok "five delivered" || bad "$(pf_count "$T/pf") of five delivered"
wait_for 10 grep -q 'disconnect from .* auth=1 mail=5 rcpt=5 data=5' "$MAILLOG" &&
  ok "five messages over one connection with one login (auth=1 mail=5)" ||
  bad "not one login on one connection: $(grep disconnect "$MAILLOG" | tail -3)"

# 6. Failover: nothing listens on the first smarthost.
DEAD=$(pf_free_port)
[ "$DEAD" = "$P" ] && DEAD=$((P + 1))
pf__listening "$DEAD" && bad "port $DEAD is in use"
new_log
mkconf "auth_mechanisms = PLAIN" && sed -i "s/^smarthost = .*/smarthost = localhost:$DEAD, localhost:$P/" "$CONF"
send failover fo@example.org
run; rc=$?
[ $rc = 0 ] && ok "failover: relayd exit 0" || bad "failover: relayd exit $rc: $(cat "$T/relayd.err")"
wait_for 20 test "$(delivered_to fo@example.org)" -ge 1
[ "$(delivered_to fo@example.org)" = 1 ] && ok "failover: delivered through localhost:$P" ||
  bad "failover: not delivered: $(tail -5 "$T/relayd.log")"
# The warning names host and port ("cannot use smarthost localhost:DEAD:
# localhost: connect to 127.0.0.1: Connection refused"); it comes before
# the TLS connection to :$P.
fail_line=$(grep -n "warning: cannot use smarthost localhost:$DEAD: .*Connection refused" "$T/relayd.log" | head -1 | cut -d: -f1)
tls_line=$(grep -n "TLS connection to localhost\[127.0.0.1\]:$P:" "$T/relayd.log" | head -1 | cut -d: -f1)
[ -n "$fail_line" ] && ok "failover: the first smarthost logged as failed (connection refused)" ||
  bad "failover: no failure logged for the first host: $(cat "$T/relayd.log")"
[ -n "$fail_line" ] && [ -n "$tls_line" ] && [ "$fail_line" -lt "$tls_line" ] &&
  ok "failover: the failure comes before the connection to :$P" || bad "failover: order of failure ($fail_line) and TLS ($tls_line)"
[ "$(grep -c 'cannot use smarthost' "$T/relayd.log")" = 1 ] && ok "failover: one host failed, not both" ||
  bad "failover: $(grep -c 'cannot use smarthost' "$T/relayd.log") failures"
contains "$T/relayd.log" "to=<fo@example.org>, relay=localhost[127.0.0.1]:$P" "failover: sent via the second host"
lacks "$T/relayd.log" "status=deferred" "failover: not deferred"
rm -f "$T"/spool/state/*

# 7. A wrong password: deferred, kept, listed, not bounced; then fixed.
#    (auth_mechanisms unset: the default list, of which libsasl2 picks SCRAM-SHA-256.)
new_log
mkconf
WRONG='Wr0ng-pass-xx91'
printf '%s\n' "$WRONG" > "$SECRET"
pf_clear "$T/pf"
send wrongpw wrong@example.org
run -v; rc=$?
echo "relayd --once with a wrong password: exit $rc"
contains "$T/relayd.log" "status=deferred" "wrong password: deferred"
contains "$T/relayd.log" "authentication failed" "wrong password: 'authentication failed' logged"
lacks "$T/relayd.log" "status=bounced" "wrong password: not bounced"
contains "$MAILLOG" "SASL SCRAM-SHA-256 authentication failed" "wrong password: Postfix refused the SCRAM-SHA-256 login"
[ "$(queued)" = 1 ] && ok "wrong password: message kept" || bad "wrong password: $(queued) in the queue"
"$BIN/mailq" -C "$CONF" > "$T/mailq.out" 2>&1
contains "$T/mailq.out" "wrong@example.org" "wrong password: mailq lists the message"
contains "$T/mailq.out" "authentication failed" "wrong password: mailq shows the reason"
lacks "$T/mailq.out" "MAILER-DAEMON" "wrong password: no bounce queued"
[ "$(pf_count "$T/pf")" = 0 ] && ok "wrong password: nothing delivered (no bounce to the sender)" || bad "wrong password: $(pf_count "$T/pf") delivered"
if grep -qF "$WRONG" "$T/relayd.log" "$T/relayd.err"; then bad "the wrong password is in the log"; else ok "the wrong password is not in the log"; fi
printf '%s\n' "$PW" > "$SECRET"
"$BIN/sendmail" -C "$CONF" -q 2> "$T/q.err"; rc=$?
[ $rc = 0 ] && ok "sendmail -q after the fix: exit 0" || bad "sendmail -q: exit $rc: $(cat "$T/q.err")"
wait_for 20 test "$(delivered_to wrong@example.org)" -ge 1
run; sleep 1
[ "$(delivered_to wrong@example.org)" = 1 ] && ok "fixed password: delivered exactly once" ||
  bad "fixed password: delivered $(delivered_to wrong@example.org) times"
[ "$(delivered_to sender@example.org)" = 0 ] && ok "no bounce reached the sender" || bad "a bounce reached the sender"
got=$(login_of wrong@example.org)
[ "$got" = "SCRAM-SHA-256 $USER_" ] && ok "default auth_mechanisms: libsasl2 chose SCRAM-SHA-256" ||
  bad "default auth_mechanisms: login '$got'"
[ "$(queued)" = 0 ] && ok "fixed password: queue empty" || bad "fixed password: $(queued) left"

# 8. A password file that others can read: relayd refuses to start.
chmod 644 "$SECRET"
send mode644 m644@example.org
"$BIN/relayd" -C "$CONF" --once > "$T/out644" 2>&1; rc=$?
[ $rc = 78 ] && ok "mode 644: relayd exits 78" || bad "mode 644: relayd exit $rc"
cat "$T/out644" >> "$T/all.log"
cat "$T/relayd.log" >> "$T/out644"
contains "$T/out644" "chmod 600 $SECRET" "mode 644: the message names chmod 600 $SECRET"
[ "$(delivered_to m644@example.org)" = 0 ] && ok "mode 644: nothing sent" || bad "mode 644: sent anyway"
chmod 600 "$SECRET"
run
wait_for 20 test "$(delivered_to m644@example.org)" -ge 1 && ok "mode 600 again: delivered" || bad "mode 600 again: not delivered"

# 9. An ordinary user: its own instance (same configuration, its own spool
#    and log), sendmail and mailq work; the password file (uid 65534, mode
#    600) stays closed to it.
mkdir -p "$T/u/spool/tmp" "$T/u/spool/queue" "$T/u/spool/state" "$T/u/spool/failed" "$T/u/spool/corrupt"
sed -e "s|^spool_dir = .*|spool_dir = $T/u/spool|" -e "s|^log = .*|log = $T/u/relayd.log|" "$CONF" > "$T/u/relay.conf"
chmod 700 "$T/u/spool" "$T/u/spool"/*
chmod 644 "$T/u/relay.conf"
chown -R "$U:$U" "$T/u"
as_user() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
[ "$(stat -c '%u %a' "$SECRET")" = "65534 600" ] && ok "the password file is uid 65534, mode 600" || bad "password file: $(stat -c '%u %a' "$SECRET")"
as_user cat "$SECRET" > "$T/cat.out" 2>&1 && bad "uid $U can read the password file" ||
  contains "$T/cat.out" "Permission denied" "uid $U: cat of the password file fails"
printf 'Subject: from a user\n\nbody\n' |
  as_user "$BIN/sendmail" -C "$T/u/relay.conf" -i user-rcpt@example.org > "$T/u.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "uid $U: sendmail -C its own instance exits 0" || bad "uid $U: sendmail exit $rc: $(cat "$T/u.out")"
[ "$(ls "$T/u/spool/queue" | wc -l)" = 1 ] && ok "uid $U: one message queued" || bad "uid $U: $(ls "$T/u/spool/queue" | wc -l) queued"
as_user "$BIN/mailq" -C "$T/u/relay.conf" > "$T/umq.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "uid $U: mailq exits 0" || bad "uid $U: mailq exit $rc: $(cat "$T/umq.out")"
contains "$T/umq.out" "user-rcpt@example.org" "uid $U: mailq lists the recipient"
contains "$T/umq.out" "1 Request" "uid $U: mailq counts one request"
no_secret "uid $U's sendmail and mailq" "$T/u.out" "$T/umq.out"

# The secret in none of relayd's logs and standard errors of the whole test.
new_log
no_secret "whole test" "$T/all.log" "$T/q.err"
grep -c . "$T/all.log" | sed 's/^/(relayd wrote /; s/$/ log lines in all)/'
finish
