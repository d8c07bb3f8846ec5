#!/bin/sh
# The systemd units: each service's exposure, as systemd-analyze security
# scores it offline, must be at most 4.9 ("OK" or better), and the units
# must parse.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
U=$RELAY_SRC/conf/systemd
for svc in relayd.service relay-deliver.service; do
  out=$(systemd-analyze security --offline=true --threshold=49 "$U/$svc" 2>&1); rc=$?
  echo "$out" | tail -1
  [ $rc = 0 ] && ok "$svc: $(echo "$out" | tail -1 | sed 's/.*level for //')" || bad "$svc scores above 4.9"
done
for u in relay-smtp.socket relay.path relay-deliver.timer; do
  grep -q '^\[Install\]' "$U/$u" && ok "$u has an [Install] section" || bad "$u lacks [Install]"
done
grep -q '^ListenStream=127.0.0.1:25$' "$U/relay-smtp.socket" && ok "socket on loopback only" || bad "socket not loopback"
! grep -q '^ListenStream=0\|^ListenStream=25$' "$U/relay-smtp.socket" && ok "no wildcard listener" || bad "wildcard listener"
finish
