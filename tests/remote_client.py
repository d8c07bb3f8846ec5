"""SMTP clients from beyond loopback for listen_remote_test.sh, built on
Python's smtplib and ssl (not on relay's code). Each mode prints what it
saw; the shell test checks the output.

  remote_client.py MODE SERVER PORT SOURCE CAFILE [ARGS]

MODE:
  send TOKEN USER PASSWORD  STARTTLS (server certificate verified against
                            CAFILE), AUTH, one message with X-Token TOKEN
  inject                    "STARTTLS" and "MAIL FROM" in one packet; after
                            TLS, QUIT: the MAIL must not have been read
  brute USER                wrong passwords until the server hangs up
  smtps-brute USER          the same over SMTP_SSL
  greeting                  connects and prints the first reply line
  smtps TOKEN USER PASSWORD smtplib.SMTP_SSL (TLS at connect, certificate
                            verified), AUTH, one message; prints whether
                            EHLO offered STARTTLS and AUTH
  smtps-noauth              SMTP_SSL, MAIL without AUTH: prints the refusal
  smtps-wrong USER          SMTP_SSL, AUTH with a wrong password: prints
                            the refusal
  smtps-connect             SMTP_SSL connect only: prints the greeting, or
                            how the connection ended before one
  silent                    connects, sends nothing, and prints how many
                            bytes came before the server closed
  hold USER PASSWORD        STARTTLS, AUTH, then prints "ready" and waits
                            2 s (so that the server process can be measured)
  load CLIENTS MESSAGES USER PASSWORD
                            CLIENTS threads, each one session sending
                            MESSAGES messages; prints the rate
CAFILE "-" turns certificate verification off (for the benchmark).
Every socket has a timeout, so nothing here can hang a test run.
"""
import smtplib
import socket
import ssl
import sys
import threading
import time


def context(cafile):
    if cafile == "-":  # bench/submission.sh only: no verification, on either server
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=cafile)


def client(server, port, source):
    return smtplib.SMTP(server, port, source_address=(source, 0), timeout=30)


def message(token, frm, to):
    return f"From: {frm}\r\nTo: {to}\r\nSubject: remote {token}\r\nX-Token: {token}\r\n\r\nbody {token}\r\n"


def send(server, port, source, cafile, token, user, password):
    with client(server, port, source) as s:
        s.starttls(context=context(cafile))
        s.login(user, password)
        refused = s.sendmail("app@remote.test", ["ops@example.net"], message(token, "app@remote.test", "ops@example.net"))
        print("sent", token, "refused", refused)


def recv_reply(sock):
    data = b""
    while not data.endswith(b"\r\n") or data.split(b"\r\n")[-2][3:4] == b"-":
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def inject(server, port, source, cafile):
    sock = socket.create_connection((server, port), timeout=30, source_address=(source, 0))
    recv_reply(sock)
    sock.sendall(b"EHLO inject.test\r\n")
    recv_reply(sock)
    # One write: the MAIL is pipelined behind STARTTLS, in the clear.
    sock.sendall(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
    print("starttls:", recv_reply(sock).strip())
    tls = context(cafile).wrap_socket(sock, server_hostname=server)
    tls.sendall(b"QUIT\r\n")
    print("after tls:", recv_reply(tls).strip())
    tls.close()


def brute(server, port, source, cafile, user):
    s = client(server, port, source)
    s.starttls(context=context(cafile))
    s.ehlo()
    guess(s, user)


def smtps_brute(server, port, source, cafile, user):
    s = smtps_client(server, port, source, cafile)
    s.ehlo()
    guess(s, user)


def guess(s, user):
    wrong = 0
    for i in range(10):
        try:
            code, text = s.docmd("AUTH", "PLAIN " + smtplib.encode_base64(f"\0{user}\0guess{i}".encode(), eol=""))
        except smtplib.SMTPServerDisconnected:
            print("disconnected after", wrong, "wrong passwords")
            return
        print("attempt", i, code, text.decode())
        if code == 535:
            wrong += 1
        if code == 421:
            # The 421 follows the last 535 at once; smtplib reads it as the
            # reply to the next command, which the server never read.
            print("closed after", wrong, "wrong passwords")
            return
    print("never closed")


def greeting(server, port, source, cafile):
    sock = socket.create_connection((server, port), timeout=30, source_address=(source, 0))
    print("greeting:", recv_reply(sock).strip())
    sock.close()


def smtps_client(server, port, source, cafile):
    return smtplib.SMTP_SSL(server, port, source_address=(source, 0), timeout=30, context=context(cafile))


def smtps(server, port, source, cafile, token, user, password):
    with smtps_client(server, port, source, cafile) as s:
        s.ehlo()
        print("smtps: STARTTLS offered:", s.has_extn("starttls"), "AUTH offered:", s.has_extn("auth"))
        s.login(user, password)
        refused = s.sendmail("app@remote.test", ["ops@example.net"], message(token, "app@remote.test", "ops@example.net"))
        print("smtps sent", token, "refused", refused)


def smtps_noauth(server, port, source, cafile):
    with smtps_client(server, port, source, cafile) as s:
        try:
            s.sendmail("app@remote.test", ["ops@example.net"], message("noauth", "app@remote.test", "ops@example.net"))
            print("smtps no auth: sent")
        except smtplib.SMTPSenderRefused as e:
            print("smtps no auth: refused", e.smtp_code, e.smtp_error.decode())


def smtps_connect(server, port, source, cafile):
    try:
        with smtps_client(server, port, source, cafile) as s:
            code, text = s.noop()
            print("smtps connect: served", code, text.decode())
    except (ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected) as e:
        # A close before the handshake's end; which exception says so
        # depends on the moment, the message on Python's version.
        print("smtps connect: closed before a greeting", type(e).__name__)


def silent(server, port, source, cafile):
    sock = socket.create_connection((server, port), timeout=30, source_address=(source, 0))
    got = b""
    while chunk := sock.recv(4096):
        got += chunk
    sock.close()
    print("silent: %d bytes before the close" % len(got), got[:60])


def smtps_wrong(server, port, source, cafile, user):
    with smtps_client(server, port, source, cafile) as s:
        try:
            s.login(user, "not-the-password")
            print("smtps wrong password: logged in")
        except smtplib.SMTPAuthenticationError as e:
            print("smtps wrong password: refused", e.smtp_code, e.smtp_error.decode())


def hold(server, port, source, cafile, user, password):
    with client(server, port, source) as s:
        s.starttls(context=context(cafile))
        s.login(user, password)
        print("ready", flush=True)
        time.sleep(2)


def load(server, port, source, cafile, clients, messages, user, password):
    errors = []

    def worker(n):
        try:
            with client(server, port, source) as s:
                s.starttls(context=context(cafile))
                s.login(user, password)
                for m in range(messages):
                    token = f"rload-{n}-{m}"
                    s.sendmail("app@remote.test", ["ops@example.net"], message(token, "app@remote.test", "ops@example.net"))
        except Exception as e:  # reported, not raised: the count tells
            errors.append(f"client {n}: {e!r}")

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    took = time.monotonic() - start
    for e in errors:
        print("error:", e)
    total = clients * messages
    print(f"{clients} clients x {messages} messages over STARTTLS+AUTH: {total} in {took:.2f} s, "
          f"{total / took:.0f} msg/s queued")


def main():
    mode, server, port, source, cafile = sys.argv[1:6]
    port = int(port)
    rest = sys.argv[6:]
    if mode == "send":
        send(server, port, source, cafile, *rest)
    elif mode == "inject":
        inject(server, port, source, cafile)
    elif mode == "brute":
        brute(server, port, source, cafile, *rest)
    elif mode == "smtps-brute":
        smtps_brute(server, port, source, cafile, *rest)
    elif mode == "greeting":
        greeting(server, port, source, cafile)
    elif mode == "smtps":
        smtps(server, port, source, cafile, *rest)
    elif mode == "smtps-noauth":
        smtps_noauth(server, port, source, cafile)
    elif mode == "smtps-connect":
        smtps_connect(server, port, source, cafile)
    elif mode == "silent":
        silent(server, port, source, cafile)
    elif mode == "smtps-wrong":
        smtps_wrong(server, port, source, cafile, *rest)
    elif mode == "hold":
        hold(server, port, source, cafile, *rest)
    elif mode == "load":
        load(server, port, source, cafile, int(rest[0]), int(rest[1]), rest[2], rest[3])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
