#!/usr/bin/python3
"""Plays systemd's side of sd_notify(3) for tests: binds an AF_UNIX datagram
socket (a path, or "@name" for an abstract one, as $NOTIFY_SOCKET names
them) and writes each datagram it receives to LOG as one line,
"SECONDS MESSAGE", SECONDS from a monotonic clock (for the reader to see
the order and spacing, never as a pass mark). Standard library only.

  /usr/bin/python3 tests/notify_socket.py ADDRESS LOG READY_FILE

READY_FILE is created once the socket is bound. Exits on SIGTERM.
"""
import os
import signal
import socket
import sys
import time


def main():
    addr, log, ready = sys.argv[1:4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    if not addr.startswith("@"):
        os.chmod(addr, 0o777)  # relayd runs as the spool's owner, not root
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready, "w") as f:
        f.write("ready\n")
    start = time.monotonic()
    with open(log, "a") as out:
        while True:
            data = s.recv(4096)
            for msg in data.decode("utf-8", "replace").split("\n"):
                if msg:
                    out.write("%.3f %s\n" % (time.monotonic() - start, msg))
            out.flush()


if __name__ == "__main__":
    main()
