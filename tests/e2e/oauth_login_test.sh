#!/bin/sh
# relayctl oauth, tried as a new user would (issue 17 item 2): against the
# stand-in OAuth2 provider (tests/oauth_provider.py, HTTPS with its own CA
# on loopback) the device-code login (the test approves the code as the
# user would at the verification page), the authorization-code login with
# PKCE and --no-browser (the test plays the browser: it opens the printed
# URL, the provider redirects it to relayctl on 127.0.0.1), the app-only
# client-credentials login, and the import of sasl-xoauth2's, mutt_oauth2.py's
# and oama's token files. Each stores its entry in the token store (mode
# 0600, the spool owner's) and what it stores refreshes at the provider.
# No token or client secret appears in relayctl's output, in its argv or in
# its environment (/proc/PID/cmdline, /proc/PID/environ while it waits).
. "$(dirname "$0")/lib.sh"
relay_private_spool

# ---------------------------------------------------------------- the provider

mkdir -p "$T/ca" "$T/op"
(
  cd "$T/ca" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=oauth-test-ca 2> err.log &&
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>> err.log &&
  printf 'subjectAltName=IP:127.0.0.1\n' > server.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
    -out server.pem 2>> err.log
) || { bad "could not make the test CA: $(cat "$T/ca/err.log")"; finish; }
chmod 644 "$T/ca/ca.pem"

SECRET="cs-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$SECRET" > "$T/client.secret"
chmod 600 "$T/client.secret"
CLIENT=relay-test-client
/usr/bin/python3 "$RELAY_SRC/tests/oauth_provider.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
  --dir "$T/op" --ready-file "$T/op.ready" --client-id "$CLIENT" --client-secret "$SECRET" \
  --access-ttl 60 --device-interval 1 --max-seconds 300 &
op=$!
trap 'touch "$T/op/stop"; kill $op 2>/dev/null; [ -n "${rc_pid:-}" ] && kill $rc_pid 2>/dev/null; rm -rf "$T"' EXIT
wait_for 20 test -s "$T/op.ready" || { bad "the stand-in provider did not start"; finish; }
OP="https://127.0.0.1:$(cat "$T/op.ready")/contoso.com/oauth2/v2.0"

cat >> "$CONF" <<EOF
provider = microsoft365
oauth_tenant = contoso.com
auth_user = builds@contoso.com
oauth_token_endpoint = $OP/token
oauth_ca_file = $T/ca/ca.pem
EOF
STORE=$T/spool/state/oauth-tokens.json
RC="$BIN/relayctl -C $CONF"

# store_field KEY FIELD: one field of one entry of the token store.
store_field() {
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"][sys.argv[2]].get(sys.argv[3], ""))' \
    "$STORE" "$1" "$2"
}

# refreshes KEY: the stored refresh token, client and endpoint get a new
# access token at the provider, as relay-deliver's refresh would.
refreshes() {
  /usr/bin/python3 - "$STORE" "$1" "$T/ca/ca.pem" <<'PY'
import json, ssl, sys, urllib.parse, urllib.request
e = json.load(open(sys.argv[1]))["tokens"][sys.argv[2]]
form = {"grant_type": "refresh_token", "refresh_token": e["refresh_token"], "client_id": e["client_id"]}
if e.get("client_secret"):
    form["client_secret"] = e["client_secret"]
ctx = ssl.create_default_context(cafile=sys.argv[3])
r = urllib.request.urlopen(e["token_endpoint"], urllib.parse.urlencode(form).encode(), context=ctx, timeout=20)
sys.exit(0 if "access_token" in json.load(r) else 1)
PY
}

# no_leak FILE WHAT: no token, code or secret the provider issued (or the
# client secret) is in FILE.
no_leak() {
  if [ -s "$T/op/issued-tokens" ] && grep -qFf "$T/op/issued-tokens" "$1"; then
    bad "$2: a token is in $1"
  elif grep -qF -- "$SECRET" "$1"; then
    bad "$2: the client secret is in $1"
  else
    ok "$2: no token or secret"
  fi
}

# scan_proc PID WHAT: argv and environment of a waiting relayctl.
scan_proc() {
  tr '\0' '\n' < "/proc/$1/cmdline" > "$T/proc.cmdline" 2>/dev/null
  tr '\0' '\n' < "/proc/$1/environ" > "$T/proc.environ" 2>/dev/null
  no_leak "$T/proc.cmdline" "$2: /proc/PID/cmdline"
  no_leak "$T/proc.environ" "$2: /proc/PID/environ"
}

mode_owner_ok() {
  want_owner=$(stat -c %u "$T/spool")
  if [ "$(stat -c %a "$STORE")" = 600 ] && [ "$(stat -c %u "$STORE")" = "$want_owner" ]; then
    ok "$1: the store is mode 0600, owned by the spool's owner"
  else
    bad "$1: the store is mode $(stat -c %a "$STORE"), uid $(stat -c %u "$STORE"), want 600 and $want_owner"
  fi
}

# ---------------------------------------------------------------- device code

# Nothing but relay.conf points relayctl at the stand-in: Microsoft's
# authorize and devicecode endpoints sit beside its token endpoint.

$RC oauth login --device --client-id "$CLIENT" --client-secret-file "$T/client.secret" \
  > "$T/device.out" 2> "$T/device.err" &
rc_pid=$!
wait_for 20 grep -q '^code ' "$T/device.out" || bad "device login printed no code: $(cat "$T/device.err")"
contains "$T/device.out" "open      https://127.0.0.1:" "device login prints the verification URL"
code=$(sed -n 's/^code *//p' "$T/device.out")
scan_proc $rc_pid "device login while it polls"
curl -s --cacert "$T/ca/ca.pem" "https://127.0.0.1:$(cat "$T/op.ready")/device?user_code=$code" > /dev/null
wait $rc_pid; st=$?; rc_pid=
[ $st = 0 ] && ok "device login: approved, stored (exit 0)" || bad "device login: exit $st: $(cat "$T/device.err")"
contains "$T/device.out" "refresh token received" "device login says a refresh token came"
mode_owner_ok "device login"
[ "$(store_field default kind)" = refresh ] && ok "device login: a refresh entry" || bad "device login: kind $(store_field default kind)"
[ "$(store_field default provider)" = microsoft365 ] && ok "device login: provider microsoft365" || bad "device login: provider $(store_field default provider)"
cat "$T/device.out" "$T/device.err" > "$T/all.out"
no_leak "$T/all.out" "device login's output"
# The first message: relay-deliver refreshes the stored token itself (the
# stand-in's access tokens live 60 s, less than oauth_refresh_ahead) and
# logs in with XOAUTH2 to tests/fault_server.py, which checks the token
# against the provider's live ones. AUTH without TLS needs a loopback port
# below 1024, so root only; otherwise the refresh is checked by hand.
if [ "$(id -u)" = 0 ]; then
  cp "$CONF" "$T/plain.conf"
  /usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port "$(free_low_port)" --ready-file "$T/fs.ready" \
    --log "$T/fs.log" --max-seconds 120 --oauth-tokens "$T/op/access-tokens" \
    --script-inline '{"ehlo": {"capabilities": ["PIPELINING", "AUTH XOAUTH2 OAUTHBEARER", "ENHANCEDSTATUSCODES"]}}' &
  fs=$!
  wait_for 10 test -s "$T/fs.ready" || bad "the fault smarthost did not start"
  printf 'smarthost = 127.0.0.1:%s none\nauth_without_tls = yes\n' "$(cat "$T/fs.ready")" >> "$CONF"
  printf 'Subject: first\n\nthe first message\n' | "$BIN/sendmail" -C "$CONF" -i -f builds@contoso.com ops@example.net
  "$BIN/relayd" -C "$CONF" --once > "$T/once.out" 2>&1; st=$?
  [ $st = 0 ] && ok "the first message: relayd --once exit 0" || bad "the first message: exit $st: $(cat "$T/once.out")"
  contains "$T/fs.log" '"result": "ok"' "the first message: XOAUTH2 with a live token from relay's own refresh"
  contains "$T/fs.log" '"event": "message"' "the first message is delivered"
  rt_h=$(grep '"grant": "refresh_token"' "$T/op/log" | tail -1)
  [ -n "$rt_h" ] && ok "relay-deliver refreshed at the provider" || bad "no refresh at the provider"
  no_leak "$T/once.out" "relayd --once's output"
  kill $fs 2>/dev/null; wait $fs 2>/dev/null
  cp "$T/plain.conf" "$CONF"
else
  refreshes default && ok "device login: the stored refresh token refreshes" || bad "device login: the stored refresh token does not refresh"
fi

# ---------------------------------------------------------------- authorization code + PKCE, --no-browser

login_code() {  # login_code KEY: starts relayctl, waits for its URL in $T/code.out
  rm -f "$T/code.out" "$T/code.err"
  $RC oauth login --no-browser --client-id "$CLIENT" --client-secret-file "$T/client.secret" --smarthost "$1" \
    --timeout 60 > "$T/code.out" 2> "$T/code.err" &
  rc_pid=$!
  wait_for 20 grep -q '^waiting' "$T/code.out" || bad "code login printed no URL: $(cat "$T/code.err")"
}
login_code smtp.office365.com:587
url=$(grep '^https://' "$T/code.out")
case $url in
  *code_challenge_method=S256*state=*|*state=*code_challenge_method=S256*) ok "the URL asks for PKCE S256 with a state" ;;
  *) bad "the URL lacks PKCE or state: $url" ;;
esac
contains "$T/code.out" "ssh -L" "the code login says how to reach it over ssh -L"
scan_proc $rc_pid "code login while it waits"
# A browser asks for other things too (a favicon): answered 404, the wait goes on.
port=$(sed -n 's|^waiting *for the redirect to http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/code.out")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/favicon.ico")" = 404 ] &&
  kill -0 $rc_pid 2>/dev/null && ok "a favicon request gets 404 and relayctl keeps waiting" ||
  bad "the favicon request ended the wait"
# A connection that closes without a request (a browser's preconnect) and
# one that is not HTTP do not end the wait either.
/usr/bin/python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.close()' "$port"
printf 'HELO x\r\n' | /usr/bin/python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.recv(100); s.close()' "$port"
sleep 0.2
kill -0 $rc_pid 2>/dev/null && ok "a preconnect and a non-HTTP line do not end the wait" || bad "relayctl stopped waiting: $(cat "$T/code.err")"
# The browser: the provider's authorize page redirects to 127.0.0.1.
curl -s -L --cacert "$T/ca/ca.pem" -o "$T/browser.html" "$url"
wait $rc_pid; st=$?; rc_pid=
[ $st = 0 ] && ok "code login: redirected, exchanged, stored (exit 0)" || bad "code login: exit $st: $(cat "$T/code.err")"
contains "$T/browser.html" "relay has the authorization" "the browser sees that the login is done"
[ -n "$(store_field smtp.office365.com:587 refresh_token)" ] && ok "code login: stored under its smarthost" || bad "code login: no entry"
[ -n "$(store_field default refresh_token)" ] && ok "code login: the device login's entry is kept" || bad "code login: the default entry is gone"
cat "$T/code.out" "$T/code.err" > "$T/all.out"
no_leak "$T/all.out" "code login's output"
refreshes smtp.office365.com:587 && ok "code login: the stored refresh token refreshes" || bad "code login: no refresh"

# A redirect with another state (forged, or from an older login), or
# none, is not this login's: any local user can reach the port, so it
# gets a 400 page naming the problem and the login goes on waiting; the
# right redirect after it still completes the login.
login_code forged
port=$(sed -n 's|^waiting *for the redirect to http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/code.out")
url=$(grep '^https://' "$T/code.out")
k=0
for q in "code=stolen&state=not-this-one" "code=stolen" "error=access_denied&state=not-this-one" "error=access_denied"; do
  k=$((k + 1))
  st=$(curl -s -o "$T/forged$k.html" -w '%{http_code}' "http://127.0.0.1:$port/?$q")
  [ "$st" = 400 ] && ok "a redirect '?$q' gets 400" || bad "a redirect '?$q' gets HTTP $st"
done
contains "$T/forged1.html" "the redirect's state does not match this login's" "the 400 page names the wrong state"
contains "$T/forged2.html" "the redirect has no state parameter" "the 400 page names the missing state"
contains "$T/forged3.html" "the redirect's state does not match this login's" "a forged error with the wrong state gets the same 400"
sleep 0.2
kill -0 $rc_pid 2>/dev/null && ok "relayctl keeps waiting after redirects that are not its login's" ||
  bad "a forged redirect ended the login: $(cat "$T/code.err")"
[ -z "$(store_field forged kind 2>/dev/null)" ] && ok "nothing stored for the forged redirects" || bad "a forged redirect stored an entry"
curl -s -L --cacert "$T/ca/ca.pem" -o "$T/browser.html" "$url"
wait $rc_pid; st=$?; rc_pid=
[ $st = 0 ] && ok "wrong state, then the right redirect: the login succeeds (exit 0)" || bad "after a wrong state: exit $st: $(cat "$T/code.err")"
contains "$T/browser.html" "relay has the authorization" "the browser sees that the login is done"
[ -n "$(store_field forged refresh_token)" ] && ok "the login after a wrong state is stored" || bad "the login after a wrong state stored nothing"
contains "$T/code.out" "ignored   a redirect that is not this login's: the redirect's state does not match" "relayctl says it ignored the forged redirect"
[ "$(grep -c '^ignored' "$T/code.out")" = 4 ] && ok "one line per ignored redirect" || bad "ignored lines: $(grep -c '^ignored' "$T/code.out")"
cat "$T/code.out" "$T/code.err" > "$T/all.out"
lacks "$T/all.out" "stolen" "the forged request's code is not repeated"
lacks "$T/all.out" "not-this-one" "nor its state"
no_leak "$T/all.out" "the login after a wrong state's output"

# The provider's refusal in the redirect (with this login's state) ends
# the login with its error.
login_code refused
port=$(sed -n 's|^waiting *for the redirect to http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/code.out")
state=$(grep '^https://' "$T/code.out" | sed 's/.*[?&]state=\([^&]*\).*/\1/')
curl -s -o /dev/null "http://127.0.0.1:$port/?error=access_denied&error_description=The+user+declined&state=$state"
wait $rc_pid; st=$?; rc_pid=
[ $st = 65 ] && ok "a refused consent ends the login (exit 65)" || bad "refused consent: exit $st"
contains "$T/code.err" "access_denied: The user declined" "the refusal is passed on"

# Wrong uses, each refused with one line naming what is wrong.
expect_exit 64 "--device where the provider has none (Gmail)" -- $RC oauth login --device --provider gmail --client-id x
contains "$T/err" "no device-code login for mail" "the refusal says Gmail has no device flow"
expect_exit 64 "a login without --client-id" -- $RC oauth login --device
contains "$T/err" "--client-id is needed" "the refusal names --client-id"
expect_exit 64 "an unknown provider" -- $RC oauth login --provider yahoo --client-id x
contains "$T/err" "known are gmail, google-workspace-relay, microsoft365, outlook" "the refusal lists the providers"
printf 'wrong-secret\n' > "$T/wrong.secret"
expect_exit 77 "a wrong client secret is the provider's refusal" -- \
  $RC oauth login --client-credentials --client-id "$CLIENT" --client-secret-file "$T/wrong.secret" --smarthost wrong
contains "$T/err" "invalid_client" "the refusal names invalid_client"
no_leak "$T/err" "the refusal"

# ---------------------------------------------------------------- client credentials (app-only)

$RC oauth login --client-credentials --client-id "$CLIENT" --client-secret-file - --smarthost app \
  < "$T/client.secret" > "$T/app.out" 2> "$T/app.err"
st=$?
[ $st = 0 ] && ok "client credentials: stored (exit 0)" || bad "client credentials: exit $st: $(cat "$T/app.err")"
[ "$(store_field app kind)" = client_credentials ] && ok "client credentials: kind client_credentials" || bad "client credentials: kind $(store_field app kind)"
[ -z "$(store_field app refresh_token)" ] && [ -n "$(store_field app access_token)" ] &&
  ok "client credentials: an access token and no refresh token" || bad "client credentials: wrong tokens"
[ "$(store_field app scope)" = "https://outlook.office365.com/.default" ] && ok "client credentials: the .default scope" ||
  bad "client credentials: scope $(store_field app scope)"
cat "$T/app.out" "$T/app.err" > "$T/all.out"
no_leak "$T/all.out" "client credentials' output"
expect_exit 64 "a secret on the command line is refused" -- $RC oauth login --client-credentials --client-id x --client-secret s3
contains "$T/err" "never taken from the command line" "the refusal says why"

# ---------------------------------------------------------------- import

# Each import takes the newest refresh token the provider issued: the one
# the last refresh check got back, which nothing has used yet (rotation
# makes every refresh token good for one use).
unused_rt() { grep '^rt-' "$T/op/issued-tokens" | tail -1; }
rt_sasl=$(unused_rt)
[ -n "$rt_sasl" ] || bad "no refresh token for the imports"

cat > "$T/sasl-xoauth2.conf" <<EOF
{"client_id": "$CLIENT", "client_secret": "$SECRET", "token_endpoint": "$OP/token", "log_to_syslog_on_failure": "yes"}
EOF
printf '{"access_token": "", "refresh_token": "%s", "expiry": "0"}\n' "$rt_sasl" > "$T/token-sasl"
chmod 600 "$T/token-sasl" "$T/sasl-xoauth2.conf"
expect_exit 0 "import of a sasl-xoauth2 token file with /etc/sasl-xoauth2.conf" -- \
  $RC oauth import --format sasl-xoauth2 --sasl-xoauth2-conf "$T/sasl-xoauth2.conf" --smarthost sasl "$T/token-sasl"
no_leak "$T/out" "sasl-xoauth2 import's output"
mode_owner_ok "sasl-xoauth2 import"
refreshes sasl && ok "sasl-xoauth2 import: the stored token refreshes" || bad "sasl-xoauth2 import: no refresh"

# mutt_oauth2.py's token file, as gpg --decrypt prints it.
rt_mutt=$(unused_rt)
printf '{"registration": "microsoft", "authflow": "devicecode", "email": "builds@contoso.com", "client_id": "%s", "client_secret": "", "tenant": "contoso.com", "access_token": "", "access_token_expiration": "", "refresh_token": "%s"}\n' \
  "$CLIENT" "$rt_mutt" > "$T/token-mutt.json"
expect_exit 0 "import of mutt_oauth2.py's token file (decrypted, on standard input)" -- \
  sh -c "$RC oauth import --format mutt_oauth2 --client-secret-file $T/client.secret --smarthost mutt - < $T/token-mutt.json"
no_leak "$T/out" "mutt_oauth2 import's output"
[ "$(store_field mutt tenant)" = contoso.com ] && ok "mutt_oauth2 import: the tenant" || bad "mutt_oauth2 import: tenant $(store_field mutt tenant)"
refreshes mutt && ok "mutt_oauth2 import: the stored token refreshes" || bad "mutt_oauth2 import: no refresh"

# oama: its client id is in its config.yaml, so it is given.
rt_oama=$(unused_rt)
printf '{"access_token": "", "expires_in": 3599, "scope": "https://outlook.office.com/SMTP.Send offline_access", "token_type": "Bearer", "exp_date": "2026-12-06 06:55 UTC", "refresh_token": "%s", "email": "builds@contoso.com", "service": "microsoft"}\n' \
  "$rt_oama" > "$T/builds@contoso.com.oama.json"
expect_exit 0 "import of oama's record with --client-id" -- \
  $RC oauth import --format oama --client-id "$CLIENT" --client-secret-file "$T/client.secret" --smarthost oama \
  "$T/builds@contoso.com.oama.json"
no_leak "$T/out" "oama import's output"
refreshes oama && ok "oama import: the stored token refreshes" || bad "oama import: no refresh"

# An encrypted file is refused with the command that decrypts it.
printf -- '-----BEGIN PGP MESSAGE-----\n\nhQEMA7x\n-----END PGP MESSAGE-----\n' > "$T/token.gpg"
expect_exit 65 "a GPG-encrypted token file is refused" -- $RC oauth import --format mutt_oauth2 "$T/token.gpg"
contains "$T/err" "gpg --decrypt $T/token.gpg | relayctl oauth import --format mutt_oauth2 -" "the refusal names the gpg command"
[ "$(wc -l < "$T/err")" = 1 ] && ok "the refusal is one line" || bad "the refusal is $(wc -l < "$T/err") lines"

# After all of it: every entry is still there, the store still 0600.
for k in default smtp.office365.com:587 app sasl mutt oama; do
  [ -n "$(store_field "$k" kind)" ] || bad "entry $k lost"
done
mode_owner_ok "at the end"
no_leak "$CONF" "relay.conf"
finish
