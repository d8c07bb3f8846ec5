#!/bin/sh
# Self-test of postfix_harness.sh: private Postfix instances on loopback with
# STARTTLS, one maildir, reject/defer tables, reload, several at once, and
# that they stop (pf_stop, the watchdog, maxtime).
if [ "$(id -u)" != 0 ]; then
  echo "skip: postfix_harness needs root (apt-get, postfix start)"
  exit 77
fi
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/postfix_harness.sh"

if ! pf_install; then
  bad "pf_install"
  finish
fi
ok "pf_install"
[ -e /etc/postfix/main.cf ] && bad "a default /etc/postfix/main.cf exists" || ok "no default instance configured"

# --- certificates -----------------------------------------------------------
CA=$T/ca
pf_make_ca "$CA" && ok "pf_make_ca" || bad "pf_make_ca"
for f in ca.pem server.pem server.key wrongca.pem wronghost.pem wronghost.key \
         expired.pem expired.key selfsigned.pem selfsigned.key; do
  [ -s "$CA/$f" ] || bad "missing $CA/$f"
done
v() { openssl verify -CAfile "$CA/$1" ${3:+-verify_hostname "$3"} "$CA/$2" > "$T/v.out" 2>&1; }
v ca.pem server.pem localhost && ok "server.pem verifies for localhost" || bad "server.pem: $(cat "$T/v.out")"
v ca.pem server.pem mail.test && ok "server.pem verifies for mail.test" || bad "server.pem mail.test: $(cat "$T/v.out")"
openssl verify -CAfile "$CA/ca.pem" -verify_ip 127.0.0.1 "$CA/server.pem" > /dev/null 2>&1 &&
  ok "server.pem verifies for IP 127.0.0.1" || bad "server.pem IP 127.0.0.1"
v ca.pem wronghost.pem localhost; contains "$T/v.out" "hostname mismatch" "wronghost.pem: hostname mismatch"
v ca.pem expired.pem; contains "$T/v.out" "certificate has expired" "expired.pem: expired"
v ca.pem selfsigned.pem; contains "$T/v.out" "self-signed certificate" "selfsigned.pem: self-signed"
v wrongca.pem server.pem; contains "$T/v.out" "unable to get local issuer" "server.pem does not verify with wrongca.pem"
end=$(openssl x509 -in "$CA/server.pem" -noout -enddate | cut -d= -f2)
days=$(( ($(date -d "$end" +%s) - $(date +%s)) / 86400 ))
[ "$days" -le 2 ] && [ "$days" -ge 1 ] && ok "server.pem valid ~2 days" || bad "server.pem valid $days days"

# --- instance A: TLS with server.pem, reject/defer --------------------------
PA=$(pf_free_port)
A=$T/pfa
if ! pf_start "$A" "$PA" reject=bad@example.org defer=later@example.org; then
  bad "pf_start A on $PA"
  finish
fi
ok "pf_start A on 127.0.0.1:$PA"
MA=$(pf_master_pid "$A")
[ -n "$MA" ] && ok "A's master pid $MA" || bad "no master pid for A"
ss -Hltnp > "$T/ss.out" 2>&1
grep "pid=$MA," "$T/ss.out" | awk '{print $4}' > "$T/ls.out"
[ "$(cat "$T/ls.out")" = "127.0.0.1:$PA" ] && ok "A listens on 127.0.0.1:$PA only" ||
  bad "A's listeners: $(cat "$T/ls.out")"
tr '\0' '\n' < /proc/"$MA"/environ | grep -qx "MAIL_CONFIG=$A/etc" &&
  ok "A's master has MAIL_CONFIG=$A/etc" || bad "A's master environment lacks MAIL_CONFIG"

sw() { swport=$1; shift; swaks --timeout 20 --server "127.0.0.1:$swport" --helo client.test "$@" > "$T/sw.out" 2>&1; }
sw_ca() { port=$1; shift; sw "$port" -tls --tls-verify --tls-ca-path "$CA/ca.pem" "$@"; }

sw_ca "$PA" --from alice@sender.test --to bob@dest.test --header "Subject: harness one"
rc=$?
[ $rc = 0 ] && ok "swaks --tls --tls-verify delivers (exit 0)" || bad "swaks exit $rc: $(tail -5 "$T/sw.out")"
contains "$T/sw.out" "TLS started" "swaks: TLS started"
contains "$T/sw.out" 'TLS peer DN="/CN=localhost"' "swaks: peer is CN=localhost"
if pf_wait_count "$A" 1 20; then ok "one message arrived"; else bad "nothing arrived in $A/maildir"; fi
m=$(pf_messages "$A" | head -1)
[ "$(pf_count "$A")" = 1 ] && ok "exactly one file" || bad "$(pf_count "$A") files"
[ "$(pf_rcpt "$m")" = bob@dest.test ] && ok "envelope recipient (X-Original-To) bob@dest.test" ||
  bad "recipient '$(pf_rcpt "$m")'"
[ "$(pf_sender "$m")" = alice@sender.test ] && ok "envelope sender (Return-Path) alice@sender.test" ||
  bad "sender '$(pf_sender "$m")'"
contains "$m" "Delivered-To: bob@dest.test" "Delivered-To header"
contains "$m" "Subject: harness one" "message headers kept"
contains "$m" "with ESMTPS id" "Received: ESMTPS"
contains "$m" "(using TLSv1.3" "Received: TLS version recorded"
case $m in "$A/maildir/new/"*) ok "delivered into $A/maildir/new" ;; *) bad "delivered to $m" ;; esac

# openssl s_client: a verification that includes the host name.
sc() { # PORT CAFILE HOST
  echo QUIT | timeout 20 openssl s_client -connect "127.0.0.1:$1" -starttls smtp -CAfile "$2" \
    -verify_hostname "$3" -verify_return_error -servername "$3" > "$T/sc.out" 2>&1
}
sc "$PA" "$CA/ca.pem" localhost && ok "s_client verifies A as localhost" || bad "s_client A: $(tail -3 "$T/sc.out")"
sc "$PA" "$CA/ca.pem" mail.test && ok "s_client verifies A as mail.test" || bad "s_client A mail.test"
sc "$PA" "$CA/wrongca.pem" localhost && bad "s_client accepted A with wrongca.pem" || ok "s_client rejects A with wrongca.pem"

# Rejected and deferred recipients.
sw "$PA" --from alice@sender.test --to bad@example.org
contains "$T/sw.out" "550 5.1.1 <bad@example.org>" "reject= address gets 550"
sw "$PA" --from alice@sender.test --to later@example.org
contains "$T/sw.out" "450 4.2.0 <later@example.org>" "defer= address gets 450"
sw "$PA" --from alice@sender.test --to Bad@Example.ORG
contains "$T/sw.out" "550 5.1.1" "table lookup ignores case"

# Mixed: one good, one rejected, one deferred, duplicate good -> one file each accepted.
sw "$PA" --from '<>' --to carol@dest.test,bad@example.org,later@example.org,carol@dest.test,dave@other.test
contains "$T/sw.out" "250 2.0.0 Ok: queued" "mixed transaction queued"
pf_wait_count "$A" 3 20 && ok "carol and dave arrived" || bad "mixed: $(pf_count "$A") files"
sleep 1
[ "$(pf_count "$A")" = 3 ] && ok "duplicate RCPT merged by Postfix (one file)" || bad "$(pf_count "$A") files after mixed"
rcpts=$(for f in $(pf_messages "$A"); do pf_rcpt "$f"; done | sort | tr '\n' ' ')
[ "$rcpts" = "bob@dest.test carol@dest.test dave@other.test " ] && ok "recipients: $rcpts" || bad "recipients: $rcpts"
# shellcheck disable=SC2046
f=$(grep -l '^X-Original-To: dave@other.test' $(pf_messages "$A"))
[ -n "$f" ] && [ "$(pf_sender "$f")" = "" ] && contains "$f" "Return-Path: <>" "null sender kept as <>" ||
  bad "null sender: '$(pf_sender "$f")'"

# Reload after editing the tables.
pf_reject "$A" carol@dest.test && ok "pf_reject carol" || bad "pf_reject"
sw "$PA" --from alice@sender.test --to carol@dest.test
contains "$T/sw.out" "550 5.1.1 <carol@dest.test>" "carol rejected after reload"
pf_accept "$A" bad@example.org && ok "pf_accept bad" || bad "pf_accept"
sw "$PA" --from alice@sender.test --to bad@example.org
contains "$T/sw.out" "250 2.0.0 Ok: queued" "bad@example.org accepted after reload"
echo eve@dest.test >> "$A/etc/defer.list"
pf_reload "$A" && ok "pf_reload after editing defer.list" || bad "pf_reload"
sw "$PA" --from alice@sender.test --to eve@dest.test
contains "$T/sw.out" "450 4.2.0 <eve@dest.test>" "eve deferred after edit + reload"
pf_wait_count "$A" 4 20 && ok "four messages in A" || bad "A has $(pf_count "$A")"
pf_clear "$A"
[ "$(pf_count "$A")" = 0 ] && ok "pf_clear" || bad "pf_clear left $(pf_count "$A")"

# --- instances B (wrong host name, ipv6 too) and C (expired, TLS required) --
PB=$(pf_free_port)
[ "$PB" = "$PA" ] && PB=$((PA + 1))
B=$T/pfb
pf_start "$B" "$PB" cert=wronghost ipv6 size=100000 && ok "pf_start B on $PB" || bad "pf_start B"
PC=$(pf_free_port)
C=$T/pfc
pf_start "$C" "$PC" cert=expired encrypt && ok "pf_start C on $PC" || bad "pf_start C"
MB=$(pf_master_pid "$B")
MC=$(pf_master_pid "$C")
[ -n "$MB" ] && [ -n "$MC" ] && [ "$MA" != "$MB" ] && [ "$MB" != "$MC" ] &&
  kill -0 "$MA" && ok "three masters: $MA $MB $MC" || bad "masters: '$MA' '$MB' '$MC'"
sc "$PB" "$CA/ca.pem" localhost && bad "s_client accepted wronghost as localhost" ||
  contains "$T/sc.out" "hostname mismatch" "s_client: B's cert has the wrong host name"
sc "$PB" "$CA/ca.pem" wrong.test && ok "s_client verifies B as wrong.test" || bad "B as wrong.test"
sw_ca "$PB" --from x@sender.test --to frank@dest.test
contains "$T/sw.out" "250-SIZE 100000" "size= sets the advertised SIZE"
contains "$T/sw.out" 'TLS peer DN="/CN=wrong.test"' "swaks --tls-verify does not check the host name"
sc "$PC" "$CA/ca.pem" localhost && bad "s_client accepted the expired cert" ||
  contains "$T/sc.out" "certificate has expired" "s_client: C's cert has expired"
sw "$PC" --to gina@dest.test
contains "$T/sw.out" "530 5.7.0 Must issue a STARTTLS command first" "encrypt: MAIL before STARTTLS refused"
sw "$PC" -tls --to gina@dest.test
contains "$T/sw.out" "250 2.0.0 Ok: queued" "encrypt: accepted after STARTTLS (unverified)"
pf_wait_count "$B" 1 20 && pf_wait_count "$C" 1 20 && ok "B and C each got their message" ||
  bad "B $(pf_count "$B"), C $(pf_count "$C")"
[ "$(pf_count "$A")" = 0 ] && ok "nothing crossed into A" || bad "A has $(pf_count "$A")"
fb=$(pf_messages "$B")
[ "$(pf_rcpt "$fb")" = frank@dest.test ] && ok "B: frank" || bad "B: $(pf_rcpt "$fb")"
fc=$(pf_messages "$C")
[ "$(pf_rcpt "$fc")" = gina@dest.test ] && ok "C: gina" || bad "C: $(pf_rcpt "$fc")"
echo QUIT | timeout 10 openssl s_client -connect "[::1]:$PB" -starttls smtp > "$T/sc6.out" 2>&1
contains "$T/sc6.out" "CN = wrong.test" "B answers on [::1]:$PB"
ss -Hltnp | grep -E "pid=($MA|$MB|$MC)," | awk '{print $4}' | sort > "$T/ls.out"
printf '%s\n' "127.0.0.1:$PA" "127.0.0.1:$PB" "127.0.0.1:$PC" "[::1]:$PB" | sort > "$T/ls.want"
cmp -s "$T/ls.out" "$T/ls.want" && ok "listeners are loopback only" || bad "listeners: $(cat "$T/ls.out")"

# --- stopping ---------------------------------------------------------------
pf_stop "$A"
kill -0 "$MA" 2> /dev/null && bad "A's master still runs" || ok "pf_stop A"
pf__listening "$PA" && bad "A's port still open" || ok "A's port closed"
pf_stop "$A" && ok "pf_stop is idempotent" || bad "second pf_stop"
ps -o pid= --ppid "$MA" | grep -q . && bad "A's children remain" || ok "A's children gone"
kill -0 "$MB" && kill -0 "$MC" && ok "B and C still run" || bad "B or C stopped with A"
pf_stop_all
kill -0 "$MB" 2> /dev/null || kill -0 "$MC" 2> /dev/null && bad "pf_stop_all left a master" || ok "pf_stop_all"

# D: no TLS; and maxtime: it stops by itself.
PD=$(pf_free_port)
D=$T/pfd
pf_start "$D" "$PD" notls maxtime=5 && ok "pf_start D notls maxtime=5" || bad "pf_start D"
MD=$(pf_master_pid "$D")
sw "$PD" --to hans@dest.test
lacks "$T/sw.out" "STARTTLS" "notls: no STARTTLS advertised"
contains "$T/sw.out" "250 2.0.0 Ok: queued" "notls: delivered in plain text"
sw "$PD" -tls --to hans@dest.test
[ $? != 0 ] && ok "swaks -tls fails against notls" || bad "swaks -tls succeeded against notls"
pf_wait_count "$D" 1 10 && lacks "$(pf_messages "$D")" "using TLS" "D: delivered without TLS" || bad "D: nothing"
i=0
while kill -0 "$MD" 2> /dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$MD" 2> /dev/null && bad "maxtime=5: still running after 20 s" || ok "maxtime=5 stopped it"

# The watchdog: the shell that started an instance is killed -9.
PE=$(pf_free_port)
sh -c '. "$1/postfix_harness.sh"; pf_start "$2" "$3" notls || exit 1; cat "$2/queue/pid/master.pid"; kill -9 $$' \
  sh "$E2E" "$T/pfe" "$PE" > "$T/pe.out" 2>&1
ME=$(tr -dc 0-9 < "$T/pe.out")
if [ -n "$ME" ]; then
  i=0
  while kill -0 "$ME" 2> /dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 "$ME" 2> /dev/null && bad "orphaned instance still running" || ok "watchdog stopped an orphaned instance"
else
  bad "instance E did not start: $(cat "$T/pe.out")"
fi

finish
