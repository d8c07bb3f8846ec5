"""A counting SMTP sink for relay's tests: aiosmtpd on a loopback port that
appends one line per delivered recipient, "TOKEN RCPT", where TOKEN is the
X-Token header of the message (or "-"). Bounded: exits after --max-seconds.

  /usr/bin/python3 tests/sink.py --port P --out FILE [--max-seconds 600] [--messages DIR]

With --messages, each message is also kept whole as DIR/TOKEN.eml.
"""
import os
import argparse
import re
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, messages=None):
        self.out = out
        self.messages = messages
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        m = re.search(rb"^X-Token: (\S+)", data, re.M)
        token = m.group(1).decode() if m else "-"
        if self.messages and re.fullmatch(r"[\w.-]+", token):
            with open(os.path.join(self.messages, token + ".eml"), "wb") as f:
                f.write(data)
        with self.lock, open(self.out, "a") as f:
            for r in envelope.rcpt_tos:
                f.write(f"{token} {r}\n")
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--messages")
    a = ap.parse_args()
    c = Controller(Handler(a.out, a.messages), hostname="127.0.0.1", port=a.port)
    c.start()
    print("ready", flush=True)
    try:
        time.sleep(a.max_seconds)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
