"""Everything one sandbox knows: objects, events, idempotency keys, webhooks, faults, clock, counters."""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.kit.clock import Clock
from sandbox.stripe import objects
from sandbox.stripe.accounts import PLATFORM_ACCOUNT, ConnectRegistry
from sandbox.stripe.faults import StripeFaults, initial_settings
from sandbox.stripe.idempotency import IdempotencyStore
from sandbox.stripe.options import StripeSandboxOptions
from sandbox.stripe.store import JSON, ObjectStore, snapshot
from sandbox.stripe.webhooks import Endpoint, WebhookDispatcher

DAY = 86400


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
        self.clock = Clock(None if start is None else datetime.fromtimestamp(start, UTC))  # the kit's clock
        self.connect = ConnectRegistry(self.rng)
        self.stores: dict[str, ObjectStore] = {PLATFORM_ACCOUNT: ObjectStore(self.rng)}
        self.account = PLATFORM_ACCOUNT  # whose objects the running handler sees (see `acting_as`)
        self.idempotency = IdempotencyStore(self.now, options.idempotency_retention_hours)
        self.faults = StripeFaults(initial_settings(options), options.rate_limit, self.rng)
        self.webhooks = WebhookDispatcher(
            retry_base_seconds=options.webhook_retry_base_seconds,
            retry_max_seconds=options.webhook_retry_max_seconds,
            max_attempts=options.webhook_max_attempts,
            timeout_seconds=options.webhook_timeout_seconds,
            on_delivered=self._delivered,
        )
        self.requests_total = 0
        self.requests_by_endpoint: Counter[str] = Counter()
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

    # --- lifecycle ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to a fresh sandbox: no objects, events, keys, deliveries; configured faults and endpoints."""
        self.account = PLATFORM_ACCOUNT
        self.stores = {PLATFORM_ACCOUNT: ObjectStore(self.rng)}
        self.connect.clear()
        self.idempotency.clear()
        self.webhooks.clear()
        self.webhooks.endpoints.clear()
        self.faults.reset(initial_settings(self.options), self.options.rate_limit)
        self.requests_total = 0
        self.requests_by_endpoint.clear()
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
        self.webhooks.add_endpoint(Endpoint(endpoint_id, url, secret, list(enabled_events), connect))
        return obj, secret

    # --- events ------------------------------------------------------------------------------------------
    def emit(self, type_: str, obj: JSON, req: RequestRef, previous: JSON | None = None) -> JSON:
        """Record an event with a snapshot of `obj` and queue its webhook deliveries."""
        self.prune_events()
        connected = self.account != PLATFORM_ACCOUNT
        endpoints = self.webhooks.endpoints_for(type_, connect=connected)
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
            self.webhooks.enqueue(event["id"], type_, dump(event), connect=connected)
        return event

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

    def _delivered(self, event_id: str) -> None:
        for store in self.stores.values():
            event = store.find(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
