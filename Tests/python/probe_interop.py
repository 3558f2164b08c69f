#!/usr/bin/env python3
"""Drives a broker with stomp.py (STOMP 1.0, 1.1 and 1.2 connections) through some of `stompsh probe`'s checks and
prints one JSON object {check id: key observation}, in the probe card's words, so that a client nobody here wrote can
be compared with the card (Tests/StompProbeTests/ProbeStompPyTests.swift).

    probe_interop.py HOST PORT [LOGIN PASSCODE]
"""
import json
import random
import sys
import threading
import time

import stomp

HOST, PORT = sys.argv[1], int(sys.argv[2])
LOGIN = sys.argv[3] if len(sys.argv) > 3 else "guest"
PASSCODE = sys.argv[4] if len(sys.argv) > 4 else "guest"
PREFIX = "stompsh-probe-py-%x" % random.getrandbits(32)
TIMEOUT = 2.0
QUIET = 0.4


class Recorder(stomp.ConnectionListener):
    def __init__(self):
        self.cond = threading.Condition()
        self.connected = None
        self.messages = []
        self.errors = []
        self.receipts = set()
        self.disconnected = False

    def _add(self, fn):
        with self.cond:
            fn()
            self.cond.notify_all()

    def on_connected(self, frame): self._add(lambda: setattr(self, "connected", frame))
    def on_message(self, frame): self._add(lambda: self.messages.append(frame))
    def on_error(self, frame): self._add(lambda: self.errors.append(frame))
    def on_receipt(self, frame): self._add(lambda: self.receipts.add(frame.headers.get("receipt-id")))
    def on_disconnected(self): self._add(lambda: setattr(self, "disconnected", True))

    def wait(self, pred, timeout=TIMEOUT):
        end = time.time() + timeout
        with self.cond:
            while not pred():
                left = end - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


def connect(version):
    cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[version]
    conn = cls([(HOST, PORT)], heartbeats=(0, 0)) if version != "1.0" else cls([(HOST, PORT)])
    rec = Recorder()
    conn.set_listener("", rec)
    conn.connect(LOGIN, PASSCODE, wait=True, headers={"host": "/"})
    return conn, rec


def close(conn):
    try:
        if conn.is_connected():
            conn.disconnect()
        else:
            conn.transport.disconnect_socket()
    except Exception:
        pass


def queue(name):
    return "/queue/%s.%s" % (PREFIX, name)


def send(conn, rec, dest, body, **headers):
    r = "r-%x" % random.getrandbits(32)
    conn.send(dest, body, headers=dict(headers, receipt=r))
    assert rec.wait(lambda: r in rec.receipts), "no RECEIPT for SEND to " + dest


def subscribe(conn, rec, dest, sid, ack="auto"):
    r = "r-%x" % random.getrandbits(32)
    conn.subscribe(dest, sid, ack=ack, headers={"receipt": r})
    assert rec.wait(lambda: r in rec.receipts), "no RECEIPT for SUBSCRIBE to " + dest


def leftovers(dest):
    conn, rec = connect("1.2")
    subscribe(conn, rec, dest, "left")
    rec.wait(lambda: rec.messages)
    time.sleep(QUIET)
    got = [m.body for m in rec.messages]
    close(conn)
    return got


def versions(out):
    for v in ("1.0", "1.1", "1.2"):
        conn, rec = connect(v)
        f = rec.connected
        got = f.headers.get("version", "none")
        hb = "heart-beat" if "heart-beat" in f.headers else "no heart-beat"
        out["connect.version-" + v] = "version:%s, %s" % (got, hb)
        close(conn)


def fifo(out):
    conn, rec = connect("1.1")
    q = queue("fifo")
    sent = ["m%d" % i for i in range(1, 6)]
    for b in sent:
        send(conn, rec, q, b)
    subscribe(conn, rec, q, "s")
    rec.wait(lambda: len(rec.messages) >= 5)
    out["delivery.queue-fifo"] = "in order" if [m.body for m in rec.messages] == sent else "out of order"
    close(conn)


def ack_mode(out, version, mode):
    conn, rec = connect(version)
    q = queue("ack-" + mode)
    for b in ("one", "two", "three"):
        send(conn, rec, q, b)
    subscribe(conn, rec, q, "s", ack=mode)
    rec.wait(lambda: len(rec.messages) >= 3)
    second = rec.messages[1]
    r = "ack-r"
    if version == "1.2":
        conn.ack(second.headers["ack"], receipt=r)
    else:
        conn.ack(second.headers["message-id"], second.headers["subscription"], receipt=r)
    rec.wait(lambda: r in rec.receipts)
    close(conn)
    left = leftovers(q)
    out["delivery." + ("ack-client" if mode == "client" else "ack-client-individual")] = "left " + (" ".join(left) or "nothing")


def transactions(out):
    consumer, crec = connect("1.0")
    producer, prec = connect("1.0")
    q = queue("tx-commit")
    subscribe(consumer, crec, q, "s")
    producer.begin("tx1")
    send(producer, prec, q, "tx-a", transaction="tx1")
    send(producer, prec, q, "tx-b", transaction="tx1")
    time.sleep(QUIET)
    early = len(crec.messages)
    producer.commit("tx1")
    crec.wait(lambda: len(crec.messages) >= 2)
    out["transactions.commit"] = "not held" if early else ("held, delivered" if len(crec.messages) == 2 else "lost")
    q2 = queue("tx-abort")
    subscribe(consumer, crec, q2, "s2")
    producer.begin("tx2")
    send(producer, prec, q2, "tx-aborted", transaction="tx2")
    producer.abort("tx2")
    time.sleep(QUIET)
    out["transactions.abort"] = "discarded" if not [m for m in crec.messages if m.body == "tx-aborted"] else "delivered"
    close(consumer)
    close(producer)


def error_case(out, check, version, cmd, headers, prepare=None):
    conn, rec = connect(version)
    if prepare:
        prepare(conn, rec)
    conn.send_frame(cmd, dict(headers, receipt="error-check"))
    rec.wait(lambda: rec.errors or "error-check" in rec.receipts or rec.disconnected)
    if rec.errors:
        names = [n for n in rec.errors[0].headers if n not in ("message", "content-length", "content-type")]
        time.sleep(0.3)
        if rec.disconnected:
            state = "closed"
        else:
            try:
                conn.send("/topic/%s.errors" % PREFIX, "are you there", headers={"receipt": "open-check"})
                rec.wait(lambda: "open-check" in rec.receipts or rec.disconnected)
            except Exception:
                pass
            state = "stays open" if "open-check" in rec.receipts else "closed"
        out["errors." + check] = "%s, %s" % ("+".join(["ERROR"] + names), state)
    elif "error-check" in rec.receipts:
        out["errors." + check] = "RECEIPT"
    elif rec.disconnected:
        out["errors." + check] = "closed, no ERROR"
    else:
        out["errors." + check] = "silence"
    close(conn)


def begin(conn, rec):
    conn.begin("twice")


def reply(out):
    requester, qrec = connect("1.2")
    responder, rrec = connect("1.2")
    q = queue("requests-py")
    temp = "/temp-queue/%s.py" % PREFIX
    subscribe(responder, rrec, q, "r")
    subscribe(requester, qrec, temp, "replies")
    send(requester, qrec, q, "request", **{"reply-to": temp})
    rrec.wait(lambda: rrec.messages)
    reply_to = rrec.messages[0].headers["reply-to"]
    send(responder, rrec, reply_to, "reply")
    out["reply.with-subscribe"] = "reply arrives" if qrec.wait(lambda: qrec.messages) else "reply lost"
    close(requester)
    close(responder)


def main():
    out = {}
    versions(out)
    fifo(out)
    ack_mode(out, "1.1", "client")
    ack_mode(out, "1.2", "client-individual")
    transactions(out)
    error_case(out, "unknown-ack-id", "1.2", "ACK", {"id": "no-such-ack"})
    error_case(out, "unknown-transaction", "1.2", "COMMIT", {"transaction": "no-such-tx"})
    error_case(out, "begin-twice", "1.2", "BEGIN", {"transaction": "twice"}, prepare=begin)
    error_case(out, "nack-1.0", "1.0", "NACK", {"message-id": "no-such-message", "subscription": "none"})
    error_case(out, "unknown-unsubscribe", "1.2", "UNSUBSCRIBE", {"id": "no-such-subscription"})
    reply(out)
    for q in ("fifo", "ack-client", "ack-client-individual", "tx-commit", "tx-abort", "requests-py"):
        leftovers(queue(q))
    print(json.dumps(out, sort_keys=True))


main()
