#!/usr/bin/env python3
"""Drives a STOMP broker with stomp.py (STOMP 1.0, 1.1, 1.2) through the behaviours where the sandbox
follows ActiveMQ 5.17; the same checks pass against both (Tests/StompBrokerTests/SandboxStompPyTests.swift).

usage: sandbox_conformance.py HOST PORT [--connect-timeout SECONDS]
Prints one line per check ("ok ..." / "FAIL ..."); exit status 1 if any check failed."""

import socket
import sys
import threading
import time
import uuid

import stomp
from stomp.utils import Frame

HOST, PORT = sys.argv[1], int(sys.argv[2])
CONNECT_TIMEOUT = float(sys.argv[sys.argv.index("--connect-timeout") + 1]) if "--connect-timeout" in sys.argv else None
TAG = "sandbox-conf-" + uuid.uuid4().hex[:8]
failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"), flush=True)
    if not condition:
        failures.append(name)


class Recorder(stomp.ConnectionListener):
    """Collects what the broker sends; wait_for blocks until a predicate over the frames holds."""

    def __init__(self):
        self.cond = threading.Condition()
        self.frames = []   # (kind, headers, body)
        self.heartbeats = 0
        self.connected = None

    def _add(self, kind, frame):
        with self.cond:
            self.frames.append((kind, dict(frame.headers), frame.body))
            self.cond.notify_all()

    def on_connected(self, frame):
        self.connected = dict(frame.headers)
        self._add("CONNECTED", frame)

    def on_message(self, frame):
        self._add("MESSAGE", frame)

    def on_receipt(self, frame):
        self._add("RECEIPT", frame)

    def on_error(self, frame):
        self._add("ERROR", frame)

    def on_heartbeat(self):
        with self.cond:
            self.heartbeats += 1

    def wait_for(self, kind, key=None, value=None, timeout=5):
        def find():
            for k, h, b in self.frames:
                if k == kind and (key is None or h.get(key) == value):
                    return k, h, b
            return None
        with self.cond:
            self.cond.wait_for(find, timeout)
            return find()


def connect(version, heartbeats=(0, 0)):
    cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[version]
    kwargs = {} if version == "1.0" else {"heartbeats": heartbeats, "heart_beat_receive_scale": 3.0}
    c = cls([(HOST, PORT)], **kwargs)
    rec = Recorder()
    c.set_listener("rec", rec)
    if version == "1.0":
        c.connect(wait=True)
    else:
        c.connect(wait=True, headers={"host": "localhost"} if version == "1.2" else {})
    rec.wait_for("CONNECTED")
    return c, rec


def raw(c, command, headers, body=""):
    c.transport.transmit(Frame(command, headers, body))


def still_open(c, rec, label):
    """The connection survived: a SEND with a receipt gets its RECEIPT."""
    receipt = label + "-after"
    try:
        raw(c, "SEND", {"destination": f"/queue/{TAG}-after", "receipt": receipt}, "x")
    except stomp.exception.NotConnectedException:
        return False
    return rec.wait_for("RECEIPT", "receipt-id", receipt) is not None and c.is_connected()


for version in ("1.0", "1.1", "1.2"):
    v = "STOMP " + version
    c, rec = connect(version)

    # a 1.0 CONNECTED has heart-beat (0,0), as ActiveMQ's
    check(f"{v}: CONNECTED has a heart-beat header", "heart-beat" in (rec.connected or {}), rec.connected)

    # ERRORs after which ActiveMQ keeps the connection open
    errors = [
        ("unknown ack id", "ACK", {"id": "nope", "message-id": "nope", "subscription": "nope"}),
        ("commit of an unknown transaction", "COMMIT", {"transaction": "nope"}),
        ("SEND without destination", "SEND", {}),
        ("unknown UNSUBSCRIBE", "UNSUBSCRIBE", {"id": "nope", "destination": f"/queue/{TAG}-never"}),
    ]
    if version == "1.0":
        errors.append(("NACK in 1.0", "NACK", {"message-id": "nope"}))
    for i, (label, command, headers) in enumerate(errors):
        receipt = f"{version}-err-{i}"
        if not c.is_connected():   # a broker that closed after the last ERROR: go on with a new connection
            c, rec = connect(version)
        raw(c, command, dict(headers, receipt=receipt), "x" if command == "SEND" else "")
        error = rec.wait_for("ERROR", "receipt-id", receipt)
        check(f"{v}: {label} gets an ERROR with receipt-id", error is not None, rec.frames[-3:])
        check(f"{v}: {label} leaves the connection open", still_open(c, rec, receipt), rec.frames[-3:])
    if not c.is_connected():
        c, rec = connect(version)
    c.begin("tx-twice")
    raw(c, "BEGIN", {"transaction": "tx-twice", "receipt": f"{version}-begin2"})
    check(f"{v}: BEGIN twice gets an ERROR", rec.wait_for("ERROR", "receipt-id", f"{version}-begin2") is not None, rec.frames[-2:])
    check(f"{v}: BEGIN twice leaves the connection open", still_open(c, rec, f"{version}-begin2"), rec.frames[-2:])

    if not c.is_connected():
        c, rec = connect(version)
    # MESSAGE carries expires, priority and timestamp (ActiveMQ's JMS headers)
    q = f"/queue/{TAG}-{version}-meta"
    c.subscribe(q, id="meta", ack="auto") if version != "1.0" else c.subscribe(q, ack="auto")
    before = int(time.time() * 1000)
    c.send(q, "m1", headers={"x-custom": "1"})
    c.send(q, "m2", headers={"priority": "7"})
    m1 = rec.wait_for("MESSAGE", "x-custom", "1")
    m2 = rec.wait_for("MESSAGE", "priority", "7")
    check(f"{v}: MESSAGE has expires:0 and priority:4 by default",
          m1 is not None and m1[1].get("expires") == "0" and m1[1].get("priority") == "4", m1)
    stamp = int(m1[1].get("timestamp", "0")) if m1 else 0
    check(f"{v}: MESSAGE has the broker's timestamp", before - 5000 <= stamp <= int(time.time() * 1000) + 5000, m1)
    check(f"{v}: a SEND's priority is kept", m2 is not None, rec.frames[-2:])
    c.disconnect()

# heart-beats as asked, no lower bound, at the interval (not half of it)
c, rec = connect("1.2", heartbeats=(0, 100))
check("STOMP 1.2: heart-beat 0,100 is granted as 100,0", rec.connected.get("heart-beat") == "100,0", rec.connected)
rec.heartbeats = 0
time.sleep(2.0)
beats = rec.heartbeats
check("STOMP 1.2: beats come about every 100 ms (not every 50)", 8 <= beats <= 28, f"{beats} beats in 2 s")
c.disconnect()

# a reply to a temporary queue whose connection ended: ERROR, connection kept (ActiveMQ)
requester, req_rec = connect("1.2")
responder, resp_rec = connect("1.2")
service = f"/queue/{TAG}-svc"
responder.subscribe(service, id="svc")
requester.subscribe(f"/temp-queue/{TAG}", id="replies")
time.sleep(0.2)
requester.send(service, "ping", headers={"reply-to": f"/temp-queue/{TAG}"})
request = resp_rec.wait_for("MESSAGE", "destination", service)
reply_to = request[1].get("reply-to") if request else None
check("temp queue: reply-to is rewritten for others to use", reply_to is not None and reply_to != f"/temp-queue/{TAG}", request)
responder.send(reply_to, "pong", receipt="while-open")
check("temp queue: a reply while the requester is connected arrives",
      req_rec.wait_for("MESSAGE", "destination", f"/temp-queue/{TAG}") is not None, req_rec.frames[-2:])
requester.disconnect()
time.sleep(0.3)
raw(responder, "SEND", {"destination": reply_to, "receipt": "after-close"}, "late")
error = resp_rec.wait_for("ERROR", "receipt-id", "after-close")
check("temp queue: a reply after the requester left gets an ERROR", error is not None, resp_rec.frames[-2:])
check("temp queue: ... and the responder stays connected", still_open(responder, resp_rec, "temp"), resp_rec.frames[-2:])
if responder.is_connected():
    responder.disconnect()

# raw socket: the first of a repeated header wins
s = socket.create_connection((HOST, PORT))
s.settimeout(5)
q = f"/queue/{TAG}-repeat"
s.sendall(f"CONNECT\naccept-version:1.2\nhost:localhost\n\n\0SUBSCRIBE\nid:r\ndestination:{q}\n\n\0"
          f"SEND\ndestination:{q}\nx-a:first\nx-a:second\n\nhi\0".encode())
data = b""
deadline = time.time() + 5
while b"MESSAGE" not in data or not data.rstrip(b"\n").endswith(b"\0"):
    if time.time() > deadline:
        break
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
text = data.decode(errors="replace")
message = text[text.find("MESSAGE"):]
check("repeated header: only the first is delivered", "x-a:first" in message and "x-a:second" not in message, message)
s.close()

# a socket that never sends CONNECT is closed after the connect timeout
if CONNECT_TIMEOUT is not None:
    s = socket.create_connection((HOST, PORT))
    s.settimeout(CONNECT_TIMEOUT + 10)
    start = time.time()
    try:
        closed = s.recv(1) == b""
    except socket.timeout:
        closed = False
    took = time.time() - start
    check(f"no CONNECT: closed after about {CONNECT_TIMEOUT} s", closed and CONNECT_TIMEOUT * 0.8 <= took <= CONNECT_TIMEOUT + 5,
          f"closed={closed} after {took:.1f} s")

print(f"{len(failures)} failed", flush=True)
sys.exit(1 if failures else 0)
