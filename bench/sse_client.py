#!/usr/bin/env python3
"""One streamed GET over raw HTTP/1.1, timed chunk by chunk (bench/stream.sh's client).

usage: sse_client.py events URL   -> {"first_event_ms", "gaps_ms": [...], "events", "total_ms"}
       sse_client.py bulk URL     -> {"bytes", "seconds", "mb_per_s", "first_byte_ms"}

Times are from the moment the request is sent. "first_event_ms" is when the first
`data:` block arrived; the gaps are between consecutive `data:` blocks. Loopback only.
"""
import json
import socket
import sys
import time
from urllib.parse import urlsplit


def request(url):
    u = urlsplit(url)
    if u.hostname not in ("127.0.0.1", "localhost") and not (u.hostname or "").endswith(".localhost"):
        sys.exit("sse_client.py: loopback URLs only")
    sock = socket.create_connection(("127.0.0.1", u.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    target = u.path + (("?" + u.query) if u.query else "")
    sock.sendall(
        f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n".encode()
    )
    return sock, time.perf_counter()


def main():
    mode, url = sys.argv[1], sys.argv[2]
    sock, t0 = request(url)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    head = b""
    stamps = []
    total = 0
    first_byte = None
    pending = b""
    while True:
        n = sock.recv_into(view)
        if n == 0:
            break
        now = time.perf_counter()
        data = bytes(view[:n]) if mode == "events" or first_byte is None else None
        if first_byte is None:
            head += data
            if b"\r\n\r\n" not in head:
                continue
            body = head.split(b"\r\n\r\n", 1)[1]
            first_byte = now
            total += len(body)
            data = body
        else:
            total += n
        if mode == "events" and data:
            pending += data
            # Count `data:` blocks as they complete (chunk framing lines are skipped).
            while b"\n\n" in pending:
                block, pending = pending.split(b"\n\n", 1)
                if b"data:" in block:
                    stamps.append(now)
    end = time.perf_counter()
    sock.close()
    if mode == "events":
        out = {
            "events": len(stamps),
            "first_event_ms": round((stamps[0] - t0) * 1000, 2) if stamps else None,
            "gaps_ms": [round((b - a) * 1000, 1) for a, b in zip(stamps, stamps[1:])],
            "total_ms": round((end - t0) * 1000, 1),
        }
    else:
        secs = end - (first_byte or t0)
        out = {
            "bytes": total,
            "seconds": round(secs, 3),
            "mb_per_s": round(total / secs / 1e6, 1) if secs > 0 else None,
            "first_byte_ms": round(((first_byte or end) - t0) * 1000, 2),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
