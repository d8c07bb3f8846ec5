#!/bin/bash
# fuzz/campaign.sh: the long fuzzing runs behind fuzz/README.md's table
# (issue 19 item 6). Round-robin over every target, SLICE seconds of wall
# time each (default 600), at nice 19 so that it takes only idle CPU, until
# the file STOP appears in the work directory. Each slice's CPU time
# (user+system, /usr/bin/time), executions and edge coverage go to
# WORK/campaign.log; crashes go to WORK/crashes/TARGET/. The corpus of each
# target grows in WORK/corpus/TARGET, seeded from fuzz/corpus/TARGET; fold
# it back, minimised, with fuzz/campaign.sh --merge.
#
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRELAY_FUZZ=ON -DRELAY_TESTS=OFF
#   cmake --build build-fuzz -j2 --target fuzzers
#   fuzz/campaign.sh [WORK]              (default build-fuzz/campaign)
#   fuzz/campaign.sh --merge [WORK]      minimise WORK/corpus/* into fuzz/corpus/*
#
# TARGETS="a b" limits a run to those targets, so that two runs over
# disjoint sets (same WORK) can use both cores. An entry NAME:SECONDS gives
# that target its own slice length, and ROUNDS=N stops after N rounds, so
# that a run can give each target just the CPU time it still lacks.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
merge=0
[ "${1:-}" = --merge ] && { merge=1; shift; }
WORK=${1:-$ROOT/build-fuzz/campaign}
BIN=${FUZZ_BIN:-$ROOT/build-fuzz/bin}
mkdir -p "$WORK/logs"
targets=${TARGETS:-$(cd "$ROOT/fuzz" && ls *_fuzz.cc | sed 's/_fuzz\.cc$//')}
names=$(for e in $targets; do echo "${e%%:*}"; done)
if [ $merge = 1 ]; then
  for t in $names; do
    [ -d "$WORK/corpus/$t" ] && [ -x "$BIN/${t}_fuzz" ] || continue
    rm -rf "$WORK/merged/$t"; mkdir -p "$WORK/merged/$t"
    "$BIN/${t}_fuzz" -merge=1 -max_len=4096 "$WORK/merged/$t" "$ROOT/fuzz/corpus/$t" "$WORK/corpus/$t" \
      > "$WORK/logs/$t.merge" 2>&1 || { echo "merge of $t failed: $WORK/logs/$t.merge"; continue; }
    rm -rf "$ROOT/fuzz/corpus/$t" && mv "$WORK/merged/$t" "$ROOT/fuzz/corpus/$t"
    echo "$t: $(ls "$ROOT/fuzz/corpus/$t" | wc -l) inputs"
  done
  exit 0
fi
round=0
while [ ! -e "$WORK/STOP" ] && [ "$round" != "${ROUNDS:-}" ]; do
  round=$((round + 1))
  for e in $targets; do
    t=${e%%:*} slice=${SLICE:-600}
    [ "$e" = "$t" ] || slice=${e#*:}
    [ -e "$WORK/STOP" ] && break
    [ -x "$BIN/${t}_fuzz" ] || continue
    mkdir -p "$WORK/corpus/$t" "$WORK/crashes/$t"
    [ -n "$(ls "$WORK/corpus/$t")" ] || cp "$ROOT/fuzz/corpus/$t"/* "$WORK/corpus/$t"/ 2> /dev/null
    out=$WORK/logs/$t.$round.log
    /usr/bin/time -f "%U %S" -o "$WORK/logs/$t.$round.time" nice -n 19 "$BIN/${t}_fuzz" \
      -max_total_time="$slice" -max_len=4096 -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
      -artifact_prefix="$WORK/crashes/$t/" "$WORK/corpus/$t" > "$out" 2>&1
    rc=$?
    cpu=$(awk '{ print $1 + $2 }' "$WORK/logs/$t.$round.time" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
    cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1 | awk '{ print $2 }')
    echo "$(date -u +%FT%TZ) $t round=$round rc=$rc cpu_s=$cpu runs=$runs cov=$cov corpus=$(ls "$WORK/corpus/$t" | wc -l)" >> "$WORK/campaign.log"
  done
done
