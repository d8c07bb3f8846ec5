#!/bin/sh
# The cost of one injection, repeatable to the instruction: `sendmail -i`
# of bench's 2,872-byte cron mail into a private instance (queue-only, so
# nothing is delivered), as a user of the relaydrop-less kind (nobody when
# run as root). Prints the instructions executed by sendmail and every
# process it starts (callgrind's Ir, --trace-children), the page faults
# and max RSS of one plain run (/usr/bin/time -v), and hyperfine's mean
# of 200 plain runs (through sh, whose cost hyperfine subtracts) next to a do-nothing exec of /bin/true (the floor;
# those two move with the machine's load, the Ir does not).
#
#   sh bench/inject_cost.sh BIN_DIR [SRC_DIR]
#
# Run it for the build before and after a change and compare the figures
# (issue 21: the privilege split and the layout must leave injection
# within noise).
set -eu
BIN=$(cd "$1" && pwd)
SRC=${2:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d /tmp/relay-icost.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'spool_dir = %s/spool\ndomain = example.com\naliases = %s/aliases\nlog = %s/run/log\nsmarthost = 127.0.0.1:25 none\n' \
  "$T" "$T" "$T" > "$T/conf"
: > "$T/aliases"
mkdir -p "$T/run" "$T/spool/tmp" "$T/spool/queue" "$T/spool/state" "$T/spool/failed" "$T/spool/corrupt" "$T/spool/hold"
chmod 700 "$T/spool" "$T/spool"/*
as=
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$T"; chmod 644 "$T/conf" "$T/aliases"; chown -R 65534 "$T/spool" "$T/run"
  as="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
/usr/bin/python3 "$SRC/bench/tools.py" gen-msg "$T/msg"
# With SETGID_GROUP (as root), sendmail is a setgid copy of that group, as
# an installed sendmail is setgid relaydrop, so the privileged path runs.
if [ -n "${SETGID_GROUP:-}" ]; then
  mkdir "$T/bin"; cp "$BIN/sendmail" "$T/bin/sendmail"
  chgrp "$SETGID_GROUP" "$T/bin/sendmail"; chmod 2755 "$T/bin/sendmail"
  chgrp -R "$SETGID_GROUP" "$T/spool/tmp" "$T/spool/queue"; chmod 770 "$T/spool/tmp" "$T/spool/queue"
  chmod 755 "$T/spool"
  BIN=$T/bin
fi
one() { $as "$BIN/sendmail" -C "$T/conf" -odq -i admin@example.net < "$T/msg"; }
one
# valgrind cannot run a setgid program: no instruction count for that mode.
ir=n/a
[ -n "${SETGID_GROUP:-}" ] || $as valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$T/run/cg.%p" \
  "$BIN/sendmail" -C "$T/conf" -odq -i admin@example.net < "$T/msg" 2> "$T/vg.err" || { cat "$T/vg.err" >&2; exit 1; }
[ -n "${SETGID_GROUP:-}" ] || ir=$(cat "$T"/run/cg.* | sed -n 's/^summary: //p' | awk '{s += $1} END {print s}')
/usr/bin/time -v $as "$BIN/sendmail" -C "$T/conf" -odq -i admin@example.net < "$T/msg" 2> "$T/time.txt"
faults=$(sed -n 's/.*Minor (reclaiming a frame) page faults: //p' "$T/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time.txt")
hyperfine --warmup 20 --runs 200 --export-json "$T/hf.json" \
  "$as $BIN/sendmail -C $T/conf -odq -i admin@example.net < $T/msg" "$as /bin/true < $T/msg" > /dev/null 2>&1
means=$(/usr/bin/python3 -c "
import json, sys
r = json.load(open('$T/hf.json'))['results']
print(' '.join('%.3f' % (x['mean'] * 1000) for x in r))")
set -- $means
echo "sendmail -odq of 2.9 KB: Ir=$ir (all processes), minor faults=$faults, max RSS=${rss} KiB (of the setpriv+sendmail run), mean=$1 ms, floor (/bin/true under the same setpriv)=$2 ms, ratio=$(echo "$1 $2" | awk '{printf "%.2f", $1/$2}')"
