#!/bin/sh
# SIGKILL the injector and relayd at random points (tests/crash_loop.py),
# no message whose sendmail exited 0 may be lost, and no half-written entry
# may ever be visible. CRASH_LOOP_ITERATIONS sets the count (300 here; the
# nightly mode is CRASH_LOOP_ITERATIONS=5000 scripts/test or running this
# script by hand).
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 77; }
# Then the same with SIGTERM for relayd (CRASH_LOOP_SIGNAL=TERM): an orderly
# stop waits for the smarthost's reply to a message already sent, so it
# must make no duplicate either.
rc=0
for sig in KILL TERM; do
  mkdir -p "$T/$sig"
  [ "$(id -u)" = 0 ] && chmod 755 "$T" "$T/$sig"   # relayd runs as nobody
  CRASH_LOOP_SIGNAL=$sig /usr/bin/python3 "$RELAY_SRC/tests/crash_loop.py" "$BIN" "$RELAY_SRC" "$T/$sig" \
    "${CRASH_LOOP_ITERATIONS:-300}" > "$T/figures.$sig" || rc=1
  cat "$T/figures.$sig"
  [ -n "${RELAY_SUMMARY:-}" ] && cat "$T/figures.$sig" >> "$RELAY_SUMMARY"
done
exit $rc
