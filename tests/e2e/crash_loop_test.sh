#!/bin/sh
# SIGKILL the injector and relayd at random points (tests/crash_loop.py):
# no message whose sendmail exited 0 may be lost, and no half-written entry
# may ever be visible. CRASH_LOOP_ITERATIONS sets the count (300 here; the
# nightly mode is CRASH_LOOP_ITERATIONS=5000 scripts/test or running this
# script by hand).
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 77; }
/usr/bin/python3 "$RELAY_SRC/tests/crash_loop.py" "$BIN" "$RELAY_SRC" "$T" "${CRASH_LOOP_ITERATIONS:-300}" > "$T/figures"
rc=$?
cat "$T/figures"
[ -n "${RELAY_SUMMARY:-}" ] && cat "$T/figures" >> "$RELAY_SUMMARY"
exit $rc
