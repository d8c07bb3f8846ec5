#!/bin/sh
# A state file that cannot be written (the spool's state/ on a full
# filesystem: a 256 KiB tmpfs, filled, in a mount namespace this test
# makes): the first recipient is accepted, the second deferred, and the
# progress cannot be recorded. relay-deliver must say so at once, give the
# entry no new work while its progress is only in memory (a new attempt,
# or a run after a restart, would send to the first recipient again), keep
# trying to write it, and go on once space is back: the first recipient
# gets the message exactly once. A SIGTERM while the progress is unwritten
# says in the log which recipients will be repeated.
if [ -z "${RELAY_IN_MNTNS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private tmpfs (mount namespace)"; exit 77; }
  unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace here"; exit 77; }
  RELAY_IN_MNTNS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
cat >> "$CONF" <<CONF
log = $T/relayd.log
retry_min = 1s
retry_max = 1s
CONF
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
mount -t tmpfs -o size=256k,mode=700,uid=65534 relay-test-state "$T/spool/state" ||
  { echo "SKIP: cannot mount a tmpfs"; exit 77; }
fs= relayd=
trap 'kill $fs $relayd 2>/dev/null; umount "$T/spool/state" 2>/dev/null; rm -rf "$T"' EXIT
fault_smarthost "$T/fs.log" '{"default": {"rcpt": {"addresses": {"later@x.test": "450 4.2.0 later"}}}}' || finish
# RCPT commands the smarthost got for an address.
rcpts() { n=$(grep '"verb": "RCPT"' "$T/fs.log" 2>/dev/null | grep -c "<$1>"); echo "${n:-0}"; }
mails() { n=$(grep -c '"verb": "MAIL"' "$T/fs.log" 2>/dev/null); echo "${n:-0}"; }

fill() { dd if=/dev/zero of="$T/spool/state/filler" bs=4k count=1000 2>/dev/null; true; }
# 1. Full before the first attempt.
"$BIN/relayd" -C "$CONF" --once 2>/dev/null   # creates .deliver.lock while there is room
fill
printf 'Subject: full disk\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i now@x.test later@x.test
"$BIN/relayd" -C "$CONF" &
relayd=$!
wait_for 30 grep -q "cannot save delivery state" "$T/relayd.log" \
  && ok "the unwritable progress is logged at once" || bad "no log line for the unwritable state"
contains "$T/relayd.log" "no further attempt of it until its progress is written" "the log says what happens next"
# retry_min is 1 s: without the stall, the deferred recipient would be tried
# again within seconds; with it, nothing is tried while the disk is full.
sleep 4
[ "$(rcpts now@x.test)" = 1 ] && ok "first recipient sent once" || bad "first recipient sent $(rcpts now@x.test) times"
n=$(mails); [ "$n" = 1 ] && ok "no new attempt while the progress is unwritten" \
  || bad "$n MAIL commands while the progress was unwritten"
# Mail queued during the stall goes out all the same (one recipient,
# accepted: nothing to record in state/).
printf 'Subject: queued during the stall\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i fresh@x.test
wait_for 30 sh -c "grep '\"verb\": \"RCPT\"' '$T/fs.log' | grep -q '<fresh@x.test>'" \
  && ok "mail queued during the stall is delivered" || bad "mail queued during the stall waits for the stalled entry"
# 2. Space is back: the progress is written, and only the deferred
# recipient is tried again (it is deferred each time: 450).
rm -f "$T/spool/state/filler"
wait_for 30 grep -q "delivery progress recorded; deliveries of it resume" "$T/relayd.log" \
  && ok "progress written once there is room" || bad "progress never written: $(tail -3 "$T/relayd.log")"
wait_for 30 sh -c "[ \$(grep '\"verb\": \"RCPT\"' '$T/fs.log' | grep -c '<later@x.test>') -ge 3 ]" \
  && ok "the entry is tried again" || bad "no new attempt after the progress was written: $(rcpts later@x.test) RCPT"
[ "$(rcpts now@x.test)" = 1 ] && ok "first recipient still sent once" || bad "first recipient sent $(rcpts now@x.test) times"
[ "$(rcpts later@x.test)" -ge 3 ] && ok "the deferred recipient, only it, is retried" || bad "second recipient: $(rcpts later@x.test)"
# 3. An entry deleted while its progress is unwritten: the progress is
# dropped, not written into a state file that would outlive the entry.
fill
printf 'Subject: full disk 2\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i gone@x.test later@x.test
wait_for 30 sh -c "[ \$(grep -c 'cannot save delivery state' '$T/relayd.log') -ge 2 ]" || bad "second failure not logged"
id=$(grep 'cannot save delivery state' "$T/relayd.log" | tail -1 | sed 's/.*: \([0-9A-Za-z]*\): cannot save.*/\1/')
"$BIN/relayctl" -C "$CONF" delete "$id" >/dev/null || bad "relayctl delete $id failed"
rm -f "$T/spool/state/filler"
wait_for 30 grep -q "$id: removed while its delivery progress was unwritten" "$T/relayd.log" \
  && ok "the deleted entry's progress is dropped" || bad "no drop logged for $id: $(tail -3 "$T/relayd.log")"
[ ! -e "$T/spool/state/$id" ] && ok "no state file left for the deleted entry" || bad "state/$id outlives its entry"
# 4. A stop while the progress is unwritten names the repeat it causes.
fill
printf 'Subject: full disk 3\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i again@x.test later@x.test
wait_for 30 sh -c "[ \$(grep -c 'cannot save delivery state' '$T/relayd.log') -ge 3 ]" || bad "third failure not logged"
kill -TERM $relayd
wait_for 30 sh -c "! kill -0 $relayd" && ok "relayd stops while progress is unwritten" || bad "relayd did not stop"
contains "$T/relayd.log" "stopping with delivery progress not written: 1 recipient(s) already done will be tried again" \
  "the repeat a stop causes is logged"
finish
