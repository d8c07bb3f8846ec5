#!/bin/sh
# Hostile conditions for the injector and the runner: a spool that fills
# up (the free-space floor refuses new mail with 75 before the disk is
# full, and mail already queued stays intact), a tiny RLIMIT_FSIZE, closed
# fds 0-2, and a symlink or hard link planted in queue/ (relayd never
# follows or delivers them).
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
finish
