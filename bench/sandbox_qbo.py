"""Requests per second the QuickBooks sandbox serves on one core (no injected latency).

    .venv/bin/python -m bench.sandbox_qbo [--seconds 5] [--connections 8]

The sandbox runs in its own process (one event loop, so one core); this process drives it over raw sockets
with keep-alive connections, one request in flight per connection, and prints requests/s for a GET of one
customer (the "simple request"), a query and a create. Throttling is switched off for the bench realm.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import selectors
import socket
import sys
import time
import urllib.request
from typing import Any, cast


def serve(port: int, ready: Any) -> None:
    """The sandbox process."""
    import uvicorn

    from sandbox.quickbooks import create_app

    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    ready.set()
    server.run()


def _admin(base: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(  # noqa: S310 - loopback URL built here
        f"{base}/__sandbox/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _response_end(buf: bytes) -> int:
    """Index just past one complete HTTP response in buf, or -1."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return -1
    head = buf[:head_end].lower()
    start = head.find(b"content-length:")
    length = int(head[start + 15 : head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None])
    end = head_end + 4 + length
    return end if len(buf) >= end else -1


def drive(port: int, request: bytes, seconds: float, connections: int) -> tuple[int, int]:
    """Send `request` over `connections` keep-alive sockets for `seconds`; (responses, non-2xx)."""
    sel = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytes] = {}
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        sock.sendall(request)
        buffers[sock] = b""
        sel.register(sock, selectors.EVENT_READ)
    done = bad = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for key, _ in sel.select(timeout=1.0):
            conn = cast(socket.socket, key.fileobj)
            buffers[conn] += conn.recv(65536)
            end = _response_end(buffers[conn])
            while end >= 0:
                status = buffers[conn][9:12]
                if not status.startswith(b"2"):
                    bad += 1
                done += 1
                buffers[conn] = buffers[conn][end:]
                conn.sendall(request)
                end = _response_end(buffers[conn])
    for sock in buffers:
        sel.unregister(sock)
        sock.close()
    return done, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_qbo", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=serve, args=(port, ready), daemon=True)
    proc.start()
    try:
        ready.wait(30)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/", timeout=1).close()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        realm = _admin(base, "realms", {"tokens": True})
        realm_id, token = realm["realm_id"], realm["tokens"]["access_token"]
        _admin(base, "limits", {"realm": realm_id, "requests_per_minute": 0, "concurrent_requests": 0})
        headers = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
        prefix = f"/v3/company/{realm_id}"
        query = (
            "select%20*%20from%20Customer%20where%20DisplayName%20%3D%20%27Amy%5C%27s%20Bird%20Sanctuary%27"
        )
        body = b'{"DisplayName":"Bench Vendor","CompanyName":"Bench"}'
        cases = {
            "GET customer by id": f"GET {prefix}/customer/1 HTTP/1.1\r\n{headers}\r\n".encode(),
            "GET query (one row)": f"GET {prefix}/query?query={query} HTTP/1.1\r\n{headers}\r\n".encode(),
            "POST requestid replay": (
                f"POST {prefix}/vendor?requestid=bench HTTP/1.1\r\n{headers}"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body,
        }
        print(
            f"QBO sandbox, one server process, {args.connections} keep-alive connections, "
            f"{args.seconds:.0f} s per case"
        )
        figures = {}
        for name, request in cases.items():
            drive(port, request, 0.5, args.connections)  # warm-up
            done, bad = drive(port, request, args.seconds, args.connections)
            figures[name] = done / args.seconds
            print(f"  {name:<22} {done / args.seconds:8.0f} req/s  ({bad} non-2xx)")
        target = figures["GET customer by id"]
        print(
            f"simple requests: {target:.0f} req/s (target >= 1500): "
            f"{'OK' if target >= 1500 else 'BELOW TARGET'}"
        )
        return 0 if target >= 1500 else 1
    finally:
        proc.terminate()
        proc.join(5)


if __name__ == "__main__":
    sys.exit(main())
