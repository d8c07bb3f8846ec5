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
finish
