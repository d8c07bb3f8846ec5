"""A DNS server on loopback that answers nothing: every query's name and
type go to a log, one per line, and the answer is REFUSED (RFC 1035 4.1.1,
RCODE 5), so that a resolver gives up at once instead of timing out.
For tests/e2e/no_dns_test.sh: which queries does relay send?

usage: dns_trap.py ADDRESS PORT LOG   (prints "ready" when listening)
"""
import socket
import sys


def qname(packet):
    labels, i = [], 12
    while i < len(packet) and packet[i] != 0:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = int.from_bytes(packet[i + 1:i + 3], "big") if i + 3 <= len(packet) else 0
    return ".".join(labels), qtype


def main():
    addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        packet, peer = s.recvfrom(4096)
        if len(packet) < 12:
            continue
        name, qtype = qname(packet)
        with open(log, "a") as f:
            f.write("%s %d\n" % (name, qtype))
        # Same ID, QR=1, opcode and RD copied, RCODE=5; the question echoed.
        flags = 0x8000 | (packet[2] & 0x79) << 8 | 0x0005
        s.sendto(packet[:2] + flags.to_bytes(2, "big") + packet[4:6] + b"\0" * 6 + packet[12:], peer)


if __name__ == "__main__":
    main()
