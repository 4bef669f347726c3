"""The kit's core: everything a sandbox has whatever its provider (clock, persistence, stats, faults,
throttle, OAuth server, webhook sender) and the Starlette app that serves it with the provider's routes.

    kit = Kit(spec, KitOptions(clock=Clock(frozen=True)), TenantHooks(create=..., exists=...))
    app = kit.app([Route("/v1/things", things), ...])    # provider routes first: they win over the kit's

The app serves the provider's routes, the OAuth endpoints and the admin contract (`admin.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sandbox.kit import admin
from sandbox.kit.clock import Clock
from sandbox.kit.faults import FaultBoard
from sandbox.kit.oauth import OAuthServer, TenantHooks
from sandbox.kit.persist import Persistence
from sandbox.kit.spec import KitOptions, SandboxSpec
from sandbox.kit.stats import Stats
from sandbox.kit.throttle import Limiter, Limits
from sandbox.kit.webhooks import WebhookSender

__all__ = ["Kit"]


class Kit:
    """The shared parts of one running sandbox. `on_reset`: what the provider forgets on POST
    /__sandbox/reset (its store); `webhook_configure` / `webhook_settings`: the provider's webhook
    settings when it has more than the sender's (QBO: format, batch delay); `background`: coroutines run
    for as long as the app serves (cancelled at shutdown); `on_shutdown`: called once they stopped."""

    def __init__(self, spec: SandboxSpec, options: KitOptions, tenants: TenantHooks) -> None:
        self.spec = spec
        self.options = options
        self.tenants = tenants
        self.clock = options.clock or Clock()
        self.persistence = Persistence(options.state_file) if options.state_file else None
        self.stats = Stats(spec.stats_key)
        self.rng = random.Random(options.seed)
        self.faults = FaultBoard(options.faults, self.rng, options.scope_faults)
        self.limiter = Limiter(self.clock, options.limits or Limits(0, 0, 0, 0))
        self.oauth: OAuthServer | None = None
        if spec.oauth is not None:
            self.oauth = spec.oauth_server(
                spec.oauth, self.clock, tenants, self.stats, self.persistence, title=spec.title
            )
            self.oauth.public_url = options.public_url
        self.webhooks: WebhookSender | None = None
        if spec.signing is not None:
            self.webhooks = WebhookSender(
                spec.signing,
                options.webhook_secret,
                url=options.webhook_url,
                attempts=options.webhook_attempts,
                retry_delay_s=options.webhook_retry_delay_s,
                secret_name=spec.webhook_secret_name,
                scope_key=spec.tenant_body_key,
                on_result=self._webhook_result,
            )
        self.on_reset: list[Callable[[], None]] = []
        self.on_shutdown: list[Callable[[], object]] = []
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self.webhook_configure: Callable[[dict[str, Any]], None] | None = None
        self.webhook_settings: Callable[[], dict[str, Any]] | None = None

    def _webhook_result(self, scope: str, ok: bool) -> None:
        stats = self.stats.scope(scope)
        if ok:
            stats.webhooks_sent += 1
        else:
            stats.webhooks_failed += 1

    def require_oauth(self) -> OAuthServer:
        if self.oauth is None:
            raise ValueError(f"the {self.spec.title} sandbox has no OAuth server")
        return self.oauth

    def new_connection(self, tenant: str | None) -> dict[str, Any]:
        """A token response for a new connection (POST /__sandbox/tokens): to `tenant`, or to a new one."""
        server = self.require_oauth()
        tenant_id = tenant if tenant is not None else self.tenants.create(None)
        return server.grant_for(tenant_id)

    def reset(self) -> None:
        """Forget everything but the settings: the provider's state, tokens, counters, windows, deliveries."""
        for forget in self.on_reset:
            forget()
        if self.oauth is not None:
            self.oauth.reset()
        self.stats.reset()
        self.limiter.reset()
        self.faults.reset()
        if self.webhooks is not None:
            self.webhooks.clear()

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(run()) for run in self.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for finish in self.on_shutdown:
                finish()
        if self.webhooks is not None:
            await self.webhooks.close()
        if self.persistence is not None:
            self.persistence.close()

    def app(self, routes: list[BaseRoute]) -> Starlette:
        """The sandbox's ASGI app: the provider's routes, then the OAuth endpoints and the admin contract."""
        oauth_routes = self.oauth.routes() if self.oauth is not None else []
        app = Starlette(routes=[*routes, *oauth_routes, *admin.routes(self)], lifespan=self._lifespan)
        app.state.kit = self
        return app
