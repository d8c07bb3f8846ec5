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

# Every program has a page that man finds by its name (relay-deliver and
# relay-smtpd had none), and every page is installed, so the package
# ships it (debian/rules installs what CMake installs).
mkdir -p "$T/man/man1" "$T/man/man5" "$T/man/man8"
for page in "$RELAY_SRC"/man/*.[1-8]; do
  name=$(basename "$page")
  cp "$page" "$T/man/man${name##*.}/"
  grep -q "man/$name\b" "$RELAY_SRC/CMakeLists.txt" && ok "$name is installed" || bad "$name is not in CMakeLists.txt's install()"
done
for prog in sendmail relayd relayctl relay-deliver relay-smtpd newaliases mailq; do
  [ -n "$(ls "$RELAY_SRC"/man/"$prog".[1-8] 2>/dev/null)" ] && ok "man/$prog.N exists" || bad "no page for $prog"
  if command -v man >/dev/null; then
    MANWIDTH=80 man -M "$T/man" "$prog" > "$T/out" 2> "$T/err"
    grep -q "$prog" "$T/out" && [ ! -s "$T/err" ] && ok "man $prog finds a page" || bad "man $prog: $(cat "$T/err")"
  fi
done
finish
