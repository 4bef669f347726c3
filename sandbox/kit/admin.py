"""The admin contract of every kit sandbox, under /__sandbox/ (JSON in, JSON out; no authentication: a
sandbox listens on loopback). Errors are `{"error": "..."}` with 400 or 404.

    POST /__sandbox/tokens            {<tenant_body_key>?}  a token response for a new connection + tenant
    GET  /__sandbox/tokens                                  every token issued; POST tokens/expire {kind}
    GET/POST /__sandbox/faults        {<scope_param>?, latency_ms, error_rate, drop_rate, drop_mode, throttle}
    GET  /__sandbox/stats[?<scope_param>=]                  counters, in total or of one tenant
    GET/POST /__sandbox/clock         {advance_seconds}
    POST /__sandbox/reset
    GET/POST /__sandbox/limits        {<scope_param>?, requests_per_minute, ...}
    GET/POST /__sandbox/oauth         {consent, rotation, rotation_interval_s}
    GET/POST /__sandbox/webhooks      {url, <secret name>, attempts}; GET webhooks/deliveries;
    POST /__sandbox/webhooks/flush; POST /__sandbox/webhooks/send {<tenant_body_key>?, payload}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.kit.faults import parse_fault_changes

if TYPE_CHECKING:
    from sandbox.kit.app import Kit

__all__ = ["AdminError", "admin_endpoint", "read_json", "routes"]

Handler = Callable[["Kit", Request], Awaitable[Any]]
_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class AdminError(Exception):
    """A bad admin request: status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object ({} when empty)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except ValueError:
        raise AdminError(400, "the body must be JSON") from None
    if not isinstance(payload, dict):
        raise AdminError(400, "the body must be a JSON object")
    return payload


def admin_endpoint(kit: Kit, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler`: a dict becomes JSON, AdminError and ValueError `{"error"}`."""

    async def endpoint(request: Request) -> Response:
        try:
            out = await handler(kit, request)
        except AdminError as err:
            return JSONResponse({"error": err.message}, err.status)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, 400)
        return out if isinstance(out, Response) else JSONResponse(out)

    return endpoint


def _scope(kit: Kit, value: Any) -> str | None:
    """A tenant named in a request, checked to exist (404 otherwise)."""
    if value is None or value == "":
        return None
    scope = str(value)
    if not kit.tenants.exists(scope):
        raise AdminError(404, f"no {kit.spec.scope_param} {scope}")
    return scope


async def _tokens(kit: Kit, request: Request) -> Any:
    server = kit.require_oauth()
    if request.method == "GET":
        return server.tokens()
    body = await read_json(request)
    named = body.get(kit.spec.tenant_body_key)
    tenant = _scope(kit, named) if named is not None else None
    if named is not None and tenant is None:
        raise AdminError(404, f"no {kit.spec.scope_param} {named}")
    return server.token_response(kit.new_connection(tenant))


async def _expire(kit: Kit, request: Request) -> Any:
    body = await read_json(request)
    kind = body.get("kind", "access")
    if kind not in ("access", "refresh", "all"):
        raise AdminError(400, "kind must be 'access', 'refresh' or 'all'")
    target = body.get(kit.spec.tenant_body_key)
    return {"expired": kit.require_oauth().expire(str(target) if target else None, kind)}


async def _faults(kit: Kit, request: Request) -> Any:
    key = kit.spec.scope_param
    if request.method == "GET":
        scope = request.query_params.get(key) or None
        return kit.faults.get(scope, key)
    body = await read_json(request)
    changes, throttle = parse_fault_changes(body)
    return kit.faults.set(_scope(kit, body.get(key)), changes, throttle, key)


async def _stats(kit: Kit, request: Request) -> Any:
    key = kit.spec.scope_param
    scope = _scope(kit, request.query_params.get(key))
    if scope is not None:
        return {key: scope, **kit.stats.scope(scope).as_dict()}
    return kit.stats.total()


async def _clock(kit: Kit, request: Request) -> Any:
    if request.method == "POST":
        seconds = (await read_json(request)).get("advance_seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise AdminError(400, "advance_seconds must be a number")
        kit.clock.advance(float(seconds))
    return {"now": kit.clock.now().isoformat(), "frozen": kit.clock.frozen}


async def _reset(kit: Kit, request: Request) -> Any:
    kit.reset()
    return {"ok": True}


async def _limits(kit: Kit, request: Request) -> Any:
    key, limiter = kit.spec.scope_param, kit.limiter
    if request.method == "POST":
        body = await read_json(request)
        scope = _scope(kit, body.pop(key, None))
        if scope is None:
            limiter.default = limiter.default.updated(body)
            limiter.per_scope = {k: v.updated(body) for k, v in limiter.per_scope.items()}
        else:
            limiter.per_scope[scope] = limiter.limits(scope).updated(body)
    else:
        scope = request.query_params.get(key) or None
    limits = limiter.limits(scope) if scope else limiter.default
    return {key: scope, **limits.as_dict()}


async def _oauth(kit: Kit, request: Request) -> Any:
    server = kit.require_oauth()
    if request.method == "POST":
        body = await read_json(request)
        if "consent" in body:
            if body["consent"] not in ("auto", "page", "deny"):
                raise AdminError(400, "consent must be 'auto', 'page' or 'deny'")
            server.consent = body["consent"]
        if "rotation" in body:
            if body["rotation"] not in ("rotating_grace", "rotating_revoke", "non_rotating"):
                raise AdminError(
                    400, "rotation must be 'rotating_grace', 'rotating_revoke' or 'non_rotating'"
                )
            server.rotation = body["rotation"]
        if "rotation_interval_s" in body:
            value = body["rotation_interval_s"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise AdminError(400, "rotation_interval_s must be an integer >= 0")
            server.rotation_interval_s = value
    return {
        "consent": server.consent,
        "rotation": server.rotation,
        "rotation_interval_s": server.rotation_interval_s,
    }


def _sender(kit: Kit) -> Any:
    if kit.webhooks is None:
        raise AdminError(404, f"the {kit.spec.title} sandbox sends no webhooks")
    return kit.webhooks


async def _webhooks(kit: Kit, request: Request) -> Any:
    sender = _sender(kit)
    if request.method == "POST":
        (kit.webhook_configure or sender.configure)(await read_json(request))
    return (kit.webhook_settings or sender.settings)()


async def _deliveries(kit: Kit, request: Request) -> Any:
    return {"deliveries": _sender(kit).deliveries}


async def _flush(kit: Kit, request: Request) -> Any:
    sender = _sender(kit)
    await sender.drain()
    return {"deliveries": len(sender.deliveries)}


async def _send(kit: Kit, request: Request) -> Any:
    sender = _sender(kit)
    body = await read_json(request)
    payload = body.get("payload")
    if not isinstance(payload, dict | list):
        raise AdminError(400, "payload must be a JSON object or list")
    if not sender.url:
        raise AdminError(400, 'no webhook url is set: POST /__sandbox/webhooks {"url": ...} first')
    scope = str(body.get(kit.spec.tenant_body_key, ""))
    ok = await sender.deliver(scope, sender.url, json.dumps(payload, separators=(",", ":")).encode())
    return {"delivered": ok, "delivery": sender.deliveries[-1]}


async def _unknown(kit: Kit, request: Request) -> Any:
    raise AdminError(404, f"no admin endpoint {request.method} {request.url.path}")


def routes(kit: Kit) -> list[BaseRoute]:
    """The admin routes (a catch-all last: an unknown admin path answers a JSON 404)."""
    table: list[tuple[str, Handler, list[str]]] = [
        ("/tokens", _tokens, ["GET", "POST"]),
        ("/tokens/expire", _expire, ["POST"]),
        ("/faults", _faults, ["GET", "POST"]),
        ("/stats", _stats, ["GET"]),
        ("/clock", _clock, ["GET", "POST"]),
        ("/reset", _reset, ["POST"]),
        ("/limits", _limits, ["GET", "POST"]),
        ("/oauth", _oauth, ["GET", "POST"]),
        ("/webhooks", _webhooks, ["GET", "POST"]),
        ("/webhooks/deliveries", _deliveries, ["GET"]),
        ("/webhooks/flush", _flush, ["POST"]),
        ("/webhooks/send", _send, ["POST"]),
    ]
    out: list[BaseRoute] = [
        Route(f"/__sandbox{path}", admin_endpoint(kit, handler), methods=methods)
        for path, handler, methods in table
    ]
    out.append(Route("/__sandbox/{rest:path}", admin_endpoint(kit, _unknown), methods=_ALL))
    return out
