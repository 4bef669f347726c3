"""The path every /v1 request takes: request id, auth, counters (the kit's, per account acted on), decoding,
faults, idempotency, expand, JSON.

Handlers are plain synchronous functions `(state, call) -> object`; they run without awaiting, so each one is
atomic on the event loop. They raise `StripeError` for Stripe's error answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox.common.faults import Decision, DropMode, drop_response
from sandbox.kit.stats import ScopeStats
from sandbox.stripe.accounts import PLATFORM_ACCOUNT
from sandbox.stripe.auth import authenticate
from sandbox.stripe.errors import StripeError, api_error, invalid_request, not_found_route, rate_limited
from sandbox.stripe.expand import expand
from sandbox.stripe.forms import parse_query
from sandbox.stripe.idempotency import SavedResponse
from sandbox.stripe.params import get_str_list
from sandbox.stripe.state import RequestRef, SandboxState, dump
from sandbox.stripe.store import JSON

log = logging.getLogger("sandbox.stripe")


@dataclass
class Call:
    """One API call as a handler sees it."""

    method: str
    path: str
    params: JSON
    path_params: dict[str, str]
    request: RequestRef
    account: str = ""  # the account acted on (the platform's, or a connected account's)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[SandboxState, Call], JSON]
Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(status: int, body: bytes, request_id: str, extra: dict[str, str] | None = None) -> Response:
    """A JSON response with Stripe's standard headers."""
    headers = {"Request-Id": request_id, "Cache-Control": "no-cache, no-store", **(extra or {})}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(error: StripeError, request_id: str) -> Response:
    """Stripe's error body with its status."""
    return json_response(error.status, dump(error.body()), request_id, error.headers)


class DroppedResponse(Response):
    """The answer of an applied write, lost on the way (see `sandbox.common.faults.drop_response`)."""

    def __init__(self, mode: DropMode) -> None:
        super().__init__(status_code=200)
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_response(send, self.mode)


def api_endpoint(state: SandboxState, method: str, template: str, handler: Handler) -> Endpoint:
    """Wrap `handler` into a Starlette endpoint that behaves like Stripe's API front door."""
    label = f"{method} {template}"

    async def endpoint(request: Request) -> Response:
        request_id = state.new_request_id()
        version = {"Stripe-Version": request.headers.get("stripe-version") or state.options.api_version}
        try:
            account = _account(state, request)
        except StripeError as error:
            _count(state, PLATFORM_ACCOUNT, label).auth_failures += 1
            return error_response(error, request_id)
        stats = _count(state, account, label)
        try:
            params = parse_query(request.url.query)
            if method == "POST":
                params.update(parse_query(await request.body()))
        except StripeError as error:
            return error_response(error, request_id)
        key = request.headers.get("idempotency-key") if method == "POST" else None
        fingerprint = json.dumps([method, request.url.path, params], sort_keys=True)
        # Keys are scoped to the account acted on; a replay applies nothing new, so it is never dropped.
        scoped = f"{account}/{key}"
        replay = key is not None and state.idempotency.will_replay(scoped, fingerprint)
        decision = state.faults.injector.decide(is_write=method != "GET" and not replay)
        if decision is Decision.THROTTLE or state.faults.over_rate_limit():
            stats.throttled += 1
            return error_response(rate_limited(), request_id)
        if decision in (Decision.ERROR, Decision.DROP):
            stats.faults_injected += 1
            stats.faults_by_kind[decision.value] += 1
        ref = RequestRef(request_id, key)
        call = Call(method, request.url.path, params, dict(request.path_params), ref, account)
        saved = None
        if key is not None:
            # The key is claimed before the (injected) latency: a concurrent twin gets Stripe's 409.
            try:
                saved = state.idempotency.begin(scoped, fingerprint)
            except StripeError as error:
                return error_response(error, request_id)
        await state.faults.injector.delay()
        if saved is not None:
            stats.idempotent_replays += 1
            return json_response(
                saved.status,
                saved.body,
                request_id,
                {**version, "Idempotent-Replayed": "true", "Original-Request": saved.request_id},
            )
        if decision is Decision.ERROR:
            if key is not None:
                state.idempotency.abandon(scoped)
            return error_response(api_error(state.faults.injector.error_status()), request_id)
        status, body, headers = _run(state, handler, call)
        if key is not None:
            # Stripe saves a result once the endpoint started executing: successes and card errors.
            if status < 400 or status == 402:
                state.idempotency.finish(scoped, SavedResponse(status, body, request_id))
            else:
                state.idempotency.abandon(scoped)
        if decision is Decision.DROP:
            return DroppedResponse(state.faults.injector.settings.drop_mode)
        if key is not None:
            headers = {**headers, "Idempotency-Key": key}
        return json_response(status, body, request_id, {**version, **headers})

    return endpoint


def _account(state: SandboxState, request: Request) -> str:
    """The account a request acts on (Stripe's 401/403 as a StripeError)."""
    api_key = authenticate(request.headers.get("authorization"))
    owner = state.oauth.key_owner(api_key)
    return state.connect.account_for(api_key, owner, request.headers.get("stripe-account"))


def _count(state: SandboxState, account: str, label: str) -> ScopeStats:
    """Count a request on the kit's counters of the account it acts on."""
    stats = state.stats.scope(account)
    stats.requests_total += 1
    stats.requests_by_endpoint[label] += 1
    return stats


def _run(state: SandboxState, handler: Handler, call: Call) -> tuple[int, bytes, dict[str, str]]:
    try:
        paths = get_str_list(call.params, "expand") or []
        with state.acting_as(call.account or PLATFORM_ACCOUNT):
            result = handler(state, call)
            if paths:
                result = expand(result, paths, state.store.find)
        return call.status, dump(result), call.headers
    except StripeError as error:
        return error.status, dump(error.body()), error.headers
    except (ValueError, TypeError) as exc:  # a malformed parameter the handler did not expect
        bad = invalid_request(f"Invalid request: {type(exc).__name__}")
        return bad.status, dump(bad.body()), {}
    except Exception:  # a sandbox bug: Stripe's 500, the key released, the cause in the log
        log.exception("%s %s failed", call.method, call.path)
        failure = api_error(500)
        return failure.status, dump(failure.body()), failure.headers


def not_found(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    """Stripe's 404 for unknown /v1 URLs (after authentication, like Stripe)."""

    async def endpoint(request: Request) -> Response:
        request_id = state.new_request_id()
        try:
            state.stats.scope(_account(state, request)).requests_total += 1
        except StripeError as error:
            state.stats.scope(PLATFORM_ACCOUNT).requests_total += 1
            return error_response(error, request_id)
        return error_response(not_found_route(request.method, request.url.path), request_id)

    return endpoint
