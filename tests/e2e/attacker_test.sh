#!/bin/sh
# Hostile conditions for the injector and the runner: a spool that fills
# up (the free-space floor refuses new mail with 75 before the disk is
# full, and mail already queued stays intact), a tiny RLIMIT_FSIZE, closed
# fds 0-2, and a symlink or hard link planted in queue/ (relayd never
# follows or delivers them).
#
# Then issue 20, against a spool laid out by scripts/install-spool (relay
# user 64320, group relaydrop 64321), attacked by nobody with the relaydrop
# group (what a bug in the setgid door would hand out): a FIFO, forged
# content with an inner dot line, forged envelopes, a forged uid, a
# directory planted in queue/; a smarthost whose replies are out of step;
# 60 writers stalled then SIGKILLed on a small spool; a listener bound
# first on the smarthost's port; the log file's mode; relayctl flush and
# check run by the wrong user; a long recipient argument with CR/LF.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a small tmpfs spool and planted links"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace here"; exit 77; }

# 1. Filling the spool: a 48 MiB tmpfs with spool_min_free = 16M.
cat > "$T/fill.sh" <<INNER
set -u
mount -t tmpfs -o size=48m tmpfs "$T/small" || exit 3
printf 'spool_dir = $T/small/spool\ndomain = example.com\nspool_min_free = 16M\n' > "$T/small.conf"
# The spool as install-spool leaves it: the relay user's (nobody), never root's.
for d in tmp queue state failed corrupt hold; do mkdir -p "$T/small/spool/\$d"; done
chown -R 65534 "$T/small/spool"
printf 'Subject: first\n\nalready queued\n' | "$BIN/sendmail" -C "$T/small.conf" -i a@example.net; echo "first=\$?"
first=\$(ls "$T/small/spool/queue")
sum=\$(md5sum < "$T/small/spool/queue/\$first")
head -c 40000000 /dev/zero | tr '\0' 'y' | fold -w 70 | "$BIN/sendmail" -C "$T/small.conf" -i a@example.net 2> "$T/fill.err"; echo "big=\$?"
echo "queued=\$(ls "$T/small/spool/queue" | wc -l) tmp=\$(ls "$T/small/spool/tmp" | wc -l)"
[ "\$(md5sum < "$T/small/spool/queue/\$first")" = "\$sum" ] && echo "intact=yes"
df -k "$T/small" | awk 'NR==2 {print "free_kb=" \$4}'
INNER
mkdir -p "$T/small"
unshare -m sh "$T/fill.sh" > "$T/fill.out" 2>&1
cat "$T/fill.out" "$T/fill.err" 2>/dev/null
contains "$T/fill.out" "first=0" "a small message is queued"
contains "$T/fill.out" "big=75" "a message that would cross the floor: EX_TEMPFAIL"
contains "$T/fill.err" "below spool_min_free" "one clear line naming the floor"
contains "$T/fill.out" "queued=1 tmp=0" "nothing left behind"
contains "$T/fill.out" "intact=yes" "mail already queued is intact"
free_kb=$(sed -n 's/^free_kb=//p' "$T/fill.out")
[ -n "$free_kb" ] && [ "$free_kb" -gt 8192 ] && ok "the disk was not filled ($free_kb KiB free)" || bad "the disk filled up"

# The private spool, the relay user's (nobody): sendmail makes none for
# root, and 2. must fail on the file size, not on a missing spool.
relay_private_spool

# 2. A tiny RLIMIT_FSIZE: EFBIG, not a kill; 75 and no residue.
printf 'Subject: fsize\n\n%s\n' "$(head -c 20000 /dev/zero | tr '\0' z)" > "$T/in"
( ulimit -f 4; "$BIN/sendmail" -C "$CONF" -i a@example.net < "$T/in" 2> "$T/err" ); rc=$?
[ $rc = 75 ] && ok "RLIMIT_FSIZE: exit 75" || bad "RLIMIT_FSIZE: exit $rc"
grep -q "File too large" "$T/err" && ok "RLIMIT_FSIZE: the write failed (EFBIG)" || bad "RLIMIT_FSIZE: $(cat "$T/err")"
[ "$(queue_count)$(tmp_count)" = 00 ] && ok "RLIMIT_FSIZE: nothing left behind" || bad "RLIMIT_FSIZE: residue"
rm -f "$T/in"

# 3. Closed fds 0-2: the injector reopens them on /dev/null, so nothing it
#    writes can land in a queue file; an empty message is queued.
"$BIN/sendmail" -C "$CONF" -i a@example.net <&- >&- 2>&-; rc=$?
[ $rc = 0 ] && ok "closed fds 0-2: exit 0" || bad "closed fds 0-2: exit $rc"
f=$T/spool/queue/$(last_entry)
lacks "$f" "sendmail:" "closed fds: no diagnostics in the queue file"
tail -1 "$f" | grep -q '^end ' && ok "closed fds: a complete entry" || bad "closed fds: incomplete entry"
clear_queue

# 4. A day-old temporary file of a sender still writing (a long cron job
#    streaming its output) is not swept away under it.
relay_private_spool
echo "smarthost = 127.0.0.1:$(free_port) none" >> "$CONF"
mkfifo "$T/fifo"
"$BIN/sendmail" -C "$CONF" -i slow@example.net < "$T/fifo" > /dev/null 2>&1 &
slow=$!
exec 3> "$T/fifo"
printf 'Subject: long job\n\nfirst line\n' >&3
wait_for 10 sh -c "ls '$T/spool/tmp' | grep -q ." || bad "no temporary file"
touch -d '2 days ago' "$T"/spool/tmp/*
"$BIN/relayd" -C "$CONF" --once 2>/dev/null
printf 'last line\n' >&3
exec 3>&-
wait $slow; rc=$?
[ $rc = 0 ] && ok "a live sender's old temporary file survives the sweep" || bad "slow sender exit $rc"
rm -f "$T/fifo"

# 5. Links planted in queue/ are never followed or delivered.
echo "log = $T/relayd.log" >> "$CONF"; touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
printf 'secret\n' > "$T/target"; chmod 600 "$T/target"
ln -s "$T/target" "$T/spool/queue/6610AAAAAAAAA000000"
ln "$T/target" "$T/spool/queue/6610AAAAAAAAB000000"
"$BIN/relayd" -C "$CONF" --once
contains "$T/relayd.log" "6610AAAAAAAAA000000: corrupt queue entry moved" "planted symlink moved aside"
[ -L "$T/spool/corrupt/6610AAAAAAAAA000000" ] && ok "symlink not followed" || bad "symlink not in corrupt/"
contains "$T/relayd.log" "6610AAAAAAAAB000000" "planted hard link noticed"
[ "$(cat "$T/target")" = secret ] && ok "the link target is untouched" || bad "target changed"

# ---- Issue 20: the spool as the package lays it out, attacked by nobody
# with the relaydrop group. relayd runs as root and becomes the relay user.
RELAY_UID=64320
DROP_GID=64321
chmod 755 "$T"
R=$T/pkg
mkdir -p "$R/bin" "$R/log"
cp "$BIN/sendmail" "$R/bin/sendmail"
RELAY_USER=$RELAY_UID RELAY_GROUP=$DROP_GID sh "$RELAY_SRC/scripts/install-spool" "$R/spool" "$R/bin/sendmail"
chmod 755 "$R" "$R/bin"
chown "$RELAY_UID" "$R/log"
Q=$R/spool/queue
PLOG=$R/log/relay.log
PC=$T/pkg.conf
printf 's3cret-pw-20\n' > "$T/pw"; chown "$RELAY_UID" "$T/pw"; chmod 600 "$T/pw"
chmod 644 "$T/aliases"
# asdrop: the attacker. asnobody: an ordinary user without the group.
asdrop() { setpriv --reuid=65534 --regid=65534 --groups=$DROP_GID env -i PATH=/usr/bin:/bin "$@"; }
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin "$@"; }
# pkg_conf EXTRA: the package instance's relay.conf, plus EXTRA lines.
pkg_conf() {
  printf 'spool_dir = %s\ndomain = example.com\naliases = %s\nlog = %s\nmax_connections = 1\n%b' \
    "$R/spool" "$T/aliases" "$PLOG" "$1" > "$PC"
  chmod 644 "$PC"
}
# pkg_smarthost LOG SCRIPT [EXTRA]: a fault server as the package's smarthost.
pkg_smarthost() {
  if [ -n "${fs:-}" ]; then kill "$fs" 2>/dev/null; wait "$fs" 2>/dev/null; fi
  rm -f "$T/fs.ready"
  /usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/fs.ready" --log "$1" \
    --max-seconds 120 --script-inline "$2" &
  fs=$!
  wait_for 10 test -s "$T/fs.ready" || bad "fault server ($1) did not start"
  pkg_conf "smarthost = 127.0.0.1:$(cat "$T/fs.ready") none\n${3:-}"
}
trap 'kill ${fs:-} 2>/dev/null; rm -rf "$T"' EXIT
# forge ID RECORDS CONTENT: the attacker writes queue/ID directly, with a
# well-formed head and trailer around CONTENT (printf %b escapes).
forge() {
  printf '%b' "$3" > "$T/forged.content"
  n=$(wc -c < "$T/forged.content")
  { printf 'relay-queue 1\nid %s\ntime %s000000\n%bcontent\n' "$1" "$(date +%s)" "$2"
    cat "$T/forged.content"; printf 'end %s 7bit\n' "$n"; } > "$T/forged"
  chmod 644 "$T/forged"
  asdrop sh -c "cat '$T/forged' > '$Q/$1' && chmod 604 '$Q/$1'"
}
run_pkg() { timeout -k 5 60 "$BIN/relayd" -C "$PC" --once; }

# 6. A FIFO planted in queue/ stops nothing: mailq, relayctl queue and the
#    run go on, the FIFO goes to corrupt/, mail queued beside it is sent.
pkg_smarthost "$T/fs6.log" '{}'
asdrop mkfifo -m 604 "$Q/6610AAAAAAAAAF00000"
printf 'Subject: beside a fifo\n\nhello\n' | "$BIN/sendmail" -C "$PC" -i ok@x.test
timeout -k 5 20 "$BIN/relayctl" -C "$PC" queue > /dev/null 2>&1; rc=$?
[ $rc != 124 ] && ok "FIFO: relayctl queue does not hang (exit $rc)" || bad "FIFO: relayctl queue hangs"
timeout -k 5 20 "$BIN/sendmail" -C "$PC" -bp > /dev/null 2>&1; rc=$?
[ $rc != 124 ] && ok "FIFO: mailq does not hang (exit $rc)" || bad "FIFO: mailq hangs"
timeout -k 5 30 "$BIN/relayd" -C "$PC" --once; rc=$?
[ $rc = 0 ] && ok "FIFO: the delivery run ends (exit 0)" || bad "FIFO: the delivery run: exit $rc (124: it hung)"
[ -p "$R/spool/corrupt/6610AAAAAAAAAF00000" ] && ok "FIFO: moved to corrupt/" || bad "FIFO: not in corrupt/"
contains "$PLOG" "6610AAAAAAAAAF00000: corrupt queue entry moved to $R/spool/corrupt/6610AAAAAAAAAF00000: queue entry is not a regular file" "FIFO: the log names what was wrong"
grep -q '"rcpts": \["ok@x.test"\]' "$T/fs6.log" && ok "FIFO: the message beside it was delivered" || bad "FIFO: the message beside it was not delivered"
rm -f "$Q/6610AAAAAAAAAF00000"

# 7. Forged content: an inner dot line (CRLF, and with a bare LF, which
#    some servers take as the end too) must not end the DATA phase and
#    smuggle a second transaction; a bare CR, an unstuffed dot and a bare
#    LF line are refused too, and so is a NUL byte. No final dot goes
#    out; the entry goes to corrupt/, and nothing of it reaches the
#    smarthost as a message.
pkg_smarthost "$T/fs7.log" '{}'
smuggle='\r\n.\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<smuggled@x.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n'
forge 6610AAAAAAAAAC00000 'uid 65534\nfrom nobody@example.com\nrcpt victim@x.test\n' "Subject: hi\r\n\r\nhello$smuggle"
forge 6610AAAAAAAAAD00000 'uid 65534\nfrom nobody@example.com\nrcpt victim@x.test\n' "Subject: hi\r\n\r\nhello\n.\nMAIL FROM:<evil@x.test>\nRCPT TO:<smuggled@x.test>\r\n"
forge 6610AAAAAAAAAE00000 'uid 65534\nfrom nobody@example.com\nrcpt victim@x.test\n' "Subject: hi\r\n\r\nbare\rCR\r\n"
forge 6610AAAAAAAAAG00000 'uid 65534\nfrom nobody@example.com\nrcpt victim@x.test\n' "Subject: hi\r\n\r\n.unstuffed\r\n"
forge 6610AAAAAAAAAN00000 'uid 65534\nfrom nobody@example.com\nrcpt victim@x.test\n' "Subject: hi\r\n\r\nnul\0 byte\r\n"
run_pkg
contains "$PLOG" "6610AAAAAAAAAN00000: corrupt queue entry moved to $R/spool/corrupt/6610AAAAAAAAAN00000: content is not in wire form: a NUL byte" "forged content with a NUL: the log names it"
for id in C D E G N; do
  [ -f "$R/spool/corrupt/6610AAAAAAAAA${id}00000" ] && ok "forged content $id: moved to corrupt/" || bad "forged content $id: not in corrupt/"
  contains "$PLOG" "6610AAAAAAAAA${id}00000: corrupt queue entry moved to $R/spool/corrupt/6610AAAAAAAAA${id}00000: content is not in wire form" "forged content $id: the log says why"
done
lacks "$T/fs7.log" "smuggled@x.test" "forged content: no smuggled RCPT reached the smarthost"
lacks "$T/fs7.log" '"event": "message"' "forged content: no message was accepted by the smarthost"
rm -f "$Q"/6610AAAAAAAAA?00000

# 8. Forged envelopes: a bare CR and spaces in from/rcpt never reach MAIL
#    or RCPT; each entry goes to corrupt/ naming the record.
pkg_smarthost "$T/fs8.log" '{"ehlo": {"capabilities": ["PIPELINING", "DSN", "8BITMIME"]}}'
ok_body='Subject: hi\r\n\r\nhello\r\n'
forge 6610AAAAAAAAAH00000 'from nobody@example.com\rRCPT TO:<evil1@x.test>\nrcpt victim@x.test\n' "$ok_body"
forge 6610AAAAAAAAAJ00000 'from nobody@example.com\nrcpt victim@x.test> NOTIFY=SUCCESS ORCPT=rfc822;evil2@x.test\n' "$ok_body"
forge 6610AAAAAAAAAK00000 'from nobody@example.com> SIZE=1 evil3@x.test\nrcpt victim@x.test\n' "$ok_body"
forge 6610AAAAAAAAAL00000 'from nobody@example.com\nrcpt victim@x.test\rRSET\rMAIL FROM:<evil4@x.test>\n' "$ok_body"
forge 6610AAAAAAAAAM00000 'from nobody@example.com\nrcpt victim@x.test\nnotify SUCCESS ORCPT=rfc822;evil5@x.test\n' "$ok_body"
run_pkg
for id in H J K L M; do
  [ -f "$R/spool/corrupt/6610AAAAAAAAA${id}00000" ] && ok "forged envelope $id: moved to corrupt/" || bad "forged envelope $id: not in corrupt/"
done
contains "$PLOG" "6610AAAAAAAAAH00000: corrupt queue entry moved to $R/spool/corrupt/6610AAAAAAAAAH00000: queue file record 'from nobody@example.com?RCPT TO:<evil1@x.test>': address contains a line break" "forged envelope: the log names the bare CR"
contains "$PLOG" "queue file record 'rcpt victim@x.test> NOTIFY=SUCCESS ORCPT=rfc822;evil2@x.test': not a single plain address" "forged envelope: the log names the spaces"
lacks "$T/fs8.log" "evil" "forged envelope: nothing forged reached the smarthost"
lacks "$T/fs8.log" '"verb": "MAIL"' "forged envelope: not even a MAIL command went out"
rm -f "$Q"/6610AAAAAAAAA?00000

# 9. A forged uid: a file planted by nobody that claims uid 0 is logged and
#    shown as nobody's (the file's owner); root's own mail stays root's.
pkg_smarthost "$T/fs9.log" '{}'
forge 6610AAAAAAAAAU00000 'uid 0\nfrom root@example.com\nrcpt victim@x.test\n' "$ok_body"
"$BIN/relayctl" -C "$PC" show 6610AAAAAAAAAU00000 > "$T/show9" 2>&1
grep -q '^uid: *65534$' "$T/show9" && ok "forged uid: relayctl show names the file's owner (65534)" || bad "forged uid: relayctl show says $(grep '^uid' "$T/show9")"
printf 'Subject: root\n\nfrom root\n' | "$BIN/sendmail" -C "$PC" -i ok@x.test
run_pkg
grep -q '6610AAAAAAAAAU00000: from=<root@example.com>, .*, uid=65534 (queue active)' "$PLOG" && ok "forged uid: logged as uid=65534" || bad "forged uid: $(grep '6610AAAAAAAAAU00000: from' "$PLOG")"
grep -q '6610AAAAAAAAAU00000: from=.*uid=0 (queue active)' "$PLOG" && bad "forged uid: logged as root's (uid=0)" || ok "forged uid: never logged as root's"
grep -q 'from=<root@example.com>, .*, uid=0 (queue active)' "$PLOG" && ok "root's own mail is still logged uid=0" || bad "root's own mail lost its uid"

# 10. The desync: replies out of step with the commands (what smuggled
#     commands leave behind). The second MAIL gets four stale replies
#     first; another user's message refused with 550 must not be logged
#     sent and removed: it is deferred, a protocol error, and stays queued.
pkg_smarthost "$T/fs10.log" '{"connections": {"1": {"mail": {"sequence": ["250 2.1.0 Ok", ["250 2.1.0 stale", "250 2.1.5 stale", "354 stale", "250 2.0.0 stale: queued", "250 2.1.0 Ok"]]}}}, "default": {"rcpt": {"addresses": {"bad@x.test": "550 5.1.1 no such user"}}}}'
printf 'Subject: first\n\none\n' | "$BIN/sendmail" -C "$PC" -i ok@x.test
printf 'Subject: second\n\ntwo\n' | "$BIN/sendmail" -C "$PC" -i bad@x.test
second=$(ls "$Q" | sort | tail -1)
run_pkg
grep "to=<bad@x.test>" "$PLOG" | grep -q "status=sent" && bad "desync: the refused message was logged status=sent" || ok "desync: no status=sent for the refused recipient"
grep "to=<bad@x.test>" "$PLOG" | grep -q "protocol error: a reply with no command outstanding" && ok "desync: deferred as a protocol error" || bad "desync: no protocol error logged"
[ -f "$Q/$second" ] && ok "desync: the refused message is still queued" || bad "desync: the refused message was removed: lost"

# 11. A listener bound first on the smarthost's port (1024 or above, as a
#     stunnel would use) gets no password, even with auth_without_tls.
pkg_smarthost "$T/fs11.log" '{"ehlo": {"capabilities": ["PIPELINING", "AUTH PLAIN LOGIN"]}}' \
  "auth_user = me@example.com\nauth_password_file = $T/pw\nauth_without_tls = yes\n"
printf 'Subject: auth\n\nx\n' | "$BIN/sendmail" -C "$PC" -i ok@x.test
run_pkg
lacks "$T/fs11.log" '"event": "auth"' "auth_without_tls on port >= 1024: no AUTH sent"
lacks "$T/fs11.log" "s3cret-pw-20" "auth_without_tls on port >= 1024: the password never sent"
contains "$PLOG" "any local user can bind a port of 1024 or above first" "auth_without_tls on port >= 1024: the log says why"
"$BIN/relayctl" -C "$PC" check > "$T/check11" 2>&1
contains "$T/check11" "warning: auth_without_tls is refused for 127.0.0.1:" "relayctl check warns about it"
rm -f "$Q"/*

# 12. The log file, created by a run under umask 022, is 0600.
rm -f "$PLOG"
pkg_conf ""
(umask 022; run_pkg)
[ "$(stat -c %a "$PLOG" 2>/dev/null)" = 600 ] && ok "log file created 0600" || bad "log file mode $(stat -c %a "$PLOG" 2>/dev/null)"

# 13. A directory planted in queue/ (nobody's: the relay user cannot move
#     it to another directory) is taken out of queue/, not logged as moved
#     every run while it stays.
asdrop mkdir -m 755 "$Q/6610AAAAAAAAAP00000"
run_pkg
run_pkg
[ ! -e "$Q/6610AAAAAAAAAP00000" ] && ok "planted directory: no longer under its queue name" || bad "planted directory: still in queue/"
[ "$(grep -c '6610AAAAAAAAAP00000: corrupt queue entry' "$PLOG")" = 1 ] && ok "planted directory: handled once" || bad "planted directory: $(grep -c '6610AAAAAAAAAP00000: corrupt' "$PLOG") log lines"
contains "$PLOG" "6610AAAAAAAAAP00000: corrupt queue entry (queue entry is not a regular file) cannot go to" "planted directory: the log says what happened"

# 14. relayctl flush by a user who cannot request one says so (77);
#     relayctl check by the wrong user does not suggest chowning the
#     secret to that user.
pkg_conf "auth_user = me@example.com\nauth_password_file = $T/pw\n"
asnobody "$BIN/relayctl" -C "$PC" flush > "$T/flush14" 2>&1; rc=$?
[ $rc = 77 ] && ok "relayctl flush without permission: exit 77" || bad "relayctl flush without permission: exit $rc"
lacks "$T/flush14" "flush requested" "relayctl flush without permission: no false 'flush requested'"
contains "$T/flush14" "flush not requested" "relayctl flush without permission: says it was not requested"
asnobody "$BIN/relayctl" -C "$PC" check > "$T/check14" 2>&1
lacks "$T/check14" "chown 65534" "relayctl check as the wrong user: no chown to that user"
contains "$T/check14" "run it as root or as that user" "relayctl check as the wrong user: says whom to run it as"

# 15. A recipient argument over 320 octets with CR/LF in a comment.
long="a@example.net ($(head -c 330 /dev/zero | tr '\0' c)"
crlf=$(printf '\r\nx'); lf=$(printf '\nx'); cr=$(printf '\rx')
for brk in "${crlf%x}" "${lf%x}" "${cr%x}"; do
  printf 'Subject: x\n\nx\n' | "$BIN/sendmail" -C "$CONF" -i "$long$brk X-Evil: 1)" > /dev/null 2> "$T/err15"; rc=$?
  [ $rc = 64 ] && ok "long recipient with a line break in a comment: exit 64" || bad "long recipient with a line break: exit $rc"
done
contains "$T/err15" "line break" "long recipient: the error names the line break"

# 16. 60 writers stalled just under their next free-space check, then
#     SIGKILLed, on a 48 MiB spool with spool_min_free = 16M (a small
#     tmpfs in a mount namespace, laid out by install-spool). The floor
#     holds while they stall; the next run sweeps their files at once
#     (no writer holds their lock), and new mail is taken again.
head -c 1000000 /dev/zero | tr '\0' y | fold -w 70 > "$T/big"
cat > "$T/stall.sh" <<INNER
set -u
mount -t tmpfs -o size=48m tmpfs "$T/small60" || exit 3
cp "$BIN/sendmail" "$T/small60-sendmail"
RELAY_USER=$RELAY_UID RELAY_GROUP=$DROP_GID sh "$RELAY_SRC/scripts/install-spool" "$T/small60/spool" "$T/small60-sendmail"
chmod 755 "$T/small60"
printf 'spool_dir = $T/small60/spool\\ndomain = example.com\\naliases = $T/aliases\\nspool_min_free = 16M\\nlog = $R/log/small.log\\nsmarthost = 127.0.0.1:1 none\\n' > "$T/small60.conf"
chmod 644 "$T/small60.conf"
mkdir -p "$T/w"
for i in \$(seq 60); do mkfifo "$T/w/p\$i"; done
for i in \$(seq 60); do
  "$BIN/sendmail" -C "$T/small60.conf" -i a@example.net < "$T/w/p\$i" 2> "$T/w/err\$i" &
  echo \$! > "$T/w/pid\$i"
  sh -c 'cat "$T/big"; touch "$T/w/fed\$0"; exec sleep 300' \$i > "$T/w/p\$i" &
  echo \$! > "$T/w/feed\$i"
done
# Settled: every writer has read its ~1 MB (its feeder is done) and every
# file left in tmp/ is a stalled writer's (~1 MB; one that gave up has
# removed its own). Bounded: at most about 60 s.
settled() {
  [ \$(ls "$T/w" | grep -c '^fed') = 60 ] || return 1
  big=0
  for f in "$T"/small60/spool/tmp/*; do
    [ -f "\$f" ] || continue
    [ \$(stat -c %s "\$f") -ge 900000 ] || return 1
    big=\$((big + 1))
  done
}
n=0; until settled; do n=\$((n + 1)); [ \$n -ge 300 ] && break; sleep 0.2; done
live=\$(ls "$T/small60/spool/tmp" | wc -l)
echo "stalled=\$live"
df -k "$T/small60" | awk 'NR==2 {print "stalled_free_kb=" \$4}'
for i in \$(seq 60); do kill -KILL \$(cat "$T/w/pid\$i") 2>/dev/null; done
for i in \$(seq 60); do kill \$(cat "$T/w/feed\$i") 2>/dev/null; done
wait
echo "tmp_after_kill=\$(ls "$T/small60/spool/tmp" | wc -l)"
touch -d '1 minute ago' "$T"/small60/spool/tmp/* 2>/dev/null
timeout 60 "$BIN/relayd" -C "$T/small60.conf" --once
echo "tmp_after_run=\$(ls "$T/small60/spool/tmp" | wc -l)"
df -k "$T/small60" | awk 'NR==2 {print "free_after_run_kb=" \$4}'
printf 'Subject: after\\n\\nafter\\n' | "$BIN/sendmail" -C "$T/small60.conf" -i a@example.net; echo "after=\$?"
INNER
mkdir -p "$T/small60"
if unshare -m sh "$T/stall.sh" > "$T/stall.out" 2>&1; then :; fi
grep -v '^sendmail' "$T/stall.out"
stalled=$(sed -n 's/^stalled=//p' "$T/stall.out")
sfree=$(sed -n 's/^stalled_free_kb=//p' "$T/stall.out")
[ -n "$stalled" ] && [ "$stalled" -gt 0 ] && ok "60 writers: $stalled stalled, the rest refused" || bad "60 writers: none stalled"
[ -n "$sfree" ] && [ "$sfree" -gt 12288 ] && ok "60 stalled writers: the floor holds ($sfree KiB free)" || bad "60 stalled writers: $sfree KiB free, below the 16 MiB floor"
contains "$T/stall.out" "tmp_after_run=0" "killed writers' files swept by the next run"
contains "$T/stall.out" "after=0" "new mail is taken after the sweep"
finish
