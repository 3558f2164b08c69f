#!/usr/bin/env python3
"""ws:// smoke: random bodies of 0-200,000 bytes sent by stompsh over RabbitMQ Web-STOMP arrive byte-identical at
stomp.py over TCP, and bodies stomp.py sends over TCP arrive byte-identical at stompsh over ws://.
usage: Tests/python/ws_byte_exact.py STOMPSH_BIN (RabbitMQ: Web-STOMP on 61622, STOMP on 61620, guest/guest)"""
import base64, json, os, random, subprocess, sys, tempfile, time
import stomp

BIN = sys.argv[1]
WS = "ws://127.0.0.1:61622/ws"
TCP = ("127.0.0.1", 61620)
rng = random.Random(6455)
sizes = [0, 1, 2, 125, 126, 127, 1000, 65535, 65536, 65537, 131072, 200000] + [rng.randint(0, 200000) for _ in range(20)]
bodies = [bytes(rng.getrandbits(8) for _ in range(n)) for n in sizes]
tag = "ws-smoke-%d" % os.getpid()


class Collector(stomp.ConnectionListener):
    def __init__(self):
        self.got = {}

    def on_message(self, frame):
        self.got[frame.headers["seq"]] = frame.body


def tcp_connection(listener=None):
    c = stomp.Connection([TCP], auto_decode=False)
    if listener:
        c.set_listener("c", listener)
    c.connect("guest", "guest", wait=True)
    return c


def check(label, got):
    bad = [i for i, b in enumerate(bodies) if got.get(str(i)) != b]
    print("%s: %d of %d byte-identical%s" % (label, len(bodies) - len(bad), len(bodies),
                                                 "" if not bad else " BAD: %s" % [(i, sizes[i], len(got.get(str(i)) or b"")) for i in bad]))
    return not bad


ok = True
with tempfile.TemporaryDirectory() as d:
    # 1. stompsh over ws:// sends; stomp.py over TCP receives.
    q1 = "/queue/%s-out" % tag
    cmds = []
    for i, b in enumerate(bodies):
        path = os.path.join(d, "b%d" % i)
        with open(path, "wb") as f:
            f.write(b)
        cmds += ["-c", "send %s -H seq:%d --receipt --file %s" % (q1, i, path)]
    r = subprocess.run([BIN, "--no-rc", WS] + cmds, capture_output=True, timeout=120)
    if r.returncode != 0:
        print("stompsh send failed:", r.returncode, r.stderr.decode()[-2000:])
        ok = False
    col = Collector()
    c = tcp_connection(col)
    c.subscribe(q1, id="1", ack="auto")
    deadline = time.time() + 30
    while len(col.got) < len(bodies) and time.time() < deadline:
        time.sleep(0.1)
    c.disconnect()
    ok &= check("stompsh ws:// -> RabbitMQ -> stomp.py tcp", col.got)

    # 2. stomp.py over TCP sends; stompsh over ws:// receives (--json: body or body_base64).
    q2 = "/queue/%s-in" % tag
    c = tcp_connection()
    for i, b in enumerate(bodies):
        c.send(q2, b, headers={"seq": str(i), "content-length": str(len(b))}, receipt="r%d" % i if i == len(bodies) - 1 else None)
    time.sleep(0.5)
    c.disconnect()
    r = subprocess.run([BIN, "--no-rc", "--json", WS, "-c", "subscribe %s --count %d" % (q2, len(bodies)),
                        "-c", "wait %d --timeout 60" % len(bodies)], capture_output=True, timeout=120)
    got = {}
    for line in r.stdout.decode().splitlines():
        o = json.loads(line)
        if o.get("frame") != "MESSAGE":
            continue
        body = base64.b64decode(o["body_base64"]) if "body_base64" in o else o["body"].encode()
        got[o["headers"]["seq"]] = body
    if r.returncode != 0:
        print("stompsh subscribe failed:", r.returncode, r.stderr.decode()[-2000:])
        ok = False
    ok &= check("stomp.py tcp -> RabbitMQ -> stompsh ws://", got)
print("SMOKE", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
