"""Who is calling: the API key in `Authorization: Bearer sk_…`, checked and counted against its rate limits
in one statement (connectors.apikeys), then the permission an endpoint needs.

The check runs in the API guard (api.guard), before anything of the request body is read; the `api_context`
dependency hands its result to the endpoints.

401: no key, an unknown, revoked or expired key. 429: a limit reached (Retry-After). 403: the key lacks the
permission. The rate-limit state goes to `request.state.rate`; the middleware turns it into headers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from connectors.apikey_cache import KeyCache
from connectors.apikeys import AuthResult, hash_key
from sierra_sync.web.api.errors import ApiError
from sierra_sync.web.deps import AppDeps

__all__ = [
    "CONTEXT",
    "ApiContext",
    "admit",
    "api_context",
    "app_deps",
    "authenticate",
    "bearer_key",
    "client_ip",
    "now_of",
    "require",
]

CONTEXT = "api_context"  # where the guard leaves the caller in request.state

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="Your API key (`sk_live_…` or `sk_test_…`) as a bearer token.",
)

_UNAUTHORIZED = {
    "unknown": "the API key is not valid; check that it was copied whole",
    "revoked": "this API key was revoked; create a new one with `sierra-sync api-keys create`",
    "expired": "this API key has expired; create a new one with `sierra-sync api-keys create`",
}


@dataclass(frozen=True)
class ApiContext:
    key_id: uuid.UUID
    company_id: uuid.UUID
    permissions: dict[str, Any]
    environment: str

    def can(self, resource: str, mode: str) -> bool:
        modes = self.permissions.get(resource)
        return isinstance(modes, dict) and modes.get(mode) is True


async def app_deps(request: Request) -> AppDeps:
    deps: AppDeps = request.app.state.deps
    return deps


def now_of(deps: AppDeps) -> datetime:
    return datetime.fromtimestamp(deps.clock(), UTC)


def client_ip(request: Request) -> str | None:
    return request.client.host[:45] if request.client else None


def bearer_key(request: Request) -> str:
    """The API key of `Authorization: Bearer …`; ApiError 401 when there is none (no I/O)."""
    scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        raise ApiError(
            401,
            "unauthorized",
            "send your API key as `Authorization: Bearer sk_…`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials


def authenticate(deps: AppDeps, cache: KeyCache, request: Request, key: str) -> ApiContext:
    """Check `key` and count this request against its limits in the database (one statement, blocking: run
    it in a worker thread), taking a lease of later requests into `cache` when it can. See `admit`."""
    now = now_of(deps)
    return admit(deps, request, cache.authenticate(hash_key(key), key, now, client_ip(request)), now)


def admit(deps: AppDeps, request: Request, result: AuthResult, now: datetime) -> ApiContext:
    """The caller of an authenticated and counted request (from the database or `KeyCache.take`). ApiError
    401 for an unknown, revoked or expired key, 429 over a limit; the key, company and rate state go to
    `request.state` either way (the request log and the rate-limit headers use them)."""
    request.state.key_id = result.key_id
    request.state.company_id = result.company_id
    request.state.rate = result.rate
    if result.status in _UNAUTHORIZED:
        raise ApiError(
            401, f"key_{result.status}", _UNAUTHORIZED[result.status], headers={"WWW-Authenticate": "Bearer"}
        )
    assert result.key_id is not None
    assert result.company_id is not None
    assert result.rate is not None
    if result.status == "limited":
        request.state.rate_limited = True
        wait = result.rate.retry_after(now)
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit reached for this key; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return ApiContext(result.key_id, result.company_id, result.permissions or {}, result.environment or "")


async def api_context(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],  # documents the scheme
) -> ApiContext:
    """The caller, as authenticated by the API guard before the body was read (see api.guard)."""
    ctx = getattr(request.state, CONTEXT, None)
    if not isinstance(ctx, ApiContext):  # a route outside the guard: never served unauthenticated
        raise ApiError(401, "unauthorized", "send your API key as `Authorization: Bearer sk_…`")
    return ctx


def require(resource: str, mode: str) -> Callable[[ApiContext], Awaitable[ApiContext]]:
    """A dependency: the caller's context, after checking it holds `resource:mode` ('read' or 'write')."""

    async def check(ctx: Annotated[ApiContext, Depends(api_context)]) -> ApiContext:  # no I/O: no thread
        if not ctx.can(resource, mode):
            letter = mode[0]
            raise ApiError(
                403,
                "forbidden",
                f"this API key lacks the {resource}:{letter} permission; create a key that has it",
            )
        return ctx

    return check
