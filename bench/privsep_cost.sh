#!/bin/sh
# What sendmail's privilege split costs (issue 21): an installed, setgid
# `sendmail -odq` of a 3 KB message, run by user nobody, one binary
# against another (e.g. a build from before the split and one after), each
# setgid to the same spool group and queueing into the same spool. Only
# the setgid sendmail splits: a private instance runs as before.
# Usage (as root): bench/privsep_cost.sh OLD_SENDMAIL NEW_SENDMAIL [RUNS]
# Needs hyperfine (apt-get install hyperfine), unshare and setpriv; /etc/relay.conf is provided in a
# private mount namespace, so the real /etc is never touched.
set -eu
[ "$(id -u)" = 0 ] || { echo "privsep_cost: run as root (it makes setgid copies)" >&2; exit 77; }
old=$1 new=$2 runs=${3:-300}
src=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/relay-privsep.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir -p "$T/bin"
cp "$old" "$T/bin/old"
cp "$new" "$T/bin/new"
chmod 755 "$T/bin"
cp -a /etc "$T/etc"
printf 'spool_dir = %s/spool\ndomain = example.com\naliases = %s/aliases\n' "$T" "$T" > "$T/etc/relay.conf"
chmod 644 "$T/etc/relay.conf"
printf 'root: admin@example.net\n' > "$T/aliases"
/usr/bin/python3 - "$T/msg" <<'PY'
import sys
body = "".join("line %03d of a message of about three kilobytes, wrapped as mail is\n" % i for i in range(42))
open(sys.argv[1], "w").write("From: me@example.com\nTo: you@example.net\nSubject: privsep cost\n\n" + body)
PY
chmod 644 "$T/msg"
mkdir -m 777 "$T/out"
wc -c < "$T/msg" | sed 's/^/message bytes: /'
# PRIVSEP_TMPFS=1: the spool on a tmpfs, where fsync costs nothing and
# what is left is the CPU cost of the two ways.
cat > "$T/inner.sh" <<INNER
set -e
mount --bind "$T/etc" /etc
mkdir -p "$T/spool"
[ "${PRIVSEP_TMPFS:-0}" = 1 ] && mount -t tmpfs -o mode=755 tmpfs "$T/spool"
RELAY_USER=64320 RELAY_GROUP=64321 sh "$src/scripts/install-spool" "$T/spool" "$T/bin/old" >/dev/null
RELAY_USER=64320 RELAY_GROUP=64321 sh "$src/scripts/install-spool" "$T/spool" "$T/bin/new" >/dev/null
setpriv --reuid=65534 --regid=65534 --clear-groups hyperfine -N --warmup 20 --runs $runs \
  --export-json "$T/out/result.json" \
  -n "before (one process)" "sh -c '$T/bin/old -odq -i root < $T/msg'" \
  -n "after (split)" "sh -c '$T/bin/new -odq -i root < $T/msg'"
echo "queued: \$(ls "$T/spool/queue" | wc -l) entries"
INNER
unshare -m sh "$T/inner.sh"
/usr/bin/python3 - "$T/out/result.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%-22s min %.2f ms  median %.2f ms  mean %.2f ms  user %.2f ms  system %.2f ms" % (
        r["command"], 1e3 * r["min"], 1e3 * r["median"], 1e3 * r["mean"], 1e3 * r["user"], 1e3 * r["system"]))
PY
