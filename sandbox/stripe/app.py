"""The Stripe sandbox ASGI app on the sandbox kit: `create_app(options)` serves the /v1 API, Connect OAuth,
Stripe's own /__sandbox/ admin paths and the kit's admin contract, on the kit's clock."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.kit.app import Kit
from sandbox.kit.oauth import TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec
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

# The tenants are connected accounts: `account` in the admin API, `stripe_user_id` in POST /__sandbox/tokens.
SPEC = SandboxSpec(
    name="stripe",
    title="Stripe",
    scope_param="account",
    tenant_body_key="stripe_user_id",
    stats_key="accounts",
    default_port=8702,
)

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


def _new_account(state: SandboxState, account_id: str | None) -> str:
    if account_id is not None:
        return account_id
    return state.connect.connect(state.options.connect_client_id, "read_write", "Sandbox Builders LLC").id


def create_app(options: StripeSandboxOptions | None = None) -> Starlette:
    """A Starlette app that speaks Stripe's v1 REST API for what sierra-sync uses.

    The app's `state.sandbox` is its `SandboxState` (pass `options.state` to share one) and `state.kit` its
    `Kit`. With `webhook_auto_deliver`, the webhook delivery loop runs in the background while it serves;
    with `state_file`, the objects are read from that file at start and written back (`persist.py`).
    """
    options = options or StripeSandboxOptions()
    state = options.state or SandboxState(options)
    kit = Kit(
        SPEC,
        KitOptions(clock=state.clock, seed=options.seed),
        TenantHooks(create=lambda a: _new_account(state, a), exists=lambda a: a in state.connect.accounts),
    )
    kit.faults = state.faults.board  # one fault board: the kit's, driven by Stripe's /__sandbox/faults
    kit.on_reset.append(state.reset)
    if options.webhook_auto_deliver:
        kit.background.append(state.webhooks.run)
    if options.state_file:
        state_file = StateFile(options.state_file, state)
        state_file.load()
        kit.background.append(state_file.keep_saving)
        kit.on_shutdown.append(state_file.save)
    routes = [
        Route(path, api_endpoint(state, method, path, handler), methods=[method])
        for method, path, handler in API_ROUTES
    ]
    # Stripe's admin paths first: where they share a path with the kit's (reset, faults, stats, clock,
    # tokens), Stripe's answer (its shapes, its clock settling the ledger) wins.
    app = kit.app([*routes, *admin.routes(state), *oauth.routes(state)])
    # Stripe's 404 for every other URL, after the kit's admin routes.
    app.router.routes.append(
        Route("/{rest:path}", not_found(state), methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
    )
    app.state.sandbox = state
    return app
