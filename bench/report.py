#!/usr/bin/env python3
"""Formats bench/compare.sh's figures (JSON lines) as Markdown: stompsh beside the bare-socket floor (quiet and
loaded side by side), WebSocket beside TCP, the interactive path, start-up and memory, the codec.

Usage: report.py RESULTS.jsonl CODEC.txt [--command CMD] [--bin PATH] [--rounds R] [--hogs N]

Each cell is the median over the rounds of that client's figure; each ratio divides two such medians, measured
in the same run, alternating round by round.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import time

LOADS = ("quiet", "loaded")
FLOOR_RATE, FLOOR_LATENCY, WS_RATE, INTERACTIVE = 0.9, 1.1, 0.8, 0.9


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                r.setdefault("load", "quiet")
                rows.append(r)
    return rows


def num(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d if isinstance(d, (int, float)) and not isinstance(d, bool) else None


class Figures:
    def __init__(self, rows):
        self.rows = rows

    def all(self, load_, broker, work, client):
        return [r["data"] for r in self.rows
                if r["load"] == load_ and r["broker"] == broker and r["work"] == work and r["client"] == client]

    def median(self, load_, broker, work, client, *path):
        """The median over the rounds of one figure (None when no round has it)."""
        v = [x for x in (num(d, *path) for d in self.all(load_, broker, work, client)) if x is not None]
        return statistics.median(v) if v else None

    def first(self, load_, broker, work, client, *path):
        for d in self.all(load_, broker, work, client):
            v = num(d, *path)
            if v is not None:
                return v
        return None

    def loads(self):
        return [l for l in LOADS if any(r["load"] == l for r in self.rows if r["broker"] not in ("startup", "memory"))]


def fmt(x, digits=0):
    if x is None:
        return "—"
    return "{:,.{}f}".format(x, digits)


def ratio_cell(a, b, target, lower_is_better):
    """`a / b` with a verdict against `target` (a bound on the ratio: at most for latencies, at least for rates)."""
    if a is None or b is None or b == 0:
        return "—", None
    r = a / b
    if target is None:
        return "%.2fx" % r, None
    ok = r <= target if lower_is_better else r >= target
    return "%.2fx %s" % (r, "✅" if ok else "❌"), ok


def machine():
    cores = os.cpu_count()
    try:
        loadavg = open("/proc/loadavg").read().split()[:3]
    except OSError:
        loadavg = ["?"] * 3
    model, mem = "", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.1f GB RAM" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return cores, loadavg, model, mem


# (work, label, figure path, lower is better, stomp.py's figure path, unit digits)
FLOOR_ROWS = [
    ("send_none", "send %(n)s x 100 B, no receipts (msg/s, until the broker confirmed the last)", ("msgs_per_s",), False, ("msgs_per_s",), 0),
    ("send_each", "send, a receipt each, sequential, %(n)s (msg/s)", ("msgs_per_s",), False, ("msgs_per_s",), 0),
    ("send_each", "↳ receipt round trip p50 (ms)", ("latency_ms", "p50"), True, ("latency_ms", "p50"), 3),
    ("send_window", "send, receipts window:100, %(n)s (msg/s)", ("msgs_per_s",), False, ("msgs_per_s",), 0),
    ("consume_auto", "consume, ack auto, %(n)s (msg/s)", ("msgs_per_s",), False, ("msgs_per_s",), 0),
    ("consume_ci", "consume, ack client-individual, prefetch 1000, %(n)s (msg/s)", ("msgs_per_s",), False, ("msgs_per_s",), 0),
    ("rpc_seq", "RPC echo, sequential, %(n)s calls, p50 (ms)", ("latency_ms", "p50"), True, ("p50_ms",), 3),
    ("rpc_seq", "↳ sequential calls/s", ("calls_per_s",), False, ("calls_per_s",), 0),
    ("rpc_c32", "RPC echo, 32 in flight, %(n)s calls (calls/s)", ("calls_per_s",), False, ("calls_per_s",), 0),
    ("rpc_c32", "↳ p50 (ms)", ("latency_ms", "p50"), True, ("p50_ms",), 3),
]
WS_ROWS = [
    ("send_none", "send 100 B, no receipts, %(n)s (msg/s)", ("msgs_per_s",)),
    ("send_each", "send, a receipt each, sequential, %(n)s (msg/s)", ("msgs_per_s",)),
    ("send_window", "send, receipts window:100, %(n)s (msg/s)", ("msgs_per_s",)),
    ("consume_auto", "consume, ack auto, %(n)s (msg/s)", ("msgs_per_s",)),
    ("consume_ci", "consume, ack client-individual, prefetch 1000, %(n)s (msg/s)", ("msgs_per_s",)),
    ("rpc_seq", "RPC echo, sequential, %(n)s (calls/s)", ("calls_per_s",)),
    ("rpc_c32", "RPC echo, 32 in flight, %(n)s (calls/s)", ("calls_per_s",)),
]


def count_of(F, broker, work, client):
    for l in LOADS:
        for key in ("messages", "calls"):
            v = F.first(l, broker, work, client, key)
            if v is not None:
                return fmt(v)
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("codec")
    ap.add_argument("--command", default="bench/compare.sh")
    ap.add_argument("--bin", default="")
    ap.add_argument("--rounds", default="?")
    ap.add_argument("--hogs", default="?")
    a = ap.parse_args()
    F = Figures(load(a.results))
    loads = F.loads() or ["quiet"]
    cores, loadavg, model, mem = machine()
    out = []
    w = out.append
    w("# stompsh benchmark: stompsh beside the bare-socket floor")
    w("")
    w("- date: %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    w("- machine: %s cores (%s), %s, %s; load average at the end of the run: %s" %
      (cores, model or platform.machine(), mem, platform.platform(), " ".join(loadavg)))
    try:
        v = subprocess.run(["python3", "-c", "import stomp; print(stomp.__version__)"], capture_output=True, text=True).stdout.strip()
    except OSError:
        v = "?"
    w("- clients: stompsh release build (`%s`); floor: `bench/floor.c` (C, bare socket, the frames stompsh writes: "
      "same headers, sizes, receipts, prefetch, acks); stomp.py %s (Python %s), one round, quiet only, for reference"
      % (a.bin or "stompsh", v or "?", platform.python_version()))
    w("- command: `%s`" % a.command)
    w("- every cell: the median of %s alternating rounds (stompsh, floor, stompsh over ws:// on RabbitMQ, round by "
      "round); ratios divide two medians of the same run" % a.rounds)
    if "loaded" in loads:
        w("- loaded: %s CPU hog(s) (`floor hog`, a busy loop, not pinned) running through the loaded half" % a.hogs)
    w("- targets (issue 19): rates ≥ %.1fx the floor's, latencies ≤ %.1fx; ws/tcp ≥ %.1fx; interactive path ≥ %.1fx "
      "of `bench consume`" % (FLOOR_RATE, FLOOR_LATENCY, WS_RATE, INTERACTIVE))
    w("")
    brokers = []
    for r in F.rows:
        if r["broker"] not in ("startup", "memory") and r["broker"] not in brokers:
            brokers.append(r["broker"])
    summary = {l: [0, 0] for l in loads}

    def tally(l, ok):
        if ok is not None:
            summary[l][0] += 1 if ok else 0
            summary[l][1] += 1

    for b in brokers:
        if any(r["broker"] == b and r["client"] == "floor" for r in F.rows):   # none with compare.sh --only interactive
            w("## %s: stompsh beside the floor" % b)
            w("")
            head = "| work |"
            rule = "|---|"
            for l in loads:
                head += " %s: stompsh | floor | ×floor |" % l
                rule += "---:|---:|---:|"
            w(head + " target | stomp.py (quiet) |")
            w(rule + "---|---:|")
            for work, label, path, lower, pypath, digits in FLOOR_ROWS:
                sub = label.startswith("↳")
                line = "| %s |" % (label % {"n": count_of(F, b, work, "stompsh-tcp")})
                for l in loads:
                    s = F.median(l, b, work, "stompsh-tcp", *path)
                    f = F.median(l, b, work, "floor", *path)
                    target = None if sub else (FLOOR_LATENCY if lower else FLOOR_RATE)
                    cell, ok = ratio_cell(s, f, target, lower)
                    tally(l, ok)
                    line += " %s | %s | %s |" % (fmt(s, digits), fmt(f, digits), cell)
                target = "" if sub else ("≤ %.1fx" % FLOOR_LATENCY if lower else "≥ %.1fx" % FLOOR_RATE)
                line += " %s | %s |" % (target, fmt(F.median("quiet", b, work, "stomp.py", *pypath), digits))
                w(line)
            w("")
        if F.all(loads[0], b, "send_none", "stompsh-ws"):
            w("## %s: stompsh over WebSocket (Web-STOMP) beside TCP, same rounds" % b)
            w("")
            head, rule = "| work |", "|---|"
            for l in loads:
                head += " %s: ws:// | stomp:// | ws/tcp |" % l
                rule += "---:|---:|---:|"
            w(head + " target |")
            w(rule + "---|")
            for work, label, path in WS_ROWS:
                line = "| %s |" % (label % {"n": count_of(F, b, work, "stompsh-ws")})
                for l in loads:
                    x, y = F.median(l, b, work, "stompsh-ws", *path), F.median(l, b, work, "stompsh-tcp", *path)
                    cell, ok = ratio_cell(x, y, WS_RATE, False)
                    tally(l, ok)
                    line += " %s | %s | %s |" % (fmt(x), fmt(y), cell)
                w(line + " ≥ %.1fx |" % WS_RATE)
            w("")
        if F.all(loads[0], b, "interactive", "bench-consume"):
            w("## %s: the interactive path beside `bench consume` (same refilled queue, whole processes timed alike)" % b)
            w("")
            head, rule = "| work | beside |", "|---|---|"
            for l in loads:
                head += " %s: msg/s | beside | ratio |" % l
                rule += "---:|---:|---:|"
            w(head + " target |")
            w(rule + "---|")
            n = count_of(F, b, "interactive", "bench-consume")
            auto, acked = "`bench consume` (ack auto)", "`bench consume --ack client-individual`"
            for client, label, ref, refname, target in (
                    ("subscribe-auto-text", "`-c 'subscribe Q' -c 'wait %s'` printing text to a file" % n,
                     "bench-consume", auto, INTERACTIVE),
                    ("subscribe-auto-json", "the same with `--json`, to a file", "bench-consume", auto, INTERACTIVE),
                    ("subscribe-text", "`-c 'subscribe Q --count %s' -c 'wait %s'` printing text to a file" % (n, n),
                     "bench-consume-acked", acked, None),
                    ("subscribe-json", "the same with `--json`, to a file", "bench-consume-acked", acked, None)):
                if not F.all(loads[0], b, "interactive", client):
                    continue
                line = "| %s | %s |" % (label, refname)
                for l in loads:
                    x = F.median(l, b, "interactive", client, "msgs_per_s")
                    y = F.median(l, b, "interactive", ref, "msgs_per_s")
                    cell, ok = ratio_cell(x, y, target, False)
                    tally(l, ok)
                    line += " %s | %s | %s |" % (fmt(x), fmt(y), cell)
                w(line + (" ≥ %.1fx |" % target if target else " reference |"))
            w("")
            w("A plain `subscribe` acknowledges nothing (ack auto, as a user watching traffic uses it): beside `bench consume`"
              " with ack auto, issue 19's target. `subscribe --count` acknowledges each batch once written (client or"
              " client-individual, no prefetch header), so the broker does the acknowledging work: beside `bench consume"
              " --ack client-individual` (an ACK per message, no prefetch header), a reference.")
            w("")

    st = {r["work"]: r["data"] for r in F.rows if r["broker"] == "startup"}
    mm = {r["work"]: r["data"] for r in F.rows if r["broker"] == "memory"}
    if st or mm:
        w("## Start-up and memory (ActiveMQ, quiet)")
        w("")
        w("| measure | stompsh | stomp.py | target |")
        w("|---|---:|---:|---|")
        p = st.get("prompt", {})
        ok = None if num(p, "median_ms") is None else num(p, "median_ms") < 25
        tally("quiet", ok)
        w("| start-up to the first prompt, not connected (pty, fork to `> `), median of %s (ms) | %s | | < 25 ms%s |" %
          (p.get("runs", "?"), fmt(num(p, "median_ms"), 1), "" if ok is None else (" ✅" if ok else " ❌")))
        pc = st.get("prompt_connected", {})
        w("| ↳ connected to ActiveMQ (CONNECT/CONNECTED included), median (ms) | %s | | |" % fmt(num(pc, "median_ms"), 1))
        e = st.get("echo", {})
        w("| `stompsh -c 'echo hi'`, whole process, median (ms) | %s | | |" % fmt(num(e, "median_ms"), 1))
        o, op = st.get("oneshot", {}), st.get("oneshot_py", {})
        w("| connect, send, disconnect, whole process, median (ms) | %s | %s | |" %
          (fmt(num(o, "median_ms"), 1), fmt(num(op, "median_ms"), 1)))
        iu, ic = mm.get("idle_unconnected", {}), mm.get("idle_connected", {})
        ok = None if num(ic, "rss_mb") is None else max(num(ic, "rss_mb"), num(iu, "rss_mb") or 0) < 30
        tally("quiet", ok)
        w("| RSS idle, not connected / connected (MB) | %s / %s | | < 30 MB%s |" %
          (fmt(num(iu, "rss_mb"), 1), fmt(num(ic, "rss_mb"), 1), "" if ok is None else (" ✅" if ok else " ❌")))
        ld = mm.get("load", {})
        ok = None if not ld else bool(ld.get("ok"))
        tally("quiet", ok)
        w("| bench/load.sh: %s messages sent and consumed in one session: RSS after chunk 1 / middle / end / peak "
          "(MB) | %s / %s / %s / %s | | flat: end ≤ chunk 1 + 2 MB (load.sh --max-growth 2)%s |" %
          (fmt(num(ld, "messages")), fmt(num(ld, "start_mb"), 1), fmt(num(ld, "middle_mb"), 1),
           fmt(num(ld, "end_mb"), 1), fmt(num(ld, "peak_mb"), 1), "" if ok is None else (" ✅" if ok else " ❌")))
        w("| ↳ growth chunk 1 → end (MB); send / consume msg/s | %s; %s / %s | | %s |" %
          (fmt(num(ld, "growth_mb"), 1), fmt(num(ld, "send_msgs_per_s")), fmt(num(ld, "consume_msgs_per_s")),
           ld.get("failure", "")))
        w("")
        w("Start-up timed with %s; the other rows with %s." % (p.get("tool") or "?", e.get("tool") or "?"))
        w("")
    if summary:
        w("**Within target:** " + "; ".join("%s %d of %d" % (l, s[0], s[1]) for l, s in summary.items()))
        w("")
    w("## StompProto codec (`stompproto-bench`)")
    w("")
    w("```")
    try:
        w(open(a.codec).read().rstrip() or "(not run)")
    except OSError:
        w("(not run)")
    w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
