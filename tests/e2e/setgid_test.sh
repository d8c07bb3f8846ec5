#!/bin/sh
# An installed, setgid copy of sendmail in a temporary root, used by an
# ordinary user (nobody): injection works; that user cannot read, alter or
# delete queued mail, list the queue, or point the setgid binary at a spool
# of its choosing. /etc/relay.conf is provided inside a private mount
# namespace, so the real /etc is never touched.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root to install a setgid copy and become another user"; exit 77; fi
if ! unshare -m true 2>/dev/null; then echo "SKIP: cannot create a mount namespace here"; exit 77; fi
if ! command -v setpriv >/dev/null; then echo "SKIP: setpriv (util-linux) missing"; exit 77; fi
case $(findmnt -no OPTIONS -T "$T") in *nosuid*) echo "SKIP: $T is mounted nosuid"; exit 77;; esac

RELAY_UID=64320   # the relay user (owner of the spool), by number only
DROP_GID=64321    # the spool group sendmail is setgid to
R=$T/root
chmod 755 "$T"
mkdir -p "$R/usr/sbin"
cp "$BIN/sendmail" "$R/usr/sbin/sendmail"
ln -s sendmail "$R/usr/sbin/mailq"
RELAY_USER=$RELAY_UID RELAY_GROUP=$DROP_GID sh "$RELAY_SRC/scripts/install-spool" "$R/spool" "$R/usr/sbin/sendmail"
chmod 755 "$R" "$R/usr" "$R/usr/sbin"

# A private /etc with relay.conf for the namespace.
cp -a /etc "$T/etc"
printf 'spool_dir = %s/spool\ndomain = example.com\naliases = %s/etc/aliases\nauth_user = me@example.com\nauth_password_file = %s/secret\n' "$R" "$T" "$T" > "$T/etc/relay.conf"
printf 's3cret-value-42\n' > "$T/secret"; chown "$RELAY_UID" "$T/secret"; chmod 600 "$T/secret"
chmod 644 "$T/etc/relay.conf"
printf 'root: admin@example.net\n' > "$T/etc/aliases"

# A user-owned private instance for the -C checks.
mkdir -p "$T/mine"; chown 65534:65534 "$T/mine"
printf 'spool_dir = %s/mine/spool\ndomain = example.com\n' "$T" > "$T/mine.conf"
chmod 644 "$T/mine.conf"
printf 'spool_dir = %s/spool\n' "$R" > "$T/system.conf"
chmod 644 "$T/system.conf"

# Everything below runs in the namespace; results come back as lines.
# The split (issue 21): the process that reads and parses standard input
# holds no spool group, only its privileged child does. Each sendmail is
# stopped while it waits for more input (a FIFO held open), and its
# /proc/PID/status read: Gid is real, effective, saved set, file system.
cat > "$T/held.sh" <<'HELD'
R=$1 T=$2 DROP_GID=$3
sm() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i "$R/usr/sbin/sendmail" "$@"; }
waitfor() { i=0; while ! eval "$1" && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done; }
tmp_busy() { [ -n "$(ls "$R/spool/tmp")" ]; }
child_of() { for p in /proc/[0-9]*; do [ "$(sed -n 's/^PPid:[[:space:]]*//p' "$p/status" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"; done; }
creds() {  # name pid: its Gid and Groups lines, on one line each
  echo "$1_gid=$(sed -n 's/^Gid:[[:space:]]*//p' /proc/$2/status | tr '\t' ' ')"
  echo "$1_groups=[$(sed -n 's/^Groups:[[:space:]]*//p' /proc/$2/status | tr '\t' ' ' | sed 's/ *$//')]"
}
rm -f "$T/fifo"; mkfifo -m 666 "$T/fifo"
held() {  # mode-name, then sendmail's arguments; input follows on fd 3
  name=$1; shift
  before=$(ls "$R/spool/queue" | wc -l)
  setpriv --reuid=65534 --regid=65534 --clear-groups env -i "$R/usr/sbin/sendmail" "$@" < "$T/fifo" > "$T/$name.out" 2> "$T/$name.err" &
  pid=$!
  exec 3> "$T/fifo"
}
queued() { echo "$1_queued=$(( $(ls "$R/spool/queue" | wc -l) - before ))"; echo "$1_tmp_left=$(ls "$R/spool/tmp" | wc -l)"; }

for mode in plain t; do
  if [ $mode = t ]; then held $mode -t -i; printf 'To: root\nSubject: held -t\n\n' >&3
  else held $mode -i root; printf 'Subject: held\n\n' >&3; fi
  waitfor tmp_busy
  creds $mode $pid; creds ${mode}_child "$(child_of $pid)"
  printf 'body\n' >&3; exec 3>&-; wait $pid; echo "${mode}_exit=$?"; queued $mode
done

held bs -bs
waitfor "grep -q '^220' '$T/bs.out'"
printf 'HELO client.example\r\nMAIL FROM:<me@example.com>\r\nRCPT TO:<root>\r\nDATA\r\n' >&3
waitfor "grep -q '^354' '$T/bs.out'"
waitfor tmp_busy
creds bs $pid; creds bs_child "$(child_of $pid)"
printf 'Subject: held -bs\r\n\r\nbody\r\n.\r\nQUIT\r\n' >&3; exec 3>&-; wait $pid; echo "bs_exit=$?"; queued bs
grep -c '^250 2.0.0' "$T/bs.out" | sed 's/^/bs_accepted=/'

# A signal to either process, mid-message: exit 75, and no entry, not
# even a temporary file, is left.
for who in parent child; do
  for sig in TERM KILL; do
    held ${who}_$sig -i root; printf 'Subject: killed\n\n' >&3
    waitfor tmp_busy
    if [ $who = parent ]; then kill -$sig $pid; else kill -$sig "$(child_of $pid)"; fi
    [ $who = child ] && printf 'more\n' >&3
    exec 3>&-; wait $pid; echo "${who}_${sig}_exit=$?"
    [ $who.$sig = child.KILL ] || waitfor '! tmp_busy'
    queued ${who}_$sig
    rm -f "$R"/spool/tmp/*  # SIGKILL's leftover, as relayd's sweep of tmp/ removes it
  done
done

# A write error in the privileged part (RLIMIT_FSIZE: EFBIG) comes back
# as today's line and exit code.
before=$(ls "$R/spool/queue" | wc -l)
head -c 20000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$T/big"
(ulimit -f 8; sm -i root < "$T/big" 2> "$T/efbig.err"; echo "efbig_exit=$?")
queued efbig

# sendmail -q from nobody: the privileged part creates the trigger.
rm -f "$R/spool/queue/.flush"
sm -q; echo "flush_exit=$?"
stat -c 'flush_trigger=%u %a' "$R/spool/queue/.flush" 2>&1
HELD

cat > "$T/inner.sh" <<INNER
set -u
mount --bind "$T/etc" /etc
# LeakSanitizer cannot work in a setgid process (it needs ptrace); in a
# sanitizer build, leaks are checked by the other tests instead.
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env "\$@"; }
printf 'Subject: from nobody\n\nsecret body\n' > "$T/msg"; chmod 644 "$T/msg"
asnobody env -i "$R/usr/sbin/sendmail" -i root < "$T/msg"; echo "inject=\$?"
asnobody env -i LD_PRELOAD=/nonexistent.so TMPDIR=/nonexistent GLIBC_TUNABLES=glibc.malloc.check=3 TZ=../../../etc/shadow "$R/usr/sbin/sendmail" -i root < "$T/msg"; echo "inject_hostile_env=\$?"
# fd 0 closed: glibc puts it on /dev/full for a setgid program; sendmail
# takes that for the closed input it is (an empty message, exit 0).
asnobody env -i "$R/usr/sbin/sendmail" -i root <&-; echo "fd0_closed=\$?"
id=\$(ls "$R/spool/queue" | head -1)
echo "entry=\$id"
stat -c 'owner=%u group=%g mode=%a' "$R/spool/queue/\$id"
asnobody cat "$R/spool/queue/\$id" >/dev/null 2>&1; echo "read=\$?"
asnobody ls "$R/spool/queue" >/dev/null 2>&1; echo "list=\$?"
asnobody rm -f "$R/spool/queue/\$id" 2>/dev/null; echo "delete=\$?"
[ -f "$R/spool/queue/\$id" ] && echo "still_there=yes"
asnobody sh -c 'echo x >> "$R/spool/queue/'\$id'"' 2>/dev/null; echo "append=\$?"
asnobody "$R/usr/sbin/mailq" >/dev/null 2>&1; echo "mailq=\$?"
asnobody "$R/usr/sbin/sendmail" -C "$T/system.conf" -i root < "$T/msg" 2>/dev/null; echo "c_system=\$?"
asnobody "$R/usr/sbin/sendmail" -C "$T/mine.conf" -i root < "$T/msg"; echo "c_mine=\$?"
"$R/usr/sbin/mailq" | grep -c '^[0-9A-F]' | sed 's/^/root_mailq_entries=/'
# Trying to get the smarthost secret out through the injector's options.
for args in "-v -i root" "-X $T/xlog -i root" "-C /etc/relay.conf -v -i root" "-bv -v root" "-bp -v"; do
  asnobody "$R/usr/sbin/sendmail" \$args < "$T/msg" >> "$T/leak.out" 2>&1
done
asnobody cat "$T/secret" >> "$T/leak.out" 2>&1
cat "$T/xlog" >> "$T/leak.out" 2>/dev/null
grep -q s3cret "$T/leak.out" && echo "secret_leaked=yes" || echo "secret_leaked=no"
# Spools no queue runner reads: the installed sendmail, setgid, refuses
# them for nobody and for root alike (75, one line), and creates none.
before=\$(ls "$R/spool/queue" | wc -l)
mv "$R/spool" "$R/spool.away"
asnobody "$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/nospool.nobody"; echo "nospool_nobody=\$?"
"$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/nospool.root"; echo "nospool_root=\$?"
[ -e "$R/spool" ] && echo "nospool_created=yes" || echo "nospool_created=no"
mv "$R/spool.away" "$R/spool"
chown 0 "$R/spool/state"
asnobody "$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/mixed.nobody"; echo "mixed_nobody=\$?"
"$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/mixed.root"; echo "mixed_root=\$?"
chown "$RELAY_UID" "$R/spool/state"
chown 0 "$R/spool/queue"
"$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/rootq.root"; echo "rootq_root=\$?"
asnobody "$R/usr/sbin/sendmail" -i root < "$T/msg" 2> "$T/rootq.nobody"; echo "rootq_nobody=\$?"
chown "$RELAY_UID" "$R/spool/queue"
[ "\$(ls "$R/spool/queue" | wc -l)" = "\$before" ] && echo "refused_queued_nothing=yes"
sh "$T/held.sh" "$R" "$T" "$DROP_GID"
INNER
unshare -m sh "$T/inner.sh" > "$T/result" 2> "$T/inner.err"
cat "$T/result"
[ -s "$T/inner.err" ] && { echo "stderr of the namespace run:"; cat "$T/inner.err"; }

contains "$T/result" "inject=0" "nobody can inject through the setgid binary"
contains "$T/result" "inject_hostile_env=0" "a hostile environment is cleared"
contains "$T/result" "fd0_closed=0" "standard input closed: an empty message is queued (exit 0), as sendmail(8) says"
contains "$T/result" "owner=65534 group=$DROP_GID mode=604" "queue file: owner from the kernel, mode 604"
lacks "$T/result" "read=0" "nobody cannot read the queued message"
lacks "$T/result" "list=0" "nobody cannot list the queue directory"
contains "$T/result" "still_there=yes" "nobody cannot delete the queued message"
lacks "$T/result" "append=0" "nobody cannot alter the queued message"
contains "$T/result" "mailq=77" "mailq as nobody: EX_NOPERM"
contains "$T/result" "c_system=75" "-C drops the group: the system spool is out of reach"
contains "$T/result" "c_mine=0" "-C works for the user's own private instance"
contains "$T/result" "root_mailq_entries=3" "root lists all three entries"
contains "$T/result" "secret_leaked=no" "the smarthost secret never reaches an ordinary user (-v, -X, -C, -bv, -bp, cat)"
for who in nobody root; do
  contains "$T/result" "nospool_$who=75" "no spool: $who's message refused with 75"
  contains "$T/nospool.$who" "sendmail: cannot queue message: no spool at $R/spool; sendmail does not create it (as root: scripts/install-spool $R/spool, or install the relay package)" "no spool ($who): one line on how to create it"
  [ "$(wc -l < "$T/nospool.$who")" = 1 ] && ok "no spool ($who): one line" || bad "no spool ($who): $(cat "$T/nospool.$who")"
  contains "$T/result" "mixed_$who=75" "state/ owned by root: $who's message refused with 75"
  contains "$T/mixed.$who" "$R/spool/state belongs to uid 0, but the spool ($R/spool/queue) to uid $RELAY_UID" "state/ owned by root ($who): the line names it"
done
contains "$T/result" "nospool_created=no" "no spool: sendmail made none (not even as root)"
for who in root nobody; do
  contains "$T/result" "rootq_$who=75" "queue/ owned by root (group still relaydrop): $who's message refused with 75"
  contains "$T/rootq.$who" "$R/spool/queue belongs to root, and relayd never delivers as root" "queue/ owned by root ($who): the line says why"
done
contains "$T/result" "refused_queued_nothing=yes" "nothing queued by the refused attempts"
# The split: neither the parsing process's groups nor its saved set-GID
# are the spool group; its child's effective GID is.
for mode in plain t bs; do
  contains "$T/result" "${mode}_gid=65534 65534 65534 65534" "$mode: the process reading stdin has real, effective, saved and fs GID of nobody"
  contains "$T/result" "${mode}_groups=[]" "$mode: the process reading stdin has no supplementary group"
  contains "$T/result" "${mode}_child_gid=65534 $DROP_GID $DROP_GID $DROP_GID" "$mode: only its privileged child holds the spool group"
  contains "$T/result" "${mode}_exit=0" "$mode: the held message is queued (exit 0)"
  contains "$T/result" "${mode}_queued=1" "$mode: one entry"
  contains "$T/result" "${mode}_tmp_left=0" "$mode: no temporary file left"
done
contains "$T/result" "bs_accepted=1" "-bs: the message got its 250"
for who in parent child; do
  for sig in TERM KILL; do
    [ $who.$sig = parent.KILL ] && code=137 || code=75
    contains "$T/result" "${who}_${sig}_exit=$code" "SIG$sig to the $who mid-message: exit $code"
    contains "$T/result" "${who}_${sig}_queued=0" "SIG$sig to the $who mid-message: nothing queued"
    [ $who.$sig = child.KILL ] && left=1 || left=0
    contains "$T/result" "${who}_${sig}_tmp_left=$left" "SIG$sig to the $who mid-message: $left temporary file left (tmp/ only, never delivered)"
  done
done
contains "$T/result" "efbig_exit=75" "a write error in the privileged part: exit 75"
contains "$T/efbig.err" "File too large" "a write error in the privileged part: named"
contains "$T/result" "efbig_queued=0" "a write error in the privileged part: nothing queued"
contains "$T/result" "efbig_tmp_left=0" "a write error in the privileged part: no temporary file left"
contains "$T/result" "flush_exit=0" "-q from nobody: exit 0"
contains "$T/result" "flush_trigger=65534 604" "-q from nobody: the privileged part made queue/.flush, 0604"
finish
