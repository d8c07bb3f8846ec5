#!/bin/bash
# bench/oauth_cost.sh [BEFORE]: what OAuth 2.0 (issue 17) cost sendmail and
# relayd, which must keep linking only the C++ runtime, and relay-deliver,
# which links libcurl for the refresh. Builds BEFORE (default fe03964^1,
# main just before the OAuth merge) and the work tree in Release mode, then
# in one run: each program's size, its shared libraries, and its start-up
# (hyperfine, interleaved rounds): sendmail queueing the 2.9 KB message
# into a private spool, relayd and relay-deliver refusing an unknown
# option (exec, dynamic loading and static initialisers, nothing else).
# Run as root (the private spool belongs to nobody). Prints a table.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${1:-fe03964^1}
W=$ROOT/build-bench/oauth-cost
rm -rf "$W"; mkdir -p "$W"
git -C "$ROOT" worktree add -f --detach "$W/src" "$BEFORE" > /dev/null 2>&1
trap 'git -C "$ROOT" worktree remove --force "$W/src" > /dev/null 2>&1 || true' EXIT
for t in before after; do
  src=$W/src; [ $t = after ] && src=$ROOT
  cmake -S "$src" -B "$W/build-$t" -DCMAKE_BUILD_TYPE=Release -DRELAY_TESTS=OFF > "$W/$t.log" 2>&1
  cmake --build "$W/build-$t" -j2 --target sendmail relayd relay-deliver >> "$W/$t.log" 2>&1
done
/usr/bin/python3 "$ROOT/bench/tools.py" gen-msg "$W/msg"
mkdir -p "$W/spool"/{tmp,queue,state,failed,corrupt,hold}; chmod 700 "$W/spool" "$W"/spool/*; chown -R nobody "$W/spool"
printf 'spool_dir = %s/spool\ndomain = example.com\nsmarthost = 127.0.0.1:9 none\naliases = /dev/null\n' "$W" > "$W/relay.conf"
chmod 755 "$W"; chmod 644 "$W/relay.conf" "$W/msg"
printf '%-14s %-7s %10s %5s %12s\n' program build bytes libs start-up_ms
for p in sendmail relayd relay-deliver; do
  for t in before after; do
    b=$W/build-$t/bin/$p
    # sendmail needs the message on standard input: shell mode (hyperfine
    # subtracts the shell's start-up); the others run directly (-N).
    case $p in
      sendmail) hyperfine -i --warmup 20 --runs 300 --export-json "$W/$p-$t.json" \
                  "$b -C $W/relay.conf -i admin@example.net < $W/msg" > /dev/null 2>&1 ;;
      *) hyperfine -N -i --warmup 20 --runs 300 --export-json "$W/$p-$t.json" "$b --no-such-option" > /dev/null 2>&1 ;;
    esac
    ms=$(/usr/bin/python3 "$ROOT/bench/tools.py" hyperfine "$W/$p-$t.json" | awk '{ printf "%.3f", $1 * 1000 }')
    printf '%-14s %-7s %10s %5s %12s\n' "$p" "$t" "$(stat -c %s "$b")" "$(ldd "$b" | grep -c '=>')" "$ms"
  done
done
find "$W/spool/queue" -type f -delete
