"""A raw HTTP/1.1 client for body-limit tests: it sends a request body piece by piece and stops as soon as
the server answers, so a test can tell whether the server answered before it had the whole body."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client had sent when the answer came
    finished: bool  # the client sent the whole body

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    base_url: str,
    path: str,
    headers: dict[str, str],
    pieces: Iterable[bytes] = (),
    *,
    length: int | None = None,
    wait: float = 10.0,
) -> RawAnswer:
    """POST `pieces` (chunked unless `length` declares a Content-Length, which the pieces need not fill);
    before each piece, stop if the server has answered. Waits up to `wait` s for the answer."""
    url = urlsplit(base_url)
    head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    sent, finished = 0, False
    with socket.create_connection((url.hostname, url.port), timeout=wait) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(piece if length is not None else b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            finished = True
            if length is None:
                sock.sendall(b"0\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            assert more, "the server closed the connection without an answer"
            data += more
        raw_head, body = data.split(b"\r\n\r\n", 1)
        lines = raw_head.decode("latin-1").split("\r\n")
        answer_headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        size = int(answer_headers.get("content-length", "0"))
        while len(body) < size:
            more = sock.recv(65536)
            assert more, "the answer was cut short"
            body += more
    return RawAnswer(int(lines[0].split(" ")[1]), answer_headers, body[:size], sent, finished)
