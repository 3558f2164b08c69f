#!/usr/bin/env python3
"""Formats bench/compare.sh's figures (JSON lines) as Markdown: the comparison table, start-up, memory, codec.

Usage: report.py RESULTS.jsonl CODEC.txt [--command CMD] [--bin PATH]
"""
import argparse
import json
import os
import platform
import subprocess
import time


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def get(rows, broker, work, client):
    """The figures of one measurement; when it was taken in several rounds, the round with the median result
    (p50 latency where there is one, else the rate), so that a burst of noise in one round decides nothing."""
    found = [r["data"] for r in rows if r["broker"] == broker and r["work"] == work and r["client"] == client]
    if len(found) <= 1:
        return found[0] if found else {}

    def key(d):
        for path in (("latency_ms", "p50"), ("p50_ms",), ("msgs_per_s",), ("calls_per_s",)):
            v = num(d, *path)
            if v is not None:
                return v
        return 0
    found.sort(key=key)
    return found[len(found) // 2]


def num(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d if isinstance(d, (int, float)) and not isinstance(d, bool) else None


def fmt(x, digits=0):
    if x is None:
        return "—"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    return "{:.{}f}x".format(a / b, digits)


def verdict(ok):
    return "" if ok is None else (" ✅" if ok else " ❌")


def machine():
    cores = os.cpu_count()
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = ["?"] * 3
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.1f GB RAM" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return cores, load, model, mem


def reach(floor, peer, target):
    """Whether a rate `target` times the peer's is within the broker's floor (what no client can beat)."""
    if floor is None or peer is None:
        return ""
    need = peer * target
    return "target needs %s: %s the broker's floor" % (fmt(need), "above" if need > floor else "within")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("codec")
    ap.add_argument("--command", default="bench/compare.sh")
    ap.add_argument("--bin", default="")
    a = ap.parse_args()
    rows = load(a.results)
    cores, loadavg, model, mem = machine()
    out = []
    w = out.append
    w("# stompsh benchmark: stompsh vs stomp.py")
    w("")
    w("- date: %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    w("- machine: %s cores (%s), %s, %s; load average at the end of the run: %s" %
      (cores, model or platform.machine(), mem, platform.platform(), " ".join(loadavg)))
    try:
        v = subprocess.run(["python3", "-c", "import stomp; print(stomp.__version__)"], capture_output=True, text=True).stdout.strip()
    except OSError:
        v = "?"
    w("- clients: stompsh release build (`%s`), stomp.py %s (Python %s)" % (a.bin or "stompsh", v, platform.python_version()))
    w("- command: `%s`" % a.command)
    w("- ratio = stompsh / stomp.py (for latency lower is better, for rates higher is better)")
    rounds = max([sum(1 for r in rows if r["broker"] == b and r["work"] == "rpc_seq" and r["client"] == "stompsh")
                  for b in set(r["broker"] for r in rows)] or [1])
    if rounds > 1:
        w("- send without receipts, sequential receipts and sequential RPC calls: %d alternating rounds per client, "
          "the table shows each client's median round" % rounds)
    w("")
    brokers = []
    for r in rows:
        if r["broker"] not in ("startup", "memory") and r["broker"] not in brokers and not r["broker"].endswith("-websocket"):
            brokers.append(r["broker"])
    for b in brokers:
        def g(work, client):
            return get(rows, b, work, client)

        w("## %s" % b)
        w("")
        w("| work | stompsh | stomp.py | ratio | target |")
        w("|---|---:|---:|---:|---|")
        s = g("send_none", "stompsh")
        p = g("send_none", "stomp.py")
        raw = g("send_none", "bare-socket")
        n = num(s, "messages") or num(p, "messages")
        sr, pr, rr = num(s, "msgs_per_s"), num(p, "msgs_per_s"), num(raw, "msgs_per_s")
        w("| send %s x 100 B, no receipts (msg/s, until the broker confirmed the last) | %s | %s | %s | |" %
          (fmt(n), fmt(sr), fmt(pr), ratio(sr, pr)))
        t_ok = None if sr is None or rr is None else (rr / sr) <= 1.3
        w("| bare socket, pre-built SEND frames (msg/s): the broker's limit | %s (stompsh) | %s (bare socket) | "
          "time %s of the bare socket's | ≤ 1.3x%s |" % (fmt(sr), fmt(rr), ratio(rr, sr), verdict(t_ok)))
        for work, label, target in [("send_each", "send, a receipt each, sequential (msg/s)", 2.0),
                                    ("send_window", "send, windowed receipts (msg/s)", 3.0)]:
            s, p = g(work, "stompsh"), g(work, "stomp.py")
            sr, pr = num(s, "msgs_per_s"), num(p, "msgs_per_s")
            mode = p.get("receipts") or s.get("receipts_mode") or ""
            ok = None if sr is None or pr is None or pr == 0 else sr / pr >= target
            w("| %s %s, %s | %s | %s | %s | ≥ %gx%s |" % (label, mode, fmt(num(s, "messages") or num(p, "messages")),
                                                        fmt(sr), fmt(pr), ratio(sr, pr), target, verdict(ok)))
            sl, pl = num(s, "latency_ms", "p50"), num(p, "latency_ms", "p50")
            w("| ↳ receipt round trip p50 / p99 (ms) | %s / %s | %s / %s | %s | |" %
              (fmt(sl, 3), fmt(num(s, "latency_ms", "p99"), 3), fmt(pl, 3), fmt(num(p, "latency_ms", "p99"), 3),
               ratio(sl, pl)))
            raw = g(work, "bare-socket")
            if raw:
                rr = num(raw, "msgs_per_s")
                w("| ↳ bare socket, same work (msg/s; p50 ms): the broker's floor | %s (stompsh) | %s; %s | "
                  "stompsh at %s of it | %s |" % (fmt(sr), fmt(rr), fmt(num(raw, "latency_ms", "p50"), 3), ratio(sr, rr),
                                                  reach(rr, pr, target)))
        for work, label in [("consume_auto", "consume, ack auto (msg/s)"),
                            ("consume_ci", "consume, ack client-individual (msg/s)")]:
            s, p = g(work, "stompsh"), g(work, "stomp.py")
            sr, pr = num(s, "msgs_per_s"), num(p, "msgs_per_s")
            ok = None if sr is None or pr is None or pr == 0 else sr / pr >= 3
            w("| %s, %s%s | %s | %s | %s | ≥ 3x%s |" % (label, fmt(num(s, "messages") or num(p, "messages")),
                                                  ", prefetch 1000" if work == "consume_ci" else "",
                                                  fmt(sr), fmt(pr), ratio(sr, pr), verdict(ok)))
            raw = g(work, "bare-socket")
            if raw:
                rr = num(raw, "msgs_per_s")
                w("| ↳ bare socket, same work (msg/s): the broker's floor | %s (stompsh) | %s | stompsh at %s of it | %s |"
                  % (fmt(sr), fmt(rr), ratio(sr, rr), reach(rr, pr, 3)))
        s, p = g("rpc_seq", "stompsh"), g("rpc_seq", "stomp.py")
        sl, pl = num(s, "latency_ms", "p50"), num(p, "p50_ms")
        ok = None if sl is None or pl is None else sl / pl <= 0.5
        w("| RPC echo, sequential, p50 (ms), %s calls | %s | %s | %s | ≤ 0.5x%s |" %
          (fmt(num(s, "calls") or num(p, "calls")), fmt(sl, 3), fmt(pl, 3), ratio(sl, pl), verdict(ok)))
        raw = g("rpc_seq", "bare-socket")
        if raw:
            rl = num(raw, "latency_ms", "p50")
            note = ""
            if rl is not None and pl:
                note = ("half of stomp.py's p50 is %s ms: %s the broker's floor" %
                        (fmt(pl / 2, 3), "below" if rl > pl / 2 else "above"))
            w("| ↳ bare socket caller + responder in one process, p50 (ms): the broker's floor | %s (stompsh) | %s | "
              "stompsh at %s of it | %s |" % (fmt(sl, 3), fmt(rl, 3), ratio(sl, rl), note))
        sr, pr = num(s, "calls_per_s"), num(p, "calls_per_s")
        w("| ↳ sequential calls/s | %s | %s | %s | |" % (fmt(sr), fmt(pr), ratio(sr, pr)))
        s, p = g("rpc_c32", "stompsh"), g("rpc_c32", "stomp.py")
        sr, pr = num(s, "calls_per_s"), num(p, "calls_per_s")
        ok = None if sr is None or b != "activemq" else sr >= 10000
        w("| RPC echo, 32 in flight (calls/s), %s / %s calls | %s | %s | %s | %s%s |" %
          (fmt(num(s, "calls")), fmt(num(p, "calls")), fmt(sr), fmt(pr), ratio(sr, pr),
           "≥ 10,000/s" if b == "activemq" else "", verdict(ok)))
        w("| ↳ p50 / p99 (ms) | %s / %s | %s / %s | | |" %
          (fmt(num(s, "latency_ms", "p50"), 3), fmt(num(s, "latency_ms", "p99"), 3),
           fmt(num(p, "p50_ms"), 3), fmt(num(p, "p99_ms"), 3)))
        w("")

    for b in sorted({r["broker"] for r in rows if r["broker"].endswith("-websocket")}):
        def g(work, client):
            return get(rows, b, work, client)

        w("## %s: stompsh over WebSocket beside TCP (same broker, same run)" % b[:-len("-websocket")])
        w("")
        w("| work | ws:// | stomp:// | ws/tcp | target |")
        w("|---|---:|---:|---:|---|")
        for work, label, key, lower in [("send_none", "send 100 B, no receipts (msg/s)", ("msgs_per_s",), False),
                                        ("send_window", "send, windowed receipts window:100 (msg/s)", ("msgs_per_s",), False),
                                        ("consume_auto", "consume, ack auto (msg/s)", ("msgs_per_s",), False),
                                        ("rpc_seq", "RPC echo, sequential (calls/s)", ("calls_per_s",), False),
                                        ("rpc_c32", "RPC echo, 32 in flight (calls/s)", ("calls_per_s",), False)]:
            ws, tcp = g(work, "stompsh-ws"), g(work, "stompsh-tcp")
            a_, b_ = num(ws, *key), num(tcp, *key)
            ok = None if a_ is None or not b_ else a_ / b_ >= 0.8
            n = num(ws, "messages") or num(ws, "calls")
            w("| %s, %s | %s | %s | %s | ≥ 0.8x%s |" % (label, fmt(n), fmt(a_), fmt(b_), ratio(a_, b_), verdict(ok)))
            if work == "rpc_seq":
                w("| ↳ p50 (ms) | %s | %s | %s | |" % (fmt(num(ws, "latency_ms", "p50"), 3), fmt(num(tcp, "latency_ms", "p50"), 3),
                                                      ratio(num(ws, "latency_ms", "p50"), num(tcp, "latency_ms", "p50"))))
        w("")

    st = {r["work"]: r["data"] for r in rows if r["broker"] == "startup"}
    mm = {r["work"]: r["data"] for r in rows if r["broker"] == "memory"}
    if st or mm:
        w("## Start-up and memory (ActiveMQ)")
        w("")
        w("| measure | stompsh | stomp.py | target |")
        w("|---|---:|---:|---|")
        e = st.get("echo", {})
        ok = None if num(e, "median_ms") is None else num(e, "median_ms") < 50
        w("| `stompsh -c 'echo hi'`, whole process, median of %s (ms) | %s | | < 50 ms%s |" %
          (e.get("runs", "?"), fmt(num(e, "median_ms"), 1), verdict(ok)))
        o, op = st.get("oneshot", {}), st.get("oneshot_py", {})
        w("| connect, send, disconnect, whole process, median (ms) | %s | %s | |" %
          (fmt(num(o, "median_ms"), 1), fmt(num(op, "median_ms"), 1)))
        iu, ic = mm.get("idle_unconnected", {}), mm.get("idle_connected", {})
        ok = None if num(ic, "rss_mb") is None else num(ic, "rss_mb") < 30
        w("| RSS idle, not connected / connected (MB) | %s / %s | | < 30 MB%s |" %
          (fmt(num(iu, "rss_mb"), 1), fmt(num(ic, "rss_mb"), 1), verdict(ok)))
        c = mm.get("consume_big", {})
        ok = None if num(c, "peak_rss_mb") is None else num(c, "peak_rss_mb") < 30
        w("| peak RSS after consuming %s messages (MB; %s msg/s) | %s | | flat, < 30 MB%s |" %
          (fmt(num(c, "messages")), fmt(num(c, "msgs_per_s")), fmt(num(c, "peak_rss_mb"), 1), verdict(ok)))
        s = mm.get("send_big", {})
        ok = None if num(s, "peak_rss_mb") is None else num(s, "peak_rss_mb") < 30
        w("| peak RSS after sending %s messages (MB; %s msg/s) | %s | | flat, < 30 MB%s |" %
          (fmt(num(s, "messages")), fmt(num(s, "msgs_per_s")), fmt(num(s, "peak_rss_mb"), 1), verdict(ok)))
        w("")
        w("Start-up timed with %s." % (e.get("tool") or "?"))
        w("")
    w("## StompProto codec (`stompproto-bench`)")
    w("")
    w("```")
    try:
        w(open(a.codec).read().rstrip())
    except OSError:
        w("(not run)")
    w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
