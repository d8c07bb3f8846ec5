#!/bin/sh
# relay alert_command example: POST the event's JSON to a webhook.
#   alert_command = /etc/relay/alerts/webhook.sh https://hooks.example.com/relay
# relayd runs it as the relay user with PATH=/usr/bin:/bin and nothing
# else in the environment, one JSON object on stdin (relayd(8), ALERTS),
# and kills it after alert_timeout. Needs curl. A token for the hook goes
# in a file only the relay user can read, never on the command line:
#   printf 'Authorization: Bearer %s\n' "$TOKEN" > /etc/relay/alerts/webhook.header
#   chown relay /etc/relay/alerts/webhook.header; chmod 600 /etc/relay/alerts/webhook.header
set -eu
url=${1:?usage: webhook.sh URL [HEADER-FILE]}
header=${2:-/etc/relay/alerts/webhook.header}
payload=$(cat)
set -- -fsS --max-time 20 --retry 2 -H 'Content-Type: application/json' --data-binary "$payload"
[ -r "$header" ] && set -- "$@" -H "@$header"
exec curl "$@" -o /dev/null "$url"
