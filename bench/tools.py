#!/usr/bin/python3
"""Helpers for bench/run: message generators, queue fabrication, timers,
pollers and the report. Standard library only; every wait is bounded.

  tools.py gen-msg OUT                 the 2.9 KB cron-style message
  tools.py gen-big BYTES               a message of BYTES body bytes to stdout
  tools.py make-queue SPOOL N          N copies of SPOOL/queue's one entry
  tools.py sink-count FILE             messages an smtp-sink -c has counted
  tools.py wait-sink FILE N SECONDS    wait until the sink has counted N
  tools.py timeit SECONDS CMD...       run CMD (killed after SECONDS), print
                                       its wall time in seconds; exit status
                                       is CMD's
  tools.py pf-wait-held QDIR N SECONDS wait until Postfix holds N messages in
                                       deferred/ and nothing else
  tools.py pf-drain ETC QDIR SECONDS   postqueue -f, print seconds until the
                                       queue is empty
  tools.py wait-no-files DIR PREFIX SECONDS   print seconds until DIR has no
                                       file starting with PREFIX
  tools.py first-msg SINKOUT SECONDS CMD...   start CMD, print seconds until
                                       the sink counted one message, then
                                       stop CMD (SIGTERM, SIGKILL after 2 s)
  tools.py msgs-at SINKOUT K SECONDS CMD...  start CMD, print seconds until
                                       the sink counted 1 and K messages,
                                       then stop CMD
  tools.py proc PID                    rss_kib pss_kib hwm_kib ticks of PID
  tools.py report RESULTS OUTDIR       the table, results.md, the chart data
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time


def gen_msg(out):
    head = (
        "From: root (Cron Daemon)\n"
        "To: admin@example.net\n"
        "Subject: Cron <root@bench> /usr/local/sbin/nightly-backup --verbose\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "X-Cron-Env: <SHELL=/bin/sh>\n"
        "X-Cron-Env: <HOME=/root>\n"
        "X-Cron-Env: <PATH=/usr/bin:/bin>\n"
        "X-Cron-Env: <LOGNAME=root>\n"
        "\n"
    )
    lines = ["nightly-backup: starting run 2026-11-24 03:15:01 UTC on bench"]
    i = 0
    body = "\n".join(lines) + "\n"
    while len(head) + len(body) < 2900 - 80:
        i += 1
        lines.append("03:15:%02d sent /srv/data/projects/archive-%04d.tar.zst  %8d bytes  ok"
                     % (1 + i % 59, i, 1048576 + i * 7919))
        body = "\n".join(lines) + "\n"
    lines.append("nightly-backup: done, %d files, 0 errors, exit 0" % i)
    body = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(head + body)


def gen_big(nbytes):
    out = sys.stdout.buffer
    out.write(b"From: root (Cron Daemon)\nTo: admin@example.net\n"
              b"Subject: one GiB of output\n\n")
    # 1,000 different 76-character lines, written over and over.
    block = b"".join(b"%06d " % i + (b"abcdefghijklmnopqrstuvwxyz0123456789" * 3)[i % 36:i % 36 + 69] + b"\n"
                     for i in range(1000))
    left = nbytes
    while left >= len(block):
        out.write(block)
        left -= len(block)
    while left > 0:  # whole lines to the end
        n = min(77, left)
        out.write(b"x" * (n - 1) + b"\n")
        left -= n
    out.flush()


B32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def queue_id(micros, salt):
    h = "%013X" % micros
    s = ""
    for _ in range(6):
        s = B32[salt & 31] + s
        salt >>= 5
    return h + s


def make_queue(spool, n):
    qdir = os.path.join(spool, "queue")
    names = os.listdir(qdir)
    if len(names) != 1:
        sys.exit("make-queue: want exactly one entry in %s, found %d" % (qdir, len(names)))
    tpl = os.path.join(qdir, names[0])
    st = os.stat(tpl)
    data = open(tpl, "rb").read()
    m = re.search(rb"^id ([0-9A-Z]{19})\n", data, re.M)
    t = re.search(rb"^time ([0-9]+)\n", data, re.M)
    if not m or not t:
        sys.exit("make-queue: template has no id/time record")
    base = int(t.group(1)) - n * 10
    for i in range(n):
        micros = base + i * 10
        qid = queue_id(micros, 0x2BEEF + i % 1000)
        d = data.replace(m.group(0), b"id " + qid.encode() + b"\n", 1)
        d = d.replace(t.group(0), b"time %d\n" % micros, 1)
        assert len(d) == len(data)  # the end record still matches
        p = os.path.join(qdir, qid)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o7777)
        os.write(fd, d)
        os.fchown(fd, st.st_uid, st.st_gid)
        os.close(fd)
    os.unlink(tpl)


def sink_count(path):
    try:
        text = open(path, "rb").read().decode("ascii", "replace")
    except OSError:
        return 0
    found = re.findall(r"mesg=(\d+)", text)
    return int(found[-1]) if found else 0


def wait_sink(path, n, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if sink_count(path) >= n:
            return 0
        time.sleep(0.02)
    return 1


def run_bounded(cmd, secs):
    p = subprocess.Popen(cmd, start_new_session=True)
    try:
        return p.wait(timeout=secs)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        print("timeit: killed after %d s: %s" % (secs, " ".join(cmd)), file=sys.stderr)
        return 124


def timeit(secs, cmd):
    t0 = time.monotonic()
    rc = run_bounded(cmd, secs)
    print("%.6f" % (time.monotonic() - t0))
    return rc


def count_files(qdir, subdirs):
    n = 0
    for s in subdirs:
        for root, _, files in os.walk(os.path.join(qdir, s)):
            n += len(files)
    return n


def pf_wait_held(qdir, n, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if (count_files(qdir, ["deferred"]) >= n and
                count_files(qdir, ["maildrop", "incoming", "active"]) == 0):
            return 0
        time.sleep(0.1)
    print("pf-wait-held: deferred=%d others=%d after %d s" % (
        count_files(qdir, ["deferred"]),
        count_files(qdir, ["maildrop", "incoming", "active"]), secs), file=sys.stderr)
    return 1


def pf_drain(etc, qdir, secs):
    qs = ["maildrop", "incoming", "active", "deferred", "hold"]
    t0 = time.monotonic()
    subprocess.run(["/usr/sbin/postqueue", "-c", etc, "-f"], check=True)
    end = t0 + secs
    while time.monotonic() < end:
        if count_files(qdir, qs) == 0:
            print("%.6f" % (time.monotonic() - t0))
            return 0
        time.sleep(0.005)
    print("pf-drain: %d left after %d s" % (count_files(qdir, qs), secs), file=sys.stderr)
    return 1


def wait_no_files(d, prefix, secs):
    t0 = time.monotonic()
    end = t0 + secs
    while time.monotonic() < end:
        if not any(n.startswith(prefix) for n in os.listdir(d)):
            print("%.6f" % (time.monotonic() - t0))
            return 0
        time.sleep(0.005)
    print("wait-no-files: %s still has %s* after %d s" % (d, prefix, secs), file=sys.stderr)
    return 1


def first_msg(sinkout, secs, cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, start_new_session=True)
    got = None
    while time.monotonic() - t0 < secs:
        if sink_count(sinkout) >= 1:
            got = time.monotonic() - t0
            break
        if p.poll() is not None:
            break
        time.sleep(0.001)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if got is None:
        print("first-msg: no message within %d s" % secs, file=sys.stderr)
        return 1
    print("%.6f" % got)
    return 0


def msgs_at(sinkout, k, secs, cmd):
    """Starts CMD; prints the seconds until the sink counted its first
    message and until it counted K, then stops CMD."""
    t0 = time.monotonic()
    base = sink_count(sinkout)
    p = subprocess.Popen(cmd, start_new_session=True)
    first = last = None
    while time.monotonic() - t0 < secs:
        n = sink_count(sinkout) - base
        if first is None and n >= 1:
            first = time.monotonic() - t0
        if n >= k:
            last = time.monotonic() - t0
            break
        if p.poll() is not None and n < k:
            time.sleep(0.2)
            if sink_count(sinkout) - base < k:
                break
        time.sleep(0.002)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if first is None or last is None:
        print("msgs-at: %s of %d messages within %d s" % (sink_count(sinkout) - base, k, secs), file=sys.stderr)
        return 1
    print("%.6f %.6f" % (first, last))
    return 0


def proc(pid):
    st = open("/proc/%s/status" % pid).read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1))
    try:
        sm = open("/proc/%s/smaps_rollup" % pid).read()
        pss = int(re.search(r"Pss:\s+(\d+)", sm).group(1))
    except (OSError, AttributeError):
        pss = 0
    stat = open("/proc/%s/stat" % pid).read()
    f = stat[stat.rindex(")") + 2:].split()
    ticks = int(f[11]) + int(f[12])  # utime + stime (fields 14, 15)
    print(rss, pss, hwm, ticks)


# --- report ---------------------------------------------------------------

PEERS = ["relay", "postfix", "nullmailer", "dma"]
# key, label, unit, scale, better ("lo"/"hi"), in chart
METRICS = [
    ("inject_median", "injection median (sendmail -i < 2.9 KB)", "ms", 1e3, "lo", True),
    ("inject_p95", "injection p95", "ms", 1e3, "lo", True),
    ("drain_plain", "drain 2,000 msgs, plain SMTP", "msg/s", 1, "hi", True),
    ("drain_tls", "drain 2,000 msgs, STARTTLS+AUTH", "msg/s", 1, "hi", True),
    ("drain_tls_sink", "drain 2,000 msgs, STARTTLS+AUTH, bench/tls_sink", "msg/s", 1, "hi", True),
    ("oauth_drain_plain", "drain, STARTTLS + AUTH PLAIN, to fault_server.py", "msg/s", 1, "hi", False),
    ("oauth_drain_xoauth2", "drain, STARTTLS + XOAUTH2 (token store), to fault_server.py", "msg/s", 1, "hi", False),
    ("oauth_run_live", "delivery run of 1 message, access token live", "ms", 1e3, "lo", False),
    ("oauth_run_refresh", "delivery run of 1 message, token refreshed first", "ms", 1e3, "lo", False),
    ("idle_rss", "idle daemon RSS", "MiB", 1 / 1024, "lo", True),
    ("idle_pss", "idle daemon PSS", "MiB", 1 / 1024, "lo", False),
    ("idle_ticks", "idle CPU ticks in 5 s", "ticks", 1, "lo", False),
    ("big_inject_rss", "1 GiB inject, max RSS", "MiB", 1 / 1024, "lo", True),
    ("big_inject_time", "1 GiB inject, wall time", "s", 1, "lo", False),
    ("big_inject_cpu", "1 GiB inject, CPU (user+system)", "s", 1, "lo", False),
    ("big_relay_rss", "1 GiB relay to sink, max RSS", "MiB", 1 / 1024, "lo", True),
    ("big_relay_time", "1 GiB relay to sink, wall time", "s", 1, "lo", False),
    ("big_relay_cpu", "1 GiB relay to sink, CPU (user+system)", "s", 1, "lo", False),
    ("mailq_100k", "mailq, 100,000 entries (median of 5)", "s", 1, "lo", False),
    ("startup_100k", "--once start to first message, 100,000 queued", "s", 1, "lo", False),
]


def fmt(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


# Figures divided by the floor measured in the same run (bench/floor.c for
# the small injection, dd conv=fdatasync for 1 GiB), and whether each
# program's injection reached the disk (strace, fig_durable).
FLOORED = [
    ("inject_median", "injection median, x floor (static copy + fsync file and dir)"),
    ("big_inject_time", "1 GiB inject, x floor (dd conv=fdatasync)"),
]


def floor_rows(get, vals):
    rows = []
    for key, label in FLOORED:
        floor = get(key, "floor")
        row = [label, "x (lower is better; 1 = the floor)"]
        xs = {}
        for p in PEERS:
            v = get(key, p)
            xs[p] = v / floor if v is not None and floor else None
            row.append(fmt(xs[p]))
        for p in PEERS[1:]:
            row.append("-")
        row[1] += "; floor %s" % (fmt(floor * (1e3 if key == "inject_median" else 1)) +
                                  (" ms" if key == "inject_median" else " s") if floor else "-")
        rows.append(row)
    row = ["drain STARTTLS+AUTH (tls_sink) / plain drain", "x (higher is better; sink ceiling %s msg/s)"
           % fmt(get("drain_tls_sink", "ceiling"))]
    for p in PEERS:
        a, b = get("drain_tls_sink", p), get("drain_plain", p)
        row.append(fmt(a / b) if a is not None and b else "-")
    row.extend("-" for _ in PEERS[1:])
    rows.append(row)
    row = ["64 MiB inject: durable? (fsync-like calls, strace)", "calls"]
    for p in PEERS:
        v = vals.get("durable.%s" % p)
        if v is None:
            row.append("-")
        else:
            n, _, kinds = v.partition(" ")
            row.append(("durable: " if n != "0" else "NOT durable: ") + n + (" (" + kinds + ")" if kinds else ""))
    row.extend("-" for _ in PEERS[1:])
    rows.append(row)
    return rows


# Growth curves (fig_curves): key, label, x's unit, value's unit, per-unit
# label (value / x), or None where a per-unit cost means nothing (a rate).
CURVES = [
    ("curve_mailq", "mailq", "queued entries", "s", "us per entry", 1e6),
    ("curve_startup", "--once start to first message", "queued entries", "s", "us per entry", 1e6),
    ("curve_drain", "drain rate (messages 2..K)", "queued entries", "msg/s", None, None),
    ("curve_inject", "injection", "message bytes", "s", "ns per byte", 1e9),
    ("curve_rcpt_inject", "injection, one message", "recipients", "s", "us per recipient", 1e6),
    ("curve_rcpt_deliver", "delivery, one message", "recipients", "s", "us per recipient", 1e6),
]


def curve_points(vals, key):
    pts = []
    for k, v in vals.items():
        m, _, x = k.partition(".")
        if m == key and x.isdigit() and v not in ("", "na"):
            pts.append((int(x), float(v)))
    return sorted(pts)


def curve_tables(vals, datadir):
    md = []
    with open(os.path.join(datadir, "curves.dat"), "w") as f:
        for i, (key, label, xunit, unit, per, scale) in enumerate(CURVES):
            pts = curve_points(vals, key)
            f.write("# %d %s\n" % (i, label))
            for x, v in pts:
                f.write("%d %.9g\n" % (x, v))
            f.write("\n\n")
            if not pts:
                continue
            md.append("| %s | %s | %s%s |" % (label, xunit, unit, " | " + per if per else ""))
            md.append("| --- | --- | ---%s |" % (" | ---" if per else ""))
            for x, v in pts:
                md.append("| | %s | %s%s |" % ("{:,}".format(x), fmt(v), " | " + fmt(v / x * scale) if per else ""))
            md.append("")
    return md


def report(results, outdir):
    vals, notes, info = {}, [], {}
    for line in open(results):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition("=")
        if k == "note":
            notes.append(v)
        elif k.startswith("info."):
            info[k[5:]] = v
        else:
            vals[k] = v
    def get(m, p):
        v = vals.get("%s.%s" % (m, p))
        if v is None or v in ("", "na"):
            return None
        return float(v)
    rows, chart = [], []
    header = ["figure", "unit"] + PEERS + ["relay/postfix", "relay/nullmailer", "relay/dma"]
    for key, label, unit, scale, better, in_chart in METRICS:
        row = [label, unit + (" (lower is better)" if better == "lo" else " (higher is better)")]
        xs = {}
        for p in PEERS:
            v = get(key, p)
            xs[p] = None if v is None else v * scale
            row.append(fmt(xs[p]) if v is not None else vals.get("%s.%s" % (key, p), "-").replace("na", "-") or "-")
        crow = [label]
        for p in PEERS[1:]:
            r = None
            if xs["relay"] is not None and xs[p] not in (None, 0):
                r = xs["relay"] / xs[p]
            row.append("%.3g" % r if r is not None else "-")
            # chart: how many times better relay is (> 1: relay better)
            adv = None
            if r is not None and r > 0:
                adv = r if better == "hi" else 1 / r
            crow.append(adv)
        rows.append(row)
        if in_chart:
            chart.append(crow)
    rows.extend(floor_rows(get, vals))
    machine = ["%s: %s" % (k, info[k]) for k in ("date", "cpu", "nproc", "kernel", "memory", "disk", "versions", "load") if k in info]
    # plain-text table
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    txt = []
    txt.append("  ".join(h.ljust(widths[i]) for i, h in enumerate(header)))
    txt.append("  ".join("-" * w for w in widths))
    for r in rows:
        txt.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)))
    txt.append("")
    txt.append("ratio = relay / peer: below 1 relay is smaller or faster for ms, s, MiB and ticks;"
               " above 1 relay is faster for msg/s.")
    txt.extend(machine)
    for n in notes:
        txt.append("note: " + n)
    print("\n".join(txt))
    md = ["# relay benchmark results", "",
          "Written by `bench/run`; see bench/README.md for the method.", ""]
    md.append("| " + " | ".join(header) + " |")
    md.append("| " + " | ".join("---" for _ in header) + " |")
    for r in rows:
        md.append("| " + " | ".join(str(c) for c in r) + " |")
    md.append("")
    md.append("ratio = relay / peer: below 1 relay is smaller or faster for ms, s, MiB and"
              " ticks; above 1 relay is faster for msg/s. `-`: not measured or not applicable"
              " (see the notes).")
    md.append("")
    md.append("Machine:")
    md.append("")
    for m in machine:
        md.append("- " + m)
    if notes:
        md.append("")
        md.append("Notes from this run:")
        md.append("")
        for n in notes:
            md.append("- " + n)
    curves = curve_tables(vals, os.path.dirname(os.path.abspath(results)))
    if curves:
        md.append("")
        md.append("Growth curves (relay only; per-unit cost = value / x, flat when growth is linear):")
        md.append("")
        md.extend(curves)
    md.append("")
    md.append("![chart](results.png)")
    open(os.path.join(outdir, "results.md"), "w").write("\n".join(md) + "\n")
    with open(os.path.join(os.path.dirname(os.path.abspath(results)), "chart.dat"), "w") as f:
        f.write("# figure vs_postfix vs_nullmailer vs_dma (times better; > 1: relay better)\n")
        for c in chart:
            f.write('"%s" %s\n' % (c[0].replace('"', "'"),
                                   " ".join("%.6g" % x if x is not None else "NaN" for x in c[1:])))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    c = a[0]
    if c == "gen-msg":
        gen_msg(a[1])
    elif c == "gen-big":
        gen_big(int(a[1]))
    elif c == "make-queue":
        make_queue(a[1], int(a[2]))
    elif c == "sink-count":
        print(sink_count(a[1]))
    elif c == "wait-sink":
        sys.exit(wait_sink(a[1], int(a[2]), float(a[3])))
    elif c == "timeit":
        sys.exit(timeit(float(a[1]), a[2:]))
    elif c == "pf-wait-held":
        sys.exit(pf_wait_held(a[1], int(a[2]), float(a[3])))
    elif c == "pf-drain":
        sys.exit(pf_drain(a[1], a[2], float(a[3])))
    elif c == "wait-no-files":
        sys.exit(wait_no_files(a[1], a[2], float(a[3])))
    elif c == "first-msg":
        sys.exit(first_msg(a[1], float(a[2]), a[3:]))
    elif c == "msgs-at":
        sys.exit(msgs_at(a[1], int(a[2]), float(a[3]), a[4:]))
    elif c == "proc":
        proc(a[1])
    elif c == "hyperfine":  # JSON files -> "median p95" in seconds, all runs merged
        t = sorted(x for f in a[1:] for x in json.load(open(f))["results"][0]["times"])
        p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
        print("%.9f %.9f" % (statistics.median(t), p95))
    elif c == "report":
        report(a[1], a[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
