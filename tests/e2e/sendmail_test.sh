#!/bin/sh
# The built sendmail in a private instance: exit codes, the queue entry,
# mailq, newaliases, -bv, the dot rule, signals.
. "$(dirname "$0")/lib.sh"

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
[ "$mode" = 600 ] && ok "private queue file mode 600" || bad "queue file mode $mode"

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
expect_exit 0 "missing config means defaults" -- "$BIN/sendmail" -C "$T/nonexistent.conf" -bv root@example.org

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
finish
