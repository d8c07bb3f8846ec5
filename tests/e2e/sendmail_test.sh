#!/bin/sh
# The built sendmail in a private instance: exit codes, the queue entry,
# mailq, newaliases, -bv, the dot rule, signals.
. "$(dirname "$0")/lib.sh"

# As root, the spool is made for the relay user (here nobody), as
# install-spool would: sendmail does not make one for root (see below).
[ "$(id -u)" = 0 ] && relay_private_spool

# A cron message as Debian's cron sends it.
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@h> ls\n\nout\n' > "$T/in"
expect_exit 0 "cron message queued" -- "$BIN/sendmail" -C "$CONF" -FCronDaemon -i -B8BITMIME -oem root
[ -s "$T/err" ] && bad "sendmail printed on success: $(cat "$T/err")" || ok "silent on success"
[ "$(queue_count)" = 1 ] && ok "one entry in queue/" || bad "queue has $(queue_count) entries"
[ "$(tmp_count)" = 0 ] && ok "tmp/ empty after commit" || bad "tmp/ not empty"
f=$T/spool/queue/$(last_entry)
contains "$f" "rcpt admin@example.net" "alias root -> admin@example.net"
contains "$f" "From: root@example.com (Cron Daemon)" "From qualified"
contains "$f" "body 8BITMIME" "-B8BITMIME stored"
mode=$(stat -c %a "$f")
# 604 when the spool is another user's (the relay user reads it through
# "other", see sendmail(8)): as root here.
want_mode=600; [ "$(id -u)" = 0 ] && want_mode=604
[ "$mode" = $want_mode ] && ok "queue file mode $want_mode" || bad "queue file mode $mode"

expect_exit 0 "mailq lists" -- "$BIN/mailq" -C "$CONF"
contains "$T/out" "$(last_entry)" "mailq shows the queue id"
contains "$T/out" "admin@example.net" "mailq shows the recipient"
contains "$T/out" "in 1 Request." "mailq total line"
expect_exit 0 "sendmail -bp lists" -- "$BIN/sendmail" -C "$CONF" -bp
contains "$T/out" "in 1 Request." "-bp same as mailq"
clear_queue
expect_exit 0 "mailq on empty queue" -- "$BIN/mailq" -C "$CONF"
contains "$T/out" "Mail queue is empty" "empty queue message"

# -t: recipients from the header, Bcc removed, union with arguments.
printf 'To: a@x.org\nCc: B <b@y.org>\nBcc: secret@z.org\nSubject: t\n\nbody\n' > "$T/in"
expect_exit 0 "-t queued" -- "$BIN/sendmail" -C "$CONF" -t -i extra@w.org
f=$T/spool/queue/$(last_entry)
for r in extra@w.org a@x.org b@y.org secret@z.org; do contains "$f" "rcpt $r" "-t recipient $r"; done
lacks "$f" "Bcc:" "Bcc header removed"
clear_queue

# -t with elements that cannot be parsed, mixed with good ones in To, Cc
# and Bcc: each bad one is skipped and logged (relay's log, not stderr),
# the message goes to the rest, exit 0. Postfix never refuses a -t
# message over header syntax; cron and PHP ignore the exit code.
: > "$T/relay.log"
[ "$(id -u)" = 0 ] && chown 65534 "$T/relay.log"
sed '/^log =/d' "$CONF" > "$T/tlog.conf"
echo "log = $T/relay.log" >> "$T/tlog.conf"
printf 'To: a@x.org, <unbalanced@x.org, Joe Smith\nCc: @, c@y.org, two words@x.org\nBcc: "unclosed@z.org, lost@z.org\nBcc: e@z.org, bad@\n (comment)\nSubject: t\n\nbody\n' > "$T/in"
expect_exit 0 "-t with bad elements in To, Cc, Bcc queued" -- "$BIN/sendmail" -C "$T/tlog.conf" -t -i
[ -s "$T/err" ] && bad "-t skip printed on stderr: $(cat "$T/err")" || ok "-t skip: nothing on stderr"
if [ "$(queue_count)" = 1 ]; then
  f=$T/spool/queue/$(last_entry)
  for r in a@x.org c@y.org e@z.org; do contains "$f" "rcpt $r" "-t good recipient $r kept"; done
  lacks "$f" "rcpt lost@z.org" "-t: an address inside a bad element is not guessed at"
  id=$(last_entry)
  for b in "'<unbalanced@x.org' in the To header" "'Joe Smith' in the To header" "'@' in the Cc header" \
           "'\"unclosed@z.org, lost@z.org' in the Bcc header" "'bad@' in the Bcc header"; do
    contains "$T/relay.log" "$id: -t: skipped $b: cannot be parsed as an address" "-t logs $b"
  done
  contains "$T/relay.log" "sendmail[" "-t: the log line names sendmail"
else
  bad "-t with bad elements: queue has $(queue_count) entries"
fi
clear_queue
# Thousands of bad elements: 20 lines and a count, not a flood.
{ printf 'To: good@x.org'; i=0; while [ $i -lt 2000 ]; do printf ', <b%d' $i; i=$((i+1)); done; printf '\nSubject: t\n\nbody\n'; } > "$T/in"
: > "$T/relay.log"
expect_exit 0 "-t with 2000 bad elements queued" -- "$BIN/sendmail" -C "$T/tlog.conf" -t -i
[ "$(grep -c -- '-t: skipped' "$T/relay.log")" = 20 ] && ok "-t: 20 skip lines at most" || bad "-t: $(grep -c -- '-t: skipped' "$T/relay.log") skip lines"
contains "$T/relay.log" "-t: and 1980 more elements skipped" "-t: the rest counted"
clear_queue
printf 'To: <a@x.org\nCc: Joe Smith\nBcc: bad@\nSubject: t\n\nbody\n' > "$T/in"
expect_exit 64 "-t with every element bad" -- "$BIN/sendmail" -C "$T/tlog.conf" -t -i
contains "$T/err" "sendmail: no recipients found in the message header (-t); skipped 3 that cannot be used, the first in To: '<a@x.org'" "-t all bad: one line naming the skipped"
[ "$(wc -l < "$T/err")" = 1 ] && ok "-t all bad: one line on stderr" || bad "stderr: $(cat "$T/err")"
[ "$(queue_count)$(tmp_count)" = 00 ] && ok "-t all bad: nothing queued" || bad "-t all bad: residue"

# Usage errors: nothing queued.
rm -f "$T/in"
expect_exit 64 "no recipients" -- "$BIN/sendmail" -C "$CONF"
expect_exit 64 "mail-style -s" -- "$BIN/sendmail" -C "$CONF" -s Subject root
contains "$T/err" "sendmail: unknown option -s" "one clear line"
[ "$(wc -l < "$T/err")" = 1 ] && ok "exactly one line on stderr" || bad "stderr: $(cat "$T/err")"
expect_exit 64 "missing -f argument" -- "$BIN/sendmail" -C "$CONF" -f
expect_exit 64 "-bd unsupported" -- "$BIN/sendmail" -C "$CONF" -bd
expect_exit 0 "-q30m is a no-op" -- "$BIN/sendmail" -C "$CONF" -q30m
printf 'Subject: x\n\nb\n' > "$T/in"
expect_exit 64 "-t with no recipients" -- "$BIN/sendmail" -C "$CONF" -t
[ "$(queue_count)" = 0 ] && ok "nothing queued after usage errors" || bad "queued after error"

# Data errors.
{ i=0; while [ $i -lt 51 ]; do echo "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000"; i=$((i+1)); done; printf '\nb\n'; } > "$T/in"
expect_exit 65 "mail loop" -- "$BIN/sendmail" -C "$CONF" -i a@x.org
[ "$(queue_count)$(tmp_count)" = 00 ] && ok "nothing left after data error" || bad "residue after data error"

# Config errors.
printf 'spool_dir = %s/spool\nspool_dri = /x\n' "$T" > "$T/bad.conf"
rm -f "$T/in"
expect_exit 78 "unknown config key" -- "$BIN/sendmail" -C "$T/bad.conf" -bp
contains "$T/err" "bad.conf:2: unknown key 'spool_dri'" "config error names file and line"
# A -C file that does not exist is an error (78, one line), in every mode:
# quietly using the defaults queued mail in a spool nobody reads.
printf 'Subject: s\n\nb\n' > "$T/in"
for mode in "-i a@x.org" "-t -i" "-bs" "-bv root@example.org" "-bp"; do
  # shellcheck disable=SC2086
  expect_exit 78 "-C missing file ($mode)" -- "$BIN/sendmail" -C "$T/nonexistent.conf" $mode
  contains "$T/err" "sendmail: -C $T/nonexistent.conf: no such configuration file" "-C missing ($mode): the line names it"
  [ "$(wc -l < "$T/err")" = 1 ] && ok "-C missing ($mode): one line" || bad "stderr: $(cat "$T/err")"
done
[ -e "$T/nonexistent.conf" ] && bad "-C missing: file created" || ok "-C missing: nothing created"
rm -f "$T/in"

# The lone dot ends input without -i; the rest is drained (no SIGPIPE).
{ printf 'Subject: dot\n\nbefore\n.\n'; head -c 2000000 /dev/zero | tr '\0' 'x'; echo; } > "$T/in"
expect_exit 0 "dot-terminated" -- "$BIN/sendmail" -C "$CONF" a@x.org
f=$T/spool/queue/$(last_entry)
contains "$f" "before" "text before the dot kept"
lacks "$f" "xxxx" "text after the dot dropped"
( printf 'Subject: dot\n\nbefore\n.\n'; head -c 2000000 /dev/zero | tr '\0' 'x'; echo; echo "writer-ok" > "$T/writer" ) | "$BIN/sendmail" -C "$CONF" a@x.org
[ -f "$T/writer" ] && ok "writer not killed by SIGPIPE" || bad "writer died"
clear_queue

# -bv and newaliases.
expect_exit 0 "-bv" -- "$BIN/sendmail" -C "$CONF" -bv postmaster bob a@x.org
contains "$T/out" "postmaster -> admin@example.net" "-bv follows aliases"
contains "$T/out" "bob -> bob@example.com" "-bv qualifies unaliased local"
expect_exit 0 "newaliases on good file" -- "$BIN/newaliases" -C "$CONF"
printf 'root: admin@example.net\nbackup: |/usr/bin/backup\n' > "$T/aliases"
expect_exit 78 "newaliases refuses a pipe" -- "$BIN/newaliases" -C "$CONF"
contains "$T/err" "aliases:2:" "newaliases names the line"
printf 'root: admin@example.net\n' > "$T/aliases"

# A spool that cannot be written: temporary failure, one line.
printf 'spool_dir = %s/notadir\n' "$T" > "$T/broken.conf"
: > "$T/notadir"
printf 'Subject: s\n\nb\n' > "$T/in"
expect_exit 75 "unwritable spool" -- "$BIN/sendmail" -C "$T/broken.conf" -i a@x.org
contains "$T/err" "sendmail: " "tempfail message prefixed"

# Mail is never queued where no queue runner will read it (sendmail(8),
# "THE SPOOL"). Each case: exit 75, one line naming what is wrong and how
# to repair it, nothing queued, no spool made. As root, and as an
# ordinary user where the case applies to one.
printf 'spool_dir = %s/s/spool\ndomain = example.com\naliases = %s/aliases\n' "$T" "$T" > "$T/s.conf"
chmod 644 "$T/s.conf"
spool_case() {  # spool_case WHAT PATTERN [AS-USER-PREFIX...]: inject, expect 75 + PATTERN
  what=$1; pattern=$2; shift 2
  printf 'Subject: s\n\nb\n' > "$T/in"; chmod 644 "$T/in"
  expect_exit 75 "$what" -- "$@" "$BIN/sendmail" -C "$T/s.conf" -i a@x.org
  contains "$T/err" "$pattern" "$what: the line says why and how to repair"
  [ "$(wc -l < "$T/err")" = 1 ] && ok "$what: one line" || bad "$what: stderr: $(cat "$T/err")"
  printf 'HELO x\r\nMAIL FROM:<s@x.org>\r\n' > "$T/in"
  expect_exit 75 "$what (-bs)" -- "$@" "$BIN/sendmail" -C "$T/s.conf" -bs
  [ -z "$(ls "$T/s/spool/queue" 2>/dev/null)" ] && ok "$what: nothing queued" || bad "$what: queued"
}
make_spool() {  # make_spool UID: the spool as install-spool's layout would have it, owned by UID
  rm -rf "$T/s"; mkdir -p "$T/s/spool"
  for d in tmp queue state failed corrupt hold; do mkdir "$T/s/spool/$d"; done
  chmod 700 "$T/s/spool"/*; chown -R "$1" "$T/s/spool"; chmod 755 "$T/s" "$T/s/spool"
}
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$T"; chmod 644 "$T/aliases"
  rm -rf "$T/s"; mkdir "$T/s"
  spool_case "root, no spool" "cannot queue message: no spool at $T/s/spool; sendmail does not create it (as root: scripts/install-spool $T/s/spool, or install the relay package)"
  [ -e "$T/s/spool" ] && bad "root, no spool: a spool was created" || ok "root, no spool: none created"
  make_spool 0
  spool_case "root, spool owned by root" "$T/s/spool/queue belongs to root, and relayd never delivers as root"
  make_spool 65534; chown 0 "$T/s/spool/state"
  spool_case "root, state/ of another owner" "$T/s/spool/state belongs to uid 0, but the spool ($T/s/spool/queue) to uid 65534"
  make_spool 65534; rmdir "$T/s/spool/hold"
  spool_case "root, hold/ missing" "the spool $T/s/spool is incomplete: $T/s/spool/hold is missing"
  # A queue directory copied in by hand: cp -r as root gives it to root.
  make_spool 65534; rm -rf "$T/s/spool/queue"; mkdir -p "$T/q/queue"; cp -r "$T/q/queue" "$T/s/spool/queue"
  spool_case "root, queue/ copied in by hand" "$T/s/spool/queue belongs to root"
  make_spool 65534; chmod 500 "$T/s/spool/tmp"
  spool_case "root, tmp/ its owner cannot write" "$T/s/spool/tmp has mode 0500: its owner, relayd, cannot use it"
  # The same spools, by an ordinary user who names them with -C (a
  # private instance): never queued into one that is not theirs to run.
  make_spool 0
  spool_case "user, spool owned by root" "$T/s/spool/queue belongs to root" setpriv --reuid=65534 --regid=65534 --clear-groups
  make_spool 65534; chown 0 "$T/s/spool/failed"
  spool_case "user, failed/ of another owner" "$T/s/spool/failed belongs to uid 0" setpriv --reuid=65534 --regid=65534 --clear-groups
  # The spool made right: root's message goes in.
  make_spool 65534
  printf 'Subject: s\n\nb\n' > "$T/in"
  expect_exit 0 "root, a spool owned by the relay user: queued" -- "$BIN/sendmail" -C "$T/s.conf" -i a@x.org
  rm -rf "$T/s" "$T/q"
  # The installed spool (/var/spool/relay, with a relay account) that
  # belongs to another uid, as when it was copied from another host:
  # relayd.service runs as relay and would never read it. In a mount
  # namespace: a tmpfs over /var/spool and a passwd with its own relay.
  if unshare -m true 2>/dev/null; then
    grep -v '^relay:' /etc/passwd > "$T/passwd"
    echo "relay:x:64331:64331:relay:/nonexistent:/usr/sbin/nologin" >> "$T/passwd"
    printf 'domain = example.com\naliases = %s/aliases\n' "$T" > "$T/inst.conf"
    cat > "$T/inst.sh" <<INNER
mount -t tmpfs tmpfs /var/spool && mount --bind "$T/passwd" /etc/passwd || exit 3
for d in tmp queue state failed corrupt hold; do mkdir -p /var/spool/relay/\$d; done
chown -R 64330 /var/spool/relay/*
printf 'Subject: s\n\nb\n' | "$BIN/sendmail" -C "$T/inst.conf" -i a@x.org 2> "$T/inst.err"; echo "other_owner=\$?"
echo "other_queued=\$(ls /var/spool/relay/queue | wc -l)"
chown -R 64331 /var/spool/relay/*
printf 'Subject: s\n\nb\n' | "$BIN/sendmail" -C "$T/inst.conf" -i a@x.org; echo "relay_owner=\$?"
INNER
    unshare -m sh "$T/inst.sh" > "$T/inst.out" 2>&1
    contains "$T/inst.out" "other_owner=75" "installed spool of another uid than relay: 75"
    contains "$T/inst.err" "sendmail: cannot queue message: /var/spool/relay/queue belongs to uid 64330, not to the relay user (uid 64331) as whom relayd runs" "installed spool of another uid: the line names both"
    contains "$T/inst.out" "other_queued=0" "installed spool of another uid: nothing queued"
    contains "$T/inst.out" "relay_owner=0" "installed spool of the relay user: queued"
  else
    ok "SKIP installed spool owner: no mount namespace"
  fi
else
  ok "SKIP root spool cases: not root"
fi
# An ordinary user's own private instance: made for them, 0700, theirs.
rm -rf "$T/p"; mkdir "$T/p"
printf 'spool_dir = %s/p/spool\ndomain = example.com\naliases = %s/aliases\n' "$T" "$T" > "$T/p.conf"
chmod 644 "$T/p.conf"
if [ "$(id -u)" = 0 ]; then chown 65534 "$T/p"; asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"; else asuser=; fi
printf 'Subject: s\n\nb\n' > "$T/in"; chmod 644 "$T/in"
# shellcheck disable=SC2086
expect_exit 0 "a user's private instance: spool made and queued" -- $asuser "$BIN/sendmail" -C "$T/p.conf" -i a@x.org
[ "$(stat -c '%u %a' "$T/p/spool/queue")" = "$(if [ -n "$asuser" ]; then echo 65534; else id -u; fi) 700" ] &&
  ok "private spool: the user's, 0700" || bad "private spool: $(stat -c '%u %a' "$T/p/spool/queue")"
rm -rf "$T/p"

# Killed mid-stream: SIGTERM removes the partial file (exit 75); SIGKILL
# leaves nothing in queue/.
for sig in TERM KILL; do
  mkfifo "$T/fifo"
  "$BIN/sendmail" -C "$CONF" -i a@x.org < "$T/fifo" 2>/dev/null &
  pid=$!
  exec 3> "$T/fifo"
  printf 'Subject: partial\n\nsome body\n' >&3
  # Wait until the temporary file exists, so the signal lands mid-write.
  n=0; while [ "$(tmp_count)" = 0 ] && [ $n -lt 200 ]; do sleep 0.02; n=$((n+1)); done
  kill -$sig $pid
  wait $pid; rc=$?
  exec 3>&-
  rm -f "$T/fifo"
  [ "$(queue_count)" = 0 ] && ok "SIG$sig mid-stream: nothing queued" || bad "SIG$sig: queued a partial message"
  if [ $sig = TERM ]; then
    [ $rc = 75 ] && ok "SIGTERM exits 75" || bad "SIGTERM exit $rc"
    [ "$(tmp_count)" = 0 ] && ok "SIGTERM removed the temporary file" || bad "SIGTERM left tmp file"
  fi
  clear_queue
done

# sendmail -bs: the SMTP dialogue on stdin/stdout, driven by swaks (which
# this project did not write), pipelining included.
if command -v swaks >/dev/null; then
  clear_queue
  swaks --pipe "$BIN/sendmail -C $CONF -bs" --from sender@example.org --to bs1@example.net,root \
    --header "Subject: over -bs" --body "hello over -bs" --pipeline > "$T/swaks.out" 2>&1
  rc=$?
  [ $rc = 0 ] && ok "-bs: swaks exit 0" || bad "-bs: swaks exit $rc: $(tail -5 "$T/swaks.out")"
  contains "$T/swaks.out" "250 2.0.0 Ok: queued as" "-bs: queued before the 250"
  f=$T/spool/queue/$(last_entry)
  contains "$f" "from sender@example.org" "-bs: envelope sender from MAIL FROM"
  contains "$f" "rcpt bs1@example.net" "-bs: recipient"
  contains "$f" "rcpt admin@example.net" "-bs: aliases applied (root)"
  contains "$f" "from userid $(id -u)" "-bs: submitter from the process"
  contains "$f" "Received: by " "-bs: Received header added"
  clear_queue
else
  bad "swaks missing (scripts/deps installs it)"
fi

# The dialogue Symfony Mailer's SendmailTransport holds with
# "/usr/sbin/sendmail -bs" (EHLO with an address literal, one command at a
# time, QUIT), replayed.
printf 'EHLO [127.0.0.1]\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<user@example.net>\r\nDATA\r\nFrom: app@example.com\r\nTo: user@example.net\r\nSubject: Symfony\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello from Symfony\r\n.\r\nQUIT\r\n' > "$T/in"
expect_exit 0 "Symfony -bs dialogue" -- "$BIN/sendmail" -C "$CONF" -bs
contains "$T/out" "250 2.0.0 Ok: queued as" "Symfony -bs: queued"
contains "$T/out" "221 2.0.0 Bye" "Symfony -bs: QUIT answered"
f=$T/spool/queue/$(last_entry)
contains "$f" "rcpt user@example.net" "Symfony -bs: recipient"
contains "$f" "Hello from Symfony" "Symfony -bs: body"
rm -f "$T/in"; clear_queue

# -bs and its command line (sendmail(8), "Who sends what"): -f is ignored
# as in Postfix (MAIL FROM:<> stays the null sender); -N applies where no
# RCPT gave NOTIFY; -odq marks each message queue-only.
bs_message() {  # MAIL-FROM RCPT-PARAMS
  printf 'EHLO client\r\nMAIL FROM:<%s>\r\nRCPT TO:<u@example.net>%s\r\nDATA\r\nSubject: argv\r\n\r\nbody\r\n.\r\nQUIT\r\n' "$1" "$2" > "$T/in"
}
bs_message "" ""
expect_exit 0 "-bs -f with MAIL FROM:<>" -- "$BIN/sendmail" -C "$CONF" -bs -f argv@example.org
f=$T/spool/queue/$(last_entry)
grep -qx 'from ' "$f" && ok "-bs: MAIL FROM:<> stays the null sender despite -f" || bad "-bs -f: sender is $(grep '^from' "$f")"
lacks "$f" "argv@example.org" "-bs: -f not used anywhere"
lacks "$f" "queue-only" "-bs without -odq: not queue-only (relayd takes it at once, as a piped message)"
lacks "$f" "notify " "-bs without -N: no NOTIFY stored"
clear_queue
bs_message "app@example.org" ""
expect_exit 0 "-bs -N never -odq" -- "$BIN/sendmail" -C "$CONF" -bs -N never -odq -f argv@example.org
f=$T/spool/queue/$(last_entry)
contains "$f" "from app@example.org" "-bs: sender from MAIL FROM, not -f"
contains "$f" "rcpt-notify NEVER" "-bs: -N applies when RCPT gives no NOTIFY"
contains "$f" "queue-only" "-bs -odq: queued for the next queue run only"
clear_queue
bs_message "app@example.org" " NOTIFY=SUCCESS,DELAY"
expect_exit 0 "-bs -N never, RCPT NOTIFY" -- "$BIN/sendmail" -C "$CONF" -bs -Nnever
f=$T/spool/queue/$(last_entry)
contains "$f" "rcpt-notify SUCCESS,DELAY" "-bs: RCPT's NOTIFY wins over -N"
clear_queue

# SIGTERM in the middle of DATA: the partial file goes at once (not left
# for the 24-hour sweep), exit 75; the message acknowledged before it stays.
mkfifo "$T/fifo"
"$BIN/sendmail" -C "$CONF" -bs < "$T/fifo" > "$T/bs.out" 2>/dev/null &
pid=$!
exec 3> "$T/fifo"
printf 'EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<one@example.net>\r\nDATA\r\nSubject: one\r\n\r\nfirst\r\n.\r\n' >&3
printf 'MAIL FROM:<a@example.org>\r\nRCPT TO:<two@example.net>\r\nDATA\r\nSubject: two\r\n\r\npartial body\r\n' >&3
# Until the second message's temporary file exists: the signal lands mid-DATA.
tmp_is() { [ "$(tmp_count)" = "$1" ]; }
wait_for 20 tmp_is 1 || bad "-bs SIGTERM: no temporary file appeared"
kill -TERM $pid
wait $pid; rc=$?
exec 3>&-
rm -f "$T/fifo"
[ $rc = 75 ] && ok "-bs SIGTERM mid-DATA exits 75" || bad "-bs SIGTERM exit $rc"
[ "$(tmp_count)" = 0 ] && ok "-bs SIGTERM removed the partial file at once" || bad "-bs SIGTERM left $(ls "$T/spool/tmp")"
[ "$(queue_count)" = 1 ] && ok "-bs SIGTERM: the acknowledged message stays queued" || bad "-bs SIGTERM: $(queue_count) queued"
contains "$T/spool/queue/$(last_entry)" "rcpt one@example.net" "-bs SIGTERM: the queued one is the first"
contains "$T/bs.out" "250 2.0.0 Ok: queued as" "-bs SIGTERM: the first was acknowledged"
rm -f "$T/in"; clear_queue

# spool_min_free (relay.conf(5)): a message whose input ends within its
# first 64 KiB is read whole, then checked against the floor without a
# reservation (no fallocate, nor the truncate that gives it back); a
# longer one reserves before its first write, as it always did.
if strace -f -o /dev/null true 2> /dev/null; then
  printf 'Subject: small\n\nsmall\n' > "$T/in"
  head -c 200000 /dev/zero | tr '\0' y | fold -w 70 > "$T/long"
  for m in in long; do
    # LeakSanitizer (the test build) cannot run under ptrace.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      strace -f -e trace=fallocate,ftruncate,statfs -o "$T/trace.$m" \
      "$BIN/sendmail" -C "$CONF" -i a@example.net < "$T/$m" > /dev/null 2>&1; rc=$?
    [ $rc = 0 ] && ok "traced $m message queued" || bad "traced $m message: exit $rc"
  done
  contains "$T/trace.in" "statfs(" "a small message is checked against the floor"
  lacks "$T/trace.in" "fallocate(" "a small message reserves nothing"
  lacks "$T/trace.in" "ftruncate(" "a small message has nothing to give back"
  contains "$T/trace.long" "statfs(" "a long message is checked against the floor"
  contains "$T/trace.long" "fallocate(" "a long message reserves its space first"
  [ "$(queue_count)" = 2 ] && ok "both traced messages queued" || bad "$(queue_count) queued after the traced ones"
  rm -f "$T/in" "$T/long" "$T"/trace.*; clear_queue
else
  echo "SKIP (part): strace cannot trace here, so the space reservation is not checked"
fi
finish
