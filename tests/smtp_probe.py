"""A raw SMTP client for relay's doors, for what smtplib cannot send: bytes
exactly as given (bare LF, bare CR, a dot split across TCP segments),
each argument one segment, sent with its own write after a pause so that
the server reads it on its own. Python's standard library only.

  smtp_probe.py pipe -- SEGMENT... -- COMMAND [ARG...]
      runs COMMAND (sendmail -bs) and writes the segments to its standard
      input, one write each, then closes it
  smtp_probe.py tcp HOST PORT [--source ADDR] [--tls CAFILE USER PASSWORD] -- SEGMENT...
      connects (from ADDR); with --tls first STARTTLS (the server's
      certificate verified against CAFILE) and AUTH PLAIN, through smtplib;
      then the segments, on the same (TLS) connection

A SEGMENT is text with Python escapes ("EHLO c\\r\\n", "line\\n"), taken
as latin-1 bytes. After the last segment the probe reads every reply
until the server closes (the segments should end with QUIT) and prints
them, then a summary line:

  summary: queued=N mail_ok=M

N counts "250 2.0.0 Ok: queued as" replies (messages taken), M counts
"250 2.1.0" replies (MAIL commands that began a transaction). Every
socket and child has a timeout, so nothing here can hang a test run.
"""
import smtplib
import socket
import ssl
import subprocess
import sys
import time

PAUSE = 0.2  # between segments: each is its own read on the server


def segments(args):
    return [a.encode("latin-1").decode("unicode_escape").encode("latin-1") for a in args]


def summary(replies):
    text = replies.decode("latin-1")
    sys.stdout.write(text)
    print("summary: queued=%d mail_ok=%d" % (text.count("250 2.0.0 Ok: queued as"), text.count("250 2.1.0")))


def run_pipe(segs, command):
    p = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for s in segs:
        p.stdin.write(s)
        p.stdin.flush()
        time.sleep(PAUSE)
    p.stdin.close()
    out = p.stdout.read()
    p.wait(timeout=60)
    summary(out)


def read_all(sock):
    got = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError):
            break
        if not chunk:
            break
        got += chunk
    return got


def run_tcp(host, port, source, tls, segs):
    if tls:
        cafile, user, password = tls
        c = smtplib.SMTP(host, port, source_address=(source, 0) if source else None, timeout=30)
        c.starttls(context=ssl.create_default_context(cafile=cafile))
        c.login(user, password)
        sock = c.sock
    else:
        sock = socket.create_connection((host, port), timeout=30,
                                        source_address=(source, 0) if source else None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(30)
    greeting = b"" if tls else sock.recv(4096)
    for s in segs:
        sock.sendall(s)
        time.sleep(PAUSE)
    summary(greeting + read_all(sock))
    sock.close()


def main():
    argv = sys.argv[1:]
    mode = argv.pop(0)
    if mode == "pipe":
        assert argv[0] == "--"
        rest = argv[1:]
        cut = rest.index("--")
        run_pipe(segments(rest[:cut]), rest[cut + 1:])
        return
    if mode != "tcp":
        sys.exit("unknown mode " + mode)
    host, port = argv.pop(0), int(argv.pop(0))
    source = tls = None
    while argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--source":
            source = argv.pop(0)
        elif opt == "--tls":
            tls = (argv.pop(0), argv.pop(0), argv.pop(0))
        else:
            sys.exit("unknown option " + opt)
    run_tcp(host, port, source, tls, segments(argv[1:]))


if __name__ == "__main__":
    main()
