#!/bin/sh
# relay heartbeat_command example: a dead-man ping to a healthchecks-style
# monitor (healthchecks.io, a self-hosted Healthchecks, Uptime Kuma's push
# monitors, Cronitor...), which raises its own alarm when the pings stop.
#   heartbeat_command = /etc/relay/alerts/deadman.sh https://hc-ping.com/YOUR-UUID
#   heartbeat_interval = 1h        (set the check's period to match, plus grace)
# relayd runs it after every delivery run that delivered mail, and at least
# every heartbeat_interval while the queue is empty and the smarthost
# answers a probe (relayd(8), ALERTS). As alert_command too, it reports a
# firing alert as a failure (URL/fail) and a resolved one as a success, so
# one check shows both. Input: one JSON object on stdin. Needs curl.
set -eu
url=${1:?usage: deadman.sh PING-URL}
payload=$(cat)
state=$(printf '%s\n' "$payload" | sed -n 's/.*"state": "\([a-z_]*\)".*/\1/p')
[ "$state" = firing ] && url=$url/fail
exec curl -fsS --max-time 10 --retry 3 -o /dev/null --data-binary "$payload" "$url"
