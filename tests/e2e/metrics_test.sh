#!/bin/sh
# Metrics (issue 18): relay-deliver writes metrics_file after each run and
# `relayctl status --prometheus` prints the same text; both pass
# `promtool check metrics` (Debian's prometheus package), and the counters,
# kept in state/.health, match the smarthost's own count across a relayd
# restart: deliver N, restart, deliver M, sent == N + M == what the
# smarthost logged.
. "$(dirname "$0")/lib.sh"
PROMTOOL=$(command -v promtool) || { echo "SKIP: promtool (Debian's prometheus package) is not installed"; exit 77; }

# promcheck FILE WHAT: promtool exits non-zero on a problem and prints
# lint findings (a counter not named _total, a missing HELP...) even when
# it exits 0; any output at all is a failure here.
promcheck() {
  "$PROMTOOL" check metrics < "$1" > "$T/promtool.out" 2>&1; prc=$?
  if [ $prc = 0 ] && [ ! -s "$T/promtool.out" ]; then ok "promtool check metrics: $2"
  else bad "promtool check metrics, $2: exit $prc: $(cat "$T/promtool.out")"; fi
}
# metric FILE NAME-WITH-LABELS: the value of one sample.
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

relayd_pid=
trap 'kill $relayd_pid $fs 2>/dev/null; rm -rf "$T"' EXIT
fault_smarthost "$T/fs.log" '{"rcpt": {"default": "250 2.1.5 Ok", "addresses": {"bad@x.test": "550 5.1.1 no such user", "later@x.test": "450 4.2.0 try later"}}}' || finish
HOST=127.0.0.1:$(cat "$T/fs.ready")
mkdir -p "$T/metrics"
cat >> "$CONF" <<CONF
log = $T/relayd.log
retry_min = 1h
retry_max = 2h
metrics_file = $T/metrics/relay.prom
CONF
relay_private_spool
touch "$T/relayd.log"
if [ "$(id -u)" = 0 ]; then chown 65534 "$T/relayd.log" "$T/metrics"; fi
PROM=$T/metrics/relay.prom
send() { printf 'Subject: %s\n\nbody\n' "$1" | "$BIN/sendmail" -C "$CONF" -i -f s@x.test "${2:-r@x.test}"; }
smarthost_count() { grep -c '"event": "message"' "$T/fs.log"; }
sent() { metric "$PROM" "relay_messages_sent_total{smarthost=\"$HOST\"}"; }
start_relayd() {
  "$BIN/relayd" -C "$CONF" & relayd_pid=$!
}
# wait_sent N: until the smarthost has N messages and the metrics file says N.
wait_sent() {
  wait_for 60 sh -c "[ \$(grep -c '\"event\": \"message\"' '$T/fs.log') = $1 ] &&
    grep -qx 'relay_messages_sent_total{smarthost=\"$HOST\"} $1' '$PROM'"
}

# N = 3, then a recipient refused for good (its bounce goes out too: one
# more sent) and one deferred.
start_relayd
for i in 1 2 3; do send "n$i"; done
wait_sent 3 && ok "three delivered, metrics file written" || bad "n: smarthost $(smarthost_count), metrics $(sent)"
send refused bad@x.test
wait_sent 4 && ok "the bounce went out and was counted" || bad "bounce: smarthost $(smarthost_count), metrics $(sent)"
send deferred later@x.test
wait_for 60 grep -qx "relay_messages_deferred_total{smarthost=\"$HOST\"} 1" "$PROM" &&
  ok "the deferral was counted" || bad "deferred: $(grep deferred "$PROM")"
promcheck "$PROM" "the metrics file"
[ "$(stat -c %a "$PROM")" = 644 ] && ok "the metrics file is world-readable (0644) for the collector" ||
  bad "metrics file mode $(stat -c %a "$PROM")"
ls "$T/metrics" | grep -v '^relay.prom$' > "$T/extra"
[ -s "$T/extra" ] && bad "left beside the metrics file: $(cat "$T/extra")" || ok "no temporary left beside the metrics file"

# Restart relayd: the counters carry on from state/.health.
kill -TERM "$relayd_pid"; wait "$relayd_pid"; relayd_pid=
start_relayd
send m1; send m2
wait_sent 6 && ok "after a restart the counter carries on (4 + 2)" || bad "restart: smarthost $(smarthost_count), metrics $(sent)"
kill -TERM "$relayd_pid"; wait "$relayd_pid"; relayd_pid=
[ "$(sent)" = "$(smarthost_count)" ] && ok "relay_messages_sent_total == the smarthost's own count ($(sent))" ||
  bad "sent $(sent), smarthost $(smarthost_count)"
promcheck "$PROM" "the metrics file after the restart"

"$BIN/relayctl" -C "$CONF" status --prometheus > "$T/status.prom"; rc=$?
[ $rc = 0 ] && ok "relayctl status --prometheus: exit 0" || bad "status --prometheus: exit $rc"
promcheck "$T/status.prom" "relayctl status --prometheus"
for f in "$PROM" "$T/status.prom"; do
  want="relay_messages_sent_total{smarthost=\"$HOST\"} 6
relay_messages_deferred_total{smarthost=\"$HOST\"} 1
relay_messages_bounced_total{smarthost=\"$HOST\"} 1
relay_bounces_generated_total 1
relay_queue_messages 1
relay_queue_held_messages 0
relay_queue_failed_messages 0
relay_smarthost_up{smarthost=\"$HOST\"} 1
relay_smarthost_paused{smarthost=\"$HOST\",reason=\"\"} 0"
  echo "$want" | while IFS= read -r line; do grep -qxF "$line" "$f" || echo "$line"; done > "$T/missing"
  [ -s "$T/missing" ] && bad "$f lacks: $(cat "$T/missing")" || ok "$(basename "$f"): every expected sample"
done
last=$(metric "$T/status.prom" relay_last_success_timestamp_seconds)
[ "${last%%.*}" -gt 0 ] 2>/dev/null && ok "relay_last_success_timestamp_seconds is set" || bad "last success: $last"

# A smarthost that cannot be reached: the pause, with its reason, shows.
kill "$fs"; wait "$fs" 2>/dev/null; fs=
"$BIN/relayctl" -C "$CONF" flush > /dev/null
"$BIN/relayd" -C "$CONF" --once
grep -q "^relay_smarthost_paused{smarthost=\"$HOST\",reason=\"unreachable: .*\"} 1$" "$PROM" &&
  ok "an unreachable smarthost shows as paused, with the reason" || bad "pause: $(grep pause "$PROM")"
grep -q "^relay_smarthost_up{smarthost=\"$HOST\"} 0$" "$PROM" && ok "and as down" || bad "up: $(grep _up "$PROM")"
promcheck "$PROM" "with a pause"
finish
