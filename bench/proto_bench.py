#!/usr/bin/env python3
"""stomp.py side of the StompProto codec benchmark (run by `swift run -c release stompproto-bench`).

Times stomp.py's own parser, stomp.utils.parse_frame, and its encoder, stomp.utils.convert_frame,
on the same frame bytes the Swift benchmark uses (passed as files; NUL-terminated, as on the wire).
stomp.py's transport strips the NUL before parse_frame, so we do too.
Prints "stomp.py VERSION", then one "NAME KEY VALUE" line per figure.

Usage: proto_bench.py [--seconds S] NAME=FILE...
"""
import sys
import time

import stomp
import stomp.utils as u


def rate(fn, seconds):
    """Calls fn() repeatedly for about `seconds` of CPU time; returns calls per CPU-second
    (the machine may be shared; the Swift side counts CPU time too)."""
    fn()
    n, batch = 0, 1
    start = time.thread_time()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.thread_time() - start
        if elapsed >= seconds:
            return n / elapsed
        batch *= 2


def main(argv):
    seconds = 1.0
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--seconds":
            seconds = float(args.pop(0))
        else:
            name, _, path = a.partition("=")
            files.append((name, path))
    print("stomp.py", stomp.__version__)
    for name, path in files:
        with open(path, "rb") as f:
            wire = f.read()
        frame_bytes = wire[:-1] if wire.endswith(b"\0") else wire
        parsed = u.parse_frame(frame_bytes)
        assert parsed is not None and parsed.cmd, "stomp.py could not parse the frame"
        decode = rate(lambda: u.parse_frame(frame_bytes), seconds)
        headers = dict(parsed.headers)
        body = parsed.body

        def encode():
            return b"".join(u.convert_frame(u.Frame(parsed.cmd, dict(headers), body)))

        encoded = rate(encode, seconds)
        for key, value in [("bytes", len(wire)),
                           ("decode_frames_per_s", decode), ("decode_mb_per_s", decode * len(wire) / 1e6),
                           ("encode_frames_per_s", encoded), ("encode_mb_per_s", encoded * len(wire) / 1e6)]:
            print(name, key, value)


if __name__ == "__main__":
    main(sys.argv[1:])
