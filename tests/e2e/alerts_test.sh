#!/bin/sh
# Issue 18: alerts outside the mail path. relayd against tests/fault_server.py
# as the smarthost, with alert_command and heartbeat_command appending the
# JSON they read on stdin to files (each line is parsed as JSON here):
#   1. heartbeat: a probe heartbeat at start (queue empty, smarthost
#      answering; the probe sends no MAIL), one after a delivering run;
#   2. the smarthost down longer than alert_smarthost_down (2 s, a
#      scaled-down "long" time): exactly one "firing" event, relayd
#      restarted meanwhile repeats nothing, exactly one "resolved" once it
#      is back; no other kind fires;
#   3. 100 bounces in a burst: one bounce alert run, not 100;
#   4. an alert command that hangs delays no delivery (mail is delivered
#      while it runs), is killed with its process group at alert_timeout;
#      one that fails is logged and delays nothing either;
#   5. delay_warning_time: one "delayed" DSN per message, only to senders
#      who gave no NOTIFY or asked for DELAY, never from <>;
#   6. AUTH refused: one auth alert, one resolved once a login works;
#   7. the examples in conf/alerts/ against loopback stand-ins.
# Times are hang guards only (wait_for); nothing is judged by the clock.
. "$(dirname "$0")/lib.sh"
relay_private_spool
mkdir -m 777 "$T/out"
chmod 755 "$T"
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
cat >> "$CONF" <<CONF
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
alert_command = cat >> $T/out/alerts.jsonl
alert_smarthost_down = 2s
alert_queue_age = 0
alert_interval = 1h
heartbeat_command = cat >> $T/out/heartbeats.jsonl
heartbeat_interval = 1h
CONF
rd=
fs=
cleanup() {
  [ -n "$rd" ] && kill "$rd" 2>/dev/null && wait "$rd" 2>/dev/null
  [ -n "$fs" ] && kill "$fs" 2>/dev/null
  [ -f "$T/out/bg.pid" ] && kill "$(cat "$T/out/bg.pid")" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
start_relayd() { "$BIN/relayd" -C "$CONF" & rd=$!; wait_for 20 grep -q 'delivery by' "$T/relayd.log"; }
stop_relayd() { kill "$rd" 2>/dev/null; wait "$rd" 2>/dev/null; rd=; }
send() { printf 'Subject: %s\n\n%s body\n' "$1" "$1" | "$BIN/sendmail" -C "$CONF" -i "${2:-bob@example.net}"; }
# messages LOG: how many messages the fault server accepted.
messages() { n=$(grep -c '"event": "message"' "$1" 2>/dev/null); echo "${n:-0}"; }
mails() { n=$(grep -c '"verb": "MAIL"' "$1" 2>/dev/null); echo "${n:-0}"; }
# events FILE KIND STATE: how many such events FILE holds.
events() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
path, kind, state = sys.argv[1:4]
n = 0
try:
    for line in open(path):
        e = json.loads(line)
        n += e.get("kind") == kind and e.get("state") == state
except FileNotFoundError:
    pass
print(n)
PY
}
# valid_json FILE: every line one JSON object with the fields relayd(8) names.
valid_json() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert isinstance(e, dict), line
    for k in ("kind", "state", "time", "host"):
        assert k in e, (k, line)
    assert e["state"] in ("firing", "resolved", "ok"), line
    if e["kind"] != "heartbeat":
        assert isinstance(e["since"], int), line
PY
}

# 1. Heartbeat.
fault_smarthost "$T/fs1.log" '{}'
PORT=$(cat "$T/fs.ready")
start_relayd
wait_for 30 grep -q '"reason": "probe"' "$T/out/heartbeats.jsonl" && ok "heartbeat at start, after a probe of the smarthost" \
  || bad "no probe heartbeat: $(cat "$T/relayd.log")"
wait_for 10 grep -q '"verb": "QUIT"' "$T/fs1.log" && [ "$(mails "$T/fs1.log")" = 0 ] \
  && ok "the probe said EHLO and QUIT, no MAIL" || bad "the probe: $(grep -c command "$T/fs1.log") commands, $(mails "$T/fs1.log") MAIL"
send hb1
wait_for 30 sh -c "grep -q '\"reason\": \"delivered\"' '$T/out/heartbeats.jsonl'" && ok "heartbeat after a delivering run" \
  || bad "no heartbeat after delivery: $(cat "$T/out/heartbeats.jsonl")"
[ "$(messages "$T/fs1.log")" = 1 ] && ok "the message was delivered" || bad "delivered: $(messages "$T/fs1.log")"
grep '"reason": "delivered"' "$T/out/heartbeats.jsonl" | grep -q '"sent": 1' && ok "the heartbeat says sent 1" \
  || bad "heartbeat: $(cat "$T/out/heartbeats.jsonl")"

# 2. The smarthost down for longer than alert_smarthost_down.
kill "$fs"; wait "$fs" 2>/dev/null; fs=
send down1
wait_for 60 sh -c "[ \$(grep -c '\"kind\": \"smarthost_down\"' '$T/out/alerts.jsonl' 2>/dev/null) -ge 1 ]" \
  && ok "smarthost_down fired" || bad "no smarthost_down alert: $(tail -5 "$T/relayd.log")"
# Restarted while it is firing: state/.alerts keeps it from repeating.
stop_relayd
deferred=$(grep -c 'status=deferred' "$T/relayd.log")
start_relayd
send down2
wait_for 30 sh -c "[ \$(grep -c 'status=deferred' '$T/relayd.log') -gt $deferred ]" \
  && ok "(the restarted relayd's runs still fail)" || bad "no run after the restart"
FS_PORT=$PORT fault_smarthost "$T/fs2.log" '{}'
"$BIN/sendmail" -C "$CONF" -q  # lifts the pause: deliver now
wait_for 60 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs2.log') -ge 2 ]" && ok "delivered once the smarthost is back" \
  || bad "not delivered after the smarthost came back: $(messages "$T/fs2.log")"
wait_for 30 sh -c "grep -q '\"state\": \"resolved\"' '$T/out/alerts.jsonl'" && ok "a resolved event followed" \
  || bad "no resolved event: $(cat "$T/out/alerts.jsonl")"
send up1
wait_for 30 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs2.log') -ge 3 ]"
"$BIN/sendmail" -C "$CONF" -q
wait_for 30 sh -c "[ \$(grep -c 'heartbeat (delivered)' '$T/relayd.log') -ge 3 ]"
[ "$(events "$T/out/alerts.jsonl" smarthost_down firing)" = 1 ] && ok "exactly one smarthost_down firing (across a restart)" \
  || bad "smarthost_down firing: $(events "$T/out/alerts.jsonl" smarthost_down firing): $(cat "$T/out/alerts.jsonl")"
[ "$(events "$T/out/alerts.jsonl" smarthost_down resolved)" = 1 ] && ok "exactly one smarthost_down resolved" \
  || bad "smarthost_down resolved: $(events "$T/out/alerts.jsonl" smarthost_down resolved)"
others=$(grep -vc '"kind": "smarthost_down"' "$T/out/alerts.jsonl" 2>/dev/null)
[ "$others" = 0 ] && ok "no other alert kind fired" || bad "other alerts: $(grep -v smarthost_down "$T/out/alerts.jsonl")"
grep '"kind": "smarthost_down"' "$T/out/alerts.jsonl" | head -1 | grep -q "\"smarthost\": \"127.0.0.1:$PORT\"" \
  && ok "the event names the smarthost" || bad "smarthost not named: $(head -1 "$T/out/alerts.jsonl")"
valid_json "$T/out/alerts.jsonl" && ok "every alert is one JSON object with kind, state, since, time, host" \
  || bad "alerts.jsonl is not valid: $(cat "$T/out/alerts.jsonl")"
valid_json "$T/out/heartbeats.jsonl" && ok "every heartbeat is one JSON object" || bad "heartbeats.jsonl is not valid"

# 3. 100 bounces in a burst: a bounded number of alert runs.
stop_relayd
FS_PORT=$PORT fault_smarthost "$T/fs3.log" '{"rcpt": {"default": "250 2.1.5 Ok", "addresses": {"bad@x.test": "550 5.1.1 no such user"}}}'
i=0; while [ $i -lt 100 ]; do send "b$i" bad@x.test; i=$((i + 1)); done
start_relayd
# The 100 bounces go back to the sender through the smarthost.
wait_for 120 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs3.log') -ge 100 ]" && ok "100 bounces delivered" \
  || bad "bounces delivered: $(messages "$T/fs3.log")"
wait_for 30 sh -c "grep -q '\"kind\": \"bounce\"' '$T/out/alerts.jsonl'" && ok "a bounce alert ran" || bad "no bounce alert"
"$BIN/sendmail" -C "$CONF" -q
wait_for 30 sh -c "! ls '$T/spool/queue' | grep -q ."
n=$(grep -c '"kind": "bounce"' "$T/out/alerts.jsonl")
[ "$n" = 1 ] && ok "100 bounces: one alert run" || bad "100 bounces: $n alert runs"
grep '"kind": "bounce"' "$T/out/alerts.jsonl" | grep -q '"count": [1-9]' && ok "it counts the bounces it reports" \
  || bad "bounce alert: $(grep bounce "$T/out/alerts.jsonl")"

# 4. A hanging alert command delays no delivery; it is killed with its
# group at alert_timeout. A failing one is logged. The alert: queue_age
# (alert_queue_age = 1s) for an entry on hold, which counts as waiting.
stop_relayd
rm -f "$T/spool/state/.alerts"
sed -i 's|^alert_command = .*|alert_command = sleep 1000 \& echo $! > '"$T"'/out/bg.pid; sleep 1000|' "$CONF"
sed -i 's|^alert_queue_age = .*|alert_queue_age = 1s|' "$CONF"
echo "alert_timeout = 1h" >> "$CONF"
send held
held=$(last_entry)
"$BIN/relayctl" -C "$CONF" hold "$held" >/dev/null && ok "an entry put on hold" || bad "relayctl hold failed"
start_relayd
wait_for 30 test -s "$T/out/bg.pid" && ok "the hanging alert command started (queue_age of a held entry)" \
  || bad "alert command did not start: $(tail -3 "$T/relayd.log")"
before=$(messages "$T/fs3.log")
send hang2
wait_for 30 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs3.log') -gt $before ]" && ok "mail delivered while the alert command hangs" \
  || bad "no delivery while the alert command hangs"
kill -0 "$(cat "$T/out/bg.pid")" 2>/dev/null && ok "(it was still running then)" || bad "the alert command ended by itself"
stop_relayd
wait_for 10 sh -c "! kill -0 $(cat "$T/out/bg.pid") 2>/dev/null" && ok "relayd stopping kills the command's group" \
  || bad "the command's background child survived relayd"
# alert_timeout: killed, group and all, and logged.
rm -f "$T/spool/state/.alerts" "$T/out/bg.pid"
sed -i 's|^alert_timeout = .*|alert_timeout = 2s|' "$CONF"
start_relayd
wait_for 30 test -s "$T/out/bg.pid" || bad "alert command did not start (timeout case)"
wait_for 30 grep -q 'alert_command (pid [0-9]*) ran past alert_timeout; killed' "$T/relayd.log" && ok "killed at alert_timeout, logged" \
  || bad "no kill at alert_timeout: $(tail -3 "$T/relayd.log")"
wait_for 10 sh -c "! kill -0 $(cat "$T/out/bg.pid") 2>/dev/null" && ok "its background child was killed too (process group)" \
  || bad "the background child survived the timeout"
stop_relayd
rm -f "$T/spool/state/.alerts"
sed -i 's|^alert_command = .*|alert_command = exit 3|' "$CONF"
start_relayd
before=$(messages "$T/fs3.log")
wait_for 30 grep -q 'alert_command (pid [0-9]*) exited with status 3' "$T/relayd.log" && ok "a failing alert command is logged" \
  || bad "failing alert command not logged"
send fail2
wait_for 30 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs3.log') -gt $before ]" && ok "mail still delivered" \
  || bad "delivery stopped after a failing alert command"
stop_relayd
"$BIN/relayctl" -C "$CONF" delete "$held" >/dev/null

# 5. delay_warning_time: one "delayed" notice (RFC 3464, Action: delayed)
# per message still queued after it, to a sender who gave no NOTIFY or
# asked for DELAY; none for NOTIFY=NEVER or from the null sender, and no
# second one however often the message is retried.
sed -i '/^alert_command/d; /^heartbeat_command/d' "$CONF"
echo "delay_warning_time = 2s" >> "$CONF"
FS_PORT=$PORT fault_smarthost "$T/fs6.log" '{"rcpt": {"default": "250 2.1.5 Ok", "addresses": {"slow@x.test": "450 4.2.0 try later"}}}'
clear_queue
printf 'Subject: d-plain\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i slow@x.test
printf 'Subject: d-delay\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i -N delay,failure slow@x.test
printf 'Subject: d-never\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i -N never slow@x.test
printf 'Subject: d-failure\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i -N failure slow@x.test
printf 'Subject: d-null\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i -f '<>' slow@x.test
[ "$(queue_count)" = 5 ] && ok "five messages queued for a recipient the smarthost defers" || bad "queued: $(queue_count)"
start_relayd
wait_for 60 sh -c "[ \$(grep -c 'sender delay notification' '$T/relayd.log') -ge 2 ]" && ok "delay notices queued" \
  || bad "no delay notices: $(grep -c deferred "$T/relayd.log") deferrals"
d0=$(grep -c 'status=deferred' "$T/relayd.log")
# Many more attempts of every message: still two notices.
wait_for 60 sh -c "[ \$(grep -c 'status=deferred' '$T/relayd.log') -ge $((d0 + 15)) ]" || bad "no further attempts"
wait_for 30 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs6.log') -ge 2 ]"
stop_relayd
n=$(grep -c 'sender delay notification' "$T/relayd.log")
[ "$n" = 2 ] && ok "exactly two notices in the log (no NOTIFY, NOTIFY=DELAY), after many attempts" || bad "notices logged: $n"
/usr/bin/python3 - "$T/fs6.log" <<'PY' && ok "the smarthost got two delayed DSNs to the sender, from <>, naming slow@x.test, header only" \
  || bad "delay notices at the smarthost: $(grep -c '"event": "message"' "$T/fs6.log")"
import json, sys
msgs = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "message"]
assert len(msgs) == 2, len(msgs)
subjects = set()
for m in msgs:
    d = m["data"]
    assert m["mail_from"] == "", m["mail_from"]
    assert m["rcpts"] == ["root@example.com"], m["rcpts"]
    assert "Subject: Delayed Mail (still being retried)" in d, d
    assert "Final-Recipient: rfc822; slow@x.test\r\nAction: delayed\r\nStatus: 4.2.0" in d, d
    assert "Action: failed" not in d
    assert "text/rfc822-headers" in d
    for s in ("d-plain", "d-delay", "d-never", "d-failure", "d-null"):
        if "Subject: " + s + "\r\n" in d:
            subjects.add(s)
assert subjects == {"d-plain", "d-delay"}, subjects
PY
[ "$(queue_count)" = 5 ] && ok "the five messages are still queued (a notice is not a bounce)" || bad "queued now: $(queue_count)"
grep -l 'delay_warned 1' "$T"/spool/state/* 2>/dev/null | wc -l | grep -qx 5 \
  && ok "all five state files record that the question is settled (two notices; NEVER, FAILURE and <> get none)" \
  || bad "delay_warned in $(grep -l 'delay_warned 1' "$T"/spool/state/* 2>/dev/null | wc -l) state files"

# 6. AUTH refused (535): one auth alert naming the smarthost, and one
# resolved once a login goes through. AUTH without TLS is only allowed to
# a loopback port below 1024 (relay.conf(5)), so this part needs root.
if [ "$(id -u)" = 0 ]; then
  printf 'secret-password\n' > "$T/pw"; chmod 600 "$T/pw"; chown 65534 "$T/pw"
  rm -f "$T/spool/state/.alerts"; clear_queue; rm -f "$T"/spool/state/[0-9A-Z]*
  sed -i '/^delay_warning_time/d' "$CONF"
  printf 'alert_command = cat >> %s/out/auth.jsonl\nauth_user = me@x.test\nauth_password_file = %s/pw\nauth_without_tls = yes\nauth_mechanisms = PLAIN\n' "$T" "$T" >> "$CONF"
  LOW=$(free_low_port)
  FS_PORT=$LOW fault_smarthost "$T/fs7.log" '{"ehlo": {"capabilities": ["AUTH PLAIN"]}, "auth": "535 5.7.8 bad credentials"}'
  start_relayd
  send auth1
  wait_for 60 sh -c "grep -q '\"kind\": \"auth\"' '$T/out/auth.jsonl' 2>/dev/null" && ok "AUTH refused: an auth alert" \
    || bad "no auth alert: $(tail -3 "$T/relayd.log")"
  grep '"kind": "auth"' "$T/out/auth.jsonl" | head -1 | grep -q "\"smarthost\": \"127.0.0.1:$LOW\", \"reason\": \"the smarthost refused AUTH\"" \
    && ok "it names the smarthost and the reason" || bad "auth alert: $(grep auth "$T/out/auth.jsonl")"
  FS_PORT=$LOW fault_smarthost "$T/fs8.log" '{"ehlo": {"capabilities": ["AUTH PLAIN"]}}'
  "$BIN/sendmail" -C "$CONF" -q
  wait_for 60 grep -q '"event": "message"' "$T/fs8.log" && ok "delivered once AUTH is accepted" || bad "not delivered after AUTH was fixed"
  wait_for 30 sh -c "grep '\"kind\": \"auth\"' '$T/out/auth.jsonl' | grep -q resolved" && ok "the auth alert resolved" \
    || bad "no resolved auth alert: $(cat "$T/out/auth.jsonl")"
  stop_relayd
  [ "$(events "$T/out/auth.jsonl" auth firing)" = 1 ] && [ "$(events "$T/out/auth.jsonl" auth resolved)" = 1 ] \
    && ok "exactly one auth firing and one resolved" || bad "auth events: $(cat "$T/out/auth.jsonl")"
  sed -i '/^alert_command/d; /^auth_/d' "$CONF"
else
  echo "(part 6, AUTH refused, needs root for a port below 1024: not run)"
fi

# 7. The examples in conf/alerts/, fed an event's JSON as relayd feeds
# them (env -i PATH=/usr/bin:/bin), against stand-ins on loopback: an HTTP
# server that records each request, and a second relay instance whose
# smarthost is a fault server.
H=$T/http.log
/usr/bin/python3 - "$H" "$T/http.ready" <<'PY' &
import http.server, json, sys
log, ready = sys.argv[1:3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        rec = {"path": self.path, "body": body, "title": self.headers.get("Title"),
               "priority": self.headers.get("Priority"), "auth": self.headers.get("Authorization"),
               "type": self.headers.get("Content-Type")}
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(ready, "w").write(str(s.server_port))
s.serve_forever()
PY
hp=$!
wait_for 10 test -s "$T/http.ready" || bad "http stand-in did not start"
URL=http://127.0.0.1:$(cat "$T/http.ready")
EV='{"kind": "smarthost_down", "state": "firing", "since": 1, "time": 2, "host": "h.example", "smarthost": "mx:25", "error": "q\"uote \u00e9"}'
A=$RELAY_SRC/conf/alerts
printf 'Authorization: Bearer t0ken\n' > "$T/hook.header"
echo "$EV" | env -i PATH=/usr/bin:/bin sh "$A/webhook.sh" "$URL/hook" "$T/hook.header" && ok "webhook.sh: exit 0" || bad "webhook.sh failed"
echo "$EV" | env -i PATH=/usr/bin:/bin sh "$A/ntfy.sh" "$URL/topic" && ok "ntfy.sh: exit 0" || bad "ntfy.sh failed"
echo "$EV" | sed 's/firing/resolved/' | env -i PATH=/usr/bin:/bin sh "$A/deadman.sh" "$URL/ping" && ok "deadman.sh (resolved): exit 0" || bad "deadman.sh failed"
echo "$EV" | env -i PATH=/usr/bin:/bin sh "$A/deadman.sh" "$URL/ping" || bad "deadman.sh (firing) failed"
kill $hp
/usr/bin/python3 - "$H" "$EV" <<'PY' && ok "the stand-in got each request as documented (body, headers, /fail for firing)" || bad "requests: $(cat "$H")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
ev = json.loads(sys.argv[2])
assert len(reqs) == 4, reqs
hook, ntfy, ok_ping, fail_ping = reqs
assert hook["path"] == "/hook" and json.loads(hook["body"]) == ev and hook["auth"] == "Bearer t0ken", hook
assert hook["type"] == "application/json", hook
assert ntfy["path"] == "/topic" and ntfy["title"] == "relay on h.example: smarthost_down firing", ntfy
assert ntfy["priority"] == "high" and json.loads(ntfy["body"]) == ev, ntfy
assert ok_ping["path"] == "/ping" and fail_ping["path"] == "/ping/fail", (ok_ping, fail_ping)
PY
echo "$EV" | env -i PATH=/usr/bin:/bin sh "$A/webhook.sh" "http://127.0.0.1:1/hook" /nonexistent && bad "webhook.sh to a closed port: exit 0" \
  || ok "webhook.sh to a closed port: non-zero exit (relayd logs it)"
# mail.sh: a second instance, its own spool and smarthost.
M=$T/second
mkdir -p "$M/spool/tmp" "$M/spool/queue" "$M/spool/state" "$M/spool/failed" "$M/spool/corrupt" "$M/spool/hold"
chmod 700 "$M/spool" "$M/spool"/*
/usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/fs5.ready" --log "$T/fs5.log" \
  --max-seconds 60 --script-inline '{}' &
fs5=$!
wait_for 10 test -s "$T/fs5.ready" || bad "second smarthost did not start"
printf 'spool_dir = %s\ndomain = example.com\naliases = %s\nsmarthost = 127.0.0.1:%s none\nlog = %s\n' \
  "$M/spool" "$T/aliases" "$(cat "$T/fs5.ready")" "$M/log" > "$M/relay.conf"
touch "$M/log"
if [ "$(id -u)" = 0 ]; then chown -R 65534 "$M/spool" "$M/log"; chmod 755 "$M"; chmod 644 "$M/relay.conf"; fi
echo "$EV" | env -i PATH=/usr/bin:/bin RELAY_SENDMAIL="$BIN/sendmail" RELAY_RELAYD="$BIN/relayd" \
  sh "$A/mail.sh" "$M/relay.conf" admin@example.net && ok "mail.sh: exit 0" || bad "mail.sh failed: $(cat "$M/log" 2>/dev/null)"
kill $fs5
grep -q '"event": "message"' "$T/fs5.log" && ok "mail.sh: the second smarthost got the mail" || bad "mail.sh: no message at the second smarthost"
grep -q 'relay alert: smarthost_down firing' "$T/fs5.log" && ok "mail.sh: its subject names the alert" || bad "mail.sh: subject"
finish
