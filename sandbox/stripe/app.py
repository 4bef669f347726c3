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
from sandbox.stripe.persist import StateFile
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
    `webhook_auto_deliver`, the lifespan runs the webhook delivery loop in the background; with
    `state_file`, the objects are read from that file at start and written back (sandbox/stripe/persist.py).
    """
    options = options or StripeSandboxOptions()
    state = options.state or SandboxState(options)
    state_file = StateFile(options.state_file, state) if options.state_file else None
    if state_file is not None:
        state_file.load()
    routes = [
        Route(path, api_endpoint(state, method, path, handler), methods=[method])
        for method, path, handler in API_ROUTES
    ]
    routes += admin.routes(state)
    routes += oauth.routes(state)
    routes.append(Route("/{rest:path}", not_found(state), methods=["GET", "POST", "DELETE", "PUT", "PATCH"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(state.webhooks.run())] if options.webhook_auto_deliver else []
        if state_file is not None:
            tasks.append(asyncio.create_task(state_file.keep_saving()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if state_file is not None:
                state_file.save()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = state
    return app
