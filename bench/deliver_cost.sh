#!/bin/sh
# The cost of one delivery run of relay-deliver, repeatable to the
# instruction: queues the same messages (200 of 4 KiB, 20 of 1 MiB, 2 of
# 16 MiB: about 53 MB of content) in a private instance, relays them to
# tests/sink.py on loopback, and prints the instructions relay-deliver
# executed (callgrind's Ir, all threads) and its CPU time (user + system)
# in five plain runs (perf's task-clock; these move with the machine's load).
#
#   sh bench/deliver_cost.sh BIN_DIR [SRC_DIR]
#
# Used to show that the wire-form check of the content (wire_form.h)
# leaves the straight copy's cost within noise: run it for the build
# before and after a change, and compare the Ir figures.
set -eu
BIN=$(cd "$1" && pwd)
SRC=${2:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d /tmp/relay-cost.XXXXXX)
trap 'kill $sink 2>/dev/null; rm -rf "$T"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 "$SRC/tests/sink.py" --port "$port" --out "$T/sink.out" --max-seconds 1200 &
sink=$!
printf 'spool_dir = %s/spool\ndomain = example.com\naliases = %s/aliases\nlog = %s/run/log\nsmarthost = 127.0.0.1:%s none\nmax_connections = 1\n' \
  "$T" "$T" "$T" "$port" > "$T/conf"
: > "$T/aliases"
mkdir -p "$T/run" "$T/spool/tmp" "$T/spool/queue" "$T/spool/state" "$T/spool/failed" "$T/spool/corrupt" "$T/spool/hold"
chmod 700 "$T/spool" "$T/spool"/*
# relay never delivers as root: as root, the instance is nobody's.
as=
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$T"; chmod 644 "$T/conf" "$T/aliases"; chown -R 65534 "$T/spool" "$T/run"
  as="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
# Deterministic bodies: lines of 70 characters, some with a leading dot.
body() { /usr/bin/python3 -c "
import sys
n = int(sys.argv[1]); line = 0; out = []
size = 0
while size < n:
    s = ('.' if line % 17 == 0 else '') + ('%05d ' % line) + 'x' * 63
    out.append(s); size += len(s) + 1; line += 1
sys.stdout.write('\n'.join(out) + '\n')" "$1"; }
body 4096 > "$T/b4k"; body 1048576 > "$T/b1m"; body 16777216 > "$T/b16m"
queue() {
  i=0
  while [ $i -lt "$1" ]; do
    { printf 'Subject: cost\nX-Token: %s-%s\n\n' "$2" "$i"; cat "$3"; } | $as "$BIN/sendmail" -C "$T/conf" -i to@example.net ||
      { echo "sendmail failed" >&2; exit 1; }
    i=$((i + 1))
  done
}
fill() { queue 200 s "$T/b4k"; queue 20 m "$T/b1m"; queue 2 l "$T/b16m"; }
until [ -s "$T/sink.out" ] || /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; do sleep 0.1; done
fill
$as valgrind --tool=callgrind --callgrind-out-file="$T/run/cg.out" "$BIN/relay-deliver" -C "$T/conf" --once 2> "$T/vg.err" ||
  { cat "$T/vg.err" "$T/run/log" >&2; exit 1; }
n=$(ls "$T/spool/queue" | wc -l)
[ "$n" = 0 ] || { echo "relay-deliver left $n entries queued under callgrind" >&2; exit 1; }
ir=$(sed -n 's/^summary: //p' "$T/run/cg.out")
# Plain runs: relay-deliver's own CPU time (user + system, which holds
# the copy into the socket; perf's task-clock, in ms), five times.
cpu=
for k in 1 2 3 4 5; do
  fill
  perf stat -x, -e task-clock -o "$T/perf" $as "$BIN/relay-deliver" -C "$T/conf" --once
  n=$(ls "$T/spool/queue" | wc -l)
  [ "$n" = 0 ] || { echo "relay-deliver left $n entries queued" >&2; exit 1; }
  cpu="$cpu $(awk -F, '/task-clock/ {printf "%.1f", $1}' "$T/perf")"
done
echo "relay-deliver: $(wc -l < "$T/sink.out") deliveries; callgrind Ir $ir; CPU ms (task-clock) of 5 runs:$cpu"
