"""Crash loop: SIGKILL the injector and relayd at random points, then prove
that no accepted message was lost and nothing corrupt became visible.

Each iteration pipes a message carrying a unique X-Token through sendmail
and SIGKILLs sendmail after a random delay (or lets it finish), while a
relayd daemon delivers to a counting sink and is itself SIGKILLed and
restarted at random moments. At the end relayd drains the queue, and:

  accepted   messages whose sendmail exited 0
  delivered  distinct tokens the sink received
  lost       accepted tokens never delivered          (must be 0)
  corrupt    entries relayd moved to corrupt/, or queue files without a
             valid end record seen at any time         (must be 0)
  duplicates deliveries beyond the first per token (only possible when a
             kill fell between the final dot and the queue update)

With CRASH_LOOP_SIGNAL=TERM, relayd is stopped with SIGTERM instead (as
systemctl stop does) and waited for, and the sink answers the final dot of
one message in eight 4 s after it has the message, longer than
relay-deliver's 3 s grace for work in flight, so that stops land in that
window: a stop must wait for the reply, so duplicates must be 0 as well.
With CRASH_LOOP_SIGNAL=KILLALL, the same slow dots, but relayd and its
delivery run are SIGKILLed together (a crash, the OOM killer, a power
cut): nothing can wait for the reply then, and the duplicates counted are
the window that remains (reported, not a failure).

Usage: crash_loop.py BIN SRC WORKDIR ITERATIONS
Prints the figures, and exits 1 if lost or corrupt is not zero (or, with
SIGTERM, duplicates).
"""
import os
import random
import signal
import socket
import subprocess
import sys
import time

BIN, SRC, WORK, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
random.seed(int(os.environ.get("CRASH_LOOP_SEED", "4242")))
MODE = os.environ.get("CRASH_LOOP_SIGNAL", "KILL")
TERM = MODE == "TERM"
SLOW_DOTS = MODE in ("TERM", "KILLALL")
spool = os.path.join(WORK, "spool")
for d in ("tmp", "queue", "state", "failed", "corrupt", "hold"):
    os.makedirs(os.path.join(spool, d), exist_ok=True)
root = os.geteuid() == 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


port = free_port()
conf = os.path.join(WORK, "relay.conf")
log = os.path.join(WORK, "relayd.log")
sinkout = os.path.join(WORK, "sink.out")
with open(conf, "w") as f:
    f.write(f"spool_dir = {spool}\ndomain = example.com\naliases = {WORK}/aliases\n"
            f"smarthost = 127.0.0.1:{port} none\nlog = {log}\nretry_min = 1s\nretry_max = 1s\n")
open(os.path.join(WORK, "aliases"), "w").close()
open(log, "a").close()
if root:
    os.chmod(WORK, 0o755)
    for p in (conf, os.path.join(WORK, "aliases")):
        os.chmod(p, 0o644)
    for dirpath, dirs, files in os.walk(spool):
        os.chown(dirpath, 65534, 65534)
    os.chown(log, 65534, 65534)

sink = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests", "sink.py"), "--port", str(port),
                         "--out", sinkout, "--max-seconds", "1200"] +
                        (["--dot-delay", "4", "--dot-delay-share", "0.125"] if SLOW_DOTS else []), stdout=subprocess.PIPE)
assert sink.stdout.readline().strip() == b"ready"


def start_relayd():
    # Its own process group, so that KILLALL reaches its delivery run too.
    return subprocess.Popen([os.path.join(BIN, "relayd"), "-C", conf], stderr=subprocess.DEVNULL,
                            start_new_session=True)


def check_visible_entries():
    """Every file visible in queue/ must be complete (a valid end record)."""
    bad = 0
    qdir = os.path.join(spool, "queue")
    for name in os.listdir(qdir):
        if name.startswith("."):
            continue
        try:
            with open(os.path.join(qdir, name), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # delivered meanwhile
        head_end = data.find(b"\ncontent\n")
        tail = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        if head_end < 0 or not tail.startswith(b"end "):
            bad += 1
            continue
        size = int(tail.split()[1])
        if head_end + 9 + size + len(tail) + 1 != len(data):
            bad += 1
    return bad


def stop_relayd(p):
    """SIGKILL, or SIGTERM and a wait for the orderly stop (bounded: a stop
    that never ends is killed and counted)."""
    global stuck
    if MODE == "KILLALL":
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return
    if not TERM:
        p.kill()
        p.wait()
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        stuck += 1
        p.kill()
        p.wait()


stuck = 0
accepted, kills_injector, kills_relayd, half_visible = set(), 0, 0, 0
relayd = start_relayd()
body = ("line of cron output " * 4 + "\n") * 30
for i in range(N):
    token = f"t{i:06d}"
    msg = f"Subject: crash loop {i}\nX-Token: {token}\n\n{body}".encode()
    p = subprocess.Popen([os.path.join(BIN, "sendmail"), "-C", conf, "-i", f"r{i % 7}@example.net"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_after = random.choice([None, None, random.uniform(0, 0.02)])
    try:
        if kill_after is None:
            p.communicate(msg, timeout=60)
        else:
            # Write part of the message, then kill at a random moment.
            p.stdin.write(msg[: random.randrange(len(msg))])
            p.stdin.flush()
            time.sleep(kill_after)
            p.kill()
            kills_injector += 1
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            p.wait()
    except BrokenPipeError:
        p.wait()
    if p.returncode == 0:
        accepted.add(token)
    if random.random() < 0.15:
        time.sleep(random.uniform(0, 0.03))
        stop_relayd(relayd)
        kills_relayd += 1
        half_visible += check_visible_entries()
        relayd = start_relayd()

# Drain: a clean relayd run until the queue is empty (bounded).
stop_relayd(relayd)
half_visible += check_visible_entries()
deadline = time.time() + 120
while time.time() < deadline:
    subprocess.run([os.path.join(BIN, "relayd"), "-C", conf, "--flush"], stderr=subprocess.DEVNULL)
    if not [n for n in os.listdir(os.path.join(spool, "queue")) if not n.startswith(".")]:
        break
    time.sleep(1)
sink.send_signal(signal.SIGTERM)
sink.wait()

counts = {}
if os.path.exists(sinkout):
    for line in open(sinkout):
        tok = line.split()[0]
        counts[tok] = counts.get(tok, 0) + 1
delivered = set(counts)
lost = accepted - delivered
duplicates = sum(c - 1 for c in counts.values())
corrupt = len(os.listdir(os.path.join(spool, "corrupt"))) + half_visible
left = len([n for n in os.listdir(os.path.join(spool, "queue")) if not n.startswith(".")])
unaccepted_delivered = len(delivered - accepted)
# Stops that came while a message's content or final dot was in flight
# (relay-deliver logs each wait for such a reply).
in_window = sum(line.count("already sent") for line in open(log, errors="replace"))

print(f"crash loop: iterations={N} kills={kills_injector + kills_relayd} "
      f"(injector SIGKILL {kills_injector}, relayd "
      f"{ {'TERM': 'SIGTERM', 'KILL': 'SIGKILL', 'KILLALL': 'and its run SIGKILL'}[MODE]} {kills_relayd}"
      f"{f', stops that hung {stuck}' if TERM else ''})")
print(f"  accepted={len(accepted)} delivered={len(delivered)} lost={len(lost)} "
      f"corrupt_or_half_visible={corrupt} duplicates={duplicates} still_queued={left} "
      f"delivered_without_exit0={unaccepted_delivered} stops_in_final_window={in_window}")
if lost:
    print("  lost tokens:", " ".join(sorted(lost)[:20]))
sys.exit(1 if lost or corrupt or left or (TERM and (duplicates or stuck)) else 0)
