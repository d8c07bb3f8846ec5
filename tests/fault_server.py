#!/usr/bin/python3
"""A scriptable SMTP server for faults a real MTA cannot be told to make.

Run it with Debian's /usr/bin/python3 (standard library only):

  /usr/bin/python3 tests/fault_server.py --port PORT --script FILE
      [--tls-cert server.pem --tls-key server.key] [--log FILE]
      [--max-seconds 120] [--stop-file FILE] [--ready-file FILE]
      [--idle-timeout 300] [--host 127.0.0.1|::1]

It listens on 127.0.0.1:PORT (or [::1]; nothing else is allowed), serves
each connection in its own thread (connections are numbered 1, 2, ... in
the order they are accepted) and answers as the script says.  It exits by
itself after --max-seconds (default 120), when --stop-file appears, or on
SIGTERM/SIGINT, closing every connection.  --port 0 picks a free port.
--ready-file FILE is written with the port number once it listens, so a
test can wait for that file.  --script-inline JSON is the same as --script
with the text given directly.

SCRIPT (JSON)
=============
  {
    "default":     { STAGE: SPEC, ... },        # for every connection
    "connections": { "2": { STAGE: SPEC, ... }  # connection 2 only: these
                   },                           # stages replace default's
  }
"connections" may also be a list: element i is connection i+1.  Stage keys
given at the top level are taken as part of "default".  Every stage has a
built-in default, so {} is a well-behaved server.

STAGES and their built-in replies
  greeting     220 fault.test ESMTP fault_server       (on connect)
  ehlo         250-fault.test + capabilities, see below
  ehlo_tls     EHLO after STARTTLS; default: the ehlo stage, with STARTTLS
               taken out of its capabilities (reply lines are sent as given)
  helo         250 fault.test
  starttls     220 2.0.0 Ready to start TLS  (454 4.7.0 ... without --tls-cert)
  auth         235 2.7.0 Authentication successful, after the exchange:
               PLAIN, XOAUTH2 or OAUTHBEARER without an initial response
               get "334 ", LOGIN gets
               "334 VXNlcm5hbWU6" (unless it had one) and "334 UGFzc3dvcmQ6",
               CRAM-MD5 a "334 <challenge>"; a "*" line aborts (501 5.7.0)
  mail         250 2.1.0 Ok            (503 5.5.1 if a transaction is open)
  rcpt         250 2.1.5 Ok            (503 5.5.1 before a successful MAIL)
  data         354 End data with <CR><LF>.<CR><LF>   (554 5.5.1 without an
                                        accepted RCPT, 503 without MAIL)
  end_of_data  250 2.0.0 Ok: queued as C<conn>M<n>   (after the final dot)
  bdat         250 2.0.0 Ok: N octets   (each non-LAST chunk; BDAT LAST
                                        ends the message -> end_of_data)
  rset         250 2.0.0 Ok
  noop         250 2.0.0 Ok
  vrfy         252 2.0.0 Cannot VRFY
  quit         221 2.0.0 Bye           (then the server closes)
  unknown      502 5.5.2 Error: command not recognized   (anything else)

SPEC, the answer at a stage, is one of
  "250 ok"                       one reply line (CRLF is added; a string
                                 with \\n in it is several lines)
  ["250-first", "250 last"]      reply lines, sent as they are
  { "reply": "250 ok" | [...],   the reply (optional, see actions)
    "delay": 1.5,                wait this long before answering
    "action": ACTION, ...        a fault, after the reply if there is one
  }
  { "sequence": [SPEC, SPEC] }   the 1st, 2nd, ... time this stage is
                                 reached in a connection; the last repeats
  and for the ehlo/ehlo_tls stages also
  { "hostname": "fault.test",
    "capabilities": ["PIPELINING", "SIZE 1000", "8BITMIME", "STARTTLS",
                     "AUTH PLAIN LOGIN", "DSN", "ENHANCEDSTATUSCODES",
                     "SMTPUTF8"], ...action keys... }
  (default capabilities: PIPELINING, SIZE 10240000, 8BITMIME,
   ENHANCEDSTATUSCODES, and STARTTLS when --tls-cert is given),
  and for the rcpt stage also
  { "default": SPEC, "addresses": { "bad@x.test": "550 5.1.1 no such user",
                                    "slow@x.test": {"reply": "250 ok",
                                                    "delay": 2} } }
  (addresses compare case-insensitively, without the <>)
  and for the starttls stage also
  { "reply": "220 go ahead", "inject_after_220": "250 injected\\r\\n" }
  the injected bytes (latin-1: "\\u00ff" is byte 0xff) go out in plain text
  in the same write as the 220, before the TLS handshake.

ENFORCING SIZE
  {"enforce_size": true, ...stages...} at the top level makes the server
  hold the client to SIZE (RFC 1870) as a strict MTA does: a MAIL whose
  SIZE= is over the "SIZE N" the last EHLO advertised gets
  "552 5.3.4 Error: message file too big", and after the final dot a
  message whose data (dot-unstuffed, without the final ".") is over its
  declared SIZE= gets "552 5.3.4 Error: message larger than its declared
  SIZE", or over N "552 5.3.4 Error: message file too big".  These are
  the stages' default replies: a scripted reply still wins.

ACTIONS ("action": NAME plus its parameters)
  stall      "seconds": N (default: until --max-seconds): say nothing, keep
             the socket open, then close it. Input read meanwhile is logged.
  deaf       "seconds": N (default: until --max-seconds): read nothing and
             say nothing (the client's writes block once the socket
             buffers are full), then close
  drop       close the connection (FIN)
  reset      close with SO_LINGER 0: the client sees a RST
  garbage    "bytes": "text\\u0000\\u00ff" (latin-1) or "hex": "00ff0d0a":
             send those raw bytes, then go on reading commands
  endless    "code": "250" (default), "line_length": 76: send
             "250-xxxx..." lines until the client disconnects (or
             --max-seconds); never a final line
  long_line  "length": N (default 100000), "code": "250": one reply line of
             N bytes in all, "250 xxxx...x\\r\\n"; then go on
  nul        the reply (or the stage's default) with a NUL byte after its
             first four characters, "250 \\u0000Ok\\r\\n"; then go on
A reply code for the server's own bookkeeping (did MAIL start a transaction,
was a RCPT accepted) is the first 3 characters of the reply, or "code",
or the stage's default.  After "stall", "drop" and "reset" the connection
is over.

Examples
  {"default": {"ehlo": {"capabilities": ["PIPELINING", "STARTTLS",
                                         "AUTH PLAIN LOGIN"]},
               "rcpt": {"addresses": {"bad@x.test": "550 5.1.1 unknown"}}},
   "connections": {"1": {"greeting": {"action": "stall", "seconds": 30}},
                   "2": {"mail": {"sequence": ["451 4.3.0 later",
                                               "250 2.1.0 Ok"]}},
                   "3": {"starttls": {"inject_after_220":
                                      "250-evil\\r\\n"}},
                   "4": {"end_of_data": {"action": "reset"}},
                   "5": {"ehlo": {"action": "endless"}}}}

OAUTH (--oauth-tokens FILE)
  XOAUTH2 and OAUTHBEARER logins are checked against FILE, a JSON object
  {access_token: expiry in unix seconds} that tests/oauth_provider.py
  rewrites at every issue (re-read at each AUTH).  A live token gets the
  auth stage's reply; a stale or unknown one gets what Gmail answers:
  "334 " + base64 of {"status":"401","schemes":"Bearer","scope":...},
  the client's answer is read (XOAUTH2: an empty line; OAUTHBEARER: ^A,
  RFC 7628 3.2.3), then "535 5.7.8 Username and Password not accepted".
  Logged as {"event": "oauth", "conn": 1, "mechanism": "XOAUTH2",
  "result": "ok" | "stale" | "unknown", "answer_ok": true}.

LOG (--log FILE, appended to; default standard output): JSON lines, each
flushed as it is written.
Every record has "t" (seconds since start), "event", and "conn" for
events of a connection.  Text fields are UTF-8 when the bytes are valid
UTF-8, else latin-1 (one character per byte) with "encoding": "latin-1".
  {"event": "listening", "host": "127.0.0.1", "port": 2525, "pid": 123}
  {"event": "connect", "conn": 1, "peer": "127.0.0.1:40000"}
  {"event": "sent", "conn": 1, "stage": "greeting", "bytes": 36,
   "text": "220 fault.test ESMTP fault_server\\r\\n"}     (text cut at 300)
  {"event": "command", "conn": 1, "n": 2, "verb": "MAIL",
   "line": "MAIL FROM:<a@b.test> SIZE=120", "tls": false, "crlf": true}
  {"event": "plaintext_after_starttls", "conn": 1, "bytes": 6,
   "data": "NOOP\\r\\n"}       (the client pipelined after STARTTLS)
  {"event": "tls", "conn": 1, "ok": true, "version": "TLSv1.3",
   "cipher": "TLS_AES_256_GCM_SHA384", "sni": "localhost"}
  {"event": "tls", "conn": 1, "ok": false, "error": "..."}
  {"event": "auth", "conn": 1, "mechanism": "PLAIN", "tls": true,
   "initial": "AGEAYg==", "responses": [], "decoded": ["\\u0000a\\u0000b"]}
  {"event": "message", "conn": 1, "n": 1, "tls": true,
   "mail_from": "a@b.test", "mail_params": "SIZE=120",
   "rcpts": ["x@y.test"], "rcpts_refused": ["bad@x.test"],
   "rcpt_params": {"x@y.test": "NOTIFY=NEVER"}, "via": "DATA",
   "data_bytes": 120, "wire_bytes": 123, "lines": 5, "bare_lf": 0,
   "sha256": "...", "data": "Subject: ...\\r\\n\\r\\nbody\\r\\n",
   "reply": "250 2.0.0 Ok: queued as C1M1"}
   (logged before the end_of_data answer, whose fault, if any, is in
    "action" ("reply" is null when the fault has no reply); "data" is the
    dot-unstuffed message without the final ".", cut at --max-data-log
    bytes with "data_truncated": true; the counts are of all of it)
  {"event": "action", "conn": 1, "stage": "mail", "action": "stall",
   "seconds": 30}
  {"event": "stall_input", "conn": 1, "bytes": 6, "data": "QUIT\\r\\n"}
  {"event": "endless", "conn": 1, "stage": "ehlo", "bytes_sent": 1048576}
  {"event": "disconnect", "conn": 1, "reason": "client closed" | "quit" |
   "client reset" | "drop" | "reset" | "stall over" | "deaf over" | "idle timeout" |
   "line too long" | "tls failed" | "endless over" | "server stopping" |
   "max-seconds" | "error: ..."}
  {"event": "stopped", "reason": "max-seconds" | "stop-file" | "signal",
   "connections": 5}
Questions a test can answer: how many "command" records with verb MAIL per
conn; whether an "auth" record (or a command with verb AUTH) has
"tls": false; what "message" records arrived, with which envelope.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time

START = time.monotonic()

DEFAULTS = {
    "greeting": "220 fault.test ESMTP fault_server",
    "helo": "250 fault.test",
    "starttls": "220 2.0.0 Ready to start TLS",
    "auth": "235 2.7.0 Authentication successful",
    "mail": "250 2.1.0 Ok",
    "rcpt": "250 2.1.5 Ok",
    "data": "354 End data with <CR><LF>.<CR><LF>",
    "end_of_data": None,  # computed: queued as C<conn>M<n>
    "bdat": None,  # computed: Ok: N octets
    "rset": "250 2.0.0 Ok",
    "noop": "250 2.0.0 Ok",
    "vrfy": "252 2.0.0 Cannot VRFY",
    "quit": "221 2.0.0 Bye",
    "unknown": "502 5.5.2 Error: command not recognized",
}
STAGES = set(DEFAULTS) | {"ehlo", "ehlo_tls"}
ACTIONS = {"stall", "deaf", "drop", "reset", "garbage", "endless", "long_line", "nul"}
MAX_LINE = 1 << 20


class Closed(Exception):
    """The connection is over; reason in args[0]."""


def text(b):
    """bytes -> (str, encoding)"""
    try:
        return b.decode("utf-8"), None
    except UnicodeDecodeError:
        return b.decode("latin-1"), "latin-1"


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        if path in (None, "-"):
            self.f = sys.stdout
        else:
            self.f = open(path, "a", encoding="utf-8")

    def __call__(self, event, **kw):
        rec = {"t": round(time.monotonic() - START, 4), "event": event}
        rec.update(kw)
        line = json.dumps(rec)
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


class Server:
    def __init__(self, args, script):
        self.args = args
        self.script = script
        self.log = Log(args.log)
        self.deadline = START + args.max_seconds
        self.stopping = threading.Event()
        self.conns = {}
        self.lock = threading.Lock()
        self.count = 0
        self.tls_ctx = None
        if args.tls_cert:
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(args.tls_cert, args.tls_key or None)

            def sni(sslsock, name, ctx):
                sslsock.fault_sni = name
            self.tls_ctx.sni_callback = sni

    def remaining(self):
        return self.deadline - time.monotonic()

    def stage_spec(self, conn_no, stage):
        per = self.script.get("connections", {})
        if isinstance(per, list):
            c = per[conn_no - 1] if conn_no - 1 < len(per) else {}
        else:
            c = per.get(str(conn_no), {})
        if stage in c:
            return c[stage]
        d = dict(self.script.get("default", {}))
        for k, v in self.script.items():
            if k in STAGES:
                d.setdefault(k, v)
        return d.get(stage)

    def run(self):
        a = self.args
        fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.host, a.port))
        ls.listen(64)
        ls.settimeout(0.2)
        port = ls.getsockname()[1]
        self.log("listening", host=a.host, port=port, pid=os.getpid(),
                 tls=bool(self.tls_ctx))
        if a.ready_file:
            tmp = a.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.rename(tmp, a.ready_file)
        reason = "max-seconds"
        while True:
            if self.stopping.is_set():
                reason = "signal"
                break
            if self.remaining() <= 0:
                break
            if a.stop_file and os.path.exists(a.stop_file):
                reason = "stop-file"
                break
            try:
                s, peer = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    reason = "signal"
                    break
                raise
            with self.lock:
                self.count += 1
                n = self.count
                self.conns[n] = s
            t = threading.Thread(target=self.serve, args=(n, s, peer), daemon=True)
            t.start()
        self.stopping.set()
        ls.close()
        with self.lock:
            socks = list(self.conns.values())
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        end = time.monotonic() + 3
        while time.monotonic() < end:
            with self.lock:
                if not self.conns:
                    break
            time.sleep(0.05)
        self.log("stopped", reason=reason, connections=self.count)

    def serve(self, n, s, peer):
        s.settimeout(1.0)
        c = Conn(self, n, s)
        self.log("connect", conn=n, peer="%s:%d" % (peer[0], peer[1]))
        reason = "?"
        try:
            c.session()
            reason = "client closed"
        except Closed as e:
            reason = e.args[0]
        except (ssl.SSLError, OSError) as e:
            reason = "server stopping" if self.stopping.is_set() else "error: %s" % e
        except Exception as e:  # a bug in here should not end the server
            reason = "error: %r" % e
        try:
            c.sock.close()
        except OSError:
            pass
        self.log("disconnect", conn=n, reason=reason)
        with self.lock:
            self.conns.pop(n, None)


class Conn:
    def __init__(self, server, n, sock):
        self.srv = server
        self.n = n
        self.sock = sock
        self.raw = sock
        self.buf = b""
        self.bdat_buf = b""
        self.tls = False
        self.counts = {}
        self.cmd_no = 0
        self.msg_no = 0
        self.size_limit = 0  # from the "SIZE N" of the last EHLO reply
        self.reset_txn()

    def log(self, event, **kw):
        self.srv.log(event, conn=self.n, **kw)

    def reset_txn(self):
        self.mail_from = None
        self.mail_params = ""
        self.rcpts = []
        self.refused = []
        self.rcpt_params = {}

    # -- I/O ---------------------------------------------------------------
    def check_time(self):
        if self.srv.stopping.is_set():
            raise Closed("server stopping")
        if self.srv.remaining() <= 0:
            raise Closed("max-seconds")

    def recv_some(self, idle):
        """Some bytes, waiting at most idle seconds; Closed on EOF/timeout."""
        end = time.monotonic() + idle
        while True:
            self.check_time()
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                wait = 0
            else:
                wait = min(0.25, max(0, end - time.monotonic()))
                r, _, _ = select.select([self.sock], [], [], wait)
                if not r:
                    if time.monotonic() >= end:
                        raise Closed("idle timeout")
                    continue
            try:
                d = self.sock.recv(65536)
            except (ssl.SSLWantReadError, socket.timeout):
                continue
            except ConnectionResetError:
                raise Closed("client reset")
            if not d:
                raise Closed("client closed")
            return d

    def read_line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise Closed("line too long")
            self.buf += self.recv_some(self.srv.args.idle_timeout)
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def read_exact(self, count):
        while len(self.buf) < count:
            self.buf += self.recv_some(self.srv.args.idle_timeout)
        d, self.buf = self.buf[:count], self.buf[count:]
        return d

    def send(self, data, stage):
        view = memoryview(data)
        try:
            while view:
                self.check_time()
                try:
                    view = view[self.sock.send(view):]
                except (socket.timeout, ssl.SSLWantWriteError):
                    continue
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("client closed")
        t, enc = text(data[:300])
        kw = {"encoding": enc} if enc else {}
        self.log("sent", stage=stage, bytes=len(data), text=t, **kw)

    # -- script ------------------------------------------------------------
    def spec(self, stage, rcpt=None):
        """The SPEC for this stage now, as a dict (or None for built-in)."""
        self.counts[stage] = self.counts.get(stage, 0) + 1
        v = self.srv.stage_spec(self.n, stage)
        if isinstance(v, dict) and stage == "rcpt" and ("addresses" in v or "default" in v):
            addrs = {k.lower(): x for k, x in v.get("addresses", {}).items()}
            v = addrs.get((rcpt or "").lower(), v.get("default"))
        if isinstance(v, dict) and "sequence" in v:
            seq = v["sequence"]
            v = seq[min(self.counts[stage], len(seq)) - 1] if seq else None
        if v is None:
            return {}
        if isinstance(v, (str, list)):
            return {"reply": v}
        return v

    @staticmethod
    def lines_of(reply):
        if reply is None:
            return None
        if isinstance(reply, str):
            return reply.replace("\r", "").split("\n")
        return [str(x) for x in reply]

    def respond(self, stage, default, sp=None):
        """Answer at a stage; returns the effective reply code (str)."""
        if sp is None:
            sp = self.spec(stage)
        lines = self.lines_of(sp.get("reply"))
        action = sp.get("action")
        if action and action not in ACTIONS:
            raise Closed("error: unknown action %r" % action)
        if sp.get("delay"):
            self.sleep(float(sp["delay"]))
        code = (lines[0][:3] if lines and lines[0] else None) or sp.get("code") or \
            (default[0][:3] if default else "250")
        if action == "nul":
            line = (lines or default or ["250 Ok"])[0]
            self.send(line[:4].encode() + b"\0" + line[4:].encode() + b"\r\n", stage)
            self.log("action", stage=stage, action="nul")
            return code
        if lines is None and action is None and default is not None:
            lines = default
        if lines is not None and stage != "starttls":
            self.send("".join(x + "\r\n" for x in lines).encode("utf-8"), stage)
        elif lines is not None:  # starttls: the 220 and the injection in one write
            data = "".join(x + "\r\n" for x in lines).encode("utf-8")
            inj = sp.get("inject_after_220")
            if inj:
                data += inj.encode("latin-1")
            self.send(data, stage)
        if action:
            self.do_action(stage, action, sp)
        return code

    def sleep(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.check_time()
            time.sleep(min(0.1, max(0, end - time.monotonic())))

    def do_action(self, stage, action, sp):
        kw = {k: v for k, v in sp.items() if k not in ("reply", "action")}
        self.log("action", stage=stage, action=action, **kw)
        if action == "drop":
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise Closed("drop")
        if action == "reset":
            self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.raw.close()
            raise Closed("reset")
        if action == "deaf":
            self.sleep(float(sp.get("seconds", self.srv.args.max_seconds)))
            raise Closed("deaf over")
        if action == "stall":
            secs = float(sp.get("seconds", self.srv.args.max_seconds))
            end = time.monotonic() + secs
            while time.monotonic() < end:
                try:
                    d = self.recv_some(max(0.01, end - time.monotonic()))
                except Closed as e:
                    if e.args[0] == "idle timeout":
                        break
                    raise
                t, enc = text(d)
                self.log("stall_input", bytes=len(d), data=t, **({"encoding": enc} if enc else {}))
            raise Closed("stall over")
        if action == "garbage":
            if "hex" in sp:
                data = binascii.unhexlify(sp["hex"])
            else:
                data = str(sp.get("bytes", "\x00\xff garbage \x01\r\n")).encode("latin-1")
            self.send(data, stage)
            return
        if action == "long_line":
            length = int(sp.get("length", 100000))
            code = str(sp.get("code", "250"))
            self.send((code + " ").encode() + b"x" * max(0, length - len(code) - 3) + b"\r\n", stage)
            return
        if action == "endless":
            code = str(sp.get("code", "250"))
            ll = int(sp.get("line_length", 76))
            line = (code + "-").encode() + b"x" * max(1, ll - len(code) - 3) + b"\r\n"
            chunk = line * max(1, 65536 // len(line))
            sent = 0
            reason = "endless over"
            try:
                while True:
                    self.check_time()
                    _, w, _ = select.select([], [self.sock], [], 0.25)
                    if not w:
                        continue
                    try:
                        sent += self.sock.send(chunk)
                    except (socket.timeout, ssl.SSLWantWriteError):
                        continue
                    time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                reason = "client closed"
            except Closed as e:
                reason = e.args[0]
            self.log("endless", stage=stage, bytes_sent=sent)
            raise Closed(reason)

    # -- SMTP ----------------------------------------------------------------
    def ehlo(self):
        self.reset_txn()
        if self.tls and self.srv.stage_spec(self.n, "ehlo_tls") is not None:
            stage = "ehlo_tls"
        else:
            stage = "ehlo"
        sp = self.spec(stage)
        base = self.srv.stage_spec(self.n, "ehlo")
        base = base if isinstance(base, dict) else {}
        host = sp.get("hostname", base.get("hostname", "fault.test"))
        caps = sp.get("capabilities", base.get("capabilities"))
        if caps is None:
            caps = ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"]
            if self.srv.tls_ctx:
                caps.insert(3, "STARTTLS")
        if self.tls and (stage == "ehlo" or "capabilities" not in sp):
            caps = [c for c in caps if c.upper() != "STARTTLS"]
        self.size_limit = 0
        for c in caps:
            w = c.split()
            if len(w) == 2 and w[0].upper() == "SIZE" and w[1].isdigit():
                self.size_limit = int(w[1])
        lines = [host] + list(caps)
        default = ["250%s%s" % ("-" if i < len(lines) - 1 else " ", x) for i, x in enumerate(lines)]
        self.respond(stage, default, sp)

    def session(self):
        sp = self.spec("greeting")
        self.respond("greeting", [DEFAULTS["greeting"]], sp)
        while True:
            raw = self.read_line()
            self.cmd_no += 1
            crlf = raw.endswith(b"\r\n")
            line_b = raw.rstrip(b"\r\n")
            line, enc = text(line_b)
            verb = line.split(" ", 1)[0].upper() if line else ""
            arg = line[len(verb):].strip()
            kw = {"encoding": enc} if enc else {}
            self.log("command", n=self.cmd_no, verb=verb, line=line, tls=self.tls, crlf=crlf, **kw)
            if verb == "EHLO":
                self.ehlo()
            elif verb == "HELO":
                self.reset_txn()
                self.respond("helo", [DEFAULTS["helo"]])
            elif verb == "STARTTLS":
                self.starttls()
            elif verb == "AUTH":
                self.auth(arg)
            elif verb == "MAIL":
                if self.mail_from is not None:
                    d = "503 5.5.1 Error: nested MAIL command"
                else:
                    d = DEFAULTS["mail"]
                addr, params = self.path(arg, "FROM:")
                declared = self.declared_size(params)
                if self.srv.script.get("enforce_size") and self.size_limit and \
                        declared is not None and declared > self.size_limit:
                    d = "552 5.3.4 Error: message file too big"
                code = self.respond("mail", [d])
                if code.startswith("2"):
                    self.reset_txn()
                    self.mail_from, self.mail_params = addr, params
            elif verb == "RCPT":
                addr, params = self.path(arg, "TO:")
                d = DEFAULTS["rcpt"] if self.mail_from is not None else "503 5.5.1 Error: need MAIL command"
                code = self.respond("rcpt", [d], self.spec("rcpt", addr))
                if code.startswith("2"):
                    self.rcpts.append(addr)
                    if params:
                        self.rcpt_params[addr] = params
                else:
                    self.refused.append(addr)
            elif verb == "DATA":
                self.data()
            elif verb == "BDAT":
                self.bdat(arg)
            elif verb == "RSET":
                self.reset_txn()
                self.respond("rset", [DEFAULTS["rset"]])
            elif verb == "NOOP":
                self.respond("noop", [DEFAULTS["noop"]])
            elif verb == "VRFY":
                self.respond("vrfy", [DEFAULTS["vrfy"]])
            elif verb == "QUIT":
                sp = self.spec("quit")
                self.respond("quit", [DEFAULTS["quit"]], sp)
                raise Closed("quit")
            else:
                self.respond("unknown", [DEFAULTS["unknown"]])

    @staticmethod
    def declared_size(params):
        """The number of a SIZE= parameter, or None."""
        for w in params.split():
            if w.upper().startswith("SIZE=") and w[5:].isdigit():
                return int(w[5:])
        return None

    @staticmethod
    def path(arg, prefix):
        rest = arg
        if rest.upper().startswith(prefix):
            rest = rest[len(prefix):].strip()
        if rest.startswith("<") and ">" in rest:
            addr, params = rest[1:].split(">", 1)
        else:
            parts = rest.split(" ", 1)
            addr, params = parts[0], parts[1] if len(parts) > 1 else ""
        return addr, params.strip()

    def starttls(self):
        if self.srv.tls_ctx is None:
            d = "454 4.7.0 TLS not available"
        elif self.tls:
            d = "554 5.5.1 Error: TLS already active"
        else:
            d = DEFAULTS["starttls"]
        if self.buf:
            t, enc = text(self.buf)
            self.log("plaintext_after_starttls", bytes=len(self.buf), data=t,
                     **({"encoding": enc} if enc else {}))
            self.buf = b""
        sp = self.spec("starttls")
        code = self.respond("starttls", [d], sp)
        if not code.startswith("2") or self.tls:
            return
        if self.srv.tls_ctx is None:
            raise Closed("tls failed: no --tls-cert")
        self.raw.settimeout(max(0.1, min(30, self.srv.remaining())))
        try:
            s = self.srv.tls_ctx.wrap_socket(self.raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log("tls", ok=False, error=str(e))
            raise Closed("tls failed")
        s.settimeout(1.0)
        self.sock = s
        self.tls = True
        self.reset_txn()
        c = s.cipher()
        self.log("tls", ok=True, version=s.version(), cipher=c[0] if c else None,
                 sni=getattr(s, "fault_sni", None))

    def auth(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        initial = parts[1] if len(parts) > 1 else None
        responses = []
        challenges = []
        if mech in ("PLAIN", "XOAUTH2", "OAUTHBEARER") and initial is None:
            # RFC 4954 4: an empty challenge asks for the initial response
            # (sent this way when it is too long for the AUTH line).
            challenges = ["334 "]
        elif mech == "LOGIN":
            challenges = (["334 VXNlcm5hbWU6"] if initial is None else []) + ["334 UGFzc3dvcmQ6"]
        elif mech == "CRAM-MD5":
            ch = base64.b64encode(b"<%d.%d@fault.test>" % (os.getpid(), self.n)).decode()
            challenges = ["334 " + ch]
        aborted = False
        for ch in challenges:
            self.send((ch + "\r\n").encode(), "auth")
            r = self.read_line().rstrip(b"\r\n").decode("latin-1")
            responses.append(r)
            if r == "*":
                aborted = True
                break
        decoded = []
        for x in ([initial] if initial else []) + responses:
            try:
                decoded.append(text(base64.b64decode(x, validate=True))[0])
            except (binascii.Error, ValueError):
                decoded.append(None)
        self.log("auth", mechanism=mech, tls=self.tls, initial=initial,
                 responses=responses, decoded=decoded, aborted=aborted)
        if aborted:
            self.send(b"501 5.7.0 Authentication aborted\r\n", "auth")
            return
        if self.srv.args.oauth_tokens and mech in ("XOAUTH2", "OAUTHBEARER"):
            return self.oauth_check(mech, decoded[0] if decoded else None)
        self.respond("auth", [DEFAULTS["auth"]])

    def oauth_check(self, mech, resp):
        """--oauth-tokens: the bearer token must be live in the file, as
        Gmail checks it; else 334 + base64 JSON, the client's answer (an
        empty line for XOAUTH2, ^A for OAUTHBEARER), then 535 5.7.8."""
        token = None
        for part in (resp or "").split("\x01"):
            if part.startswith("auth=Bearer "):
                token = part[len("auth=Bearer "):]
        try:
            with open(self.srv.args.oauth_tokens, encoding="utf-8") as f:
                live = json.load(f)
        except (OSError, ValueError):
            live = {}
        expiry = live.get(token) if token else None
        state = "ok" if expiry and expiry > time.time() else ("stale" if expiry else "unknown")
        if state == "ok":
            self.log("oauth", mechanism=mech, result="ok")
            return self.respond("auth", [DEFAULTS["auth"]])
        err = json.dumps({"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"})
        self.send(("334 " + base64.b64encode(err.encode()).decode() + "\r\n").encode(), "auth")
        answer = self.read_line().rstrip(b"\r\n").decode("latin-1")
        want = "" if mech == "XOAUTH2" else "AQ=="
        self.log("oauth", mechanism=mech, result=state, answer_ok=answer == want)
        self.send(b"535 5.7.8 Username and Password not accepted. For more information, go to "
                  b"https://support.google.com/mail/?p=BadCredentials\r\n", "auth")

    def data(self):
        if self.mail_from is None:
            d = "503 5.5.1 Error: need MAIL command"
        elif not self.rcpts:
            d = "554 5.5.1 Error: no valid recipients"
        else:
            d = DEFAULTS["data"]
        code = self.respond("data", [d])
        if not code.startswith("3"):
            return
        body = []
        wire = 0
        bare_lf = 0
        while True:
            raw = self.read_line()
            wire += len(raw)
            if not raw.endswith(b"\r\n"):
                bare_lf += 1
            if raw.rstrip(b"\r\n") == b".":
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            body.append(raw)
        self.finish_message(b"".join(body), wire, bare_lf, "DATA")

    def bdat(self, arg):
        parts = arg.split()
        try:
            size = int(parts[0])
        except (IndexError, ValueError):
            self.respond("unknown", ["501 5.5.4 Syntax: BDAT count [LAST]"])
            return
        last = len(parts) > 1 and parts[1].upper() == "LAST"
        chunk = self.read_exact(size)
        self.bdat_buf += chunk
        if last:
            data, self.bdat_buf = self.bdat_buf, b""
            self.finish_message(data, len(data), data.count(b"\n") - data.count(b"\r\n"), "BDAT")
        else:
            self.respond("bdat", ["250 2.0.0 Ok: %d octets" % size])

    def finish_message(self, data, wire, bare_lf, via):
        self.msg_no += 1
        d = "250 2.0.0 Ok: queued as C%dM%d" % (self.n, self.msg_no)
        if self.mail_from is None or not self.rcpts:
            d = "554 5.5.1 Error: no valid recipients"
        elif self.srv.script.get("enforce_size"):
            declared = self.declared_size(self.mail_params)
            if declared is not None and len(data) > declared:
                d = "552 5.3.4 Error: message larger than its declared SIZE"
            elif self.size_limit and len(data) > self.size_limit:
                d = "552 5.3.4 Error: message file too big"
        sp = self.spec("end_of_data")
        lines = self.lines_of(sp.get("reply"))
        reply = (lines or [d])[-1]
        cap = self.srv.args.max_data_log
        t, enc = text(data[:cap])
        rec = dict(n=self.msg_no, tls=self.tls, mail_from=self.mail_from,
                   mail_params=self.mail_params, rcpts=self.rcpts,
                   rcpts_refused=self.refused, rcpt_params=self.rcpt_params, via=via,
                   data_bytes=len(data), wire_bytes=wire, lines=data.count(b"\n"),
                   bare_lf=bare_lf, sha256=hashlib.sha256(data).hexdigest(), data=t,
                   reply=reply if lines or not sp.get("action") else None)
        if sp.get("action"):
            rec["action"] = sp["action"]
        if enc:
            rec["encoding"] = enc
        if len(data) > cap:
            rec["data_truncated"] = True
        self.log("message", **rec)
        self.reset_txn()
        self.respond("end_of_data", [d], sp)


def check_script(script):
    """Raises ValueError for a stage or action name that does not exist."""
    if not isinstance(script, dict):
        raise ValueError("the script must be a JSON object")
    per = script.get("connections", {})
    blocks = [script.get("default", {})] + (list(per) if isinstance(per, list) else list(per.values()))
    if not isinstance(script.get("enforce_size", False), bool):
        raise ValueError("enforce_size must be true or false")
    top = {k: v for k, v in script.items() if k not in ("default", "connections", "enforce_size")}
    blocks.append(top)

    def spec_ok(stage, v):
        if isinstance(v, dict):
            if v.get("action") is not None and v["action"] not in ACTIONS:
                raise ValueError("%s: unknown action %r" % (stage, v["action"]))
            for x in v.get("sequence", []):
                spec_ok(stage, x)
            for x in v.get("addresses", {}).values():
                spec_ok(stage, x)
            if isinstance(v.get("default"), dict):
                spec_ok(stage, v["default"])
    for b in blocks:
        if not isinstance(b, dict):
            raise ValueError("a connection's stages must be a JSON object")
        for stage, v in b.items():
            if stage not in STAGES:
                raise ValueError("unknown stage %r (stages: %s)" % (stage, ", ".join(sorted(STAGES))))
            spec_ok(stage, v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    sg = ap.add_mutually_exclusive_group(required=True)
    sg.add_argument("--script")
    sg.add_argument("--script-inline")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--stop-file")
    ap.add_argument("--ready-file")
    ap.add_argument("--idle-timeout", type=float, default=300)
    ap.add_argument("--max-data-log", type=int, default=1 << 20)
    ap.add_argument("--oauth-tokens")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("--host must be a loopback address (127.0.0.1 or ::1)")
    if args.host == "localhost":
        args.host = "127.0.0.1"
    try:
        if args.script_inline is not None:
            script = json.loads(args.script_inline)
        else:
            with open(args.script, encoding="utf-8") as f:
                script = json.load(f)
        check_script(script)
    except (OSError, ValueError) as e:
        print("fault_server: bad script: %s" % e, file=sys.stderr)
        return 2
    srv = Server(args, script)

    def on_signal(signum, frame):
        srv.stopping.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    srv.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
