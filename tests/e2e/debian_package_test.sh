#!/bin/sh
# The Debian package, built and used as an administrator would: debian/
# builds with dpkg-buildpackage from a copy of the source tree (the work
# tree stays clean), lintian finds no error, and the .deb is installed with
# bsd-mailx (which needs a mail-transport-agent: relay's Provides) into a
# throwaway Debian 12 chroot made by debootstrap -- this machine's own MTA
# (postfix, for other tests) is never touched. In the chroot: the user,
# groups, spool modes, setgid statoverride, links, conffile and units are
# checked; `mail` sends a message to root, aliased to admin@example.net,
# and `relayd --once` relays it to a sink on loopback (run outside the
# chroot, which shares the network); so does the output of an at and a
# batch job, mailed by `atd -s` (skipped with the reason if at cannot be
# installed or atd cannot run in the chroot). /etc/mailname is made at
# installation (from the host's FQDN, from relay.conf's domain once set,
# never over an existing one). Then `apt-get purge relay` must leave no
# file, user, group or statoverride behind, but /etc/mailname. Last, with a
# relay user and relay and relaydrop groups made before installing, purge
# keeps them.
#
# Needs root, Debian, debhelper and debootstrap, and Debian's mirror (the
# one in /etc/apt/sources.list*); skips (77) with the reason otherwise. The
# minbase tarball is cached in /var/cache/relay-test/ for later runs.

# Everything runs in a private mount namespace when one can be made, so the
# chroot's /proc cannot outlive the test even if it is killed; the EXIT trap
# unmounts it in any case.
# A private UTS namespace too, so that the test can give the chroot a host
# name of its own (for /etc/mailname) without touching this machine's.
if [ -z "${RELAY_DEB_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m -u --propagation private true 2>/dev/null; then
  RELAY_DEB_NS=1 exec unshare -m -u --propagation private sh "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"
SRC=${RELAY_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$T/chroot
SINK_PID=

cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  # Whatever is mounted under $T (our proc, or what a failed debootstrap
  # left), innermost first.
  for m in $(awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  if awk -v t="$T/" 'index($2, t) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
    echo "WARNING: still mounted under $T; leaving it in place"
  else
    rm -rf --one-file-system "$T"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

skip() { echo "SKIP: $*"; exit 77; }
elapsed() { echo $(( $(date +%s) - START )); }
START=$(date +%s)

[ "$(id -u)" = 0 ] || skip "needs root (dpkg-buildpackage as root, debootstrap, chroot)"
[ -f /etc/debian_version ] && grep -q '^ID=debian$' /etc/os-release 2>/dev/null || skip "not Debian"
for tool in dpkg-buildpackage dh debootstrap chroot timeout unshare; do
  command -v "$tool" >/dev/null || skip "$tool missing (apt-get install debhelper debootstrap)"
done
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing (the sink)"
case $(findmnt -no OPTIONS -T "$T") in *nosuid*|*nodev*) skip "$T is mounted nosuid or nodev: no chroot there";; esac

# The Debian mirror this machine uses: the first "deb" source for the
# suite bookworm, one-line or deb822; deb.debian.org if none.
mirror_from_sources() {
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                       if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { uris = ""; suites = ""; types = ""; on = 1
           for (i = 1; i <= NF; i++) {
             l = $i
             if (l ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", l); uris = l }
             else if (l ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", l); suites = " " l " " }
             else if (l ~ /^Types:/) { sub(/^Types:[ \t]*/, "", l); types = " " l " " }
             else if (l ~ /^Enabled:[ \t]*[Nn]o/) on = 0
           }
           if (on && types ~ / deb / && suites ~ / bookworm /) { split(uris, u, " "); print u[1]; exit } }' "$f"
  done
}
MIRROR=$(mirror_from_sources | grep -E '^https?://' | head -1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}
mirror_reachable() {
  timeout 30 /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/dists/bookworm/Release", timeout=20).read(64)' "$MIRROR" 2>/dev/null
}
mirror_reachable || skip "debootstrap cannot reach the mirror $MIRROR"
echo "mirror: $MIRROR"

# --- 1. Build the package from a copy of the source tree.
mkdir "$T/src"
for e in "$SRC"/* "$SRC"/.[!.]*; do
  [ -e "$e" ] || continue
  case ${e##*/} in build|build-*|obj-*|.git) continue;; esac
  cp -a "$e" "$T/src/"
done
# A stale build in the work tree's debian/ must not leak into this one.
(cd "$T/src/debian" && rm -rf relay .debhelper files ./*.substvars ./*.debhelper.log ./*.debhelper tmp)
if ! (cd "$T/src" && dpkg-checkbuilddeps) > "$T/builddeps" 2>&1; then
  skip "build dependencies missing: $(cat "$T/builddeps")"
fi
t0=$(date +%s)
if (cd "$T/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
      timeout 900 dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - t0 )) s)"
else
  tail -40 "$T/build.log"; bad "dpkg-buildpackage failed"; finish
fi
DEB=$(ls "$T"/relay_*_*.deb | head -1)
CHANGES=$(ls "$T"/relay_*.changes | head -1)
[ -e "$SRC/debian/relay" ] || [ -e "$SRC/debian/files" ] || [ -n "$(ls -d "$SRC"/obj-* 2>/dev/null)" ] \
  && bad "the work tree got build output" || ok "the work tree stays clean"

dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }' > "$T/contents"
for f in ./usr/sbin/sendmail ./usr/sbin/relayd ./usr/sbin/relayctl ./usr/libexec/relay/relay-deliver \
         ./etc/relay.conf ./usr/share/man/man8/sendmail.8.gz ./usr/share/man/man1/mailq.1.gz \
         ./usr/share/man/man8/newaliases.8.gz ./usr/share/man/man8/relayd.8.gz \
         ./usr/share/man/man8/relayctl.8.gz ./usr/share/man/man5/relay.conf.5.gz \
         ./usr/share/man/man8/relay-deliver.8.gz ./usr/share/man/man8/relay-smtpd.8.gz \
         ./lib/systemd/system/relayd.service ./lib/systemd/system/relay-smtp.socket \
         ./lib/systemd/system/relay.path ./lib/systemd/system/relay-deliver.timer \
         ./lib/systemd/system/relay-deliver.service; do
  grep -q " $f\$" "$T/contents" && ok "ships $f" || bad "does not ship $f"
done
grep -q ' ./etc/aliases$' "$T/contents" && bad "ships /etc/aliases" || ok "does not ship /etc/aliases"
grep -q '^-rwxr-xr-x root/root ./usr/sbin/sendmail$' "$T/contents" \
  && ok "sendmail is plain 0755 root:root in the .deb (setgid comes from dpkg-statoverride)" \
  || bad "sendmail's mode in the .deb: $(grep ' ./usr/sbin/sendmail$' "$T/contents")"
dpkg-deb -f "$DEB" Provides Conflicts Replaces > "$T/fields"
for fld in Provides Conflicts Replaces; do
  grep -qx "$fld: mail-transport-agent" "$T/fields" && ok "$fld: mail-transport-agent" || bad "$fld is not mail-transport-agent"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles > "$T/conffiles" 2>/dev/null
[ "$(cat "$T/conffiles")" = /etc/relay.conf ] && ok "the only conffile is /etc/relay.conf" || bad "conffiles: $(cat "$T/conffiles")"

if command -v lintian >/dev/null; then
  t0=$(date +%s)
  timeout 300 lintian "$CHANGES" > "$T/lintian" 2>&1
  grep -v '^running with root privileges' "$T/lintian"
  grep -q '^E: ' "$T/lintian" && bad "lintian reports errors" || ok "lintian: no errors ($(grep -c '^W: ' "$T/lintian") warnings, $(( $(date +%s) - t0 )) s)"
else
  echo "note: lintian not installed; not run"
fi

# --- 2. A throwaway Debian 12 (minbase) chroot, from a cached tarball.
CACHE=/var/cache/relay-test
ARCH=$(dpkg --print-architecture)
TARBALL=$CACHE/bookworm-minbase-$ARCH.tgz
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ] || [ -n "$(find "$TARBALL" -mtime +30 2>/dev/null)" ]; then
  t0=$(date +%s)
  part=$CACHE/.partial-$$-bookworm-minbase-$ARCH.tgz
  if timeout 600 debootstrap --variant=minbase --make-tarball="$part" bookworm "$T/mk" "$MIRROR" > "$T/debootstrap.log" 2>&1; then
    mv -f "$part" "$TARBALL"
    ok "debootstrap --make-tarball ($(( $(date +%s) - t0 )) s, cached in $TARBALL)"
  else
    rm -f "$part"
    mirror_reachable || skip "debootstrap cannot reach the mirror $MIRROR"
    tail -20 "$T/debootstrap.log"; bad "debootstrap --make-tarball failed"; finish
  fi
  rm -rf --one-file-system "$T/mk"
fi
t0=$(date +%s)
if timeout 600 debootstrap --variant=minbase --unpack-tarball="$TARBALL" bookworm "$C" "$MIRROR" > "$T/debootstrap.log" 2>&1; then
  ok "debootstrap --unpack-tarball ($(( $(date +%s) - t0 )) s)"
else
  tail -20 "$T/debootstrap.log"
  # A cached tarball that no longer matches the mirror is made anew next time.
  rm -f "$TARBALL"
  mirror_reachable || skip "debootstrap cannot reach the mirror $MIRROR"
  bad "debootstrap --unpack-tarball failed (cache dropped)"; finish
fi
mount -t proc proc "$C/proc"
# No daemon starts in the chroot.
printf '#!/bin/sh\nexit 101\n' > "$C/usr/sbin/policy-rc.d"; chmod 755 "$C/usr/sbin/policy-rc.d"

# inch SECONDS COMMAND...: runs COMMAND in the chroot, with a clean
# environment, bounded in time.
inch() {
  secs=$1; shift
  timeout "$secs" chroot "$C" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}

# A host name of our own, with a fully qualified one in the chroot's
# /etc/hosts, when this runs in its own UTS namespace (never on the
# machine's own name).
OWN_UTS=no
if [ "$(readlink /proc/self/ns/uts)" != "$(readlink /proc/1/ns/uts)" ]; then
  OWN_UTS=yes
  hostname host17
  printf '127.0.1.1\thost17.example.test host17\n127.0.1.2\tbare17\n' >> "$C/etc/hosts"
fi

# --- 3. Install relay with bsd-mailx (Depends: default-mta | mail-transport-agent).
t0=$(date +%s)
inch 300 apt-get update > "$T/apt.log" 2>&1 || { tail -20 "$T/apt.log"; bad "apt-get update in the chroot"; finish; }
cp "$DEB" "$C/tmp/"
if inch 300 apt-get install -y --no-install-recommends "/tmp/${DEB##*/}" bsd-mailx >> "$T/apt.log" 2>&1; then
  ok "apt-get install ./relay_*.deb bsd-mailx in the chroot ($(( $(date +%s) - t0 )) s)"
else
  tail -30 "$T/apt.log"; bad "apt-get install failed"; finish
fi
grep -iE 'warning|error' "$T/apt.log" | grep -v '^Get:' | sed 's/^/apt: /' | head -20

inch 30 dpkg-query -W -f='${Status} ${Provides}\n' relay bsd-mailx > "$T/status" 2>&1
contains "$T/status" "install ok installed mail-transport-agent" "relay is installed and provides mail-transport-agent"
[ "$(grep -c 'install ok installed' "$T/status")" = 2 ] && ok "bsd-mailx is installed on relay alone" || bad "status: $(cat "$T/status")"
inch 30 dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | grep -E '^(exim4-daemon-[a-z]+|postfix|nullmailer|sendmail-bin|msmtp-mta|dma|opensmtpd) .*ok installed' \
  && bad "another MTA came in" || ok "no other MTA was pulled in"

# The user, the groups, the spool and the setgid override.
inch 10 getent passwd relay | awk -F: '{ print "home=" $6, "shell=" $7 }' > "$T/user"
contains "$T/user" "home=/var/spool/relay shell=/usr/sbin/nologin" "user relay: home /var/spool/relay, shell nologin"
inch 10 id relay > "$T/id" 2>&1
grep -q 'gid=[0-9]*(relay)' "$T/id" && ok "relay's group is relay" || bad "id relay: $(cat "$T/id")"
grep -q relaydrop "$T/id" && bad "relay is a member of relaydrop: $(cat "$T/id")" || ok "relay is not a member of relaydrop"
inch 10 getent group relaydrop > /dev/null && ok "group relaydrop exists" || bad "no group relaydrop"
inch 10 stat -c '%n %U:%G %a' /var/spool/relay /var/spool/relay/tmp /var/spool/relay/queue \
  /var/spool/relay/state /var/spool/relay/failed /var/spool/relay/corrupt /var/spool/relay/hold \
  /usr/sbin/sendmail > "$T/modes" 2>&1
for want in "/var/spool/relay root:root 755" "/var/spool/relay/tmp relay:relaydrop 1730" \
            "/var/spool/relay/queue relay:relaydrop 1770" "/var/spool/relay/state relay:relay 700" \
            "/var/spool/relay/failed relay:relay 700" "/var/spool/relay/corrupt relay:relay 700" \
            "/var/spool/relay/hold relay:relay 700" "/usr/sbin/sendmail root:relaydrop 2755"; do
  grep -qx "$want" "$T/modes" && ok "$want" || bad "want $want; have: $(grep "^${want%% *} " "$T/modes")"
done
inch 10 dpkg-statoverride --list /usr/sbin/sendmail > "$T/override" 2>&1
contains "$T/override" "root relaydrop 2755 /usr/sbin/sendmail" "dpkg-statoverride records sendmail setgid relaydrop"
for l in "/usr/lib/sendmail ../sbin/sendmail" "/usr/bin/mailq ../sbin/sendmail" "/usr/bin/newaliases ../sbin/sendmail"; do
  [ "$(readlink "$C${l% *}")" = "${l#* }" ] && ok "${l% *} -> ${l#* }" || bad "${l% *} -> $(readlink "$C${l% *}")"
done
[ -x "$C/usr/libexec/relay/relay-deliver" ] && ok "relay-deliver in /usr/libexec/relay" || bad "no /usr/libexec/relay/relay-deliver"
contains "$C/etc/aliases" "postmaster: root" "postinst made /etc/aliases with postmaster: root"
inch 10 dpkg-query -W -f='${Conffiles}\n' relay > "$T/inst-conffiles"
contains "$T/inst-conffiles" "/etc/relay.conf" "/etc/relay.conf is a conffile"
lacks "$T/inst-conffiles" "/etc/aliases" "/etc/aliases is not a conffile"
[ -L "$C/etc/systemd/system/multi-user.target.wants/relayd.service" ] && ok "relayd.service is enabled" || bad "relayd.service is not enabled"
n=$(find "$C/etc/systemd/system" -name 'relay-smtp.socket' -o -name 'relay.path' -o -name 'relay-deliver.*' | wc -l)
[ "$n" = 0 ] && ok "relay-smtp.socket, relay.path, relay-deliver.timer are not enabled" || bad "$n other relay units enabled"
inch 10 newaliases > "$T/newaliases" 2>&1 && ok "newaliases checks /etc/aliases" || bad "newaliases: $(cat "$T/newaliases")"

# /etc/mailname (policy 11.6): made at installation, as relay.conf had no
# domain yet, from the host's fully qualified name (what relay would use).
if [ $OWN_UTS = yes ]; then
  [ "$(cat "$C/etc/mailname" 2>&1)" = host17.example.test ] && ok "postinst made /etc/mailname from the FQDN: host17.example.test" \
    || bad "/etc/mailname: $(cat "$C/etc/mailname" 2>&1), want host17.example.test"
  [ "$(stat -c %a "$C/etc/mailname" 2>&1)" = 644 ] && ok "/etc/mailname has mode 644" || bad "/etc/mailname mode $(stat -c %a "$C/etc/mailname" 2>&1)"
else
  echo "skip: /etc/mailname from the FQDN: no UTS namespace of our own (unshare -u)"
fi
# The accounts postinst made are recorded, for purge.
sort "$C/var/lib/relay/created-accounts" > "$T/created" 2>&1
[ "$(tr '\n' ',' < "$T/created")" = "group relay,group relaydrop,user relay," ] \
  && ok "the accounts it created are recorded in /var/lib/relay/created-accounts" || bad "created-accounts: $(cat "$T/created")"
# With domain set and no /etc/mailname, configuring makes it from domain;
# an existing /etc/mailname is left alone.
rm -f "$C/etc/mailname"
echo "domain = mailname.example" >> "$C/etc/relay.conf"
inch 60 dpkg-reconfigure relay > "$T/reconf.log" 2>&1 || bad "dpkg-reconfigure relay: $(cat "$T/reconf.log")"
[ "$(cat "$C/etc/mailname" 2>&1)" = mailname.example ] && ok "/etc/mailname from relay.conf's domain: mailname.example" \
  || bad "/etc/mailname from domain: $(cat "$C/etc/mailname" 2>&1)"
echo keep.example > "$C/etc/mailname"
inch 60 dpkg-reconfigure relay > "$T/reconf.log" 2>&1 || bad "dpkg-reconfigure relay: $(cat "$T/reconf.log")"
[ "$(cat "$C/etc/mailname")" = keep.example ] && ok "an existing /etc/mailname is kept" || bad "/etc/mailname changed to $(cat "$C/etc/mailname")"
sed -i '/^domain = mailname.example$/d' "$C/etc/relay.conf"
# With neither a domain nor a fully qualified host name: no file, one line
# that says what to do.
if [ $OWN_UTS = yes ]; then
  rm -f "$C/etc/mailname"
  hostname bare17
  inch 60 dpkg-reconfigure relay > "$T/reconf.log" 2>&1 || bad "dpkg-reconfigure relay: $(cat "$T/reconf.log")"
  [ -e "$C/etc/mailname" ] && bad "/etc/mailname made from a bare host name: $(cat "$C/etc/mailname")" \
    || ok "no /etc/mailname from a bare host name (bare17)"
  contains "$T/reconf.log" "/etc/mailname not made" "and the configuration says so"
  hostname host17
  echo keep.example > "$C/etc/mailname"
fi
inch 10 sh -c 'zcat -f /usr/share/doc/relay/README.Debian*' > "$T/readme" 2>&1
contains "$T/readme" "/etc/mailname (Debian policy 11.6)" "README.Debian names /etc/mailname"

# Remove (not purge), then install again: the statoverride goes with the
# file (another MTA's sendmail must not inherit it) and comes back; the
# user, the spool and the configuration stay in between.
if inch 60 dpkg -r --force-depends relay > "$T/remove.log" 2>&1; then ok "dpkg -r relay"; else cat "$T/remove.log"; bad "dpkg -r relay"; fi
inch 10 dpkg-statoverride --list /usr/sbin/sendmail > "$T/override" 2>&1 && bad "statoverride kept after remove: $(cat "$T/override")" || ok "remove drops the statoverride"
[ -d "$C/var/spool/relay/queue" ] && [ -f "$C/etc/relay.conf" ] && inch 10 getent passwd relay > /dev/null \
  && ok "remove keeps the spool, /etc/relay.conf and the user" || bad "remove took the spool, the configuration or the user"
if inch 60 dpkg -i "/tmp/${DEB##*/}" > "$T/reinstall.log" 2>&1; then ok "dpkg -i again"; else cat "$T/reinstall.log"; bad "dpkg -i again"; fi
inch 10 stat -c '%U:%G %a' /usr/sbin/sendmail > "$T/mode" 2>&1
contains "$T/mode" "root:relaydrop 2755" "reinstalled sendmail is setgid relaydrop again"
rm -f "$C/tmp/${DEB##*/}"

# --- 4. mail -> sendmail -> spool -> relayd --once -> relay-deliver -> sink.
PORT=$(free_port)
cat > "$T/sink_full.py" <<'PY'
# tests/sink.py, whose handler also appends each whole message to $SINK_MESSAGES.
import os, sys
sys.path.insert(0, os.environ["SINK_DIR"])
import sink

class FullHandler(sink.Handler):
    async def handle_DATA(self, server, session, envelope):
        data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        with open(os.environ["SINK_MESSAGES"], "ab") as f:
            f.write(b"RCPT " + " ".join(envelope.rcpt_tos).encode() + b"\n" + data + b"\n.\n")
        return await super().handle_DATA(server, session, envelope)

sink.Handler = FullHandler
sink.main()
PY
SINK_DIR=$SRC/tests SINK_MESSAGES=$T/messages /usr/bin/python3 "$T/sink_full.py" \
  --port "$PORT" --out "$T/sink.out" --max-seconds 300 > "$T/sink.log" 2>&1 &
SINK_PID=$!
wait_for 20 grep -q ready "$T/sink.log" || { cat "$T/sink.log"; bad "the sink did not start"; finish; }
printf 'domain = example.com\nsmarthost = 127.0.0.1:%s none\n' "$PORT" >> "$C/etc/relay.conf"
printf 'root: admin@example.net\n' >> "$C/etc/aliases"
echo body | inch 30 mail -s subject root > "$T/mail.out" 2>&1 && ok "mail -s subject root (exit 0)" || bad "mail: $(cat "$T/mail.out")"
q=$(ls "$C/var/spool/relay/queue" | head -1)
[ -n "$q" ] && ok "the message is queued ($q)" || bad "nothing in the queue"
# root needs no group: it gives relaydrop up and writes its own file,
# readable by the relay user (sendmail(8), SECURITY); the file's owner is
# the submitter the runner believes.
[ -n "$q" ] && [ "$(inch 10 stat -c '%U %a' "/var/spool/relay/queue/$q")" = "root 604" ] \
  && ok "root's queue file is root's, mode 604" || bad "root's queue file: $(inch 10 stat -c '%U %G %a' "/var/spool/relay/queue/$q" 2>&1)"
# Anyone else: the setgid sendmail's privileged child writes it with the
# group relaydrop, while the process that parsed the message has none.
echo body | inch 30 setpriv --reuid=65534 --regid=65534 --clear-groups /usr/sbin/sendmail root > "$T/nobody.out" 2>&1 \
  && ok "nobody: sendmail root (exit 0)" || bad "nobody's sendmail: $(cat "$T/nobody.out")"
q2=$(ls "$C/var/spool/relay/queue" | grep -vx "$q" | head -1)
[ -n "$q2" ] && [ "$(inch 10 stat -c '%U %G' "/var/spool/relay/queue/$q2")" = "nobody relaydrop" ] \
  && ok "nobody's queue file has group relaydrop (sendmail ran setgid)" || bad "nobody's queue file: $(inch 10 stat -c '%U %G %a' "/var/spool/relay/queue/$q2" 2>&1)"
inch 60 /usr/sbin/relayd --once > "$T/relayd.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "relayd --once (exit 0)" || bad "relayd --once: exit $rc: $(cat "$T/relayd.out")"
wait_for 10 grep -q 'admin@example.net' "$T/sink.out" && ok "the sink got a message for admin@example.net" \
  || bad "the sink got nothing for admin@example.net: $(cat "$T/sink.out" 2>&1)"
grep -q '^Subject: subject' "$T/messages" 2>/dev/null && ok "with Subject: subject" || bad "no Subject: subject in $(cat "$T/messages" 2>&1)"
contains "$T/messages" "RCPT admin@example.net" "its envelope recipient is admin@example.net"
grep -q '^body' "$T/messages" 2>/dev/null && ok "and its body" || bad "body missing"
[ "$(ls "$C/var/spool/relay/queue" | wc -l)" = 0 ] && ok "the queue is empty after the run" || bad "the queue is not empty"
kill "$SINK_PID" 2>/dev/null; SINK_PID=

# --- 4b. at and batch: atd mails a job's output through /usr/sbin/sendmail
# (as "Subject: Output from your job N", to the job's owner: root, aliased
# to admin@example.net). atd never runs as a daemon here: the chroot has
# no init, policy-rc.d keeps the package from starting it, and the queue
# is run once in the foreground with `atd -s`. If at cannot be installed
# or atd cannot run its jobs in the chroot, this one check is skipped
# (neither passed nor failed) with the reason.
chroot_pids() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$C" ] && echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
  done
}
# message_with TOKEN FILE: the message in $T/messages2 that has TOKEN
# ("RCPT ..." line first, CRs dropped) goes to FILE.
message_with() {
  awk -v tok="$1" '
    { sub(/\r$/, "") }
    $0 == "." { if (index(m, tok)) printf "%s", m; m = ""; next }
    { m = m $0 "\n" }' "$T/messages2" > "$2"
}
at_batch_check() {
  [ -x "$C/usr/sbin/policy-rc.d" ] || printf '#!/bin/sh\nexit 101\n' > "$C/usr/sbin/policy-rc.d"
  chmod 755 "$C/usr/sbin/policy-rc.d"
  t0=$(date +%s)
  if ! inch 300 apt-get install -y --no-install-recommends at > "$T/at-apt.log" 2>&1; then
    echo "skip: at and batch: apt-get install at failed in the chroot: $(tail -3 "$T/at-apt.log" | tr '\n' ' ')"
    return
  fi
  ok "apt-get install at in the chroot ($(( $(date +%s) - t0 )) s)"
  grep -iE 'warning|error|invoke-rc.d' "$T/at-apt.log" | grep -v '^Get:' | sed 's/^/apt: /' | head -10
  [ -x "$C/usr/sbin/atd" ] && [ -x "$C/usr/bin/at" ] && [ -x "$C/usr/bin/batch" ] \
    || { echo "skip: at and batch: the at package has no /usr/sbin/atd, /usr/bin/at or /usr/bin/batch"; return; }
  chroot_pids > "$T/at-procs"
  if [ -s "$T/at-procs" ]; then
    bad "a process runs in the chroot after installing at: $(tr '\n' ' ' < "$T/at-procs")"
    while read -r pid comm; do kill "$pid" 2>/dev/null; done < "$T/at-procs"
  else
    ok "installing at started no daemon in the chroot"
  fi

  PORT2=$(free_port)
  SINK_DIR=$SRC/tests SINK_MESSAGES=$T/messages2 /usr/bin/python3 "$T/sink_full.py" \
    --port "$PORT2" --out "$T/sink2.out" --max-seconds 180 > "$T/sink2.log" 2>&1 &
  SINK_PID=$!
  wait_for 20 grep -q ready "$T/sink2.log" || { cat "$T/sink2.log"; bad "the second sink did not start"; return; }
  sed -i "s/^smarthost = 127\.0\.0\.1:[0-9]* none\$/smarthost = 127.0.0.1:$PORT2 none/" "$C/etc/relay.conf"
  grep -qx "smarthost = 127.0.0.1:$PORT2 none" "$C/etc/relay.conf" || { bad "could not point relay.conf at the second sink"; return; }

  tok=$$-$(date +%s)
  AT_TOKEN=at-job-output-$tok
  BATCH_TOKEN=batch-job-output-$tok
  echo "echo $AT_TOKEN" | inch 30 at now > "$T/at.out" 2>&1; rc=$?
  [ $rc = 0 ] || { echo "skip: at and batch: at now: exit $rc: $(cat "$T/at.out")"; return; }
  echo "echo $BATCH_TOKEN" | inch 30 batch > "$T/batch.out" 2>&1; rc=$?
  [ $rc = 0 ] || { echo "skip: at and batch: batch: exit $rc: $(cat "$T/batch.out")"; return; }
  inch 10 atq > "$T/atq" 2>&1
  [ "$(wc -l < "$T/atq")" = 2 ] && ok "at now and batch queue two jobs: $(awk '{ print $1 "(" $(NF-1) ")" }' "$T/atq" | tr '\n' ' ')" \
    || { echo "skip: at and batch: atq does not list two jobs: $(cat "$T/atq")"; return; }

  # One run of the queue in the foreground; -l: batch runs whatever the
  # load of this machine. atd's children run the jobs and mail their
  # output, maybe after atd itself has returned.
  inch 60 atd -s -l 1000 > "$T/atd.out" 2>&1; rc=$?
  [ $rc = 0 ] || { echo "skip: at and batch: atd -s cannot run in the chroot: exit $rc: $(cat "$T/atd.out")"; return; }
  # Done when no job is left in atjobs and no process of atd's is left in
  # the chroot.
  at_done() { [ -z "$(ls "$C/var/spool/cron/atjobs" | grep -v '^\.SEQ$')" ] && [ -z "$(chroot_pids)" ]; }
  wait_for 60 at_done
  left=$(ls "$C/var/spool/cron/atjobs" | grep -v '^\.SEQ$')
  [ -z "$left" ] || { echo "skip: at and batch: atd -s ran no job in the chroot (left in atjobs: $left; atd: $(cat "$T/atd.out"))"; return; }
  [ -z "$(chroot_pids)" ] || bad "still running in the chroot 60 s after atd -s: $(chroot_pids | tr '\n' ' ')"
  ok "atd -s ran both jobs"
  [ "$(ls "$C/var/spool/relay/queue" | wc -l)" = 2 ] \
    && ok "two messages are queued by sendmail" \
    || bad "the queue has $(ls "$C/var/spool/relay/queue" | wc -l) messages, want 2; atspool: $(ls "$C/var/spool/cron/atspool")"
  inch 60 /usr/sbin/relayd --once > "$T/relayd2.out" 2>&1; rc=$?
  [ $rc = 0 ] && ok "relayd --once relays the jobs' mail (exit 0)" || bad "relayd --once: exit $rc: $(cat "$T/relayd2.out")"
  wait_for 10 sh -c "[ \"\$(grep -c . '$T/sink2.out')\" -ge 2 ]"
  for tk in "$AT_TOKEN" "$BATCH_TOKEN"; do
    job=${tk%%-*}
    message_with "$tk" "$T/msg-$job"
    if [ ! -s "$T/msg-$job" ]; then
      bad "the sink got no message with $tk: $(cat "$T/messages2" 2>&1)"
      continue
    fi
    sed "s/^/sink ($job): /" "$T/msg-$job"
    [ "$(head -1 "$T/msg-$job")" = "RCPT admin@example.net" ] && ok "the $job job's output went to admin@example.net" \
      || bad "the $job job's output went to: $(head -1 "$T/msg-$job")"
    grep -q '^Subject: Output from your job ' "$T/msg-$job" && ok "with Subject: Output from your job" \
      || bad "the $job job's mail has no Subject: Output from your job"
    sed '1,/^$/d' "$T/msg-$job" | grep -qx "$tk" && ok "and the $job job's output as its body" || bad "the $job job's output is not a line of the body"
  done
  [ "$(ls "$C/var/spool/relay/queue" | wc -l)" = 0 ] && ok "the queue is empty after the run" || bad "the queue is not empty"
}
at_batch_check
[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; SINK_PID=

# --- 5. Purge: nothing of relay may remain.
inch 30 dpkg -L relay > "$T/files" 2>&1
t0=$(date +%s)
if inch 300 apt-get purge -y relay > "$T/purge.log" 2>&1; then
  ok "apt-get purge -y relay ($(( $(date +%s) - t0 )) s)"
  grep -E '^(Removing|Purging)|warn|error|fail' "$T/purge.log" | sed 's/^/apt: /'
else
  tail -20 "$T/purge.log"; bad "apt-get purge failed"; finish
fi
# Every path the package had is gone, or belongs to another package (a
# shared directory such as /usr/sbin).
inch 120 sh -c 'while read -r p; do
  [ "$p" = /. ] && continue
  [ -e "$p" ] || [ -L "$p" ] || continue
  dpkg -S "$p" >/dev/null 2>&1 || echo "$p"
done' < "$T/files" > "$T/left"
[ -s "$T/left" ] && bad "left after purge: $(cat "$T/left")" || ok "no file of dpkg -L relay ($(wc -l < "$T/files") paths) is left"
inch 60 find / -xdev -name '*relay*' > "$T/found" 2>&1
[ -s "$T/found" ] && bad "found after purge: $(cat "$T/found")" || ok "no file named *relay* anywhere in the chroot"
[ -e "$C/var/spool/relay" ] && bad "/var/spool/relay is left" || ok "/var/spool/relay is gone"
[ -e "$C/etc/relay.conf" ] && bad "/etc/relay.conf is left" || ok "/etc/relay.conf is gone"
inch 10 dpkg-statoverride --list > "$T/overrides" 2>&1
[ -s "$T/overrides" ] && bad "statoverrides left: $(cat "$T/overrides")" || ok "no statoverride is left"
inch 10 getent passwd relay > /dev/null && bad "user relay is left" || ok "user relay is gone"
for g in relay relaydrop; do
  inch 10 getent group "$g" > /dev/null && bad "group $g is left" || ok "group $g is gone"
done
grep -q relay "$C/etc/passwd" "$C/etc/group" "$C/etc/shadow" "$C/etc/gshadow" && bad "relay in the account files" || ok "no relay in passwd, group, shadow, gshadow"
[ "$(cat "$C/etc/mailname" 2>&1)" = keep.example ] && ok "purge leaves /etc/mailname" || bad "/etc/mailname after purge: $(cat "$C/etc/mailname" 2>&1)"

# --- 6. Accounts that existed before the package: used, and kept on purge.
inch 30 addgroup --system --quiet relaydrop
inch 30 adduser --system --quiet --group --home /nonexistent --no-create-home relay
inch 10 sh -c 'getent passwd relay; getent group relay; getent group relaydrop' > "$T/before" 2>&1
cp "$DEB" "$C/tmp/"
if inch 60 dpkg -i "/tmp/${DEB##*/}" > "$T/pre.log" 2>&1; then ok "dpkg -i with relay, relay and relaydrop existing"; else cat "$T/pre.log"; bad "dpkg -i with existing accounts"; fi
rm -f "$C/tmp/${DEB##*/}"
[ -s "$C/var/lib/relay/created-accounts" ] && bad "existing accounts recorded as created: $(cat "$C/var/lib/relay/created-accounts")" \
  || ok "existing accounts are not recorded as created"
inch 10 stat -c '%n %U:%G' /var/spool/relay/queue > "$T/mode" 2>&1
contains "$T/mode" "/var/spool/relay/queue relay:relaydrop" "the existing accounts own the spool"
if inch 300 dpkg --purge relay > "$T/purge2.log" 2>&1; then ok "dpkg --purge relay"; else cat "$T/purge2.log"; bad "dpkg --purge relay"; fi
inch 10 sh -c 'getent passwd relay; getent group relay; getent group relaydrop' > "$T/after" 2>&1
cmp -s "$T/before" "$T/after" && ok "purge keeps the user relay and the groups relay and relaydrop it did not create" \
  || bad "accounts before: $(cat "$T/before"); after purge: $(cat "$T/after")"
[ -e "$C/var/lib/relay" ] && bad "/var/lib/relay is left" || ok "/var/lib/relay is gone"
[ -e "$C/var/spool/relay" ] && bad "/var/spool/relay is left" || ok "/var/spool/relay is gone"
echo "total $(elapsed) s"
finish
