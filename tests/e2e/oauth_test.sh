#!/bin/sh
# OAuth 2.0 inside relay-deliver (issue 17), against stand-ins on loopback:
# tests/oauth_provider.py (a token endpoint over HTTPS with its own CA,
# rotating refresh tokens, each usable once, access tokens living 2 s) and
# tests/fault_server.py --oauth-tokens (a smarthost that checks XOAUTH2 and
# OAUTHBEARER tokens against the provider's live ones and answers a stale
# one as Gmail does: 334 + base64 JSON, then 535 5.7.8).
#   1. 300 messages in 20 runs, each after the access token expired: all
#      delivered, none bounced, 20+ refreshes, each refresh token used once.
#   2. A token the smarthost refuses (334 + JSON): answered with an empty
#      line, refreshed, AUTH again in the same session, delivered.
#   3. invalid_grant and a token endpoint that is down: the mail waits
#      (deferred, never bounced), one log line names the fix; then it goes.
#   4. relay-deliver SIGKILLed after the provider rotated the refresh token
#      and before relay stored it (the provider spends the old token, makes
#      the new one and never answers: to relay, the same as dying between
#      the answer and the write): the next run says what to do, the mail
#      waits; with Microsoft-like reuse grace it delivers.
#   5. Two runs at once (two spools, one token store): no refresh token
#      used twice, the store holds the newest one.
#   6. No token in any log, in /proc/PID/cmdline or environ of a live
#      relay-deliver, or in relayctl's output. Only relay-https-post
#      links libcurl.
# No clock is read for a pass mark: waits are hang guards (wait_for).
. "$(dirname "$0")/lib.sh"
FS="/usr/bin/python3 $RELAY_SRC/tests/fault_server.py"
PROVIDER="/usr/bin/python3 $RELAY_SRC/tests/oauth_provider.py"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the spool belongs to nobody, relay-deliver drops to it)"; exit 77; }

# 6b. The link sets: libcurl only in relay-https-post (https_post.h).
if ldd "$BIN/sendmail" "$BIN/relayd" "$BIN/relay-deliver" "$BIN/relayctl" | grep -q libcurl; then bad "sendmail, relayd, relay-deliver or relayctl links libcurl"; else ok "sendmail, relayd, relay-deliver and relayctl do not link libcurl"; fi
ldd "$BIN/relay-https-post" | grep -q libcurl && ok "relay-https-post links libcurl (the token endpoint POST)" || bad "relay-https-post does not link libcurl"

# A CA, and one certificate for 127.0.0.1/localhost signed by it, for the
# provider and the smarthost.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=relay test CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null &&
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null &&
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$T/ext" &&
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 -extfile "$T/ext" \
  -out "$T/srv.pem" 2>/dev/null || { echo "SKIP: openssl cannot make test certificates"; exit 77; }
chmod 644 "$T/ca.pem" "$T/srv.pem"

P=$T/prov; mkdir -p "$P"
$PROVIDER --port 0 --cert "$T/srv.pem" --key "$T/srv.key" --dir "$P" --ready-file "$P/port" \
  --access-ttl 2 --client-secret cs-secret-value --max-seconds 550 &
prov=$!
fs=
trap 'kill $prov $fs 2>/dev/null; rm -rf "$T"' EXIT
wait_for 15 test -s "$P/port" || { bad "the provider did not start"; finish; }
PPORT=$(cat "$P/port")
$FS --port 0 --ready-file "$T/fs.ready" --log "$T/fs.log" --max-seconds 550 --tls-cert "$T/srv.pem" \
  --tls-key "$T/srv.key" --oauth-tokens "$P/access-tokens" \
  --script-inline '{"ehlo": {"capabilities": ["PIPELINING", "STARTTLS", "AUTH XOAUTH2 OAUTHBEARER", "ENHANCEDSTATUSCODES"]}}' &
fs=$!
wait_for 15 test -s "$T/fs.ready" || { bad "the smarthost did not start"; finish; }

STORE=$T/spool/state/oauth-tokens.json
cat >> "$CONF" <<CONF
log = $T/relay.log
smarthost = localhost:$(cat "$T/fs.ready") starttls
tls_ca_file = $T/ca.pem
auth_user = me@x.test
auth_mechanisms = XOAUTH2
oauth_token_file = $STORE
oauth_token_endpoint = https://localhost:$PPORT/organizations/oauth2/v2.0/token
oauth_ca_file = $T/ca.pem
oauth_refresh_ahead = 0
timeout_oauth = 3s
max_connections = 2
max_messages_per_connection = 5
retry_min = 1h
retry_max = 2h
CONF
relay_private_spool
: > "$T/relay.log"; chown 65534 "$T/relay.log"

# write_store FILE REFRESH-TOKEN [ACCESS-TOKEN EXPIRY]: a store as
# relayctl oauth would leave it, 0600 and the spool owner's.
write_store() {
  /usr/bin/python3 - "$@" <<'EOF'
import json, os, sys
path, rt = sys.argv[1], sys.argv[2]
e = {"provider": "microsoft365", "kind": "refresh", "client_id": "relay-test-client",
     "client_secret": "cs-secret-value", "refresh_token": rt, "refresh_token_issued": 1}
if len(sys.argv) > 4:
    e["access_token"], e["access_expiry"] = sys.argv[3], int(sys.argv[4])
with open(path, "w") as f:
    json.dump({"version": 1, "tokens": {"default": e}}, f)
EOF
  chown 65534 "$1"; chmod 600 "$1"
}
store_field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"]["default"].get(sys.argv[2], ""))' "$1" "$2"; }
expired() { [ "$(store_field "$STORE" access_expiry)" -lt "$(date +%s)" ]; }
control() { printf '%s\n' "$1" > "$P/control"; }
queued() { ls "$T/spool/queue" | wc -l; }
count() { n=$(grep -c -- "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
queue_mail() { # N TAG
  i=0; while [ $i -lt "$1" ]; do
    printf 'Subject: %s %s\n\nbody\n' "$2" $i | "$BIN/sendmail" -C "$CONF" -i -f me@x.test "r$i@x.test" || bad "sendmail $2 $i"
    i=$((i + 1)); done
}
# --flush: every entry now, not only those due (a deferral waits retry_min).
run() { "$BIN/relayd" -C "$CONF" --flush 2>> "$T/relay.err"; }

write_store "$STORE" "$(cat "$P/seed-refresh-token")"

# 1. 300 messages across 20 expiries.
batch=0
while [ $batch -lt 20 ]; do
  queue_mail 15 "batch$batch"
  # The access token from the last run must have expired first (2 s).
  [ $batch = 0 ] || wait_for 10 expired || bad "batch $batch: the token never expired"
  run
  batch=$((batch + 1))
done
sent=$(count "$T/relay.log" "status=sent")
[ "$sent" = 300 ] && ok "300 messages delivered" || bad "$sent of 300 delivered: $(grep -v status=sent "$T/relay.log" | tail -3)"
[ "$(count "$T/fs.log" '"event": "message"')" = 300 ] && ok "the smarthost got 300 messages" || bad "the smarthost got $(count "$T/fs.log" '"event": "message"')"
[ "$(queued)" = 0 ] && ok "nothing left in the queue (0 lost)" || bad "$(queued) left in the queue"
lacks "$T/relay.log" "status=bounced" "nothing bounced"
refreshes=$(count "$P/log" '"grant": "refresh_token", "ok": true')
[ "$refreshes" -ge 20 ] && ok "$refreshes refreshes (at least 20 token expiries)" || bad "only $refreshes refreshes"
[ "$(count "$P/log" '"event": "reuse"')" = 0 ] && ok "no refresh token used twice" || bad "a refresh token was reused"
dups=$(grep '"grant": "refresh_token", "ok": true' "$P/log" | sed 's/.*"rt_in": "\([0-9a-f]*\)".*/\1/' | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && ok "each refresh token presented once" || bad "$dups refresh tokens presented more than once"
[ "$(count "$T/relay.log" "refresh token rotated and saved")" = "$refreshes" ] && ok "each refresh logged (no token)" || bad "refresh log lines: $(count "$T/relay.log" "refresh token rotated")"
[ "$(count "$T/fs.log" '"result": "ok"')" -ge 60 ] && ok "every login checked against the provider" || bad "logins: $(count "$T/fs.log" '"result": "ok"')"
mode=$(stat -c %a:%u "$STORE")
[ "$mode" = 600:65534 ] && ok "the store stays 0600, the spool owner's" || bad "the store is $mode"

# 2. A token the smarthost refuses: 334 + JSON, empty answer, refresh, AUTH again.
write_store "$STORE" "$(store_field "$STORE" refresh_token)" at-not-known-to-the-provider 4000000000
: > "$T/fs.log.2"; cp "$T/fs.log" "$T/fs.before"
queue_mail 1 stale
run
[ "$(queued)" = 0 ] && ok "stale token: delivered after one refresh" || bad "stale token: not delivered: $(tail -2 "$T/relay.log")"
tail -n +"$(($(wc -l < "$T/fs.before") + 1))" "$T/fs.log" > "$T/fs.new"
contains "$T/fs.new" '"result": "unknown", "answer_ok": true' "stale token: the 334 challenge answered with an empty line"
contains "$T/fs.new" '"result": "ok"' "stale token: the second AUTH in the same session passed"
[ "$(grep -c '"event": "connect"' "$T/fs.new")" = 1 ] && ok "stale token: one connection" || bad "stale token: $(grep -c '"event": "connect"' "$T/fs.new") connections"

# 2b. The same with OAUTHBEARER (RFC 7628: the error is answered with ^A).
sed -i 's/^auth_mechanisms = .*/auth_mechanisms = OAUTHBEARER/' "$CONF"
write_store "$STORE" "$(store_field "$STORE" refresh_token)" at-not-known-either 4000000000
cp "$T/fs.log" "$T/fs.before"
queue_mail 1 bearer
run
[ "$(queued)" = 0 ] && ok "OAUTHBEARER stale token: delivered after one refresh" || bad "OAUTHBEARER: not delivered: $(tail -2 "$T/relay.log")"
tail -n +"$(($(wc -l < "$T/fs.before") + 1))" "$T/fs.log" > "$T/fs.new"
contains "$T/fs.new" '"mechanism": "OAUTHBEARER", "result": "unknown", "answer_ok": true' "OAUTHBEARER: the error answered with ^A"
contains "$T/fs.new" '"mechanism": "OAUTHBEARER", "result": "ok"' "OAUTHBEARER: the second AUTH passed"
sed -i 's/^auth_mechanisms = .*/auth_mechanisms = XOAUTH2/' "$CONF"

# 3a. invalid_grant: the mail waits, one line names the fix.
control '{"mode": "invalid_grant"}'
write_store "$STORE" "$(store_field "$STORE" refresh_token)"
queue_mail 3 grant
: > "$T/relay.log"
run
[ "$(queued)" = 3 ] && ok "invalid_grant: the mail waits" || bad "invalid_grant: $(queued) queued"
lacks "$T/relay.log" "status=bounced" "invalid_grant: nothing bounced"
contains "$T/relay.log" "status=deferred" "invalid_grant: deferred"
contains "$T/relay.log" "AADSTS700082" "invalid_grant: the provider's reason logged"
contains "$T/relay.log" "run relayctl oauth login" "invalid_grant: the log names the fix"
# 3b. The endpoint down: waits; back up: goes.
control '{"mode": "down"}'
: > "$T/relay.log"
run
[ "$(queued)" = 3 ] && ok "endpoint down: the mail waits" || bad "endpoint down: $(queued) queued"
contains "$T/relay.log" "token endpoint unreachable" "endpoint down: logged"
lacks "$T/relay.log" "status=bounced" "endpoint down: nothing bounced"
control '{"mode": "slow", "seconds": 5, "drop": true}'
: > "$T/relay.log"
run
[ "$(queued)" = 3 ] && ok "endpoint too slow (timeout_oauth): the mail waits" || bad "slow endpoint: $(queued) queued"
contains "$T/relay.log" "Timeout was reached" "slow endpoint: the timeout logged"
# The provider has dropped every slow request before it comes back.
wait_for 30 sh -c "[ \$(grep -c slow_done \"$P/log\") = \$(grep -c slow_start \"$P/log\") ]" || bad "slow requests never ended"
control '{"mode": "ok"}'
wait_for 30 sh -c "\"$BIN/relayd\" -C \"$CONF\" --flush; [ \$(ls \"$T/spool/queue\" | wc -l) = 0 ]" \
  && ok "endpoint back: the waiting mail went" || bad "endpoint back: $(queued) still queued"

# 4. SIGKILL between the rotation and the store.
control '{"mode": "hang_after_rotate"}'
rt_before=$(store_field "$STORE" refresh_token)
write_store "$STORE" "$rt_before"
queue_mail 2 kill
: > "$T/relay.log"
"$BIN/relayd" -C "$CONF" --flush 2>> "$T/relay.err" &
rd=$!
if wait_for 20 grep -q '"event": "hang"' "$P/log"; then
  ok "kill: the provider rotated and hangs"
  # 6a. The live relay-deliver: no token in its argv or environment.
  tr '\0' '\n' < "/proc/$rd/cmdline" > "$T/cmdline"; tr '\0' '\n' < "/proc/$rd/environ" > "$T/environ"
  grep -c . "$T/cmdline" >/dev/null && ok "kill: read relay-deliver's cmdline" || bad "kill: no cmdline"
  grep -qF -f "$P/issued-tokens" "$T/cmdline" "$T/environ" && bad "a token in relay-deliver's argv or environment" || ok "no token in relay-deliver's argv or environment"
  # Not dumpable (no core, no ptrace by the relay user): the kernel then
  # gives its /proc files to root although it runs as nobody.
  [ "$(stat -c %u "/proc/$rd/environ")" = 0 ] && [ "$(awk '/^Uid:/ {print $2}' "/proc/$rd/status")" = 65534 ] \
    && ok "relay-deliver is not dumpable (no core with tokens)" || bad "relay-deliver is dumpable: $(stat -c %u "/proc/$rd/environ")"
  kill -9 $rd
else
  bad "kill: the provider never hung"; kill -9 $rd
fi
wait $rd 2>/dev/null
[ "$(store_field "$STORE" refresh_token)" = "$rt_before" ] && ok "kill: the store still has the spent token" || bad "kill: the store changed"
control '{"mode": "ok"}'
: > "$T/relay.log"
run
[ "$(queued)" = 2 ] && ok "after the kill: the mail waits" || bad "after the kill: $(queued) queued"
contains "$T/relay.log" "run relayctl oauth login" "after the kill: the log says what to do"
lacks "$T/relay.log" "status=bounced" "after the kill: nothing bounced"
# The same with reuse grace (as Microsoft leaves an old refresh token
# valid): the next run delivers.
control '{"mode": "hang_after_rotate", "reuse_grace": true}'
# The store gets the refresh token the first kill lost (never used).
write_store "$STORE" "$(grep '^rt-' "$P/issued-tokens" | tail -1)"
"$BIN/relayd" -C "$CONF" --flush 2>> "$T/relay.err" &
rd=$!
wait_for 20 sh -c "[ \$(grep -c '\"event\": \"hang\"' \"$P/log\") -ge 2 ]" || bad "grace: no second hang"
kill -9 $rd; wait $rd 2>/dev/null
control '{"mode": "ok", "reuse_grace": true}'
: > "$T/relay.log"
run
[ "$(queued)" = 0 ] && ok "after the kill, with reuse grace: delivered" || bad "grace: $(queued) queued: $(tail -2 "$T/relay.log")"
control '{"mode": "ok"}'

# 5. Two runs at once, two spools, one store.
cp -a "$T/spool" "$T/spool2"; rm -f "$T"/spool2/queue/* "$T"/spool2/state/[0-9A-F]*
sed "s#^spool_dir = .*#spool_dir = $T/spool2#" "$CONF" > "$T/relay2.conf"
write_store "$STORE" "$(store_field "$STORE" refresh_token)"
queue_mail 10 twoA
i=0; while [ $i -lt 10 ]; do printf 'Subject: twoB\n\nb\n' | "$BIN/sendmail" -C "$T/relay2.conf" -i -f me@x.test b$i@x.test; i=$((i+1)); done
reuse_before=$(count "$P/log" '"event": "reuse"')
grants_before=$(count "$P/log" '"grant": "refresh_token", "ok": true')
"$BIN/relayd" -C "$CONF" --flush 2>> "$T/relay.err" & a=$!
"$BIN/relayd" -C "$T/relay2.conf" --flush 2>> "$T/relay.err" & b=$!
wait $a; wait $b
[ "$(queued)" = 0 ] && [ "$(ls "$T/spool2/queue" | wc -l)" = 0 ] && ok "two runs: both delivered" || bad "two runs: $(queued) + $(ls "$T/spool2/queue" | wc -l) queued: $(tail -3 "$T/relay.log")"
[ "$(count "$P/log" '"event": "reuse"')" = "$reuse_before" ] && ok "two runs: no refresh token used twice" || bad "two runs: a refresh token was reused"
newest=$(grep '"grant": "refresh_token", "ok": true' "$P/log" | tail -1 | sed 's/.*"rt_out": "\([0-9a-f]*\)".*/\1/')
stored=$(store_field "$STORE" refresh_token | tr -d '\n' | sha256sum | cut -c1-12)
[ "$newest" = "$stored" ] && ok "two runs: the store holds the newest refresh token" || bad "two runs: stored $stored, newest $newest"
[ "$(count "$P/log" '"grant": "refresh_token", "ok": true')" -gt "$grants_before" ] && ok "two runs: refreshed" || bad "two runs: no refresh"

# 5b. relayctl status, check and test show the token's state, never a token.
HOSTKEY=localhost:$(cat "$T/fs.ready")
"$BIN/relayctl" -C "$CONF" status > "$T/status.out" 2>&1
contains "$T/status.out" "oauth $HOSTKEY: access token" "status: the token's line"
contains "$T/status.out" "last refresh" "status: the last refresh"
"$BIN/relayctl" -C "$CONF" status --json > "$T/status.json" 2>&1
/usr/bin/python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["smarthosts"][0]["token"]; assert h["expiry"] > 0 and h["last_refresh"] > 0 and h["problem"] == "", h' "$T/status.json" \
  && ok "status --json: expiry, last refresh, no problem" || bad "status --json: $(cat "$T/status.json")"
"$BIN/relayctl" -C "$CONF" check > "$T/check.out" 2>&1 && ok "check: passes" || bad "check: $(cat "$T/check.out")"
contains "$T/check.out" "oauth    $STORE: ok" "check: the store checked"
chmod 644 "$STORE"
"$BIN/relayctl" -C "$CONF" check > "$T/check.bad" 2>&1 && bad "check: a 0644 store passes" || ok "check: a 0644 store fails"
contains "$T/check.bad" "run chmod 600 $STORE" "check: names the chmod"
chmod 600 "$STORE"
grants_before=$(count "$P/log" '"grant": "refresh_token", "ok": true')
"$BIN/relayctl" -C "$CONF" test someone@x.test > "$T/test.out" 2>&1 && ok "test: passes" || bad "test: $(tail -3 "$T/test.out")"
[ "$(count "$P/log" '"grant": "refresh_token", "ok": true')" -gt "$grants_before" ] && ok "test: a live refresh" || bad "test: no refresh"
contains "$T/test.out" "refreshed the access token" "test: shows the refresh"
contains "$T/test.out" "235" "test: AUTH passed"
# A Google token in its sixth day: a warning ahead of the 7-day cliff.
/usr/bin/python3 - "$STORE" <<'EOF'
import json, sys, time
d = json.load(open(sys.argv[1])); e = d["tokens"]["default"]
e["provider"] = "gmail"; e["refresh_token_issued"] = int(time.time()) - 6 * 86400 - 60
json.dump(d, open(sys.argv[1], "w"))
EOF
run
"$BIN/relayctl" -C "$CONF" status > "$T/status.warn" 2>&1
contains "$T/status.warn" "WARNING: the refresh token is 6 days old: Google revokes it on day 7" "status: a warning ahead of Google's 7 days"
"$BIN/relayctl" -C "$CONF" status --json > "$T/status.warn.json" 2>&1
contains "$T/status.warn.json" "Google revokes it on day 7" "status --json: the warning"
# invalid_grant shows as the token's problem in status.
control '{"mode": "invalid_grant"}'
/usr/bin/python3 - "$STORE" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["tokens"]["default"]["access_expiry"] = 1
json.dump(d, open(sys.argv[1], "w"))
EOF
queue_mail 1 problem
run
"$BIN/relayctl" -C "$CONF" status > "$T/status.problem" 2>&1
contains "$T/status.problem" "PROBLEM: token endpoint: invalid_grant" "status: the token's problem"
contains "$T/status.problem" "run relayctl oauth login" "status: the fix"
control '{"mode": "ok"}'
run
"$BIN/relayctl" -C "$CONF" status > "$T/status.fixed" 2>&1
lacks "$T/status.fixed" "PROBLEM" "status: the problem cleared once a refresh worked"

# 5c. App-only (client_credentials, Microsoft 365): no refresh token at all.
cp "$STORE" "$T/store.keep"
/usr/bin/python3 - "$STORE" <<'EOF'
import json, sys
e = {"provider": "microsoft365", "kind": "client_credentials", "client_id": "relay-test-client",
     "client_secret": "cs-secret-value", "tenant": "contoso.onmicrosoft.com",
     "scope": "https://outlook.office365.com/.default"}
json.dump({"version": 1, "tokens": {"default": e}}, open(sys.argv[1], "w"))
EOF
queue_mail 2 apponly
run
[ "$(queued)" = 0 ] && ok "client_credentials: delivered" || bad "client_credentials: $(queued) queued: $(tail -2 "$T/relay.log")"
contains "$P/log" '"grant": "client_credentials", "ok": true' "client_credentials: the grant used"
cp "$T/store.keep" "$STORE"

# 6. relayctl's output and every log: no token anywhere.
cat "$T"/status.* "$T/check.out" "$T/check.bad" "$T/test.out" > "$T/ctl.out"
[ "$(grep -c . "$P/issued-tokens")" -ge 40 ] && ok "the scan knows $(grep -c . "$P/issued-tokens") issued tokens" || bad "few tokens to scan for"
for f in "$T/relay.log" "$T/relay.err" "$T/ctl.out"; do
  grep -qF -f "$P/issued-tokens" "$f" && bad "a token in $f" || ok "no token in $(basename "$f")"
done
grep -qF cs-secret-value "$T/relay.log" "$T/relay.err" "$T/ctl.out" && bad "the client secret was shown" || ok "the client secret is shown nowhere"
[ "$FAILS" = 0 ] || cp -r "$T" /tmp/oauth_test.failed 2>/dev/null
finish
