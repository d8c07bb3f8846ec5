#!/bin/sh
# The systemd units: each service's exposure, as systemd-analyze security
# scores it offline, must be at most 4.9 ("OK" or better), and
# `systemd-analyze verify` must print nothing at all: any warning (an
# unknown key, a key in the wrong section, a missing program or man page)
# fails. verify runs in a root made here, with the units where the package
# puts them, the programs they start, this machine's own units (the
# targets they name) and the project's man pages on MANPATH, so a warning
# is about the units and not about what is installed on this machine.
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
# verify_root DIR: the root systemd-analyze verify looks at.
verify_root() {
  mkdir -p "$1/etc/systemd/system" "$1/usr/lib/systemd" "$1/usr/sbin" "$1/usr/libexec/relay" "$1/bin" "$1/man"
  cp "$U"/* "$1/etc/systemd/system/"
  cp -a /lib/systemd/system "$1/usr/lib/systemd/"
  cp "$BIN/relayd" "$1/usr/sbin/relayd"
  cp "$BIN/relay-deliver" "$1/usr/libexec/relay/relay-deliver"
  cp /bin/kill "$1/bin/kill"
  for m in "$RELAY_SRC"/man/*.[1-8]; do
    sec=${m##*.}; mkdir -p "$1/man/man$sec"; cp "$m" "$1/man/man$sec/"
  done
}
R=$T/root
verify_root "$R"
units=$(cd "$U" && ls)
for u in $units; do
  (cd "$R/etc/systemd/system" && MANPATH=$R/man systemd-analyze verify --man=yes --root="$R" "$u") > "$T/verify" 2>&1; rc=$?
  if [ $rc = 0 ] && [ ! -s "$T/verify" ]; then ok "systemd-analyze verify $u: no warning"
  else bad "systemd-analyze verify $u: exit $rc: $(tr '\n' ' ' < "$T/verify")"; fi
done
# The check itself sees a warning: an unknown key in a copy of a unit.
printf '[Socket]\nNoSuchKey=yes\n' >> "$R/etc/systemd/system/relay-smtp.socket"
(cd "$R/etc/systemd/system" && MANPATH=$R/man systemd-analyze verify --root="$R" relay-smtp.socket) > "$T/verify" 2>&1
grep -q NoSuchKey "$T/verify" && ok "a planted unknown key is reported (the check can fail)" || bad "a planted unknown key went unnoticed: $(cat "$T/verify")"
grep -q '^ListenStream=127.0.0.1:25$' "$U/relay-smtp.socket" && ok "socket on loopback only" || bad "socket not loopback"
! grep -q '^ListenStream=0\|^ListenStream=25$' "$U/relay-smtp.socket" && ok "no wildcard listener" || bad "wildcard listener"
finish
