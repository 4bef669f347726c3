"""The Stripe sandbox ASGI app: `create_app(options)` wires the /v1 API, /__sandbox/ admin and webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.stripe import (
    admin,
    api_customers,
    api_events,
    api_money,
    captures,
    charges,
    money_actions,
    oauth,
    payment_intents,
    payment_methods,
    search,
)
from sandbox.stripe.options import StripeSandboxOptions
from sandbox.stripe.pipeline import api_endpoint, not_found
from sandbox.stripe.state import SandboxState

# Literal paths (`/v1/customers/search`) come before the `{id}` paths they would otherwise match.
API_ROUTES = [
    *search.ROUTES,
    *api_customers.ROUTES,
    *payment_intents.ROUTES,
    *captures.ROUTES,
    *payment_methods.ROUTES,
    *charges.ROUTES,
    *api_money.ROUTES,
    *money_actions.ROUTES,
    *api_events.ROUTES,
]


def create_app(options: StripeSandboxOptions | None = None) -> Starlette:
    """A Starlette app that speaks Stripe's v1 REST API for what sierra-sync uses.

    The app's `state.sandbox` is its `SandboxState` (pass `options.state` to share one). With
    `webhook_auto_deliver`, the lifespan runs the webhook delivery loop in the background.
    """
    options = options or StripeSandboxOptions()
    state = options.state or SandboxState(options)
    routes = [
        Route(path, api_endpoint(state, method, path, handler), methods=[method])
        for method, path, handler in API_ROUTES
    ]
    routes += admin.routes(state)
    routes += oauth.routes(state)
    routes.append(Route("/{rest:path}", not_found(state), methods=["GET", "POST", "DELETE", "PUT", "PATCH"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(state.webhooks.run()) if options.webhook_auto_deliver else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = state
    return app
