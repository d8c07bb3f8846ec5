#!/bin/sh
# Real programs that send mail, each pointed at relay's sendmail through
# its own setting for the sendmail path: s-nail, GNU mailutils' mail,
# bsd-mailx, mutt, git send-email, PHP's mail() and Debian cron's exact
# invocation. Each message is queued by the program, delivered by
# `relayd --once` to a capturing SMTP sink on loopback (aiosmtpd), and
# checked as the smarthost received it: envelope, header, body, MIME parts.
#
# A program whose package is missing is installed with apt-get (as root,
# never removing anything: postfix provides mail-transport-agent here);
# if that fails, only that program is skipped, with the reason printed.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 77; }

BIN=$(cd "$BIN" && pwd)
STEP=60                          # seconds any one step may take
PORT=$(free_port)
cat >> "$CONF" <<CONF
smarthost = 127.0.0.1:$PORT none
log = $T/relayd.log
CONF
printf 'root: admin@x.test\npostmaster: root\n' > "$T/aliases"
relay_private_spool
touch "$T/relayd.log"; [ "$(id -u)" = 0 ] && chown 65534 "$T/relayd.log"
mkdir -p "$T/home" "$T/work" "$T/sink/new" "$T/got"
ME=$(id -un)                     # the envelope sender is $ME@example.com without -f
unset NAME MAILRC EMAIL REPLYTO MAIL MBOX 2>/dev/null

# The sendmail every program is pointed at: relay's, on the private
# instance, logging its arguments.
cat > "$T/sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >> "$T/argv.log"
exec "$BIN/sendmail" -C "$CONF" "\$@"
EOF
chmod 755 "$T/sendmail"

# The smarthost: aiosmtpd with a handler that keeps every transaction as
# a directory: env (FROM, RCPT and MAILOPT lines), raw (the DATA bytes),
# hdr (the header, unfolded, one field a line), body, and parts (one line
# per MIME leaf: type, disposition, filename, sha256 and text of the
# decoded payload). It stops by itself after 10 minutes.
cat > "$T/sink.py" <<'EOF'
import email, email.policy, hashlib, os, sys, threading
from aiosmtpd.controller import Controller
out, port = sys.argv[1], int(sys.argv[2])
lock, n = threading.Lock(), [0]
class Sink:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            n[0] += 1
            d = os.path.join(out, "new", "%04d" % n[0])
        os.makedirs(d)
        data = envelope.original_content or envelope.content
        with open(d + "/env", "w") as f:
            f.write("FROM %s\n" % envelope.mail_from)
            f.writelines("RCPT %s\n" % r for r in envelope.rcpt_tos)
            f.writelines("MAILOPT %s\n" % o for o in envelope.mail_options)
        with open(d + "/raw", "wb") as f:
            f.write(data)
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        head, _, body = text.partition("\n\n")
        fields = []
        for line in head.split("\n"):
            if line[:1] in (" ", "\t") and fields:
                fields[-1] += " " + line.strip()
            else:
                fields.append(line)
        with open(d + "/hdr", "w") as f:
            f.write("\n".join(fields) + "\n")
        with open(d + "/body", "w") as f:
            f.write(body)
        msg = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
        with open(d + "/parts", "w") as f:
            for p in msg.walk():
                if p.is_multipart():
                    continue
                b = p.get_payload(decode=True) or b""
                f.write("%s %s %s %s %s\n" % (p.get_content_type(), p.get_content_disposition() or "-",
                        p.get_filename() or "-", hashlib.sha256(b).hexdigest(),
                        b.decode("utf-8", "replace").replace("\n", "\\n")))
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=port)
c.start()
threading.Event().wait(600)
c.stop()
EOF
PYTHONUNBUFFERED=1 /usr/bin/python3 "$T/sink.py" "$T/sink" "$PORT" > "$T/sink.log" 2>&1 &
sink_pid=$!
cleanup() { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
wait_for 15 /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" \
  || { echo "FAIL: the SMTP sink did not start: $(cat "$T/sink.log")"; exit 1; }

SKIPPED=
skip() { echo "SKIP: $1: $2"; SKIPPED="$SKIPPED $1"; }

# need NAME CHECK PACKAGE...: succeeds when CHECK (a shell command) does,
# installing the packages first if it does not; else skips NAME.
apt_updated=
need() {
  name=$1; check=$2; shift 2
  sh -c "$check" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    skip "$name" "not installed ($*), and not root to apt-get install it"; return 1
  fi
  if [ -z "$apt_updated" ]; then
    timeout 300 apt-get -o DPkg::Lock::Timeout=120 update > "$T/apt-update.log" 2>&1; apt_updated=1
  fi
  # --no-remove: never let apt take postfix (or anything) away.
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=120 install -y \
    --no-remove --no-install-recommends "$@" > "$T/apt-$name.log" 2>&1
  if sh -c "$check" >/dev/null 2>&1; then echo "installed: $*"; return 0; fi
  skip "$name" "apt-get install $* failed: $(grep -E '^(E|W):' "$T/apt-$name.log" | head -3 | tr '\n' ' ')"
  return 1
}

# send NAME INPUT COMMAND...: runs the program (in $T/work, HOME=$T/home,
# at most $STEP seconds) with INPUT as standard input, then delivers
# the queue; M is then the first transaction the sink got for it.
M=
send() {
  name=$1; input=$2; shift 2
  : > "$T/argv.log"
  (cd "$T/work" && HOME="$T/home" timeout $STEP "$@") < "$input" > "$T/$name.out" 2>&1
  rc=$?
  cp "$T/argv.log" "$T/argv.$name"
  M=$T/got/$name/none
  if [ $rc = 0 ]; then ok "$name: exited 0"; else bad "$name: exit $rc: $(cat "$T/$name.out")"; fi
  if [ -s "$T/argv.$name" ]; then
    ok "$name ran the sendmail it was given: sendmail $(tr '\n' ';' < "$T/argv.$name")"
  else
    bad "$name did not run \$T/sendmail: $(cat "$T/$name.out")"; return 1
  fi
  timeout $STEP "$BIN/relayd" -C "$CONF" --once > "$T/relayd.$name.out" 2>&1 \
    || bad "$name: relayd --once exit $?: $(cat "$T/relayd.$name.out")"
  [ -z "$(ls "$T/spool/queue")" ] && ok "$name: queue empty after delivery" \
    || bad "$name: left in queue: $(ls "$T/spool/queue"); log: $(tail -3 "$T/relayd.log")"
  mkdir -p "$T/got/$name"
  mv "$T"/sink/new/* "$T/got/$name/" 2>/dev/null
  n=$(ls "$T/got/$name" | wc -l)
  if [ "$n" -ge 1 ]; then
    ok "$name: the smarthost got it ($n transaction(s))"; M=$T/got/$name/$(ls "$T/got/$name" | head -1)
  else
    bad "$name: nothing reached the smarthost; log: $(tail -3 "$T/relayd.log")"; return 1
  fi
}

# envelope SENDER RCPT...: every transaction has MAIL FROM SENDER, and
# the RCPTs over all of them are exactly these, each once.
envelope() {
  name=$(basename "$(dirname "$M")"); want_from=$1; shift
  froms=$(cat "$T/got/$name"/*/env | sed -n 's/^FROM //p' | sort -u | tr '\n' ' ')
  [ "$froms" = "$want_from " ] && ok "$name: envelope sender $want_from" \
    || bad "$name: envelope sender '$froms', want '$want_from'"
  got=$(cat "$T/got/$name"/*/env | sed -n 's/^RCPT //p' | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] && ok "$name: envelope recipients $want" \
    || bad "$name: envelope recipients '$got', want '$want'"
}
# Header checks on M's hdr (unfolded): field names compare without case.
values() { grep -i "^$1:" "$M/hdr" | sed 's/^[^:]*: *//'; }
hdr_is() { # FIELD VALUE: exactly one FIELD, and it is VALUE
  v=$(values "$1"); c=$(grep -ci "^$1:" "$M/hdr")
  [ "$c" = 1 ] && [ "$v" = "$2" ] && ok "$(basename "$(dirname "$M")"): $1: $2" \
    || bad "$(basename "$(dirname "$M")"): $c $1 field(s) '$v', want one '$2'"
}
hdr_re() { # FIELD ERE DESCRIPTION: exactly one FIELD, matching ERE
  v=$(values "$1"); c=$(grep -ci "^$1:" "$M/hdr")
  [ "$c" = 1 ] && printf '%s\n' "$v" | grep -Eq -- "$2" && ok "$(basename "$(dirname "$M")"): $3 ($1: $v)" \
    || bad "$(basename "$(dirname "$M")"): $3: $c $1 field(s) '$v', want one matching $2"
}
no_hdr() {
  grep -qi "^$1:" "$M/hdr" && bad "$(basename "$(dirname "$M")"): a $1 field arrived: $(grep -i "^$1:" "$M/hdr")" \
    || ok "$(basename "$(dirname "$M")"): no $1 field"
}
# The fields every message must leave with, whoever wrote them.
DAY='(Mon|Tue|Wed|Thu|Fri|Sat|Sun), +[0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}(:[0-9]{2})? [+-][0-9]{4}'
common() {
  hdr_re Date "^$DAY( \(.*\))?\$" "one RFC 5322 Date"
  hdr_re Message-ID '^<[^<>@ ]+@[^<>@ ]+>$' "one Message-ID"
  hdr_re Received '^by .*\(relay, from userid [0-9]+\).*id [0-9A-Za-z]+; '"$DAY"'$' "relay's Received field"
  no_hdr Bcc
  no_hdr Return-Path
}
body_is() { # TEXT (with a final newline added)
  if printf '%s\n' "$1" | cmp -s - "$M/body"; then ok "$(basename "$(dirname "$M")"): body intact"
  else bad "$(basename "$(dirname "$M")"): body differs: $(od -c "$M/body" | head -8)"; fi
}
nowhere() { # STRING: appears nowhere in the message as received
  grep -qiF -- "$1" "$M/raw" && bad "$(basename "$(dirname "$M")"): '$1' leaked into the message" \
    || ok "$(basename "$(dirname "$M")"): '$1' appears nowhere in the message"
}
# part TYPE DISPOSITION FILENAME SHA256 DESCRIPTION: a MIME leaf with these
part() {
  if grep -q "^$1 $2 $3 $4 " "$M/parts"; then ok "$(basename "$(dirname "$M")"): $5"
  else bad "$(basename "$(dirname "$M")"): $5: no part '$1 $2 $3 $4' in: $(cut -c1-150 "$M/parts")"; fi
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Files to send.
/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 8)' > "$T/work/blob.bin"
printf 'attachment line 1\n.\nlast line\n' > "$T/work/notes.txt"

# 1. s-nail: -S mta=, -s, -c, -b, a binary attachment (base64 on the wire).
if need s-nail 'command -v s-nail' s-nail; then
  printf 'snail body\n' > "$T/in.s-nail"
  if send s-nail "$T/in.s-nail" s-nail -n -S mta="$T/sendmail" -s 'snail subject' \
       -c cc@x.test -b bcc@x.test -a blob.bin to@x.test; then
    envelope "$ME@example.com" to@x.test cc@x.test bcc@x.test
    hdr_is Subject 'snail subject'
    hdr_is To to@x.test
    hdr_is Cc cc@x.test
    hdr_re From "^(.* )?<?$ME@example.com>?\$" "From added by relay, qualified"
    common
    nowhere bcc@x.test
    hdr_re Content-Type '^multipart/mixed; ' "a multipart message"
    part text/plain inline - "$(printf 'snail body\n' | sha256sum | cut -d' ' -f1)" "the text part"
    part application/octet-stream attachment blob.bin "$(sha "$T/work/blob.bin")" "the attachment arrived byte for byte"
  fi
fi

# 2. GNU mailutils' mail (3.x has no -c/-b options: Cc and Bcc are given
#    as -a headers, and it runs sendmail -t -oi -f SENDER).
if need mailutils 'command -v mail.mailutils' mailutils; then
  printf 'mailutils body\n' > "$T/in.mailutils"
  if send mailutils "$T/in.mailutils" mail.mailutils -n -E "set sendmail=sendmail://$T/sendmail" \
       -r mu@x.test -s 'mailutils subject' -a 'Cc: cc@x.test' -a 'Bcc: bcc@x.test' to@x.test; then
    envelope mu@x.test to@x.test cc@x.test bcc@x.test
    hdr_is Subject 'mailutils subject'
    hdr_is To '<to@x.test>'
    hdr_is Cc '<cc@x.test>'
    hdr_re From '^(.* )?<?mu@x.test>?$' "From added by relay from the -f sender"
    common
    nowhere bcc@x.test
    body_is 'mailutils body'
  fi
fi

# 3. bsd-mailx: the sendmail variable from $MAILRC; -s, -c, -b; an 8-bit body.
if need bsd-mailx 'command -v bsd-mailx' bsd-mailx; then
  printf 'set sendmail=%s\n' "$T/sendmail" > "$T/mailrc"
  printf 'bsd body\nGr\303\274\303\237e\n' > "$T/in.bsd-mailx"
  if send bsd-mailx "$T/in.bsd-mailx" env MAILRC="$T/mailrc" bsd-mailx -n -s 'mailx subject' \
       -c cc@x.test -b bcc@x.test to@x.test; then
    envelope "$ME@example.com" to@x.test cc@x.test bcc@x.test
    hdr_is Subject 'mailx subject'
    hdr_is To to@x.test
    hdr_is Cc cc@x.test
    hdr_re From "^(.* )?<?$ME@example.com>?\$" "From added by relay, qualified"
    common
    nowhere bcc@x.test
    if cmp -s "$T/in.bsd-mailx" "$M/body"; then ok "bsd-mailx: 8-bit body intact"
    else bad "bsd-mailx: body differs: $(od -c "$M/body" | head -5)"; fi
    grep -qx 'MAILOPT BODY=8BITMIME' "$M/env" && ok "bsd-mailx: 8-bit body sent with BODY=8BITMIME" \
      || bad "bsd-mailx: 8-bit body sent without BODY=8BITMIME: $(cat "$M/env")"
  fi
fi

# 4. mutt in batch mode: sendmail with -oem -oi, from set, a text attachment.
if need mutt 'command -v mutt' mutt; then
  printf 'mutt body\n' > "$T/in.mutt"
  if send mutt "$T/in.mutt" mutt -n -F /dev/null -e "set sendmail=\"$T/sendmail -oem -oi\"" \
       -e 'set from=me@x.test' -s 'mutt subject' -a notes.txt -- to@x.test; then
    envelope "$ME@example.com" to@x.test
    hdr_is Subject 'mutt subject'
    hdr_is To to@x.test
    hdr_re From '^(.* )?<?me@x.test>?$' "mutt's From kept"
    common
    hdr_re Content-Type '^multipart/mixed; ' "a multipart message"
    part text/plain inline - "$(printf 'mutt body\n' | sha256sum | cut -d' ' -f1)" "the text part"
    part text/plain attachment notes.txt "$(sha "$T/work/notes.txt")" "the attachment, its lone '.' line kept"
  fi
fi

# 5. git send-email with --smtp-server=PATH (sendmail -i RCPT); the
#    patch as received must apply with git am.
if need git-send-email '[ -x "$(git --exec-path)/git-send-email" ] && perl -MMail::Address -e1' \
     git git-email libmailtools-perl; then
  G=$T/work/repo
  export GIT_CONFIG_NOSYSTEM=1
  (HOME=$T/home; export HOME
   git init -q "$G" && cd "$G" && git config user.name Dev && git config user.email dev@x.test \
   && printf 'one\n' > f.txt && git add f.txt && git commit -q -m init \
   && printf 'one\n.\ntwo\n' > f.txt && git commit -q -a -m 'f.txt: add two lines' \
   && git format-patch -q -1 -o "$T/work/patches") > "$T/git-setup.out" 2>&1 \
    || bad "git setup: $(cat "$T/git-setup.out")"
  patch=$(ls "$T"/work/patches/*.patch 2>/dev/null | head -1)
  if send git "/dev/null" sh -c "cd '$G' && git send-email --smtp-server='$T/sendmail' --from=dev@x.test \
       --to=list@x.test --confirm=never --suppress-cc=all '$patch'"; then
    envelope "$ME@example.com" list@x.test
    hdr_is Subject '[PATCH] f.txt: add two lines'
    hdr_is To list@x.test
    hdr_is From dev@x.test
    common
    (HOME=$T/home; export HOME
     git clone -q "$G" "$T/work/clone" && cd "$T/work/clone" && git reset -q --hard HEAD~1 \
     && git config user.name Maintainer && git config user.email maint@x.test \
     && tr -d '\r' < "$M/raw" > "$T/work/received.mbox" && git am -q "$T/work/received.mbox" \
     && [ "$(git rev-parse HEAD^{tree})" = "$(git -C "$G" rev-parse HEAD^{tree})" ]) > "$T/git-am.out" 2>&1 \
      && ok "git: the received patch applies with git am to the same tree" \
      || bad "git: git am of the received message failed: $(cat "$T/git-am.out")"
  fi
fi

# 6. PHP's mail() with sendmail_path "sendmail -t -i": a lone "." in the body.
if need php 'command -v php' php-cli; then
  if send php /dev/null php -n -d sendmail_path="$T/sendmail -t -i" \
       -r 'exit(mail("to@x.test", "php subject", "line one\n.\nline three", "From: web@x.test") ? 0 : 1);'; then
    envelope "$ME@example.com" to@x.test
    hdr_is Subject 'php subject'
    hdr_is To to@x.test
    hdr_is From web@x.test
    common
    body_is "$(printf 'line one\n.\nline three')"
  fi
fi

# 7. Debian cron's exact invocation; root is aliased to admin@x.test.
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> run-parts\n\noutput\n' > "$T/in.cron"
if send cron "$T/in.cron" "$T/sendmail" -FCronDaemon -i -B8BITMIME -oem root; then
  envelope "$ME@example.com" admin@x.test
  hdr_is From 'root@example.com (Cron Daemon)'
  hdr_is To root@example.com
  hdr_is Subject 'Cron <root@host> run-parts'
  common
  # relayd declares BODY=8BITMIME from the content (relayd(8), "8-bit
  # content"), not from -B: this all-ASCII message goes without it.
  echo "info: cron: MAIL FROM parameters: $(sed -n 's/^MAILOPT //p' "$M/env" | tr '\n' ' ')"
  body_is output
fi

grep -q 'status=sent' "$T/relayd.log" && ok "relayd logged the deliveries" || bad "no status=sent in the log"
grep -Eq 'status=(deferred|bounced)' "$T/relayd.log" && bad "deferrals or bounces: $(grep -E 'status=(deferred|bounced)' "$T/relayd.log")" \
  || ok "nothing deferred or bounced"
[ -n "$SKIPPED" ] && echo "skipped:$SKIPPED"
finish
