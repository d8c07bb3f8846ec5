"""A counting SMTP sink for relay's tests: aiosmtpd on a loopback port that
appends one line per delivered recipient, "TOKEN RCPT", where TOKEN is the
X-Token header of the message (or "-"). Bounded: exits after --max-seconds.

  /usr/bin/python3 tests/sink.py --port P --out FILE [--max-seconds 600] [--messages DIR]
                                 [--dot-delay SECONDS [--dot-delay-share P]]

With --messages, each message is also kept whole as DIR/TOKEN.eml. With
--dot-delay, the reply to the final dot of a share P (default 1) of the
messages, drawn at random, comes SECONDS after the message was recorded:
the window in which a stopping client could lose the reply to a message
the server already has.
"""
import asyncio
import random
import os
import argparse
import re
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, messages=None, dot_delay=0.0, dot_delay_share=1.0):
        self.out = out
        self.messages = messages
        self.dot_delay = dot_delay
        self.dot_delay_share = dot_delay_share
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
        if self.dot_delay > 0 and random.random() < self.dot_delay_share:
            await asyncio.sleep(self.dot_delay)
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--messages")
    ap.add_argument("--dot-delay", type=float, default=0.0)
    ap.add_argument("--dot-delay-share", type=float, default=1.0)
    a = ap.parse_args()
    c = Controller(Handler(a.out, a.messages, a.dot_delay, a.dot_delay_share),
                   hostname="127.0.0.1", port=a.port)
    c.start()
    print("ready", flush=True)
    try:
        time.sleep(a.max_seconds)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
