#!/bin/sh
# Every man page renders without a warning (groff -ww -z), and man -l can
# format it.
. "$(dirname "$0")/lib.sh"
command -v groff >/dev/null || { echo "SKIP: groff is not installed"; exit 77; }
for page in "$RELAY_SRC"/man/*.[1-8]; do
  name=$(basename "$page")
  out=$(groff -ww -z -man "$page" 2>&1)
  [ -z "$out" ] && ok "$name: no groff warnings" || bad "$name: $out"
  if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$page" > "$T/out" 2> "$T/err"
    [ -s "$T/out" ] && [ ! -s "$T/err" ] && ok "$name: man -l renders" || bad "$name: man -l: $(cat "$T/err")"
  fi
done
finish
