"""The request pipeline of a provider's API on the kit: bearer authentication for the tenant in the path,
counters, the throttle, injected faults (latency, 5xx, throttle bursts, dropped responses of applied writes).

    Route("/v1/workspaces/{workspace}/tasks", api_endpoint(kit, create_task, tenant_param="workspace",
          write=True), methods=["POST"])

`handler(request, tenant)` returns a Starlette response. Errors are JSON `{"error": ...}` (a provider with
its own error shapes passes `errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.common.faults import Decision, drop_response

if TYPE_CHECKING:
    from sandbox.kit.app import Kit

__all__ = ["DroppedResponse", "api_endpoint"]

Handler = Callable[[Request, str], Awaitable[Response]]
ErrorFactory = Callable[[int, str], Response]
_MESSAGES = {
    401: "invalid_token",
    403: "forbidden",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def _json_error(status: int, error: str) -> Response:
    return JSONResponse({"error": error}, status)


class DroppedResponse(Response):
    """The write was applied; the client never gets the answer (see `sandbox.common.faults.drop_response`)."""

    def __init__(self, mode: Any, hang_s: float) -> None:
        super().__init__(b"")
        self.mode, self.hang_s = mode, hang_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await drop_response(send, self.mode, self.hang_s)


def api_endpoint(
    kit: Kit, handler: Handler, *, tenant_param: str, write: bool = False, errors: ErrorFactory = _json_error
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `handler` behind the kit's authentication, throttle and faults."""

    async def endpoint(request: Request) -> Response:
        tenant = str(request.path_params[tenant_param])
        auth = kit.require_oauth().authenticate(request.headers.get("authorization"), tenant)
        if auth != "ok" or not kit.tenants.exists(tenant):
            status = 403 if auth in ("ok", "forbidden") else 401
            return errors(status, _MESSAGES[status] if auth != "expired" else "token_expired")
        stats = kit.stats.scope(tenant)
        stats.requests_total += 1
        route = request.scope.get("route")
        stats.requests_by_endpoint[f"{request.method} {getattr(route, 'path', request.url.path)}"] += 1
        if not kit.limiter.enter(tenant):
            stats.throttled += 1
            return errors(429, _MESSAGES[429])
        try:
            if not kit.limiter.admit(tenant, None):
                stats.throttled += 1
                return errors(429, _MESSAGES[429])
            injector = kit.faults.injector(tenant)
            decision = injector.decide(write)
            if decision is not Decision.PASS:
                stats.faults_injected += 1
                stats.faults_by_kind[decision.value] += 1
            if decision is Decision.THROTTLE:
                stats.throttled += 1
                return errors(429, _MESSAGES[429])
            await injector.delay()
            if decision is Decision.ERROR:
                status = injector.error_status()
                return errors(status, _MESSAGES.get(status, "server_error"))
            response = await handler(request, tenant)
            if decision is Decision.DROP:
                return DroppedResponse(injector.settings.drop_mode, injector.settings.drop_hang_s)
            return response
        finally:
            kit.limiter.leave(tenant)

    return endpoint
