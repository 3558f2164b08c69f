#!/usr/bin/env python3
"""A stomp.py implementation of both sides of stompsh's RPC wire format (docs/rpc.md).

It proves the format is language-neutral (the Swift tests run it against `rpc call` / `rpc serve`) and is the
stomp.py side of the RPC benchmark.

  rpc_peer.py serve URL DEST [--count N] [--concurrency N]     answer echo/add/sleep/fail; prints "ready"
  rpc_peer.py call URL DEST METHOD [PARAMS_JSON] [--timeout S]  print the reply body; exit 0 result, 1 error, 2 timeout
  rpc_peer.py bench URL DEST METHOD [PARAMS_JSON] [-n N] [-c C] print one JSON line: calls, calls_per_s, p50_ms, ...
"""
import argparse
import json
import random
import socket
import string
import sys
import threading
import time
from urllib.parse import urlparse

import stomp


def connect(url, listener):
    u = urlparse(url)
    conn = stomp.Connection12([(u.hostname or "127.0.0.1", u.port or 61613)], heartbeats=(0, 0), auto_content_length=True,
                              vhost=(u.path.lstrip("/") or "/"))
    conn.set_listener("peer", listener)
    conn.connect(u.username or "guest", u.password or "guest", wait=True)
    # small frames back to back (reply then ACK): without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
    conn.transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def token(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


class Base(stomp.ConnectionListener):
    server = ""

    def on_connected(self, frame):
        self.server = frame.headers.get("server", "")


def add(params):
    values = list(params.values()) if isinstance(params, dict) else list(params)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise RPCError(-32602, "Invalid params", "add: %r is not a number" % (v,))
    s = sum(values)
    return s


class RPCError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def positional(params, names):
    if isinstance(params, dict):
        return [params[n] for n in names if n in params]
    return list(params or [])


def dispatch(method, params):
    if method == "echo":
        return params
    if method == "add":
        return add(params)
    if method == "sleep":
        v = positional(params, ["ms"])
        time.sleep(float(v[0]) / 1000.0)
        return v[0]
    if method == "fail":
        v = positional(params, ["code", "message", "data"])
        raise RPCError(int(v[0]), v[1] if len(v) > 1 else "fail", v[2] if len(v) > 2 else None)
    raise RPCError(-32601, "Method not found", method)


def reply_body(result=None, error=None, id=None):
    # exact member order of the wire format
    if error is not None:
        err = {"code": error.code, "message": error.message}
        if error.data is not None:
            err["data"] = error.data
        return json.dumps({"jsonrpc": "2.0", "error": err, "id": id}, separators=(",", ":"))
    return json.dumps({"jsonrpc": "2.0", "result": result, "id": id}, separators=(",", ":"))


class Responder(Base):
    def __init__(self, count):
        self.conn = None
        self.count = count
        self.served = 0
        self.done = threading.Event()

    def on_message(self, frame):
        h = frame.headers
        cid = h.get("correlation-id")
        reply_to = h.get("reply-to")
        try:
            req = json.loads(frame.body)
            rid = req.get("id", cid)
            try:
                if req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
                    raise RPCError(-32600, "Invalid Request")
                body = reply_body(result=dispatch(req["method"], req.get("params", [])), id=rid)
            except RPCError as e:
                body = reply_body(error=e, id=rid)
        except ValueError as e:
            body = reply_body(error=RPCError(-32700, "Parse error", str(e)), id=cid)
        if reply_to:
            self.conn.send(reply_to, body, content_type="application/json", headers={"correlation-id": cid})
        self.conn.ack(h["ack"])
        self.served += 1
        if self.count and self.served >= self.count:
            self.done.set()


class Caller(Base):
    """One reply destination per connection; replies matched by correlation-id only."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending = {}
        self.late = 0
        self.prefix = token(8) + "-"
        self.next = 0

    def setup(self, conn):
        self.conn = conn
        self.reply_to = "/temp-queue/py-" + token()
        if not self.server.startswith("RabbitMQ"):     # RabbitMQ subscribes the caller itself
            conn.subscribe(self.reply_to, id="replies", ack="auto")

    def on_message(self, frame):
        cid = frame.headers.get("correlation-id")
        with self.lock:
            entry = self.pending.pop(cid, None)
            if entry is None:
                self.late += 1
                return
        entry["reply"] = frame.body
        entry["end"] = time.perf_counter()
        entry["event"].set()
        if entry.get("callback"):
            entry["callback"](entry)

    def start(self, dest, method, params, callback=None):
        with self.lock:
            self.next += 1
            cid = self.prefix + str(self.next)
            entry = {"event": threading.Event(), "callback": callback, "start": time.perf_counter(), "id": cid}
            self.pending[cid] = entry
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": cid}, separators=(",", ":"))
        self.conn.send(dest, body, content_type="application/json",
                       headers={"reply-to": self.reply_to, "correlation-id": cid})
        return entry

    def call(self, dest, method, params, timeout):
        e = self.start(dest, method, params)
        if not e["event"].wait(timeout):
            with self.lock:
                self.pending.pop(e["id"], None)
            return None, None
        return e["reply"], (e["end"] - e["start"]) * 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "call", "bench"])
    ap.add_argument("url")
    ap.add_argument("dest")
    ap.add_argument("method", nargs="?")
    ap.add_argument("params", nargs="?", default="[]")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-c", type=int, default=1)
    a = ap.parse_args()

    if a.mode == "serve":
        r = Responder(a.count)
        conn = connect(a.url, r)
        r.conn = conn
        n = str(a.concurrency)
        conn.subscribe(a.dest, id="serve", ack="client-individual",
                       headers={"activemq.prefetchSize": n, "prefetch-count": n})
        print("ready", flush=True)
        try:
            while not r.done.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        time.sleep(0.1)
        conn.disconnect()
        return 0

    c = Caller()
    conn = connect(a.url, c)
    c.setup(conn)
    params = json.loads(a.params)
    if a.mode == "call":
        body, ms = c.call(a.dest, a.method, params, a.timeout)
        conn.disconnect()
        if body is None:
            print("timeout", file=sys.stderr)
            return 2
        print(body)
        return 1 if "error" in json.loads(body) else 0

    # bench: up to -c calls in flight, -n calls
    lat = []
    lock = threading.Lock()
    done = threading.Event()
    sem = threading.Semaphore(a.c)
    state = {"completed": 0}

    def finished(entry):
        with lock:
            lat.append((entry["end"] - entry["start"]) * 1000.0)
            state["completed"] += 1
            if state["completed"] >= a.n:
                done.set()
        sem.release()

    t0 = time.perf_counter()
    for _ in range(a.n):
        if not sem.acquire(timeout=a.timeout):
            break
        c.start(a.dest, a.method, params, callback=finished)
    done.wait(a.timeout)
    elapsed = time.perf_counter() - t0
    conn.disconnect()
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p / 100.0))], 3) if lat else None

    print(json.dumps({"client": "stomp.py", "calls": len(lat), "concurrency": a.c, "elapsed_s": round(elapsed, 3),
                      "calls_per_s": round(len(lat) / elapsed, 1), "p50_ms": pct(50), "p90_ms": pct(90),
                      "p99_ms": pct(99), "late": c.late}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
