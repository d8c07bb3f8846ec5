#!/bin/sh
# The smarthost secret as a systemd credential (relay.conf(5), CREDENTIALS),
# and `relayctl test` against a real smarthost. Postfix with Cyrus SASL
# (postfix_harness.sh, sasl= authrequired: nothing is relayed without a
# login). CREDENTIALS_DIRECTORY is set the way systemd sets it for
# LoadCredential=: a directory only the service user (here 65534, the
# spool's owner) can read, mode 0500, holding the file mode 0400.
# Shows: auth_password_file = %d/smarthost logs in and delivers, through
# relayd --once and through the daemon's own runs; the secret is in no log
# line, in no argument and in no environment of relayd or what it runs;
# without the variable relayd, relay-deliver and relayctl test stop with
# exit 78 and one line naming it, relayctl check lists it, and sendmail
# still queues; a credential file others could read is refused.
# relayctl test: a healthy smarthost (exit 0), a wrong password and a
# certificate from the wrong CA (exit 69, one FAILED line each).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances and to switch users"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }
[ -x /usr/sbin/saslpasswd2 ] || { echo "SKIP: saslpasswd2 missing (sasl2-bin)"; exit 77; }
ls /usr/lib/*/sasl2/libsasldb.so > /dev/null 2>&1 ||
  { echo "SKIP: the Cyrus sasldb plugin is missing (libsasl2-modules-db)"; exit 77; }

USER_=relayuser
PW='Cr3dential-zq7-Secret'
PWB64=$(printf '%s' "$PW" | base64 -w0)
PLAINB64=$(printf '\0%s\0%s' "$USER_" "$PW" | base64 -w0)

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
chmod -R a+rX "$T/ca"
P=$(pf_free_port)
pf_start "$T/pf" "$P" "sasl=$USER_:$PW" authrequired || { bad "postfix did not start"; finish; }
MAILLOG=$(pf_log "$T/pf")

relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
# The credential, as systemd lays it out for User=relay.
CRED=$T/credentials/relayd.service
mkdir -p "$CRED"
printf '%s\n' "$PW" > "$CRED/smarthost"
chown 65534:65534 "$CRED" "$CRED/smarthost"
chmod 0400 "$CRED/smarthost"; chmod 0500 "$CRED"
chmod 755 "$T/credentials"
cat >> "$CONF" <<CONF
smarthost = localhost:$P
tls_ca_file = $T/ca/ca.pem
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
auth_user = $USER_
auth_password_file = %d/smarthost
CONF
chmod 644 "$CONF"

send() { subj=$1; shift; printf 'Subject: %s\n\n%s body\n' "$subj" "$subj" | "$BIN/sendmail" -C "$CONF" -i -f sender@example.org "$@"; }
queued() { ls "$T/spool/queue" | wc -l; }
delivered_to() { n=0; for m in $(pf_messages "$T/pf"); do [ "$(pf_rcpt "$m")" = "$1" ] && n=$((n+1)); done; echo $n; }
login_of() {
  id=$(grep -F "to=<$1>," "$T/relayd.log" | grep -F "status=sent" | sed -n 's/.*queued as \([0-9A-Za-z]*\)).*/\1/p' | tail -1)
  [ -n "$id" ] && sed -n "s/.* $id: client=.*, sasl_method=\([^,]*\), sasl_username=\(.*\)\$/\1 \2/p" "$MAILLOG"
}
no_secret() {
  what=$1; shift
  if cat "$@" 2> /dev/null | grep -qaF -e "$PW" -e "$PWB64" -e "$PLAINB64"; then
    bad "$what: the secret (or its base64) is in $*"
  else
    ok "$what: the secret is not in $*"
  fi
}
# one_line FILE DESCRIPTION: FILE holds exactly one line.
one_line() { [ "$(grep -c . "$1")" = 1 ] && ok "$2: one line" || bad "$2: $(grep -c . "$1") lines: $(cat "$1")"; }

# 1. relayd --once with the variable: logs in with the credential.
send cred-once once@example.org
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayd" -C "$CONF" --once -v > "$T/once.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "%d/smarthost: relayd --once exit 0" || bad "%d/smarthost: relayd exit $rc: $(cat "$T/once.out")"
wait_for 20 test "$(delivered_to once@example.org)" -ge 1
[ "$(delivered_to once@example.org)" = 1 ] && ok "%d/smarthost: delivered through the Postfix that requires AUTH" ||
  bad "%d/smarthost: not delivered: $(tail -3 "$T/relayd.log")"
got=$(login_of once@example.org)
case $got in *" $USER_") ok "Postfix logged the login of $USER_ ($got)" ;; *) bad "login '$got'" ;; esac
no_secret "relayd --once -v" "$T/relayd.log" "$T/once.out"

# 2. The daemon: the runs it starts get the variable too. relayd runs as
#    the spool's owner; its argv and environment, and those of its
#    children while they live, never hold the secret.
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayd" -C "$CONF" > "$T/daemon.out" 2>&1 &
RD=$!
: > "$T/procs"
# snap: argv and environment of every process that has the variable
# (relayd and whatever it runs).
snap() {
  for p in /proc/[0-9]*; do
    grep -qaF "CREDENTIALS_DIRECTORY=$CRED" "$p/environ" 2>/dev/null || continue
    { tr '\0' '\n' < "$p/cmdline"; tr '\0' '\n' < "$p/environ"; echo "comm=$(cat "$p/comm")"; } >> "$T/procs" 2>/dev/null
  done
}
send cred-daemon daemon@example.org
i=0; while [ $i -lt 100 ] && [ "$(delivered_to daemon@example.org)" = 0 ]; do snap; sleep 0.1; i=$((i+1)); done
[ "$(delivered_to daemon@example.org)" = 1 ] && ok "daemon: delivered with the credential" || bad "daemon: not delivered: $(tail -3 "$T/relayd.log")"
snap
contains "$T/procs" "CREDENTIALS_DIRECTORY=$CRED" "daemon: relayd has the variable (the directory, not the secret)"
no_secret "daemon: argv and environment of relayd and its children" "$T/procs"
kill "$RD"; wait "$RD" 2>/dev/null
no_secret "daemon's log and standard error" "$T/relayd.log" "$T/daemon.out"
# A delivery run caught while it holds the secret: tests/fault_server.py
# as the smarthost (AUTH PLAIN without TLS, on a loopback port below 1024,
# the only place relay sends it in the clear) answers RCPT 3 s late, after
# the login.
cp "$CONF" "$T/pf.conf"
FS_PORT=$(free_low_port) fault_smarthost "$T/fs.log" '{"ehlo": {"capabilities": ["PIPELINING", "AUTH PLAIN", "ENHANCEDSTATUSCODES"]},
  "rcpt": {"default": {"reply": "250 2.1.5 Ok", "delay": 3}}}' || finish
printf 'auth_without_tls = yes\nauth_mechanisms = PLAIN\n' >> "$CONF"
: > "$T/procs"
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayd" -C "$CONF" > "$T/daemon.out" 2>&1 &
RD=$!
send cred-slow slow@example.org
i=0; while [ $i -lt 100 ] && ! grep -q '"end_of_data"' "$T/fs.log"; do snap; sleep 0.1; i=$((i+1)); done
kill "$RD"; wait "$RD" 2>/dev/null
contains "$T/fs.log" "$PLAINB64" "slow smarthost: the delivery run logged in with the credential"
contains "$T/procs" "comm=relay-deliver" "slow smarthost: the delivery run was seen, with the variable"
no_secret "slow smarthost: argv and environment of relayd and its delivery run" "$T/procs"
kill "$fs"; wait "$fs" 2>/dev/null; fs=
cp "$T/pf.conf" "$CONF"

# 3. Without the variable: a clear stop, exit 78, one line naming it.
send cred-missing missing@example.org
[ "$(queued)" = 1 ] && ok "sendmail queues without the variable (it never reads the secret)" || bad "sendmail did not queue: $(queued)"
for prog in relayd relay-deliver; do
  env -u CREDENTIALS_DIRECTORY "$BIN/$prog" -C "$CONF" --once > "$T/missing.out" 2>&1; rc=$?
  [ $rc = 78 ] && ok "no CREDENTIALS_DIRECTORY: $prog exits 78" || bad "no CREDENTIALS_DIRECTORY: $prog exit $rc: $(cat "$T/missing.out")"
  one_line "$T/missing.out" "no CREDENTIALS_DIRECTORY: $prog"
  contains "$T/missing.out" "auth_password_file %d/smarthost: \$CREDENTIALS_DIRECTORY is not set" "$prog names the variable"
  contains "$T/missing.out" "LoadCredential=smarthost:" "$prog says how to set it"
done
CREDENTIALS_DIRECTORY=run/relative "$BIN/relayd" -C "$CONF" --once > "$T/rel.out" 2>&1; rc=$?
[ $rc = 78 ] && ok "a relative CREDENTIALS_DIRECTORY: exit 78" || bad "relative CREDENTIALS_DIRECTORY: exit $rc"
contains "$T/rel.out" "is not an absolute path" "a relative CREDENTIALS_DIRECTORY is named"
env -u CREDENTIALS_DIRECTORY "$BIN/relayctl" -C "$CONF" check > "$T/check.out" 2>&1; rc=$?
[ $rc = 78 ] && ok "relayctl check without the variable: exit 78" || bad "relayctl check: exit $rc: $(cat "$T/check.out")"
contains "$T/check.out" "\$CREDENTIALS_DIRECTORY is not set" "relayctl check lists the missing variable"
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayctl" -C "$CONF" check > "$T/check.out" 2>&1; rc=$?
contains "$T/check.out" "secret   $CRED/smarthost: ok" "relayctl check with the variable: the credential is ok"
[ "$(delivered_to missing@example.org)" = 0 ] && ok "nothing sent without the variable" || bad "sent without the variable"

# 4. A credential others could read (not as systemd makes it): refused.
chmod 0444 "$CRED/smarthost"
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayd" -C "$CONF" --once > "$T/mode.out" 2>&1; rc=$?
[ $rc = 78 ] && ok "credential mode 0444: exit 78" || bad "credential mode 0444: exit $rc: $(cat "$T/mode.out")"
contains "$T/mode.out" "chmod 600 $CRED/smarthost" "credential mode 0444: names the chmod"
chmod 0400 "$CRED/smarthost"
CREDENTIALS_DIRECTORY=$CRED "$BIN/relayd" -C "$CONF" --once > "$T/again.out" 2>&1
wait_for 20 test "$(delivered_to missing@example.org)" -ge 1 && ok "mode 0400 again: the message goes" || bad "mode 0400 again: not delivered"

# 5. relayctl test: healthy, wrong password, wrong certificate. Run as the
#    root (relayctl test becomes the spool's owner, as relayd does).
RT() { CREDENTIALS_DIRECTORY=$CRED "$BIN/relayctl" -C "$1" test -f sender@example.org probe@example.org > "$T/rt.out" 2>&1; }
RT "$CONF"; rc=$?
[ $rc = 0 ] && ok "relayctl test, healthy smarthost: exit 0" || bad "relayctl test healthy: exit $rc: $(cat "$T/rt.out")"
contains "$T/rt.out" "== localhost works: mail to probe@example.org would be accepted" "relayctl test healthy: says it works"
contains "$T/rt.out" "ok as $USER_" "relayctl test healthy: logged in"
lacks "$T/rt.out" "FAILED" "relayctl test healthy: no FAILED step"
no_secret "relayctl test" "$T/rt.out"
# A wrong password: the login fails, one FAILED line says so.
WCRED=$T/credentials/wrong
mkdir -p "$WCRED"; printf 'Wr0ng-pass-xx91\n' > "$WCRED/smarthost"
chown -R 65534:65534 "$WCRED"; chmod 0400 "$WCRED/smarthost"; chmod 0500 "$WCRED"
CREDENTIALS_DIRECTORY=$WCRED "$BIN/relayctl" -C "$CONF" test -f sender@example.org probe@example.org > "$T/rt.out" 2>&1; rc=$?
[ $rc = 69 ] && ok "relayctl test, wrong password: exit 69" || bad "relayctl test wrong password: exit $rc: $(cat "$T/rt.out")"
grep FAILED "$T/rt.out" > "$T/failed"
one_line "$T/failed" "relayctl test, wrong password: FAILED"
contains "$T/failed" "authentication failed" "relayctl test, wrong password: the line says authentication failed"
lacks "$T/rt.out" "would be accepted" "relayctl test, wrong password: does not claim it works"
# A server certificate from another CA: TLS fails before any login.
sed "s|^tls_ca_file = .*|tls_ca_file = $T/ca/wrongca.pem|" "$CONF" > "$T/wrongca.conf"; chmod 644 "$T/wrongca.conf"
RT "$T/wrongca.conf"; rc=$?
[ $rc = 69 ] && ok "relayctl test, wrong certificate: exit 69" || bad "relayctl test wrong certificate: exit $rc: $(cat "$T/rt.out")"
grep FAILED "$T/rt.out" > "$T/failed"
one_line "$T/failed" "relayctl test, wrong certificate: FAILED"
contains "$T/failed" "certificate verification failed" "relayctl test, wrong certificate: the line names the certificate"
lacks "$T/rt.out" "ok as $USER_" "relayctl test, wrong certificate: no login"
# Without the variable, relayctl test stops at the secret with exit 78.
env -u CREDENTIALS_DIRECTORY "$BIN/relayctl" -C "$CONF" test probe@example.org > "$T/rt.out" 2>&1; rc=$?
[ $rc = 78 ] && ok "relayctl test without the variable: exit 78" || bad "relayctl test without the variable: exit $rc: $(cat "$T/rt.out")"
contains "$T/rt.out" "\$CREDENTIALS_DIRECTORY is not set" "relayctl test without the variable: names it"

no_secret "the whole test's relayd log" "$T/relayd.log"
finish
