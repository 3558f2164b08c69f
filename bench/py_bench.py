#!/usr/bin/env python3
"""stomp.py side of stompsh's comparison benchmark (bench/compare.sh), and the bare-socket limit.

Every mode prints ONE JSON line of figures on stdout (times from time.perf_counter, seconds).

  py_bench.py send URL DEST [-n N] [--size B] [--receipts none|each|window:W]
      stomp.py publishes N messages of B bytes. none: no receipts; each: one receipt per message, waited for
      before the next (sequential); window:W: a receipt per message, at most W outstanding.
      Whatever the mode, a last SEND with a receipt is waited for, so `confirmed_msgs_per_s` counts what the
      broker took; `msgs_per_s` is the same figure (written_s is the time the last frame left the client).
  py_bench.py consume URL DEST [-n N] [--ack auto|client-individual] [--prefetch P]
      stomp.py consumes N messages (the queue must hold them: see `fill`).
  py_bench.py raw URL DEST [-n N] [--size B] [--batch K] [--receipts none|each]
      Bare socket: CONNECT, then pre-built SEND frames written K at a time with sendall, then one SEND with a
      receipt; the broker's limit, as no client can do less work. --receipts each: one SEND with a receipt at a
      time, waited for (the broker's floor for sequential receipts).
      --receipts window:W: a receipt on every SEND, at most W outstanding (the floor for windowed receipts).
  py_bench.py rawconsume URL DEST [-n N] [--prefetch P]
      Bare socket: SUBSCRIBE client-individual, one ACK per MESSAGE (the ACKs of one read written together):
      the broker's floor for acknowledged consumption.
  py_bench.py rpcfloor URL DEST [-n N]
      Bare socket: a caller and a responder connection in one process, one JSON-RPC echo call at a time over
      DEST with a /temp-queue/ reply-to (client-individual ack on the responder, as `rpc serve` does): the
      broker's floor for a sequential call, as no caller or responder can do less work.
  py_bench.py fill URL DEST [-n N] [--size B]
      Same as raw (used to fill a queue before a consume benchmark).
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


def read_frame(sock, buf):
    """Reads up to one NUL-terminated frame (skipping heart-beat LFs); returns (frame_bytes, rest)."""
    while True:
        buf = buf.lstrip(b"\r\n")
        i = buf.find(b"\0")
        if i >= 0:
            return buf[:i], buf[i + 1:]
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed by the broker")
        buf += chunk


def wait_receipt(s, buf):
    """Reads until the next RECEIPT (an ERROR ends the program); returns the rest of the buffer."""
    while True:
        f, buf = next_frame(s, buf)
        if f.startswith(b"RECEIPT"):
            return buf


def cmd_raw(a, name="raw"):
    s, buf, _ = raw_connect(a.url)
    frame = ("SEND\ndestination:%s\n\n" % a.dest).encode() + b"x" * a.size + b"\0"
    if a.receipts == "each":
        # the broker's floor for sequential receipts: one pre-built SEND with a receipt, wait for the RECEIPT, repeat
        lat = []
        t0 = time.perf_counter()
        for i in range(a.n):
            t = time.perf_counter()
            s.sendall(("SEND\ndestination:%s\nreceipt:r%d\n\n" % (a.dest, i)).encode() + b"x" * a.size + b"\0")
            buf = wait_receipt(s, buf)
            lat.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - t0
        s.sendall(b"DISCONNECT\n\n\0")
        s.close()
        print(json.dumps({"client": "bare-socket", "bench": name, "receipts": "each", "messages": a.n, "size": a.size,
                          "elapsed_s": round(elapsed, 4), "msgs_per_s": round(a.n / elapsed, 1),
                          "latency_ms": percentiles(lat)}))
        return
    if a.receipts.startswith("window:"):
        w = int(a.receipts.split(":", 1)[1])
        rframe = ("SEND\ndestination:%s\nreceipt:w\n\n" % a.dest).encode() + b"x" * a.size + b"\0"
        sent = done = 0
        t0 = time.perf_counter()
        k = min(w, a.n)
        s.sendall(rframe * k)
        sent = k
        while done < a.n:
            chunk = s.recv(262144)
            if not chunk:
                raise SystemExit("connection closed by the broker")
            if b"ERROR" in chunk:
                raise SystemExit("ERROR: %r" % chunk[:300])
            buf += chunk
            got = buf.count(b"RECEIPT")
            # keep an incomplete trailing frame for the next read
            cut = buf.rfind(b"\0")
            tail = buf[cut + 1:]
            if got and tail.find(b"RECEIPT") >= 0:
                got -= 1
                buf = tail
            else:
                buf = tail
            done += got
            k = min(got, a.n - sent)
            if k > 0:
                s.sendall(rframe * k)
                sent += k
        elapsed = time.perf_counter() - t0
        s.sendall(b"DISCONNECT\n\n\0")
        s.close()
        print(json.dumps({"client": "bare-socket", "bench": name, "receipts": a.receipts, "messages": a.n,
                          "size": a.size, "elapsed_s": round(elapsed, 4), "msgs_per_s": round(a.n / elapsed, 1)}))
        return
    chunk = frame * a.batch
    full, rest = divmod(a.n, a.batch)
    t0 = time.perf_counter()
    for _ in range(full):
        s.sendall(chunk)
    if rest:
        s.sendall(frame * rest)
    written = time.perf_counter() - t0
    s.sendall(("SEND\ndestination:%s\nreceipt:final\n\n" % a.dest).encode() + b"x" * a.size + b"\0")
    buf = wait_receipt(s, buf)
    elapsed = time.perf_counter() - t0
    s.sendall(b"DISCONNECT\n\n\0")
    s.close()
    print(json.dumps({"client": "bare-socket", "bench": name, "messages": a.n, "size": a.size,
                      "frame_bytes": len(frame), "written_s": round(written, 4), "elapsed_s": round(elapsed, 4),
                      "msgs_per_s": round(a.n / elapsed, 1), "mb_per_s": round(a.n * a.size / elapsed / 1e6, 3)}))


def raw_connect(url):
    u, hp = hostport(url)
    s = socket.create_connection(hp)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(("CONNECT\naccept-version:1.2\nhost:%s\nlogin:%s\npasscode:%s\nheart-beat:0,0\n\n\0"
               % (u.path.lstrip("/") or "/", u.username or "guest", u.password or "guest")).encode())
    f, buf = read_frame(s, b"")
    if not f.startswith(b"CONNECTED"):
        raise SystemExit("not connected: %r" % f[:200])
    return s, buf, f


def next_frame(s, buf):
    """The next frame (heart-beat EOLs skipped) and the rest of the buffer; an ERROR ends the program."""
    f, buf = read_frame(s, buf)
    if f.startswith(b"ERROR"):
        raise SystemExit("ERROR: %r" % f[:300])
    return f, buf


def header(f, name):
    m = re.search(b"\n" + name + b":([^\n]*)", f.split(b"\n\n", 1)[0])
    return m.group(1) if m else None


ACK_ID = re.compile(b"\nack:([^\n]*)")


def cmd_rawconsume(a):
    s, buf, _ = raw_connect(a.url)
    pf = a.prefetch or 1000
    s.sendall(("SUBSCRIBE\nid:1\ndestination:%s\nack:client-individual\nactivemq.prefetchSize:%d\n"
               "prefetch-count:%d\n\n\0" % (a.dest, pf, pf)).encode())
    got = 0
    t0 = None
    while got < a.n:
        chunk = s.recv(262144)
        if not chunk:
            raise SystemExit("connection closed by the broker")
        if t0 is None:
            t0 = time.perf_counter()
        buf += chunk
        cut = buf.rfind(b"\0")
        if cut < 0:
            continue
        whole, buf = buf[:cut + 1], buf[cut + 1:]
        ids = ACK_ID.findall(whole)
        if not ids and b"ERROR" in whole:
            raise SystemExit("ERROR: %r" % whole[:300])
        got += len(ids)
        s.sendall(b"".join(b"ACK\nid:" + i + b"\n\n\0" for i in ids))
    elapsed = time.perf_counter() - t0
    s.sendall(b"DISCONNECT\n\n\0")
    s.close()
    print(json.dumps({"client": "bare-socket", "bench": "rawconsume", "ack": "client-individual", "messages": got,
                      "elapsed_s": round(elapsed, 4), "msgs_per_s": round(got / elapsed, 1)}))


def cmd_rpcfloor(a):
    caller, cb, connected = raw_connect(a.url)
    responder, rb, _ = raw_connect(a.url)
    tag = "%x" % time.time_ns()
    svc = a.dest.encode()
    reply = ("/temp-queue/floor-" + tag).encode()
    # ActiveMQ wants the caller subscribed to its temp queue; RabbitMQ refuses that and subscribes it itself
    if b"\nserver:RabbitMQ" not in connected:
        caller.sendall(b"SUBSCRIBE\nid:r\ndestination:" + reply + b"\nactivemq.dispatchAsync:false\nreceipt:s\n\n\0")
        next_frame(caller, cb)
    responder.sendall(b"SUBSCRIBE\nid:s\ndestination:" + svc + b"\nack:client-individual\nactivemq.dispatchAsync:false\n"
                      b"activemq.prefetchSize:1\nprefetch-count:1\nreceipt:s\n\n\0")
    next_frame(responder, rb)
    lat = []
    t0 = time.perf_counter()
    for i in range(a.n):
        t = time.perf_counter()
        cid = b"%d" % i
        caller.sendall(b"SEND\ndestination:" + svc + b"\nreply-to:" + reply + b"\ncorrelation-id:" + cid +
                       b"\ncontent-type:application/json\n\n"
                       b'{"jsonrpc":"2.0","method":"echo","params":[1],"id":"' + cid + b'"}\0')
        m, rb = next_frame(responder, rb)
        responder.sendall(b"SEND\ndestination:" + header(m, b"reply-to") + b"\ncorrelation-id:" + cid +
                          b"\ncontent-type:application/json\n\n"
                          b'{"jsonrpc":"2.0","result":[1],"id":"' + cid + b'"}\0'
                          b"ACK\nid:" + header(m, b"ack") + b"\n\n\0")
        while True:
            r, cb = next_frame(caller, cb)
            if r.startswith(b"MESSAGE") and header(r, b"correlation-id") == cid:
                break
        lat.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - t0
    for s in (caller, responder):
        s.sendall(b"DISCONNECT\n\n\0")
        s.close()
    print(json.dumps({"client": "bare-socket", "bench": "rpcfloor", "calls": a.n, "concurrency": 1,
                      "elapsed_s": round(elapsed, 4), "calls_per_s": round(a.n / elapsed, 1),
                      "latency_ms": percentiles(lat)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "consume", "raw", "fill", "rawconsume", "rpcfloor"])
    ap.add_argument("url")
    ap.add_argument("dest")
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--receipts", default="none")
    ap.add_argument("--ack", default="auto", choices=["auto", "client-individual"])
    ap.add_argument("--prefetch", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if a.mode == "send":
        cmd_send(a)
    elif a.mode == "consume":
        cmd_consume(a)
    elif a.mode == "rawconsume":
        cmd_rawconsume(a)
    elif a.mode == "rpcfloor":
        cmd_rpcfloor(a)
    else:
        cmd_raw(a, a.mode)


if __name__ == "__main__":
    main()
