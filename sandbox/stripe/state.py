"""Everything one sandbox knows: objects, events, idempotency keys, webhooks, faults; and its kit (clock,
counters, the Connect OAuth server), built here from Stripe's `SPEC`."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sandbox.kit.app import Kit
from sandbox.kit.clock import Clock
from sandbox.kit.oauth import TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec
from sandbox.kit.webhooks import Delivery
from sandbox.stripe import objects
from sandbox.stripe.accounts import PLATFORM_ACCOUNT, ConnectRegistry
from sandbox.stripe.faults import StripeFaults, initial_settings
from sandbox.stripe.idempotency import IdempotencyStore
from sandbox.stripe.oauth import ConnectServer, connect_spec
from sandbox.stripe.options import StripeSandboxOptions
from sandbox.stripe.persist import connect_file
from sandbox.stripe.store import JSON, ObjectStore, snapshot
from sandbox.stripe.webhooks import StripeEndpoint, new_sender, subscribed

DAY = 86400

# The tenants are connected accounts: `account` in the admin API, `stripe_user_id` in POST /__sandbox/tokens.
SPEC = SandboxSpec(
    name="stripe",
    title="Stripe",
    oauth_server=ConnectServer,
    scope_param="account",
    tenant_body_key="stripe_user_id",
    stats_key="accounts",
    default_port=8702,
)


@dataclass(frozen=True)
class RequestRef:
    """The API request that caused a change (events carry it as `request: {id, idempotency_key}`)."""

    id: str | None = None
    idempotency_key: str | None = None


NO_REQUEST = RequestRef()


def dump(obj: JSON) -> bytes:
    """Stripe's JSON rendering (pretty, two spaces)."""
    return json.dumps(obj, indent=2).encode("utf-8")


class SandboxState:
    """The mutable world of one sandbox; API handlers and admin calls read and change it."""

    def __init__(self, options: StripeSandboxOptions) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        start = options.clock_start
        self.connect = ConnectRegistry(self.rng)
        self.faults = StripeFaults(initial_settings(options), options.rate_limit, self.rng)
        self.kit = Kit(
            replace(SPEC, oauth=connect_spec(options.connect_client_id)),
            KitOptions(
                clock=Clock(None if start is None else datetime.fromtimestamp(start, UTC)),
                state_file=str(connect_file(options.state_file)) if options.state_file else None,
            ),
            TenantHooks(create=self._tenant, exists=self.connect.accounts.__contains__),
        )
        if self.kit.persistence is not None:  # Connect outlives a restart: accounts here, grants in the kit
            self.connect.attach(self.kit.persistence)
        self.kit.faults = self.faults.board  # one board: the kit's, driven by Stripe's /__sandbox/faults
        self.kit.on_reset.append(self.reset)
        self.clock, self.stats = self.kit.clock, self.kit.stats  # counters per account acted on
        oauth = self.kit.require_oauth()
        assert isinstance(oauth, ConnectServer)
        self.oauth = oauth
        oauth.world = self
        self.stores: dict[str, ObjectStore] = {PLATFORM_ACCOUNT: ObjectStore(self.rng)}
        self.account = PLATFORM_ACCOUNT  # whose objects the running handler sees (see `acting_as`)
        self.idempotency = IdempotencyStore(self.now, options.idempotency_retention_hours)
        self.webhooks = new_sender(options, self._delivered)
        self.card_behaviour: dict[str, str] = {}  # pm id -> test card name (pm_card_visa, …)
        self.paid_out: dict[str, str] = {}  # balance transaction id -> automatic payout id
        self._oldest_event: int | None = None
        self._register_configured_endpoints()

    @property
    def store(self) -> ObjectStore:
        """The objects of the account the current request acts on (the platform's outside a request)."""
        return self.stores[self.account]

    @contextlib.contextmanager
    def acting_as(self, account: str) -> Iterator[None]:
        """Run a handler against `account`'s own objects (handlers are synchronous: no interleaving)."""
        if account not in self.stores:
            self.stores[account] = ObjectStore(self.rng)
        previous, self.account = self.account, account
        try:
            yield
        finally:
            self.account = previous

    def _tenant(self, account_id: str | None) -> str:
        if account_id is not None:
            return account_id
        return self.connect.connect(self.options.connect_client_id, "read_write", "Sandbox Builders LLC").id

    # --- lifecycle ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to a fresh world: no objects, events, keys, accounts, deliveries; configured faults and
        endpoints. (`kit.reset()` runs this, then forgets tokens and counters.)"""
        self.account = PLATFORM_ACCOUNT
        self.stores = {PLATFORM_ACCOUNT: ObjectStore(self.rng)}
        self.connect.clear()
        if self.kit.persistence is not None:  # the Connect state file: accounts, grants and tokens
            self.kit.persistence.wipe()
        self.idempotency.clear()
        self.webhooks.clear()
        self.webhooks.endpoints.clear()
        self.faults.reset(initial_settings(self.options), self.options.rate_limit)
        self.card_behaviour.clear()
        self.paid_out.clear()
        self._oldest_event = None
        self._register_configured_endpoints()

    def _register_configured_endpoints(self) -> None:
        for configured in self.options.webhook_endpoints:
            self.add_webhook_endpoint(configured.url, configured.secret, list(configured.enabled_events))

    # --- helpers -----------------------------------------------------------------------------------------
    def now(self) -> int:
        """Sandbox time, Unix seconds."""
        return int(self.clock.timestamp())

    def new_request_id(self) -> str:
        """`req_…`, as in Stripe's Request-Id header."""
        return f"req_{self.store.token(14)}"

    def add_webhook_endpoint(
        self, url: str, secret: str | None, enabled_events: list[str], connect: bool = False
    ) -> tuple[JSON, str]:
        """Register a receiver (`connect`: for events of connected accounts); return it and its secret."""
        platform = self.stores[PLATFORM_ACCOUNT]
        endpoint_id = platform.new_id("we")
        secret = secret or f"whsec_{platform.token(32)}"
        obj = objects.webhook_endpoint(endpoint_id, self.now(), url, enabled_events, self.options.api_version)
        platform.add(obj)
        self.webhooks.add_endpoint(StripeEndpoint(endpoint_id, url, secret, list(enabled_events), connect))
        return obj, secret

    # --- events ------------------------------------------------------------------------------------------
    def emit(self, type_: str, obj: JSON, req: RequestRef, previous: JSON | None = None) -> JSON:
        """Record an event with a snapshot of `obj` and queue its webhook deliveries."""
        self.prune_events()
        connected = self.account != PLATFORM_ACCOUNT
        endpoints = subscribed(self.webhooks, type_, connect=connected)
        event = objects.event(
            self.store.new_id("evt"),
            self.now(),
            type_=type_,
            data_object=snapshot(obj),
            previous_attributes=previous,
            api_version=self.options.api_version,
            request_id=req.id,
            idempotency_key=req.idempotency_key,
            pending_webhooks=len(endpoints),
        )
        if connected:
            event = {"id": event["id"], "object": "event", "account": self.account, **event}
        self.store.add(event)
        if self._oldest_event is None:
            self._oldest_event = event["created"]
        if endpoints:
            meta = {"event_id": event["id"], "event_type": type_}
            self.webhooks.enqueue(endpoints, dump(event), f"{type_} for {event['id']}", meta)
        return event

    def application_deauthorized(self, account_id: str, client_id: str) -> None:
        """The account disconnected the platform's application: its `account.application.deauthorized`."""
        with self.acting_as(account_id):
            application = {"id": client_id, "object": "application", "name": "Sierra Suites (sandbox)"}
            self.emit("account.application.deauthorized", application, NO_REQUEST)

    def prune_events(self) -> None:
        """Forget events older than the retention window (30 days by default)."""
        cutoff = self.now() - self.options.event_retention_days * DAY
        if self._oldest_event is None or self._oldest_event >= cutoff:
            return  # nothing can have expired: skip the scan
        kept = []
        for store in self.stores.values():
            for event in store.all("event"):
                if event["created"] < cutoff:
                    store.remove(event["id"])
                else:
                    kept.append(event["created"])
        self._oldest_event = min(kept, default=None)

    def _delivered(self, delivery: Delivery) -> None:
        event_id = delivery.meta["event_id"]
        for store in self.stores.values():
            event = store.find(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
