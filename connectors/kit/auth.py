"""Bearer authentication for any provider's API as an `httpx.Auth`: add the token, refresh once on a 401,
re-send.

Where tokens come from (the encrypted `integrations` row, one refresh at a time across processes) is the
`TokenSource`'s business (connectors/kit/tokens.py); this module only asks it for a token and, after a 401,
for a better one.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Generator
from typing import Protocol, runtime_checkable

import httpx

__all__ = ["BearerAuth", "TokenSource"]


@runtime_checkable
class TokenSource(Protocol):
    """Hands out access tokens for one stored connection."""

    def access_token(self) -> str:
        """A valid access token; the implementation refreshes first when fewer than 5 minutes remain."""
        ...

    def refresh_after_401(self, rejected_token: str) -> str:
        """The provider rejected `rejected_token`: refresh once, unless another worker already replaced
        it, and return the token to use now. Raises a `SierraError` when a person must re-authorize."""
        ...


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` on every request; on a 401, one refresh and one re-send, no more.

    `sync_auth_flow` is overridden (not `auth_flow`) because refreshing is blocking I/O and is serialised by
    a lock: threads sharing one client that all get a 401 ask the TokenSource one after the other, and the
    TokenSource sees that the rejected token was already replaced. A second 401 is returned to the caller,
    which classifies it as `AuthenticationError`.
    """

    def __init__(self, tokens: TokenSource) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            fresh = self._tokens.refresh_after_401(token)
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # The same flow, for callers that step the generator themselves.
        return self.sync_auth_flow(request)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if request.method:  # always: the yield below only makes this an async generator
            raise TypeError("BearerAuth refreshes tokens with blocking I/O; use it with httpx.Client")
        yield request
