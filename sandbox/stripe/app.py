"""The Stripe sandbox ASGI app on the sandbox kit: `create_app(options)` serves the /v1 API, Connect OAuth
(the kit's OAuth server, `oauth.ConnectServer`), Stripe's own /__sandbox/ admin paths and the kit's admin
contract, on the kit's clock, counters and webhook sender."""

from __future__ import annotations

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
    payment_intents,
    payment_methods,
    search,
)
from sandbox.stripe.options import StripeSandboxOptions
from sandbox.stripe.persist import StateFile
from sandbox.stripe.pipeline import api_endpoint, not_found
from sandbox.stripe.state import SPEC, SandboxState

__all__ = ["SPEC", "create_app"]

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

    The app's `state.sandbox` is its `SandboxState` (pass `options.state` to share one) and `state.kit` its
    `Kit` (the state's). With `webhook_auto_deliver`, the webhook senders run in the background while it
    serves; with `state_file`, the objects are read from that file at start and written back (`persist.py`).
    """
    options = options or StripeSandboxOptions()
    state = options.state or SandboxState(options)
    kit = state.kit
    if options.webhook_auto_deliver:
        kit.background.append(state.webhooks.run)
    if options.state_file:
        state_file = StateFile(options.state_file, state)
        try:
            state_file.load()
        except ValueError:
            if kit.persistence is not None:  # the Connect file, opened with the kit: not served, so closed
                kit.persistence.close()
            raise
        kit.background.append(state_file.keep_saving)
        kit.on_shutdown.append(state_file.save)
    routes = [
        Route(path, api_endpoint(state, method, path, handler), methods=[method])
        for method, path, handler in API_ROUTES
    ]
    # Stripe's admin paths first: where they share a path with the kit's (reset, faults, stats, clock),
    # Stripe's answer (its shapes, its clock settling the ledger) wins. Connect OAuth is the kit's server.
    app = kit.app([*routes, *admin.routes(state)])
    # Stripe's 404 for every other URL, after the kit's admin routes.
    app.router.routes.append(
        Route("/{rest:path}", not_found(state), methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
    )
    app.state.sandbox = state
    return app
