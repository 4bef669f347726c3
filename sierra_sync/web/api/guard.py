"""The gate of /api/ paths, in front of the app: the API key is checked before any of the request body is
read, and the body is held to `AppDeps.max_body_bytes` while it is read.

FastAPI reads and parses a body before it solves an endpoint's dependencies, so a key checked in a
dependency comes too late: a caller without a key could make the process read and parse a body of any
size. Here, per request:

1. No `Authorization: Bearer …`: 401 at once (no I/O). Otherwise the key is checked and counted: from this
   process's lease of the key when it holds one (connectors.apikey_cache, no I/O), else by the one
   statement of `auth.authenticate` in a worker thread: 401 or 429 at once. The result waits in
   `request.state` for the `api_context` dependency: no second round trip.
2. A declared Content-Length over the limit: 413 at once, nothing read.
3. The body (declared or chunked) is counted as the app reads it; past the limit the read raises a 413
   HTTPException, which FastAPI lets through to the API's error handler. The rest is never read.

Between 2 and 3, a GET of a lean list (api.lean) may be answered here, without the framework.

Answers given here have the API's error shape and pass through the request-log middleware (outside).
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.apikey_cache import KeyCache
from connectors.apikeys import hash_key
from sierra_sync.web.api.auth import CONTEXT, admit, authenticate, bearer_key, now_of
from sierra_sync.web.api.errors import ApiError, error_response
from sierra_sync.web.api.lean import LeanReads
from sierra_sync.web.deps import AppDeps

__all__ = ["ApiGuard", "too_large"]


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes; send less in one request"


class ApiGuard:
    """Authenticate, then limit the body, for /api/ paths (see the module's docstring)."""

    def __init__(self, app: ASGIApp, deps: AppDeps, keys: KeyCache, lean: LeanReads | None = None) -> None:
        self.app = app
        self.deps = deps
        self.keys = keys
        self.lean = lean

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        limit = self.deps.max_body_bytes
        try:
            key = bearer_key(request)
            now = now_of(self.deps)
            leased = self.keys.take(hash_key(key), now)  # a key cached by this process: no I/O
            if leased is not None:
                ctx = admit(self.deps, request, leased, now)
            else:
                ctx = await run_in_threadpool(authenticate, self.deps, self.keys, request, key)
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise ApiError(413, "payload_too_large", too_large(limit))
        except ApiError as err:
            answer = error_response(request, err.status, err.code, err.message, err.details, err.headers)
            await answer(scope, receive, send)
            return
        setattr(request.state, CONTEXT, ctx)
        if self.lean is not None and await self.lean.serve(ctx, scope, receive, send):
            return  # a list page answered without the framework (api.lean); else the route answers
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large(limit))
            return message

        await self.app(scope, limited, send)
