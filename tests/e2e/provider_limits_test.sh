#!/bin/sh
# Issue 17, items 5 and 6, against tests/fault_server.py on loopback:
#  1. the sender the provider accepts: a smarthost that refuses every
#     sender but its account's with Microsoft's 530 5.7.60; without
#     sender_rewrite a local sender bounces; with it the envelope and the
#     From header leave with the account's address (display name and
#     folding kept, the original in X-Original-From), sender_map and
#     allowed_senders are honoured, and relay's own bounce still goes to
#     the original sender, with the null sender;
#  2. smarthost_rate_limit: the smarthost's own timestamps show at most N
#     messages in any minute; mail over the limit waits (no attempt, no
#     error), and a new run (a new relay-deliver) continues the window;
#  3. quota replies (550 5.4.5 at the dot, 554 5.2.0 ...SubmissionQuota...
#     at MAIL, 451 4.7.0 too many at RCPT, 421 4.7.0 too many at the
#     greeting): nothing bounces, the smarthost is paused with the reply
#     as its reason (relayctl status), the next run does not connect, and
#     a flush lifts the pause; with two smarthosts the paused one is
#     passed over;
#  4. smarthost_daily_limit: mail over it waits, seen in state/.limits,
#     mailq and relayctl status, not by the clock.
. "$(dirname "$0")/lib.sh"
cat >> "$CONF" <<CONF
log = $T/relayd.log
retry_min = 1h
retry_max = 2h
max_connections = 1
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
fs= fs2=
trap 'kill $fs $fs2 2>/dev/null; rm -rf "$T"' EXIT

# q EXPR: EXPR evaluated in python over the fault server's log records R.
q() { /usr/bin/python3 -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
M = [r for r in R if r["event"] == "message"]
print(eval(sys.argv[2]))' "$T/fs.log" "$1"; }
is() {
  got=$(q "$1")
  if [ "$got" = "$2" ]; then ok "$3"; else bad "$3: got $got, want $2"; fi
}
run() { "$BIN/relayd" -C "$CONF" --once 2>> "$T/relayd.err"; }
mail_from() {  # SENDER RCPT [HEADER-LINES]: queues one message
  printf '%bSubject: from %s\n\nbody\n' "${3:-}" "$1" | "$BIN/sendmail" -C "$CONF" -i -f "$1" "$2"
}
conf_set() {  # KEY [VALUE]: sets (or with no value removes) a relay.conf key
  sed -i "/^$1 /d" "$CONF"
  [ $# -gt 1 ] && echo "$1 = $2" >> "$CONF"
  return 0
}
fresh() {  # a clean queue, ledger and log for the next part
  rm -f "$T"/spool/queue/* "$T"/spool/state/* "$T"/spool/state/.limits
  : > "$T/relayd.log"; : > "$T/fs.log"  # the server appends to its open file
}

# --- 1. The sender the provider accepts --------------------------------
REFUSE='"530 5.7.60 SMTP; Client does not have permissions to send as this sender"'
fault_smarthost "$T/fs.log" '{"mail": {"default": '"$REFUSE"', "addresses": {"me@provider.test": "250 2.1.0 Ok",
  "alias@provider.test": "250 2.1.0 Ok", "web@provider.test": "250 2.1.0 Ok", "": "250 2.1.0 Ok"}},
  "rcpt": {"addresses": {"bad@dest.test": "550 5.1.1 no such user"}}}'

# Without a rewrite the provider refuses the local sender: a bounce.
mail_from root ok@dest.test 'From: Cron Daemon <root@example.com>\n'
run
contains "$T/relayd.log" "5.7.60" "no rewrite: the provider refuses root@example.com with 530 5.7.60"
contains "$T/relayd.log" "status=bounced" "no rewrite: the message bounces"
timeout 60 "$BIN/relayctl" -C "$CONF" test -f root@example.com ok@dest.test > "$T/rt" 2>&1; rc=$?
[ $rc = 69 ] && ok "no rewrite: relayctl test meets the 530 too (exit 69)" || bad "no rewrite: relayctl test exit $rc: $(cat "$T/rt")"
fresh

printf '# local user -> address\nwww-data web@provider.test\n' > "$T/sender_map"; chmod 644 "$T/sender_map"
conf_set sender_rewrite envelope+header
conf_set sender_address me@provider.test
conf_set sender_map "$T/sender_map"
conf_set allowed_senders alias@provider.test
# A bad sender_map line is named by relayctl check and stops the run (78).
printf 'root\n' > "$T/bad_map"; chmod 644 "$T/bad_map"
conf_set sender_map "$T/bad_map"
"$BIN/relayctl" -C "$CONF" check > "$T/chk" 2>&1
contains "$T/chk" "problem: sender_map $T/bad_map: line 1: expected" "check: a bad sender_map line is named"
"$BIN/relay-deliver" -C "$CONF" --once 2> "$T/err"; rc=$?
[ $rc = 78 ] && ok "a bad sender_map: relay-deliver exits 78" || bad "a bad sender_map: exit $rc"
contains "$T/err" "line 1: expected" "a bad sender_map: one line naming it"
conf_set sender_map "$T/sender_map"
"$BIN/relayctl" -C "$CONF" check > "$T/chk" 2>&1
contains "$T/chk" "sender   rewritten to me@provider.test (1 in sender_map): ok" "check: the rewrite is shown"
timeout 60 "$BIN/relayctl" -C "$CONF" test -f root@example.com ok@dest.test > "$T/rt" 2>&1; rc=$?
[ $rc = 0 ] && ok "rewrite: relayctl test probes with the rewritten sender (exit 0)" || bad "rewrite: relayctl test exit $rc: $(cat "$T/rt")"
contains "$T/rt" "root@example.com sent as me@provider.test (sender_rewrite)" "rewrite: relayctl test shows the rewrite"
: > "$T/fs.log"
mail_from root ok@dest.test 'From: "Cron Daemon, (root)"\n <root@example.com>\nX-Folded: one\n\ttwo\n'
mail_from alias@provider.test ok2@dest.test 'From: Alias <alias@provider.test>\n'
mail_from www-data ok3@dest.test 'From: Web Server <www-data@example.com>\n'
mail_from root bad@dest.test 'From: root@example.com (Cron Daemon)\n'
run; run
is '[m["mail_from"] for m in M if m["rcpts"] == ["ok@dest.test"]]' "['me@provider.test']" \
  "rewrite: root@example.com leaves as the account's address"
is '[("From: \"Cron Daemon, (root)\"\r\n <me@provider.test>\r\nX-Original-From: root@example.com\r\nX-Folded: one\r\n\ttwo\r\n" in m["data"]) for m in M if m["rcpts"] == ["ok@dest.test"]]' "[True]" \
  "rewrite: From keeps its display name and folding, the original in X-Original-From, other fields untouched"
is '[(m["mail_from"], "From: Alias <alias@provider.test>\r\n" in m["data"], "X-Original-From" in m["data"]) for m in M if m["rcpts"] == ["ok2@dest.test"]]' \
  "[('alias@provider.test', True, False)]" "rewrite: a sender in allowed_senders is left alone"
is '[(m["mail_from"], "From: Web Server <web@provider.test>\r\n" in m["data"]) for m in M if m["rcpts"] == ["ok3@dest.test"]]' \
  "[('web@provider.test', True)]" "rewrite: sender_map's address for www-data, envelope and From"
is '[r["line"] for r in R if r["event"] == "command" and r["verb"] == "RCPT" and "bad@dest.test" in r["line"]]' \
  "['RCPT TO:<bad@dest.test>']" "rewrite: the refused recipient was tried"
is '[(m["rcpts"], "bad@dest.test" in m["data"], "me@provider.test" in m["data"] or "X-Original-From" in m["data"]) for m in M if m["mail_from"] == ""]' \
  "[(['root@example.com'], True, False)]" "rewrite: relay's bounce goes out with <> to the original sender, not to the account"
contains "$T/relayd.log" "sent as <me@provider.test> (sender_rewrite)" "rewrite: the log says which sender was used"
lacks "$T/relayd.log" "5.7.60" "rewrite: no 530 5.7.60 at all"
[ "$(grep -c 'status=bounced' "$T/relayd.log")" = 1 ] && ok "rewrite: only the unknown recipient bounced" ||
  bad "rewrite: bounces: $(grep 'status=bounced' "$T/relayd.log")"
[ "$(queue_count)" = 0 ] && ok "rewrite: the queue is empty" || bad "rewrite: $(queue_count) left queued"
# The rewritten header changes the size: SIZE= declares what is sent, to
# a server that holds the client to it (552 otherwise), with and without
# the 8-bit conversion for a server without 8BITMIME.
size_case() {  # NAME CAPABILITIES-JSON
  fresh
  fault_smarthost "$T/fs.log" '{"enforce_size": true, "ehlo": {"capabilities": '"$2"'},
    "mail": {"default": '"$REFUSE"', "addresses": {"me@provider.test": "250 2.1.0 Ok"}}}'
  printf 'From: Root <root@example.com>\nSubject: sized\nContent-Type: text/plain; charset=UTF-8\n\ncaf\303\251 cr\303\250me\n' |
    "$BIN/sendmail" -C "$CONF" -i -f root sz@dest.test
  run
  is '[(m["mail_params"].split("SIZE=")[1].split()[0] == str(m["data_bytes"]), m["reply"][:3], "From: Root <me@provider.test>\r\nX-Original-From: root@example.com\r\n" in m["data"]) for m in M]' \
    "[(True, '250', True)]" "$1: SIZE= is the size sent, From rewritten, accepted"
}
size_case "size, 8BITMIME" '["PIPELINING", "SIZE 100000", "8BITMIME"]'
size_case "size, converted to 7 bits" '["PIPELINING", "SIZE 100000"]'
is '["caf=C3=A9 cr=C3=A8me" in m["data"] for m in M]' "[True]" "size, converted to 7 bits: the body is quoted-printable"
for k in sender_rewrite sender_address sender_map allowed_senders; do conf_set $k; done

# --- 2. smarthost_rate_limit, from the smarthost's own timestamps ------
fresh
fault_smarthost "$T/fs.log" '{}'
conf_set smarthost_rate_limit 2
for i in 1 2 3 4; do mail_from me@provider.test r$i@dest.test; done
run
is 'len(M)' 2 "rate: the first run sends 2 of 4"
[ "$(queue_count)" = 2 ] && ok "rate: 2 wait in the queue" || bad "rate: $(queue_count) queued"
contains "$T/relayd.log" "smarthost_rate_limit: 2 messages a minute" "rate: the log says which limit holds them"
contains "$T/relayd.log" "deliveries wait" "rate: the run pauses deliveries for the window"
lacks "$T/relayd.log" "status=deferred" "rate: nothing deferred"
[ "$(ls "$T/spool/state" | wc -l)" = 0 ] && ok "rate: no state file for the waiting mail (no retry count)" ||
  bad "rate: state files: $(ls "$T/spool/state")"
grep -q '^sent [0-9]* [0-9]*$' "$T/spool/state/.limits" && ok "rate: state/.limits holds the two send times" ||
  bad "rate: state/.limits: $(cat "$T/spool/state/.limits" 2>&1)"
"$BIN/mailq" -C "$CONF" > "$T/mq" 2>&1
[ "$(grep -c '@dest.test' "$T/mq")" = 2 ] && ok "rate: mailq lists the 2 waiting" || bad "rate: mailq: $(cat "$T/mq")"
"$BIN/relayctl" -C "$CONF" status > "$T/st" 2>&1
contains "$T/st" "held for" "rate: relayctl status shows the smarthost held"
contains "$T/st" "2 sent in the last minute (limit 2)" "rate: relayctl status shows the count and the limit"
"$BIN/relayctl" -C "$CONF" status --json > "$T/stj" 2>&1
/usr/bin/python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["limits"][0]; sys.exit(not (h["held_until"] > 0 and "rate_limit" in h["held_reason"]))' "$T/stj" &&
  ok "rate: status --json: held_until and held_reason" || bad "rate: status --json: $(cat "$T/stj")"
conns=$(q 'len([r for r in R if r["event"] == "connect"])')
run
is 'len([r for r in R if r["event"] == "connect"])' "$conns" "rate: a new run continues the window (no connection)"
# Wait (a hang guard, not a measure) until status no longer shows it held.
wait_for 90 sh -c "! '$BIN/relayctl' -C '$CONF' status | grep -q 'held for'" || bad "rate: still held after 90 s"
run
is 'len(M)' 4 "rate: the next window sends the other 2"
is 'all(b["t"] - a["t"] >= 59 for a, b in zip([r for r in R if r["event"] == "command" and r["verb"] == "MAIL"], [r for r in R if r["event"] == "command" and r["verb"] == "MAIL"][2:]))' \
  True "rate: by the smarthost's clock, never 3 MAIL commands within a minute"
is '[r for r in R if r["event"] == "command" and r["verb"] == "MAIL"][2]["t"] - [r for r in R if r["event"] == "command" and r["verb"] == "MAIL"][1]["t"] >= 50' \
  True "rate: the third message waited for the window"
conf_set smarthost_rate_limit

# --- 3. Quota replies pause the smarthost, nothing bounces -------------
# quota NAME SCRIPT SENT: 3 messages, one run; SENT of them delivered.
quota() {
  fresh
  fault_smarthost "$T/fs.log" "$2"
  for i in 1 2 3; do mail_from me@provider.test q$i@dest.test; done
  run
  is 'len([m for m in M if (m["reply"] or "").startswith("250")])' "$3" "$1: $3 delivered before the quota reply"
  [ "$(queue_count)" = $((3 - $3)) ] && ok "$1: the rest stays queued" || bad "$1: $(queue_count) queued"
  lacks "$T/relayd.log" "status=bounced" "$1: nothing bounced"
  lacks "$T/relayd.log" "non-delivery" "$1: no bounce queued"
  grep -q "^pause [0-9]* " "$T/spool/state/.limits" && ok "$1: the pause is in state/.limits" ||
    bad "$1: state/.limits: $(cat "$T/spool/state/.limits" 2>&1)"
  "$BIN/relayctl" -C "$CONF" status > "$T/st" 2>&1
  contains "$T/st" "held for" "$1: relayctl status shows the pause"
  contains "$T/st" "$4" "$1: relayctl status shows the reply as its reason"
  "$BIN/relayctl" -C "$CONF" status --json > "$T/stj" 2>&1
  /usr/bin/python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["smarthosts"][0]; sys.exit(not (h["pause_until"] > 0 and sys.argv[2] in h["pause_reason"]))' "$T/stj" "$4" &&
    ok "$1: state/.health has the pause and its reason (status --json)" || bad "$1: status --json: $(cat "$T/stj")"
  conns=$(q 'len([r for r in R if r["event"] == "connect"])')
  run
  is 'len([r for r in R if r["event"] == "connect"])' "$conns" "$1: the next run does not connect"
}
quota "550 5.4.5 at the dot" \
  '{"end_of_data": {"sequence": ["250 2.0.0 Ok", "550 5.4.5 Daily user sending quota exceeded"]}}' 1 \
  "quota: 550 5.4.5 Daily user sending quota exceeded"
grep -q "attempts 0" "$T"/spool/state/[0-9]* && ok "550 5.4.5: the refused message's retry count stays 0" ||
  bad "550 5.4.5: state: $(cat "$T"/spool/state/[0-9]*)"
"$BIN/mailq" -C "$CONF" > "$T/mq" 2>&1
contains "$T/mq" "smarthost paused; no bounce" "550 5.4.5: mailq says why it waits"
# A flush retries now: the pause is lifted (the configured limits stay).
fault_smarthost "$T/fs.log" '{}'
"$BIN/relayd" -C "$CONF" --flush 2>> "$T/relayd.err"
[ "$(queue_count)" = 0 ] && ok "550 5.4.5: a flush lifts the pause and delivers" || bad "after flush: $(queue_count) queued"
quota "554 5.2.0 at MAIL" \
  '{"mail": {"sequence": ["250 2.1.0 Ok", "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message"]}}' 1 \
  "quota: MAIL FROM: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
quota "451 4.7.0 at RCPT" '{"rcpt": {"sequence": ["250 2.1.5 Ok", "451 4.7.0 Too many messages, slow down"]}}' 1 \
  "rate: 451 4.7.0 Too many messages, slow down"
quota "421 4.7.0 at the greeting" '{"greeting": "421 4.7.0 Too many connections"}' 0 "421 4.7.0 Too many connections"

# With two smarthosts, one that answers "too many" is paused and passed
# over: the other takes the mail, nothing waits or bounces.
fresh
fault_smarthost "$T/fs.log" '{"greeting": "421 4.7.0 Too many connections"}'
/usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/fs2.ready" --log "$T/fs2.log" \
  --max-seconds 120 --script-inline '{}' &
fs2=$!
wait_for 10 test -s "$T/fs2.ready" || bad "failover: the second fault server did not start"
echo "smarthost = 127.0.0.1:$(cat "$T/fs2.ready") none" >> "$CONF"
for i in 1 2; do mail_from me@provider.test f$i@dest.test; done
run
[ "$(grep -c '"event": "message"' "$T/fs2.log")" = 2 ] && ok "failover: the second smarthost takes both" ||
  bad "failover: second smarthost got $(grep -c '"event": "message"' "$T/fs2.log")"
[ "$(queue_count)" = 0 ] && ok "failover: nothing waits" || bad "failover: $(queue_count) queued"
lacks "$T/relayd.log" "status=bounced" "failover: nothing bounced"
grep -q "^pause [0-9]* rate: .*421 4.7.0 Too many connections" "$T/spool/state/.limits" &&
  ok "failover: the first smarthost is paused with its reply" || bad "failover: state/.limits: $(cat "$T/spool/state/.limits")"
conns=$(q 'len([r for r in R if r["event"] == "connect"])')
mail_from me@provider.test f3@dest.test
run
is 'len([r for r in R if r["event"] == "connect"])' "$conns" "failover: the paused smarthost is not tried by the next run"
[ "$(grep -c '"event": "message"' "$T/fs2.log")" = 3 ] && ok "failover: the next message goes to the second" ||
  bad "failover: second smarthost got $(grep -c '"event": "message"' "$T/fs2.log")"
kill $fs2 2>/dev/null; wait $fs2 2>/dev/null; fs2=

# --- 4. smarthost_daily_limit: the mail waits (state, not the clock) ---
fresh
fault_smarthost "$T/fs.log" '{}'
conf_set smarthost_daily_limit 2
for i in 1 2 3; do mail_from me@provider.test d$i@dest.test; done
run
is 'len(M)' 2 "daily: 2 of 3 sent"
[ "$(queue_count)" = 1 ] && ok "daily: 1 waits" || bad "daily: $(queue_count) queued"
grep -q '^day [0-9]*:2$' "$T/spool/state/.limits" && ok "daily: state/.limits counts 2 today" ||
  bad "daily: state/.limits: $(cat "$T/spool/state/.limits" 2>&1)"
[ "$(ls "$T/spool/state" | wc -l)" = 0 ] && ok "daily: no state file for the waiting message" || bad "daily: state: $(ls "$T/spool/state")"
"$BIN/mailq" -C "$CONF" > "$T/mq" 2>&1
contains "$T/mq" "d3@dest.test" "daily: mailq lists it"
"$BIN/relayctl" -C "$CONF" status > "$T/st" 2>&1
contains "$T/st" "smarthost_daily_limit: 2 messages a day" "daily: relayctl status names the limit"
contains "$T/st" "2 in 24 h (limit 2)" "daily: relayctl status shows the count"
run
is 'len(M)' 2 "daily: a new run still holds it"
lacks "$T/relayd.log" "status=deferred" "daily: nothing deferred"
lacks "$T/relayd.log" "status=bounced" "daily: nothing bounced"

finish
