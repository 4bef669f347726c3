"""Stripe's /__sandbox/ admin endpoints: reset, faults, stats, objects, webhooks and deliveries, clock,
payouts. The kit's admin contract answers the rest (POST /__sandbox/tokens: a Connect token response)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.stripe import ledger, payment_intents
from sandbox.stripe.errors import StripeError, invalid_request
from sandbox.stripe.state import DAY, SandboxState, dump
from sandbox.stripe.store import snapshot
from sandbox.stripe.webhooks import StripeEndpoint, subscribed

AdminHandler = Callable[[SandboxState, Request, dict[str, Any]], Awaitable[Any]]


def _endpoint(state: SandboxState, handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body: dict[str, Any] = {}
        raw = await request.body()
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                return JSONResponse({"error": "the body must be JSON"}, status_code=400)
            if not isinstance(parsed, dict):
                return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
            body = parsed
        try:
            result = await handler(state, request, body)
        except StripeError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(result)

    return endpoint


async def reset(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Forget objects, events, keys, accounts, tokens, deliveries and counters; restore the configured faults
    and endpoints."""
    state.kit.reset()
    return {"reset": True}


async def faults(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """GET: fault settings; POST: change some (latency_ms, jitter_ms, error_rate, drop_rate, drop_mode).

    `throttle`: N, the next N requests get 429; `rate_limit`: `{limit, window_seconds}` or null.
    """
    if request.method == "POST":
        state.faults.update(body)
    return state.faults.as_dict()


async def stats(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """The kit's counters (in total, with `oauth` and `accounts`; or of `?account=`) and webhook deliveries
    by status."""
    account = request.query_params.get("account")
    if account:
        return {"account": account, **state.stats.scope(account).as_dict()}
    return {**state.stats.total(), "webhooks": state.webhooks.counts()}


async def objects(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Every stored object of one kind (`/__sandbox/objects/payment_intent`), newest first, unpaginated."""
    kind = request.path_params["kind"]
    ledger.settle(state)
    data = [snapshot(o) for o in state.store.all(kind)]
    return {"object": "list", "data": data, "has_more": False, "url": f"/__sandbox/objects/{kind}"}


async def endpoints(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """GET: registered webhook endpoints (no secrets); POST {url, secret?, enabled_events?}: register one."""
    if request.method == "POST":
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        secret = body.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise ValueError("secret must be a string")
        enabled = body.get("enabled_events", ["*"])
        if not isinstance(enabled, list) or not all(isinstance(e, str) for e in enabled):
            raise ValueError("enabled_events must be a list of event types")
        connect = body.get("connect", False)
        if not isinstance(connect, bool):
            raise ValueError("connect must be true or false")
        obj, secret = state.add_webhook_endpoint(url, secret, enabled, connect)
        return {**obj, "secret": secret}
    endpoints = [e for e in state.webhooks.endpoints.values() if isinstance(e, StripeEndpoint)]
    return {"data": [{"id": e.id, "url": e.url, "enabled_events": e.enabled_events, "connect": e.connect}
                     for e in endpoints]}  # fmt: skip


async def aliases(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """POST {placeholder: real id, …}: API calls naming a placeholder (`cus_xxxxxxxxxxxxx`, `tok_xxxx`) act on
    the real object (or test token); for suites written against stripe-mock's fixed ids. GET: the aliases."""
    if request.method == "POST":
        for alias, target in body.items():
            if not isinstance(target, str) or not target:
                raise ValueError(f"the alias {alias!r} must name an id (a string)")
            state.store.aliases[alias] = target
    return dict(state.store.aliases)


async def refund_requires_action(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Put a succeeded refund in `requires_action` (as refunds to methods needing customer action are)."""
    refund = state.store.get("refund", request.path_params["id"])
    if refund["status"] != "succeeded":
        raise invalid_request(f"Refund {refund['id']} has a status of {refund['status']}.")
    refund["status"] = "requires_action"
    sent = {"email_sent_at": state.now(), "email_sent_to": "customer@example.com"}
    details = {"email_sent": sent, "expires_at": state.now() + 30 * DAY}
    refund["next_action"] = {"display_details": details, "type": "display_details"}
    return snapshot(refund)


async def deliveries(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Webhook deliveries with their attempts (filter with ?status=pending|delivered|failed, ?event_id=)."""
    status = request.query_params.get("status")
    event_id = request.query_params.get("event_id")
    return {
        "data": [
            d.describe()
            for d in state.webhooks.queued
            if (status is None or d.status == status) and (event_id is None or d.meta["event_id"] == event_id)
        ]
    }


async def deliver(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Send every pending delivery once, now, ignoring backoff; `order`: queued, reverse or shuffle."""
    order = body.get("order", "queued")
    if order not in ("queued", "reverse", "shuffle"):
        raise ValueError("order must be queued, reverse or shuffle")
    batch = await state.webhooks.deliver_now(order, state.rng)
    return {"attempted": len(batch), "deliveries": [d.describe() for d in batch]}


async def redeliver(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Queue an event again (a duplicate delivery, as Stripe sometimes sends): {event_id, endpoint_id?}."""
    event = state.store.get("event", str(body.get("event_id")), param="event_id")
    endpoint_id = body.get("endpoint_id")
    targets = [str(endpoint_id)] if endpoint_id is not None else subscribed(state.webhooks, event["type"])
    meta = {"event_id": event["id"], "event_type": event["type"]}
    queued = state.webhooks.enqueue(targets, dump(event), f"{event['type']} for {event['id']}", meta)
    return {"queued": queued}


async def clock(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """GET: the sandbox time; POST {advance_seconds | advance_days}: move it forward and let time act."""
    if request.method == "POST":
        seconds = float(body.get("advance_seconds", 0)) + float(body.get("advance_days", 0)) * DAY
        state.clock.advance(seconds)
        ledger.settle(state)
        state.prune_events()
    return {"now": state.now()}


async def force_payout(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Pay out everything not paid out yet (like an automatic payout); {currency?}."""
    return ledger.force_payout(state, str(body.get("currency", "usd")))


async def authenticate(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Finish 3-D Secure on an intent in requires_action: {success: true|false} (default true)."""
    intent = state.store.get("payment_intent", request.path_params["id"])
    success = body.get("success", True)
    if not isinstance(success, bool):
        raise invalid_request("success must be true or false", param="success")
    payment_intents.authenticate(state, intent, success)
    return snapshot(intent)


async def dispute(state: SandboxState, request: Request, body: dict[str, Any]) -> Any:
    """Open a dispute (chargeback) on a succeeded charge."""
    charge = state.store.get("charge", request.path_params["id"])
    if charge["status"] != "succeeded" or charge["disputed"]:
        raise invalid_request(f"Charge {charge['id']} cannot be disputed.", param="charge")
    return ledger.open_dispute(state, charge)


def routes(state: SandboxState) -> list[Route]:
    """The admin routes, bound to one sandbox state."""
    table: list[tuple[str, AdminHandler, list[str]]] = [
        ("/__sandbox/reset", reset, ["POST"]),
        ("/__sandbox/faults", faults, ["GET", "POST"]),
        ("/__sandbox/stats", stats, ["GET"]),
        ("/__sandbox/objects/{kind}", objects, ["GET"]),
        ("/__sandbox/webhook_endpoints", endpoints, ["GET", "POST"]),
        ("/__sandbox/webhooks/deliveries", deliveries, ["GET"]),
        ("/__sandbox/webhooks/deliver", deliver, ["POST"]),
        ("/__sandbox/webhooks/redeliver", redeliver, ["POST"]),
        ("/__sandbox/clock", clock, ["GET", "POST"]),
        ("/__sandbox/payouts", force_payout, ["POST"]),
        ("/__sandbox/payment_intents/{id}/authenticate", authenticate, ["POST"]),
        ("/__sandbox/charges/{id}/dispute", dispute, ["POST"]),
        ("/__sandbox/aliases", aliases, ["GET", "POST"]),
        ("/__sandbox/refunds/{id}/requires_action", refund_requires_action, ["POST"]),
    ]
    return [Route(path, _endpoint(state, handler), methods=methods) for path, handler, methods in table]
