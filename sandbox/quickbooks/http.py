"""Minimal raw-ASGI request and response types: the hot path stays a few function calls deep."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sandbox.quickbooks.wire import dumps

__all__ = ["Receive", "Request", "Response", "Send", "admin_json", "qbo_json", "read_request"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Request:
    """An HTTP request, fully read."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str = ""
    scheme: str = "http"

    def q(self, name: str) -> str | None:
        """The first value of a query parameter (names are case-sensitive, as Intuit's are)."""
        values = self.query.get(name)
        return values[0] if values else None

    def q_ci(self, name: str) -> str | None:
        """The first value of a query parameter, name matched case-insensitively."""
        lowered = name.lower()
        for key, values in self.query.items():
            if key.lower() == lowered and values:
                return values[0]
        return None

    @property
    def content_type(self) -> str:
        """The media type, lower-case, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    """An HTTP response to send."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def send(self, send: Send) -> None:
        """Send it over ASGI."""
        headers = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.body)).encode("ascii")),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def qbo_json(obj: Any, status: int = 200, content_type: str = "application/json") -> Response:
    """A response in the QBO wire format (exact number text)."""
    return Response(status, dumps(obj), content_type)


def admin_json(obj: Any, status: int = 200) -> Response:
    """A response of the admin API (plain JSON; Decimals as numbers)."""
    return Response(status, dumps(_plain(obj)), "application/json")


def _plain(obj: Any) -> Any:
    # The admin API only ever returns JSON-native values and Decimals, which dumps() prints exactly.
    return json.loads(json.dumps(obj, default=str)) if not isinstance(obj, dict | list) else obj


async def read_request(scope: MutableMapping[str, Any], receive: Receive) -> Request:
    """Read the whole body and decode headers and query string."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    raw_qs = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client") or ("", 0)
    return Request(
        method=scope["method"],
        path=scope["path"],
        query=parse_qs(raw_qs, keep_blank_values=True) if raw_qs else {},
        headers=headers,
        body=b"".join(chunks),
        client=str(client[0]),
        scheme=str(scope.get("scheme", "http")),
    )
