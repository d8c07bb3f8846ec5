# A "dead" address on loopback: a listener whose accept queue is full, so
# further SYNs are dropped and connect() hangs (as with a blackholed host).
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1", port)); s.listen(0)
fill = []
for _ in range(3):
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); c.setblocking(False)
    try: c.connect(("::1", port))
    except BlockingIOError: pass
    fill.append(c)
print("ready", flush=True)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 60)
