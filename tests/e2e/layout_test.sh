#!/bin/sh
# The layout README.md promises: every stage's folder (src/STAGE and
# include/relay/STAGE) includes only itself and the stages before it in
# this order, and every stage has its code and header folders.
. "$(dirname "$0")/lib.sh"
ORDER="base message queue smtp tls inject listen smtpd relayd deliver admin"
rank() { i=0; for s in $ORDER; do [ "$s" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
# later STAGE DIR...: the stages after STAGE that files under DIR include.
later() {
  stage=$1; shift
  grep -rho '#include "relay/[a-z_]*/' "$@" 2>/dev/null | sed 's|.*relay/||; s|/$||' | sort -u |
    while read -r used; do [ "$(rank "$used")" -gt "$(rank "$stage")" ] && printf ' %s' "$used"; done
}
for stage in $ORDER; do
  [ -d "$RELAY_SRC/src/$stage" ] && [ -d "$RELAY_SRC/include/relay/$stage" ] \
    && ok "$stage: src/ and include/relay/ folders" || bad "$stage: a folder is missing"
  above=$(later "$stage" "$RELAY_SRC/src/$stage" "$RELAY_SRC/include/relay/$stage")
  [ -z "$above" ] && ok "$stage includes no stage after it" || bad "$stage includes a later stage:$above"
done
# The check can fail: a planted base file that includes admin/ is seen.
mkdir -p "$T/base"
echo '#include "relay/admin/relayctl.h"' > "$T/base/x.cc"
[ "$(later base "$T/base")" = " admin" ] && ok "a planted base -> admin include is caught" || bad "the planted include was not caught"
finish
