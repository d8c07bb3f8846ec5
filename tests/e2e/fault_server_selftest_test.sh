#!/bin/sh
# Self-test of tests/fault_server.py: a script per connection, driven by
# python's smtplib and raw sockets; the JSON-lines log checked afterwards.
PY=/usr/bin/python3
if [ ! -x $PY ] || ! command -v openssl > /dev/null 2>&1; then
  echo "skip: needs $PY and openssl"
  exit 77
fi
E2E=$(cd "$(dirname "$0")" && pwd)
FS=$(dirname "$E2E")/fault_server.py
. "$E2E/lib.sh"
FS_PID=""
trap ': > "$T/stop"; [ -n "$FS_PID" ] && { kill "$FS_PID" 2> /dev/null; wait "$FS_PID"; }; rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A self-signed certificate for localhost, which the client takes as its CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$T/key.pem" -out "$T/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 > /dev/null 2>&1 || bad "openssl req"

cat > "$T/script.json" <<'EOF'
{"default": {"ehlo": {"capabilities": ["PIPELINING", "SIZE 1000", "8BITMIME", "STARTTLS",
                                       "AUTH PLAIN LOGIN", "DSN", "ENHANCEDSTATUSCODES", "SMTPUTF8"]},
             "rcpt": {"addresses": {"bad@x.test": "550 5.1.1 <bad@x.test>: no such user"}}},
 "connections": {
   "2": {"greeting": {"action": "stall", "seconds": 30}},
   "3": {"starttls": {"inject_after_220": "250-injected\r\n"}},
   "4": {"mail": {"sequence": ["451 4.3.0 try again", "250 2.1.0 Ok"]}},
   "5": {"mail": {"reply": "250 2.1.0 Ok", "action": "drop"}},
   "6": {"rcpt": {"action": "reset"}},
   "7": {"ehlo": {"action": "endless"}},
   "8": {"helo": {"action": "long_line", "length": 5000}},
   "9": {"helo": {"action": "nul", "reply": "250 fault.test"}},
   "10": {"greeting": {"action": "garbage", "hex": "00ff0d0a"}},
   "11": {"end_of_data": {"delay": 1, "reply": "452 4.3.1 full"}},
   "13": {"ehlo": {"capabilities": ["CHUNKING", "PIPELINING"]}}
 }}
EOF
$PY "$FS" --port 0 --script "$T/script.json" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
  --log "$T/log.jsonl" --max-seconds 120 --stop-file "$T/stop" --ready-file "$T/ready" \
  > "$T/fs.out" 2>&1 &
FS_PID=$!
i=0
while [ ! -s "$T/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$T/ready" 2> /dev/null)
if [ -z "$PORT" ]; then
  bad "fault_server did not start: $(cat "$T/fs.out")"
  finish
fi
ok "fault_server listens on 127.0.0.1:$PORT"

# client CASE: the python client below, output in $T/c.out
client() {
  $PY - "$PORT" "$T/cert.pem" "$1" > "$T/c.out" 2>&1 <<'EOF'
import smtplib, socket, ssl, sys, time
port, ca, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def raw():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def read_reply(f):
    out = []
    while True:
        l = f.readline()
        if not l:
            break
        out.append(l)
        if l[3:4] != b"-":
            break
    return b"".join(out)

if case == "deliver":
    ctx = ssl.create_default_context(cafile=ca)
    s = smtplib.SMTP("localhost", port, local_hostname="client.test", timeout=10)
    s.ehlo("client.test")
    print("caps", sorted(s.esmtp_features))
    s.starttls(context=ctx)
    s.ehlo("client.test")
    print("caps-tls", sorted(s.esmtp_features))
    s.login("user", "secret")
    msg = "Subject: fault one\r\n\r\n.leading dot\r\nbody\r\n"
    refused = s.sendmail("alice@a.test", ["bob@b.test", "bad@x.test"], msg)
    print("refused", refused)
    s.quit()
elif case == "stall":
    t = time.monotonic()
    try:
        smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=2)
        print("connected?!")
    except (socket.timeout, smtplib.SMTPServerDisconnected) as e:
        print("timeout after %.1f s: %s" % (time.monotonic() - t, e))
elif case == "inject":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO client.test\r\n")
    read_reply(f)
    s.sendall(b"STARTTLS\r\n")
    time.sleep(0.3)
    data = s.recv(4096)      # the raw stream, not parsed as replies
    print("raw", repr(data))
    s.close()
elif case == "sequence":
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10)
    s.ehlo("client.test")
    print("mail1", s.mail("a@a.test"))
    print("mail2", s.mail("a@a.test"))
    print("rcpt", s.rcpt("b@b.test"))
    s.quit()
elif case == "drop":
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10)
    s.ehlo("client.test")
    print("mail", s.mail("a@a.test"))
    try:
        print("rcpt", s.rcpt("b@b.test"))
    except smtplib.SMTPServerDisconnected as e:
        print("disconnected:", e)
elif case == "reset":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"HELO c\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\n")
    try:
        while True:
            d = s.recv(4096)
            if not d:
                print("eof")
                break
    except ConnectionResetError as e:
        print("reset:", e)
elif case == "endless":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO c\r\n")
    n = lines = 0
    while n < 2000000:
        l = f.readline()
        if not l:
            break
        n += len(l)
        lines += 1
        if not l.startswith(b"250-"):
            print("final line?", l)
            break
    print("read %d bytes, %d lines, all 250-" % (n, lines) if n >= 2000000 else "short %d" % n)
    s.close()
elif case == "long_line":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"HELO c\r\n")
    l = f.readline()
    print("line of %d bytes, starts %r" % (len(l), l[:6]))
    s.sendall(b"NOOP\r\n")
    print("then", f.readline())
    s.close()
elif case == "nul":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"HELO c\r\n")
    print("line", repr(f.readline()))
    s.close()
elif case == "garbage":
    s = raw()
    print("first", repr(s.recv(100)))
    s.close()
elif case == "pipelined_starttls":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO c\r\n")
    read_reply(f)
    s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n")
    print("reply", read_reply(f))
    s.close()
elif case == "bdat":
    s = raw()
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO c\r\n")
    print("ehlo", read_reply(f))
    s.sendall(b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 7\r\nSubj: x")
    for _ in range(3):
        print("reply", read_reply(f))
    s.sendall(b"BDAT 5 LAST\r\n\r\n\r\nx")
    print("last", read_reply(f))
    s.sendall(b"QUIT\r\n")
    print("quit", read_reply(f))
    s.close()
elif case == "eod_delay":
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10)
    s.ehlo("client.test")
    t = time.monotonic()
    try:
        s.sendmail("a@a.test", ["b@b.test"], "Subject: x\r\n\r\nx\r\n")
    except smtplib.SMTPDataError as e:
        print("data error %d after %.1f s" % (e.smtp_code, time.monotonic() - t))
    s.quit()
EOF
}

# q EXPR: a python expression over R, the log's records.
q() {
  $PY -c 'import json,sys; R=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))' "$T/log.jsonl" "$1"
}
# is EXPR WANT DESCRIPTION
is() {
  got=$(q "$1" 2>&1)
  if [ "$got" = "$2" ]; then ok "$3"; else bad "$3: got '$got', want '$2'"; fi
}

# 1: normal delivery with STARTTLS, AUTH, one RCPT refused with 550.
client deliver
contains "$T/c.out" "'starttls'" "EHLO advertises STARTTLS"
contains "$T/c.out" "caps-tls ['8bitmime', 'auth', 'dsn', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8']" "no STARTTLS after TLS"
contains "$T/c.out" "refused {'bad@x.test': (550, b'5.1.1 <bad@x.test>: no such user')}" "550 on one RCPT"
is "[r['version'] for r in R if r['event']=='tls' and r['conn']==1]" "['TLSv1.3']" "TLS recorded"
is "[(r['mechanism'], r['tls'], r['decoded']) for r in R if r['event']=='auth']" \
   "[('PLAIN', True, ['\\x00user\\x00secret'])]" "AUTH recorded, after TLS"
is "sum(1 for r in R if r['event']=='command' and r['verb']=='AUTH' and not r['tls'])" 0 "no AUTH before TLS"
is "sum(1 for r in R if r['event']=='command' and r['verb']=='MAIL' and r['conn']==1)" 1 "one MAIL FROM on conn 1"
is "[(m['mail_from'], m['rcpts'], m['rcpts_refused'], m['tls']) for m in R if m['event']=='message' and m['conn']==1]" \
   "[('alice@a.test', ['bob@b.test'], ['bad@x.test'], True)]" "envelope recorded"
is "[(m['data'], m['data_bytes'], m['wire_bytes']) for m in R if m['event']=='message' and m['conn']==1]" \
   "[('Subject: fault one\\r\\n\\r\\n.leading dot\\r\\nbody\\r\\n', 42, 46)]" "data dot-unstuffed, byte counts"

# 2: a stalled greeting: the client times out.
client stall
contains "$T/c.out" "timeout after 2." "client timed out on a stalled greeting"
is "[(r['stage'], r['action']) for r in R if r['event']=='action' and r['conn']==2]" "[('greeting', 'stall')]" "stall logged"

# 3: inject_after_220, seen in the raw stream in the same read as the 220.
client inject
contains "$T/c.out" "raw b'220 2.0.0 Ready to start TLS\\r\\n250-injected\\r\\n'" "inject_after_220 in the raw stream"
is "[r['ok'] for r in R if r['event']=='tls' and r['conn']==3]" "[False]" "no TLS after the client gave up"

# 4: per-occurrence replies.
client sequence
contains "$T/c.out" "mail1 (451, b'4.3.0 try again')" "first MAIL 451"
contains "$T/c.out" "mail2 (250" "second MAIL 250"
contains "$T/c.out" "rcpt (250" "RCPT after the second MAIL"
is "sum(1 for r in R if r['event']=='command' and r['verb']=='MAIL' and r['conn']==4)" 2 "two MAIL FROM on conn 4"

# 5-10: drop, reset, endless, long_line, nul, garbage.
client drop
contains "$T/c.out" "disconnected:" "drop after MAIL reply"
is "[r['reason'] for r in R if r['event']=='disconnect' and r['conn']==5]" "['drop']" "drop logged"
client reset
contains "$T/c.out" "reset:" "RST at RCPT"
client endless
contains "$T/c.out" "all 250-" "endless 250- reply"
# The server logs the event once its next write fails, after the client left.
wait_for 20 grep -q '"event": "endless"' "$T/log.jsonl"
is "[r['bytes_sent'] >= 2000000 for r in R if r['event']=='endless' and r['conn']==7]" "[True]" "endless bytes logged"
client long_line
contains "$T/c.out" "line of 5000 bytes, starts b'250 xx'" "long_line of 5000 bytes"
contains "$T/c.out" "then b'250 2.0.0 Ok" "session goes on after long_line"
client nul
contains "$T/c.out" "line b'250 \\x00fault.test\\r\\n'" "NUL in the reply"
client garbage
contains "$T/c.out" "first b'\\x00\\xff\\r\\n'" "garbage greeting"

# 11: a slow, failing end of data.
client eod_delay
contains "$T/c.out" "data error 452 after 1." "end_of_data delay and 452"
is "[m['reply'] for m in R if m['event']=='message' and m['conn']==11]" "['452 4.3.1 full']" "message logged with its reply"

# 12: the client pipelines a command after STARTTLS (in plain text).
client pipelined_starttls
contains "$T/c.out" "reply b'220 2.0.0 Ready to start TLS" "220 to STARTTLS"
is "[(r['bytes'], r['data']) for r in R if r['event']=='plaintext_after_starttls' and r['conn']==12]" \
   "[(25, 'MAIL FROM:<evil@x.test>\\r\\n')]" "plaintext after STARTTLS logged"

# 13: BDAT.
client bdat
contains "$T/c.out" "ehlo b'250-fault.test\\r\\n250-CHUNKING\\r\\n250 PIPELINING" "script's capabilities"
contains "$T/c.out" "reply b'250 2.0.0 Ok: 7 octets" "BDAT chunk"
contains "$T/c.out" "last b'250 2.0.0 Ok: queued as C13M1" "BDAT LAST"
is "[(m['via'], m['data'], m['data_bytes']) for m in R if m['event']=='message' and m['conn']==13]" \
   "[('BDAT', 'Subj: x\\r\\n\\r\\nx', 12)]" "BDAT message logged"

# The stop file ends the server, which logs it.
: > "$T/stop"
i=0
while kill -0 "$FS_PID" 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$FS_PID" 2> /dev/null && bad "fault_server still running after the stop file" || ok "stop file ends it"
wait "$FS_PID"
FS_PID=""
is "[(r['reason'], r['connections']) for r in R if r['event']=='stopped']" "[('stop-file', 13)]" "stopped record"

# --max-seconds ends it too.
$PY "$FS" --port 0 --script-inline '{}' --log "$T/log2.jsonl" --max-seconds 1 > /dev/null 2>&1 &
p2=$!
i=0
while kill -0 $p2 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $p2 2> /dev/null && { bad "--max-seconds 1 did not end it"; kill $p2; } || ok "--max-seconds ends it"
wait $p2
contains "$T/log2.jsonl" '"reason": "max-seconds"' "max-seconds logged"

# enforce_size: SIZE= over the advertised limit, and more data than
# declared, are refused with 552; a true declaration passes.
$PY "$FS" --port 0 --script-inline '{"enforce_size": true, "ehlo": {"capabilities": ["SIZE 100"]}}' \
  --log "$T/log3.jsonl" --max-seconds 30 --ready-file "$T/ready3" > /dev/null 2>&1 &
p3=$!
wait_for 10 test -s "$T/ready3" || bad "enforce_size: fault_server did not start"
$PY - "$(cat "$T/ready3")" > "$T/c3.out" 2>&1 <<'EOF'
import smtplib, sys
c = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
c.ehlo("client.test")
print("over", c.docmd("MAIL FROM:<a@x.test> SIZE=101"))
for declared, body in ((12, b"x" * 11), (13, b"x" * 11)):  # 13 bytes with the CRLF
    print("mail", c.docmd("MAIL FROM:<a@x.test> SIZE=%d" % declared))
    c.docmd("RCPT TO:<b@y.test>")
    c.docmd("DATA")
    c.send(body + b"\r\n.\r\n")
    print("declared", declared, c.getreply())
c.quit()
EOF
contains "$T/c3.out" "over (552, b'5.3.4 Error: message file too big')" "enforce_size: SIZE= over the limit refused"
contains "$T/c3.out" "declared 12 (552, b'5.3.4 Error: message larger than its declared SIZE')" "enforce_size: more than declared refused"
contains "$T/c3.out" "declared 13 (250," "enforce_size: a true SIZE= accepted"
kill $p3 2> /dev/null; wait $p3 2> /dev/null
$PY "$FS" --port 0 --script-inline '{"enforce_size": 1}' --max-seconds 5 > "$T/c4.out" 2>&1
[ $? != 0 ] && ok "enforce_size: a non-boolean value refused" || bad "enforce_size: 1 accepted"

# The mail stage keyed by the MAIL FROM address (a provider that takes
# only its account as the sender, Microsoft's 530 5.7.60 for the rest).
$PY "$FS" --port 0 --script-inline '{"mail": {"default": "530 5.7.60 SMTP; Client does not have permissions to send as this sender", "addresses": {"Me@X.test": "250 2.1.0 Ok", "": "250 2.1.0 null ok"}}}' \
  --log "$T/log5.jsonl" --max-seconds 30 --ready-file "$T/ready5" > /dev/null 2>&1 &
p5=$!
wait_for 10 test -s "$T/ready5" || bad "mail addresses: fault_server did not start"
$PY - "$(cat "$T/ready5")" > "$T/c5.out" 2>&1 <<'EOF'
import smtplib, sys
c = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
c.ehlo("client.test")
print("root", c.docmd("MAIL FROM:<root@host.test>"))
print("me", c.docmd("MAIL FROM:<me@x.test> SIZE=10"))
c.docmd("RSET")
print("null", c.docmd("MAIL FROM:<>"))
c.quit()
EOF
contains "$T/c5.out" "root (530, b'5.7.60 SMTP; Client does not have permissions to send as this sender')" "mail addresses: another sender refused"
contains "$T/c5.out" "me (250, b'2.1.0 Ok')" "mail addresses: the account's address taken (any case, with parameters)"
contains "$T/c5.out" "null (250, b'2.1.0 null ok')" "mail addresses: the null sender keyed by \"\""
kill $p5 2> /dev/null; wait $p5 2> /dev/null

finish
