#!/usr/bin/env python3
"""stomp.py side of stompsh's comparison benchmark (bench/compare.sh), and its start-up and load.sh helpers.

Every mode prints ONE JSON line of figures on stdout (times from time.perf_counter, seconds).

  py_bench.py send URL DEST [-n N] [--size B] [--receipts none|each|window:W]
      stomp.py publishes N messages of B bytes. none: no receipts; each: one receipt per message, waited for
      before the next (sequential); window:W: a receipt per message, at most W outstanding.
      Whatever the mode, a last SEND with a receipt is waited for, so `confirmed_msgs_per_s` counts what the
      broker took; `msgs_per_s` is the same figure (written_s is the time the last frame left the client).
  py_bench.py consume URL DEST [-n N] [--ack auto|client-individual] [--prefetch P]
      stomp.py consumes N messages (the queue must hold them: compare.sh fills it with bench/floor.c).
  py_bench.py prompt BIN [URL] [--runs R]
      Start-up to the first prompt: starts `BIN [URL]` in a pseudo-terminal R times (after one warm-up run) and
      times each from the fork to the prompt's "> " on the terminal; prints the median, mean and min (ms).
  py_bench.py loadsummary --ok true|false
      Reads bench/load.sh's output on stdin and prints its figures (RSS after connect, chunk 1, middle, end,
      peak; rates) as one JSON line.

The bare-socket floor is bench/floor.c (C: a Python floor is slower than stompsh on some rows, so it was no floor).
"""
import argparse
import json
import re
import resource
import socket
import sys
import threading
import time
from urllib.parse import urlparse

import stomp


def hostport(url):
    u = urlparse(url)
    return u, (u.hostname or "127.0.0.1", u.port or 61613)


def connect(url, listener):
    u, hp = hostport(url)
    conn = stomp.Connection12([hp], heartbeats=(0, 0), auto_content_length=True, vhost=(u.path.lstrip("/") or "/"))
    conn.set_listener("bench", listener)
    conn.connect(u.username or "guest", u.password or "guest", wait=True)
    # small frames waited for one by one: without TCP_NODELAY Nagle + delayed ACK add ~40 ms
    conn.transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def percentiles(lat_s):
    if not lat_s:
        return None
    lat = sorted(lat_s)

    def p(q):
        return round(lat[min(len(lat) - 1, int(len(lat) * q / 100.0))] * 1000.0, 3)

    return {"count": len(lat), "min": round(lat[0] * 1000.0, 3), "p50": p(50), "p90": p(90), "p99": p(99),
            "p99.9": p(99.9), "max": round(lat[-1] * 1000.0, 3), "mean": round(sum(lat) / len(lat) * 1000.0, 3)}


class Receipts(stomp.ConnectionListener):
    def __init__(self, window):
        self.lock = threading.Lock()
        self.sem = threading.Semaphore(window) if window else None
        self.started = {}
        self.latencies = []
        self.events = {}
        self.errors = 0

    def expect(self, rid, event=None):
        with self.lock:
            self.started[rid] = time.perf_counter()
            if event is not None:
                self.events[rid] = event

    def on_receipt(self, frame):
        now = time.perf_counter()
        rid = frame.headers.get("receipt-id")
        with self.lock:
            t0 = self.started.pop(rid, None)
            ev = self.events.pop(rid, None)
            if t0 is not None:
                self.latencies.append(now - t0)
        if self.sem is not None and t0 is not None and not rid.startswith("final"):
            self.sem.release()
        if ev is not None:
            ev.set()

    def on_error(self, frame):
        self.errors += 1
        sys.stderr.write("ERROR frame: %s\n" % frame.headers.get("message"))


def cmd_send(a):
    mode = a.receipts
    window = 0
    if mode.startswith("window:"):
        window = int(mode.split(":", 1)[1])
        mode = "window"
    listener = Receipts(window)
    conn = connect(a.url, listener)
    body = "x" * a.size
    t0 = time.perf_counter()
    if mode == "none":
        for _ in range(a.n):
            conn.send(a.dest, body)
    elif mode == "each":
        for i in range(a.n):
            ev = threading.Event()
            rid = "r%d" % i
            listener.expect(rid, ev)
            conn.send(a.dest, body, headers={"receipt": rid})
            if not ev.wait(30):
                raise SystemExit("receipt %s timed out" % rid)
    else:
        for i in range(a.n):
            listener.sem.acquire()
            rid = "r%d" % i
            listener.expect(rid)
            conn.send(a.dest, body, headers={"receipt": rid})
    written = time.perf_counter() - t0
    ev = threading.Event()
    listener.expect("final", ev)
    conn.send(a.dest, body, headers={"receipt": "final"})   # every earlier frame was taken when this comes back
    if not ev.wait(60):
        raise SystemExit("final receipt timed out")
    elapsed = time.perf_counter() - t0
    lat = [x for x in listener.latencies]
    conn.disconnect()
    out = {"client": "stomp.py", "bench": "send", "receipts": a.receipts, "messages": a.n, "size": a.size,
           "written_s": round(written, 4), "elapsed_s": round(elapsed, 4),
           "msgs_per_s": round(a.n / elapsed, 1), "mb_per_s": round(a.n * a.size / elapsed / 1e6, 3)}
    if mode != "none":
        out["latency_ms"] = percentiles(lat[:-1] if len(lat) > a.n else lat)
    print(json.dumps(out))


class Consumer(stomp.ConnectionListener):
    def __init__(self, n, ack):
        self.n = n
        self.ack = ack
        self.count = 0
        self.first = None
        self.done = threading.Event()
        self.conn = None

    def on_message(self, frame):
        if self.first is None:
            self.first = time.perf_counter()
        if self.ack != "auto":
            self.conn.ack(frame.headers["ack"])
        self.count += 1
        if self.count == self.n:
            self.end = time.perf_counter()
            self.done.set()


def cmd_consume(a):
    c = Consumer(a.n, a.ack)
    conn = connect(a.url, c)
    c.conn = conn
    headers = {}
    if a.prefetch:
        headers = {"activemq.prefetchSize": str(a.prefetch), "prefetch-count": str(a.prefetch)}
    t0 = time.perf_counter()
    conn.subscribe(a.dest, id="bench", ack=a.ack, headers=headers)
    ok = c.done.wait(a.timeout)
    elapsed = (c.end if ok else time.perf_counter()) - t0
    conn.disconnect()
    print(json.dumps({"client": "stomp.py", "bench": "consume", "ack": a.ack, "messages": min(c.count, a.n),
                      "complete": ok, "elapsed_s": round(elapsed, 4),
                      "msgs_per_s": round(min(c.count, a.n) / elapsed, 1) if elapsed > 0 else 0,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}))


def cmd_prompt(a):
    import os
    import pty
    import select
    import statistics

    argv = [a.url] + ([a.dest] if a.dest else [])
    times = []
    for i in range(a.runs + 1):
        t0 = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(argv[0], argv)
        out = b""
        ok = False
        while time.perf_counter() - t0 < 10:
            r, _, _ = select.select([fd], [], [], 10)
            if not r:
                break
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            out += d
            if out.rstrip(b" ").endswith(b">") and out.endswith(b"> "):
                ok = True
                break
        t1 = time.perf_counter()
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
        if not ok:
            raise SystemExit("no prompt from %s: %r" % (" ".join(argv), out[-300:]))
        if i > 0:   # the first run warms the page cache up
            times.append((t1 - t0) * 1000.0)
    print(json.dumps({"median_ms": round(statistics.median(times), 2), "mean_ms": round(statistics.mean(times), 2),
                      "min_ms": round(min(times), 2), "runs": len(times), "tool": "pty, fork to prompt"}))


def cmd_loadsummary(a):
    text = sys.stdin.read()
    out = {"ok": a.ok == "true"}
    m = re.search(r"RSS after connect ([0-9.]+) MB; start \(after chunk 1\) ([0-9.]+) MB, middle \(after chunk \d+\) "
                  r"([0-9.]+) MB, end ([0-9.]+) MB, peak ([0-9.]+) MB", text)
    if m:
        for k, v in zip(("connect_mb", "start_mb", "middle_mb", "end_mb", "peak_mb"), m.groups()):
            out[k] = float(v)
        out["growth_mb"] = round(out["end_mb"] - out["start_mb"], 1)
    m = re.search(r"published (\d+) in [0-9.]+ s \((\d+) msgs/s\), consumed (\d+) in [0-9.]+ s \((\d+) msgs/s\)", text)
    if m:
        out.update(messages=int(m.group(1)), send_msgs_per_s=int(m.group(2)), consumed=int(m.group(3)),
                   consume_msgs_per_s=int(m.group(4)))
    fail = [l for l in text.splitlines() if "FAIL" in l]
    if fail:
        out["failure"] = fail[0][:300]
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "consume", "prompt", "loadsummary"])
    ap.add_argument("url", nargs="?")
    ap.add_argument("dest", nargs="?")
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--receipts", default="none")
    ap.add_argument("--ack", default="auto", choices=["auto", "client-individual"])
    ap.add_argument("--prefetch", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--ok", default="true")
    a = ap.parse_args()
    if a.mode in ("send", "consume") and not a.dest:
        ap.error("%s needs URL and DEST" % a.mode)
    {"send": cmd_send, "consume": cmd_consume, "prompt": cmd_prompt, "loadsummary": cmd_loadsummary}[a.mode](a)

if __name__ == "__main__":
    main()
