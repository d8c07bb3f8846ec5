#!/bin/sh
# relay alert_command example: a mail about the alert through a SECOND
# smarthost, by a second relay instance with a spool and relay.conf of its
# own, so that the alert does not depend on the path it reports on.
#   alert_command = /etc/relay/alerts/mail.sh /etc/relay/alerts.conf admin@example.net
# /etc/relay/alerts.conf names the other smarthost and its own spool:
#   spool_dir = /var/spool/relay-alerts
#   smarthost = smtp.backup.example.org:587
#   auth_user = relay-alerts
#   auth_password_file = /etc/relay/alerts.secret     (mode 0600, owner relay)
# and the spool is made once, for the relay user:
#   install -d -o relay -g relay -m 700 /var/spool/relay-alerts \
#     /var/spool/relay-alerts/tmp /var/spool/relay-alerts/queue /var/spool/relay-alerts/state \
#     /var/spool/relay-alerts/failed /var/spool/relay-alerts/corrupt /var/spool/relay-alerts/hold
# The mail is queued there and sent at once by one delivery run of that
# instance (relayd -C ... --once); if it fails, it stays queued there and
# the next alert's run retries it. Input: one JSON object on stdin
# (relayd(8), ALERTS); "kind" and "state" are plain words.
set -eu
conf=${1:?usage: mail.sh RELAY-CONF RECIPIENT}
rcpt=${2:?usage: mail.sh RELAY-CONF RECIPIENT}
sendmail=${RELAY_SENDMAIL:-/usr/sbin/sendmail}
relayd=${RELAY_RELAYD:-/usr/sbin/relayd}
payload=$(cat)
field() { printf '%s\n' "$payload" | sed -n 's/.*"'"$1"'": "\([a-z_]*\)".*/\1/p'; }
kind=$(field kind); state=$(field state)
{
  printf 'To: %s\nSubject: relay alert: %s %s\nAuto-Submitted: auto-generated\n\n' "$rcpt" "$kind" "$state"
  printf '%s\n' "$payload"
} | "$sendmail" -C "$conf" -i -- "$rcpt"
exec "$relayd" -C "$conf" --once
