"""Load and protocol checks for relay's SMTP listener, with Python's smtplib
(a client this project did not write). Bounded in count and time.

  listener_load.py PORT CLIENTS MESSAGES   -> prints "sent N in S s"
  listener_load.py PORT smuggle            -> tries SMTP smuggling
  listener_load.py PORT refused            -> prints the reply to RCPT TO:<>
"""
import smtplib
import socket
import sys
import threading
import time

port = int(sys.argv[1])

if sys.argv[2] == "smuggle":
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO c\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    for _ in range(3):
        f.readline()
    # A bare-LF dot, then a smuggled transaction, then the real end.
    s.sendall(b"X-Token: smuggle1\r\n\r\nline\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@x.test>\r\n.\r\nQUIT\r\n")
    print(f.readline().decode().strip())
    s.close()
    sys.exit(0)

if sys.argv[2] == "refused":
    c = smtplib.SMTP("127.0.0.1", port, timeout=10)
    c.ehlo("c")
    c.mail("a@x.test")
    code, msg = c.docmd("RCPT TO:<>")
    print(code, msg.decode())
    c.quit()
    sys.exit(0)

clients, per = int(sys.argv[2]), int(sys.argv[3])
errors = []


def worker(n):
    try:
        c = smtplib.SMTP("127.0.0.1", port, timeout=60)
        c.ehlo("load%d" % n)
        for i in range(per):
            msg = "X-Token: load-%d-%d\r\nSubject: load\r\n\r\nbody %d %d\r\n" % (n, i, n, i)
            c.sendmail("load@x.test", ["r%d@x.test" % n], msg)
        c.quit()
    except Exception as e:  # reported, and the test fails on the count
        errors.append(repr(e))


start = time.time()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=120)
elapsed = time.time() - start
print("sent %d in %.2f s (%.0f msg/s queued)" % (clients * per - len(errors) * per, elapsed, clients * per / elapsed))
for e in errors:
    print("error:", e)
