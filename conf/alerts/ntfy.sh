#!/bin/sh
# relay alert_command example: a push notification through ntfy
# (https://ntfy.sh or a server of your own).
#   alert_command = /etc/relay/alerts/ntfy.sh https://ntfy.sh/my-relay-alerts
# Input: one JSON object on stdin (relayd(8), ALERTS). "kind" and "state"
# are plain words ([a-z_]), so sed can take them without a JSON parser;
# the whole object goes in the body. Firing alerts get priority "high",
# resolved ones "default". Needs curl.
set -eu
url=${1:?usage: ntfy.sh TOPIC-URL}
payload=$(cat)
field() { printf '%s\n' "$payload" | sed -n 's/.*"'"$1"'": "\([a-z_]*\)".*/\1/p'; }
kind=$(field kind); state=$(field state)
host=$(printf '%s\n' "$payload" | sed -n 's/.*"host": "\([A-Za-z0-9.-]*\)".*/\1/p')
priority=default; tags=white_check_mark
[ "$state" = firing ] && priority=high && tags=warning
exec curl -fsS --max-time 20 --retry 2 -o /dev/null \
  -H "Title: relay on ${host:-?}: $kind $state" -H "Priority: $priority" -H "Tags: $tags" \
  --data-binary "$payload" "$url"
