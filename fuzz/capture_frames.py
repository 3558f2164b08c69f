#!/usr/bin/env python3
"""Captures what real brokers send, as seeds for the frame-decoder fuzzer.

Usage: fuzz/capture_frames.py NAME HOST:PORT [LOGIN PASSCODE]   (e.g. activemq 127.0.0.1:61613)

Runs a few sessions against the broker over a plain socket and writes, for each, the bytes the broker sent
(CONNECTED, MESSAGE with escaped headers and a content-length body holding NULs, RECEIPT, heart-beat EOLs,
ERROR) to fuzz/corpus/frame-decoder/NAME-SESSION, behind the fuzzer's 8 set-up bytes (see
fuzz/frame-decoder/FrameDecoderFuzzer.swift).
"""
import os
import socket
import sys
import time

# version 1.2 (2), then limits roomy enough for broker frames, then chunk sizes
SETUP_1_2 = bytes([2, 31, 127, 15, 127, 7, 13, 64])
SETUP_1_0 = bytes([0, 31, 127, 15, 127, 3, 1, 50])
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame-decoder")


def frame(command, headers, body=b""):
    head = "".join(f"{k}:{v}\n" for k, v in headers)
    return command.encode() + b"\n" + head.encode() + b"\n" + body + b"\0"


class Session:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.received = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def read_for(self, seconds):
        """Reads whatever arrives within `seconds` (or until the broker closes)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            self.received += chunk

    def close(self):
        self.sock.close()


def connect_headers(version, login, passcode, heart_beat="0,0"):
    h = [("accept-version", version), ("host", "/"), ("heart-beat", heart_beat)]
    if login:
        h += [("login", login), ("passcode", passcode)]
    return h


def save(name, setup, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(setup + bytes(data))
    print(f"{name}: {len(data)} bytes")


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    name, hostport = sys.argv[1], sys.argv[2]
    login, passcode = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else (None, None)
    host, port = hostport.rsplit(":", 1)
    port = int(port)
    queue = f"/queue/stompsh.fuzz.capture.{os.getpid()}"

    # 1.2: subscribe, send (escaped header, binary body with NULs, receipt), get MESSAGE + RECEIPT
    s = Session(host, port)
    s.send(frame("CONNECT", connect_headers("1.2", login, passcode)))
    s.read_for(1)
    s.send(frame("SUBSCRIBE", [("id", "sub-0"), ("destination", queue), ("ack", "client-individual")]))
    body = b"bin\0ary\0\r\n"
    s.send(frame("SEND", [("destination", queue), ("receipt", "r-1"), ("x-escaped", r"a\cb\\c\nd\re"),
                          ("content-length", str(len(body))), ("content-type", "application/octet-stream")], body))
    s.send(frame("SEND", [("destination", queue), ("receipt", "r-2"), ("x-utf8", "åäö ✓")], "text ✓".encode()))
    s.read_for(2)
    s.send(frame("DISCONNECT", [("receipt", "bye")]))
    s.read_for(1)
    s.close()
    save(f"{name}-1.2-message-receipt", SETUP_1_2, s.received)

    # heart-beats: ask the broker to send one every 500 ms
    s = Session(host, port)
    s.send(frame("CONNECT", connect_headers("1.1,1.2", login, passcode, "0,500")))
    s.read_for(2.2)
    s.close()
    save(f"{name}-heart-beats", SETUP_1_2, s.received)

    # an ERROR: a SEND without a destination
    s = Session(host, port)
    s.send(frame("CONNECT", connect_headers("1.2", login, passcode)))
    s.read_for(1)
    s.send(frame("SEND", [("receipt", "r-3")], b"no destination"))
    s.read_for(2)
    s.close()
    save(f"{name}-error", SETUP_1_2, s.received)

    # STOMP 1.0: no escaping
    s = Session(host, port)
    s.send(frame("CONNECT", [("login", login or ""), ("passcode", passcode or "")]))
    s.read_for(1)
    s.send(frame("SUBSCRIBE", [("destination", queue), ("receipt", "r-4")]))
    s.send(frame("SEND", [("destination", queue), ("x-colon", "a:b\\c")], b"one-oh"))
    s.read_for(2)
    s.close()
    save(f"{name}-1.0", SETUP_1_0, s.received)


if __name__ == "__main__":
    main()
