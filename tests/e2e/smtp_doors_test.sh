#!/bin/sh
# Issue 22, from outside, on both SMTP doors (sendmail -bs and relayd's
# loopback listener; relay-smtpd is in listen_remote_test.sh), with a raw
# client (tests/smtp_probe.py) and a real smarthost that logs every command
# (tests/fault_server.py, offering DSN):
#  1. no SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA; every other
#     line end around a dot, and a dot split across segments, gives one
#     message, and the smuggled MAIL FROM is never a transaction;
#  2. a bad address is refused at its own command (501, naming the
#     problem), and the other recipients still get the message;
#  3. NOTIFY and ORCPT are kept per recipient and reach the smarthost so;
#  4. NOTIFY=NEVER (or without FAILURE) means no failure notice, from
#     relayctl bounce and from a 5xx at delivery, per recipient;
#  5. a HELO/EHLO argument that is no domain or address literal stays out
#     of the Received header, and the log says so;
#  6. input pipelined behind a refused DATA is never run as commands (the
#     session ends with a 421); a client that waits for the reply goes on;
#  7. the end of data right behind a line over 64 KiB whose CR and LF come
#     in different reads is seen;
#  8. an address too long only once qualified with the domain is refused
#     at its command, and the other recipients still get the message;
#  9. a source route with no mailbox (<@a:>) is no null sender: 501 5.1.7,
#     as are bad routes and address literals; a valid route is stripped;
#     sendmail -f '@a:' exits 64 with one line.
. "$(dirname "$0")/lib.sh"
PROBE="/usr/bin/python3 $RELAY_SRC/tests/smtp_probe.py"
LPORT=$(free_port)
cat >> "$CONF" <<CONF
listen = 127.0.0.1:$LPORT
log = $T/relayd.log
retry_min = 1s
retry_max = 2s
CONF
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
fs= relayd=
trap 'kill $fs $relayd 2>/dev/null; rm -rf "$T"' EXIT

# 4a. relayctl bounce, before any runner: no notice for NOTIFY=NEVER or
#     NOTIFY=SUCCESS; one for NOTIFY=FAILURE (the check that it can fail).
bounce_with() {  # -N VALUE, RECIPIENT -> prints how many entries the bounce left queued
  clear_queue
  printf 'Subject: n\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i -N "$1" -f dave@x.test "$2"
  id=$(last_entry)
  "$BIN/relayctl" -C "$CONF" bounce "$id" > "$T/bounce.out" 2>&1
  queue_count
}
[ "$(bounce_with never erin@x.test)" = 0 ] && ok "-N never + relayctl bounce: no bounce queued to dave" ||
  bad "-N never + relayctl bounce: $(queue_count) queued: $(grep -h '^rcpt' "$T"/spool/queue/* 2>/dev/null)"
contains "$T/bounce.out" "1 recipient bounced; entry removed" "-N never: the recipient is still returned (entry removed)"
contains "$T/relayd.log" "to=<erin@x.test>: no failure notice sent to <dave@x.test> (NOTIFY=NEVER)" \
  "-N never: the log names the recipient and says no notice was sent"
[ "$(bounce_with success sam@x.test)" = 0 ] && ok "-N success (no FAILURE) + relayctl bounce: no bounce" ||
  bad "-N success + relayctl bounce: $(queue_count) queued"
[ "$(bounce_with failure fay@x.test)" = 1 ] && ok "-N failure + relayctl bounce: one bounce" ||
  bad "-N failure + relayctl bounce: $(queue_count) queued"
grep -qx "rcpt dave@x.test" "$T/spool/queue/$(last_entry)" && ok "-N failure: the bounce goes to dave" ||
  bad "-N failure: bounce recipients $(grep '^rcpt' "$T/spool/queue/$(last_entry)")"
clear_queue

# The smarthost: DSN offered; two addresses fail for good.
# (Started here rather than with fault_smarthost, for a bound that covers
# this whole test.)
/usr/bin/python3 "$RELAY_SRC/tests/fault_server.py" --port 0 --ready-file "$T/fs.ready" --log "$T/fs.log" \
  --max-seconds 900 --script-inline '{"default": {"ehlo": {"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"]},
  "rcpt": {"addresses": {"fail-never@x.test": "550 5.1.1 no such user", "fail-notify@x.test": "550 5.1.1 no such user"}}}}' &
fs=$!
wait_for 10 test -s "$T/fs.ready" || { bad "fault server did not start"; finish; }
echo "smarthost = 127.0.0.1:$(cat "$T/fs.ready") none" >> "$CONF"
"$BIN/relayd" -C "$CONF" &
relayd=$!
wait_for 10 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$LPORT),1)" || bad "listener not up"

# door bs|listener SEGMENT...: the segments through that door.
door() {
  d=$1; shift
  case $d in
    bs) $PROBE pipe -- "$@" -- "$BIN/sendmail" -C "$CONF" -bs ;;
    listener) $PROBE tcp 127.0.0.1 "$LPORT" -- "$@" ;;
  esac
}
# Messages the smarthost got with this X-Token, and with this envelope sender.
got_token() { n=$(grep '"event": "message"' "$T/fs.log" | grep -c "X-Token: $1\\\\r"); echo "${n:-0}"; }
# Messages carrying this text whose sender is not a@x.test: a smuggled
# transaction (the text itself is in the one real message's body).
got_other_sender() { n=$(grep '"event": "message"' "$T/fs.log" | grep "$1" | grep -vc '"mail_from": "a@x.test"'); echo "${n:-0}"; }
got_sender() { n=$(grep '"event": "message"' "$T/fs.log" | grep -c "\"mail_from\": \"$1\""); echo "${n:-0}"; }

# 1. Smuggling: each variant on each door. The "transaction" behind the
#    dot has its own X-Token, MAIL FROM:<evil@x.test> and RCPT
#    TO:<victim@x.test>: none of them may become a message.
H='EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n'
smuggle() {  # DOOR VARIANT
  tok="$1-$2"
  head="${H}X-Token: $tok\\r\\n\\r\\nline"
  rest="MAIL FROM:<evil@x.test>\\r\\nRCPT TO:<victim@x.test>\\r\\nDATA\\r\\nX-Token: evil-$tok\\r\\n\\r\\nsmuggled\\r\\n.\\r\\nQUIT\\r\\n"
  case $2 in
    lf-dot-lf) set -- "$1" "$head\\n.\\n$rest" ;;
    lf-dot-crlf) set -- "$1" "$head\\n.\\r\\n$rest" ;;
    cr-dot-crlf) set -- "$1" "$head\\r.\\r\\n$rest" ;;
    crlf-dot-lf) set -- "$1" "$head\\r\\n.\\n$rest" ;;
    crlf-dot-cr) set -- "$1" "$head\\r\\n.\\r$rest" ;;
    split-lf-dot-crlf) set -- "$1" "$head\\n" "." "\\r\\n$rest" ;;    # one segment per piece
    split-crlf-dot-lf) set -- "$1" "$head\\r" "\\n." "\\n$rest" ;;
    split-crlf-dot-cr) set -- "$1" "$head\\r\\n" "." "\\r" "$rest" ;;
    split-real) set -- "$1" "$head\\r" "\\n" "." "\\r" "\\nQUIT\\r\\n" ;;  # the real end, in pieces
  esac
  door "$@" > "$T/smuggle-$tok.out" 2>&1
  contains "$T/smuggle-$tok.out" "summary: queued=1 mail_ok=1" "$tok: one message, one MAIL transaction"
}
VARIANTS="lf-dot-lf lf-dot-crlf cr-dot-crlf crlf-dot-lf crlf-dot-cr split-lf-dot-crlf split-crlf-dot-lf split-crlf-dot-cr split-real"
for d in bs listener; do
  for v in $VARIANTS; do smuggle $d $v; done
done
for d in bs listener; do
  for v in $VARIANTS; do
    wait_for 30 sh -c "grep -q 'X-Token: $d-$v' '$T/fs.log'" || true
    [ "$(got_token "$d-$v")" = 1 ] && ok "$d-$v: delivered once" || bad "$d-$v: delivered $(got_token "$d-$v") times"
    [ "$(got_other_sender "X-Token: evil-$d-$v")" = 0 ] && ok "$d-$v: no smuggled message" ||
      bad "$d-$v: the smuggled message was delivered"
  done
done
[ "$(got_sender evil@x.test)" = 0 ] && ok "no message from the smuggled sender reached the smarthost" ||
  bad "$(got_sender evil@x.test) messages from evil@x.test reached the smarthost"
grep '"verb": "RCPT"' "$T/fs.log" > "$T/rcpts.log"
lacks "$T/rcpts.log" "victim@x.test" "the smuggled recipient was never a RCPT"

# 2. Bad addresses at their command, on both doors.
for d in bs listener; do
  door $d "EHLO c\\r\\nMAIL FROM:<foo bar>\\r\\nMAIL FROM:<Subject: foo>\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<good1-$d@x.test>\\r\\n" \
    "RCPT TO:<bad\\\\\"addr>\\r\\nRCPT TO:<two words@x.test>\\r\\nRCPT TO:<unbalanced\"q@x.test>\\r\\nRCPT TO:<good2-$d@x.test>\\r\\n" \
    "DATA\\r\\nX-Token: bad-$d\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/bad-$d.out" 2>&1
  o=$T/bad-$d.out
  contains "$o" "501 5.1.7 bad sender address <foo bar>: white space outside a quoted string" "$d: MAIL FROM:<foo bar> refused, reason named"
  contains "$o" "501 5.1.7 bad sender address <Subject: foo>: ':' outside a quoted string" "$d: MAIL FROM:<Subject: foo> refused"
  contains "$o" "501 5.1.3 bad recipient address <bad\\\"addr>: a backslash outside a quoted string" "$d: RCPT <bad\\\"addr> refused"
  contains "$o" "501 5.1.3 bad recipient address <two words@x.test>: white space outside a quoted string" "$d: RCPT <two words@x.test> refused"
  contains "$o" "501 5.1.3 bad recipient address <unbalanced\"q@x.test>: an unbalanced quote" "$d: RCPT <unbalanced\"q@x.test> refused"
  contains "$o" "summary: queued=1 mail_ok=1" "$d: the transaction goes on: one message"
  lacks "$o" "554 5.6.0" "$d: no failure at DATA"
done
for d in bs listener; do
  wait_for 30 sh -c "grep -q 'X-Token: bad-$d' '$T/fs.log'" || true
  for r in good1 good2; do
    contains "$T/fs.log" "RCPT TO:<$r-$d@x.test>" "$d: $r got the message"
  done
done
lacks "$T/fs.log" "foo@" "MAIL FROM:<Subject: foo> never became foo@<domain>"

# 3. Per-recipient DSN: each RCPT's NOTIFY (and ORCPT) reaches the
#    smarthost with its recipient; -N fills in only where RCPT gave none.
for d in bs listener; do
  door $d "EHLO c\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<never-$d@x.test> NOTIFY=NEVER\\r\\n" \
    "RCPT TO:<both-$d@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig-$d@x.test\\r\\nRCPT TO:<plain-$d@x.test>\\r\\n" \
    "DATA\\r\\nX-Token: dsn-$d\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/dsn-$d.out" 2>&1
  contains "$T/dsn-$d.out" "summary: queued=1 mail_ok=1" "$d: DSN message taken"
done
$PROBE pipe -- "EHLO c\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<own-bsN@x.test> NOTIFY=SUCCESS\\r\\nRCPT TO:<none-bsN@x.test>\\r\\n" \
  "DATA\\r\\nX-Token: dsn-bsN\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" -- "$BIN/sendmail" -C "$CONF" -bs -N delay > "$T/dsn-bsN.out"
printf 'Subject: n\nX-Token: dsn-argv\n\nbody\n' | "$BIN/sendmail" -C "$CONF" -i -N success,failure one-argv@x.test two-argv@x.test
for t in dsn-bs dsn-listener dsn-bsN dsn-argv; do wait_for 30 sh -c "grep -q 'X-Token: $t' '$T/fs.log'" || true; done
for d in bs listener; do
  contains "$T/fs.log" "\"RCPT TO:<never-$d@x.test> NOTIFY=NEVER\"" "$d: NOTIFY=NEVER stays with its recipient"
  contains "$T/fs.log" "\"RCPT TO:<both-$d@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig-$d@x.test\"" \
    "$d: the next RCPT's NOTIFY=SUCCESS,FAILURE and ORCPT stay with it"
  contains "$T/fs.log" "\"RCPT TO:<plain-$d@x.test>\"" "$d: a RCPT without NOTIFY passes none on"
done
contains "$T/fs.log" "\"RCPT TO:<own-bsN@x.test> NOTIFY=SUCCESS\"" "-bs -N delay: RCPT's own NOTIFY wins for it"
contains "$T/fs.log" "\"RCPT TO:<none-bsN@x.test> NOTIFY=DELAY\"" "-bs -N delay: applies where RCPT gave none"
contains "$T/fs.log" "\"RCPT TO:<one-argv@x.test> NOTIFY=SUCCESS,FAILURE\"" "sendmail -N: sets the first recipient's"
contains "$T/fs.log" "\"RCPT TO:<two-argv@x.test> NOTIFY=SUCCESS,FAILURE\"" "sendmail -N: and every other's"

# 4b. A 5xx at delivery: no bounce for the NOTIFY=NEVER recipient, one for
#     the NOTIFY=FAILURE recipient of the same message.
door bs "EHLO c\\r\\nMAIL FROM:<dsn-sender@x.test>\\r\\nRCPT TO:<fail-never@x.test> NOTIFY=NEVER\\r\\n" \
  "RCPT TO:<fail-notify@x.test> NOTIFY=FAILURE\\r\\nDATA\\r\\nX-Token: fail5xx\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/fail.out" 2>&1
contains "$T/fail.out" "summary: queued=1 mail_ok=1" "5xx case: message taken"
bounces() { n=$(grep '"event": "message"' "$T/fs.log" | grep '"mail_from": ""' | grep -c '"rcpts": \["dsn-sender@x.test"\]'); echo "${n:-0}"; }
wait_for 30 sh -c "grep -q 'no failure notice sent' '$T/relayd.log' && grep '\"mail_from\": \"\"' '$T/fs.log' | grep -q dsn-sender" ||
  bad "5xx case: no bounce and no log line in time"
wait_for 10 sh -c "! ls '$T/spool/queue' | grep -q ." || true
[ "$(bounces)" = 1 ] && ok "5xx: exactly one bounce to the sender" || bad "5xx: $(bounces) bounces to the sender"
grep '"mail_from": ""' "$T/fs.log" | grep dsn-sender > "$T/bounce.json"
contains "$T/bounce.json" "Final-Recipient: rfc822; fail-notify@x.test" "5xx: the bounce names the NOTIFY=FAILURE recipient"
lacks "$T/bounce.json" "Final-Recipient: rfc822; fail-never@x.test" "5xx: and not the NOTIFY=NEVER one"
contains "$T/relayd.log" "to=<fail-never@x.test>: no failure notice sent to <dsn-sender@x.test> (NOTIFY=NEVER)" \
  "5xx: the log says no notice was sent for fail-never"

# 5. EHLO forgeries on the listener: left out of Received, logged.
ehlo() {  # TOKEN EHLO-ARGUMENT
  door listener "EHLO $2\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<b@x.test>\\r\\nDATA\\r\\nX-Token: $1\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/$1.out" 2>&1
  wait_for 30 sh -c "grep -q 'X-Token: $1' '$T/fs.log'" || true
  grep '"event": "message"' "$T/fs.log" | grep "X-Token: $1" > "$T/$1.json"
}
ehlo ehlo-forged "trusted.example.com (localhost [127.0.0.1] uid 0)"
contains "$T/ehlo-forged.json" "Received: from unknown (localhost [127.0.0.1]" "forged EHLO: Received says unknown"
lacks "$T/ehlo-forged.json" "trusted.example.com" "forged EHLO: the fake name is not in the message"
contains "$T/relayd.log" "HELO/EHLO argument 'trusted.example.com (localhost [127.0.0.1] uid 0)' is not a domain or address literal; left out of the Received header" \
  "forged EHLO: logged"
k=0  # (not n: wait_for uses n)
for f in "x.example (evil.example [10.0.0.1])" "[127.0.0.1] (forged)" "a.example)" "evil_host.example" "host.example."; do
  k=$((k + 1))
  ehlo ehlo-other$k "$f"
  contains "$T/ehlo-other$k.json" "Received: from unknown (localhost [127.0.0.1]" "EHLO '$f': left out"
done
ehlo ehlo-good "mail.example.com"
contains "$T/ehlo-good.json" "Received: from mail.example.com (localhost [127.0.0.1]" "a valid EHLO name stays in Received"
ehlo ehlo-literal "[127.0.0.1]"
contains "$T/ehlo-literal.json" "Received: from [127.0.0.1] (localhost [127.0.0.1]" "an address literal stays in Received"
# sendmail -bs names no HELO in Received at all (the submitter's uid instead).
$PROBE pipe -- "EHLO trusted.example.com (localhost [127.0.0.1] uid 0)\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<b@x.test>\\r\\n" \
  "DATA\\r\\nX-Token: ehlo-bs\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" -- "$BIN/sendmail" -C "$CONF" -bs > "$T/ehlo-bs.out"
wait_for 30 sh -c "grep -q 'X-Token: ehlo-bs' '$T/fs.log'" || true
grep '"event": "message"' "$T/fs.log" | grep "X-Token: ehlo-bs" > "$T/ehlo-bs.json"
lacks "$T/ehlo-bs.json" "trusted.example.com" "-bs: the EHLO text is not in the message"
contains "$T/ehlo-bs.json" "(relay, from userid $(id -u))" "-bs: Received names the submitter"
# 6. A refused DATA with the message pipelined behind it (RFC 2920 3.1:
#    the client must wait for the reply): the message text is not read as
#    commands, so the "transaction" in it never happens.
for d in bs listener; do
  door $d "EHLO app\\r\\nMAIL FROM:<www@example.com>\\r\\nRCPT TO:<two words@x.test>\\r\\nDATA\\r\\nSubject: form\\r\\n\\r\\nRSET\\r\\nMAIL FROM:<ceo-$d@example.com>\\r\\nRCPT TO:<victim-$d@x.test>\\r\\nDATA\\r\\nX-Token: wire-$d\\r\\n\\r\\nsmuggled\\r\\n.\\r\\n.\\r\\nQUIT\\r\\n" > "$T/pipe-$d.out" 2>&1
  o=$T/pipe-$d.out
  contains "$o" "554 5.5.1 no valid recipients" "$d: DATA without a valid recipient refused"
  contains "$o" "421 4.5.0 " "$d: input behind a refused DATA ends the session with a 421"
  contains "$o" "improper pipelining after a refused DATA; closing" "$d: the 421 names the reason"
  contains "$o" "summary: queued=0 mail_ok=1" "$d: the MAIL in the message text was never a command"
  # A client that waits for the reply to DATA (its next bytes are a read of
  # their own) starts again from MAIL: no "503 nested MAIL".
  door $d "EHLO app\\r\\nMAIL FROM:<www@example.com>\\r\\nRCPT TO:<two words@x.test>\\r\\nDATA\\r\\n" \
    "MAIL FROM:<a@x.test>\\r\\nRCPT TO:<waited-$d@x.test>\\r\\nDATA\\r\\n" \
    "X-Token: waited-$d\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/waited-$d.out" 2>&1
  o=$T/waited-$d.out
  contains "$o" "summary: queued=1 mail_ok=2" "$d: waiting after a refused DATA: the next transaction works"
  lacks "$o" "nested MAIL" "$d: the refused DATA ended the transaction"
  lacks "$o" "421 " "$d: a client that waits is not cut off"
done

# 7. A line of 131065 "A"s whose CR ends the second 64 KiB read of -bs
#    and whose LF begins the third, then the end of data.
/usr/bin/python3 -c '
import sys
head = b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<big@x.test>\r\nDATA\r\nX-Token: big\r\n\r\n"
sys.stdout.buffer.write(head + b"A" * (131071 - len(head)) + b"\r\n.\r\nQUIT\r\n")' |
  "$BIN/sendmail" -C "$CONF" -bs > "$T/big.out" 2>&1
contains "$T/big.out" "250 2.0.0 Ok: queued as" "a line over 64 KiB, CR and LF in different reads: the end of data is seen"
contains "$T/big.out" "221 2.0.0 Bye" "and QUIT behind it is a command"

# 8. Unqualified addresses that fit until "@example.com" is added.
U309=$(printf '%309s' '' | tr ' ' u)
for d in bs listener; do
  door $d "EHLO c\\r\\nMAIL FROM:<$U309>\\r\\nMAIL FROM:<a@x.test>\\r\\nRCPT TO:<long1-$d@x.test>\\r\\nRCPT TO:<$U309>\\r\\n" \
    "RCPT TO:<long2-$d@x.test>\\r\\nDATA\\r\\nX-Token: long-$d\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/long-$d.out" 2>&1
  o=$T/long-$d.out
  why=": address longer than 320 characters once qualified as ...@example.com"
  contains "$o" "501 5.1.7 bad sender address <$(printf '%100s' '' | tr ' ' u)>$why" "$d: MAIL of 309 octets, 321 qualified: 501 5.1.7"
  contains "$o" "501 5.1.3 bad recipient address <$(printf '%100s' '' | tr ' ' u)>$why" "$d: RCPT of 309 octets, 321 qualified: 501 5.1.3"
  contains "$o" "summary: queued=1 mail_ok=1" "$d: the other recipients keep the message"
  lacks "$o" "554 5.6.0" "$d: no failure at the final dot"
done
for d in bs listener; do
  wait_for 30 sh -c "grep -q 'X-Token: long-$d' '$T/fs.log'" || true
  for r in long1 long2; do contains "$T/fs.log" "RCPT TO:<$r-$d@x.test>" "$d: $r got the message"; done
done

# 9. Source routes and address literals, on both doors.
for d in bs listener; do
  door $d "EHLO c\\r\\nMAIL FROM:<@a:>\\r\\nMAIL FROM:<@a.example,@b.example:>\\r\\nMAIL FROM:<@:a@b>\\r\\n" \
    "MAIL FROM:<@a,@:x@y>\\r\\nMAIL FROM:<@@a:x@y>\\r\\nMAIL FROM:<@[bad:x@y>\\r\\nMAIL FROM:<x@[1.2.3]>\\r\\n" \
    "MAIL FROM:<@a.example,@b.example:route-$d@y.example>\\r\\nRCPT TO:<@a:>\\r\\nRCPT TO:<x@[300.1.1.1]>\\r\\n" \
    "RCPT TO:<x@[IPv6:zz]>\\r\\nRCPT TO:<x@[1.2.3.4>\\r\\nRCPT TO:<@r.example:routed-$d@x.test>\\r\\n" \
    "RCPT TO:<v4-$d@[192.0.2.1]>\\r\\nRCPT TO:<v6-$d@[IPv6:2001:db8::1]>\\r\\n" \
    "DATA\\r\\nX-Token: route-$d\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n" > "$T/route-$d.out" 2>&1
  o=$T/route-$d.out
  contains "$o" "501 5.1.7 bad sender address <@a:>: a source route with no mailbox" "$d: MAIL FROM:<@a:> refused, not <>"
  contains "$o" "501 5.1.7 bad sender address <@a.example,@b.example:>: a source route with no mailbox" "$d: a longer route with no mailbox refused"
  contains "$o" "501 5.1.7 bad sender address <@:a@b>: an empty domain in the source route" "$d: <@:a@b> refused"
  contains "$o" "501 5.1.7 bad sender address <@a,@:x@y>: an empty domain in the source route" "$d: <@a,@:x@y> refused"
  contains "$o" "501 5.1.7 bad sender address <@@a:x@y>: a bad domain \"@a\" in the source route" "$d: <@@a:x@y> refused"
  contains "$o" "501 5.1.7 bad sender address <@[bad:x@y>: an unterminated domain literal in the source route" "$d: <@[bad:x@y> refused"
  contains "$o" "501 5.1.7 bad sender address <x@[1.2.3]>: a bad address literal \"[1.2.3]\"" "$d: <x@[1.2.3]> refused"
  contains "$o" "501 5.1.3 bad recipient address <@a:>: a source route with no mailbox" "$d: RCPT TO:<@a:> refused"
  contains "$o" "501 5.1.3 bad recipient address <x@[300.1.1.1]>: a bad address literal" "$d: <x@[300.1.1.1]> refused"
  contains "$o" "501 5.1.3 bad recipient address <x@[IPv6:zz]>: a bad address literal" "$d: <x@[IPv6:zz]> refused"
  contains "$o" "501 5.1.3 bad recipient address <x@[1.2.3.4>: an unterminated domain literal" "$d: <x@[1.2.3.4> refused"
  contains "$o" "summary: queued=1 mail_ok=1" "$d: the routed sender and the good recipients give one message"
done
for d in bs listener; do
  wait_for 30 sh -c "grep -q 'X-Token: route-$d' '$T/fs.log'" || true
  grep '"event": "message"' "$T/fs.log" | grep "X-Token: route-$d" > "$T/route-$d.json"
  contains "$T/route-$d.json" "\"mail_from\": \"route-$d@y.example\"" "$d: the route is stripped from the sender"
  contains "$T/fs.log" "RCPT TO:<routed-$d@x.test>" "$d: and from a recipient"
  contains "$T/fs.log" "RCPT TO:<v4-$d@[192.0.2.1]>" "$d: an IPv4 literal is kept"
  contains "$T/fs.log" "RCPT TO:<v6-$d@[IPv6:2001:db8::1]>" "$d: an IPv6 literal is kept"
done
n=$(grep '"event": "message"' "$T/fs.log" | grep 'X-Token: route-' | grep -c '"mail_from": ""')
[ "${n:-0}" = 0 ] && ok "no null-sender message from <@a:>" || bad "$n null-sender messages from <@a:>"
for f in '@a:' '<@a:>' '<@:a@b>' 'x@[1.2.3]'; do
  printf 'Subject: r\n\nbody\n' > "$T/in"
  expect_exit 64 "sendmail -f '$f'" -- "$BIN/sendmail" -C "$CONF" -f "$f" r@x.test
  [ "$(wc -l < "$T/err")" = 1 ] && ok "sendmail -f '$f': one line: $(cat "$T/err")" || bad "sendmail -f '$f': stderr $(cat "$T/err")"
done
contains "$T/err" "a bad address literal" "sendmail -f 'x@[1.2.3]': names the literal"
printf 'Subject: r\n\nbody\n' > "$T/in"
expect_exit 64 "sendmail -f '@a:'" -- "$BIN/sendmail" -C "$CONF" -f '@a:' r@x.test
contains "$T/err" "a source route with no mailbox" "sendmail -f '@a:': names the problem"
rm -f "$T/in"
finish
