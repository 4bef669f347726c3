"""Outgoing webhooks: companies subscribe URLs to events; each event becomes one delivery per subscription,
sent signed and retried with exponential backoff, every attempt recorded.

Signature (header `Sierra-Signature: t=<unix seconds>,v1=<hex>`): HMAC-SHA256 with the subscription's
secret over `"<t>.<raw body>"`, the Stripe scheme, so receivers can reuse what they know; `verify_signature`
is the reference check. Deliveries go to public https endpoints only, to the addresses vetted just before
sending (connectors.webhook_targets), and never follow a redirect. Secrets are stored sealed
(sierra_core.crypto.Keyring, context bound to the subscription id) because signing needs them back; they
never reach a log line or a stored payload.

Retries are durable: a failed attempt sets `next_attempt_at` (base x 2^(attempt-1), capped) and the sweep
(`deliver_due`, run by the `deliver-webhooks` flow) sends what is due. Claims move `next_attempt_at` past a
lease first and use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two sweepers never send the same attempt. A
delivery that runs out of attempts is `failed`; after `disable_after` failed deliveries in a row its
subscription is disabled, with a WARNING log line and the reason stored (re-enable with PATCH is_active).

A receiver that answers 410 Gone ends its subscription (the REST-hook convention Zapier follows when a Zap
is turned off): the subscription is disabled at once with that reason, the delivery and every other one
still queued for it are failed, and nothing more is sent or retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.webhook_targets import UnsafeTarget, pin
from sierra_core.crypto import Keyring
from sierra_core.db.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from sierra_core.redact import redact_text

__all__ = [
    "EVENT_TYPES",
    "OUTGOING",
    "SIGNATURE_HEADER",
    "DeliveryPolicy",
    "SweepResult",
    "deliver_due",
    "emit_event",
    "new_secret",
    "open_secret",
    "replay",
    "rotate_secret",
    "seal_secret",
    "secret_context",
    "sign",
    "subscribed_events",
    "verify_signature",
]

log = logging.getLogger("sierra_sync.webhooks.outgoing")

EVENT_TYPES = (
    "invoice.synced",
    "invoice.sync_failed",
    "payment.received",
    "reconciliation.completed",
    "integration.expired",
)
OUTGOING = "outgoing"  # webhook_subscriptions.provider of subscriptions made through the public API
SIGNATURE_HEADER = "Sierra-Signature"
GONE = 410  # the receiver's way to end its subscription


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def secret_context(subscription_id: uuid.UUID) -> str:
    """The associated data that binds a sealed signing secret to its subscription."""
    return f"webhook_subscriptions.webhook_secret:{subscription_id}"


def seal_secret(keyring: Keyring, subscription_id: uuid.UUID, secret: str) -> str:
    return keyring.seal(secret, secret_context(subscription_id))


def open_secret(keyring: Keyring, subscription_id: uuid.UUID, sealed: str) -> str:
    return keyring.open(sealed, secret_context(subscription_id))


def sign(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Sierra-Signature` header value for `body` sent at `timestamp`: one `v1=` per secret (two while
    a rotated secret is still valid; a receiver accepts the delivery if any of them matches its secret)."""
    signed = f"{timestamp}.".encode() + body
    macs = [
        hmac.new(one.encode(), signed, hashlib.sha256).hexdigest()
        for one in ([secret] if isinstance(secret, str) else secret)
    ]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


def rotate_secret(
    keyring: Keyring, sub: WebhookSubscription, now: datetime, previous_valid_for: timedelta
) -> str:
    """Give `sub` a new secret (returned, to be shown once). The current one keeps signing deliveries next
    to it until `now + previous_valid_for`, so the receiver can switch without rejecting any; zero retires
    it at once. A rotation during a rotation retires the oldest secret."""
    secret = new_secret()
    keep = previous_valid_for > timedelta(0) and sub.webhook_secret is not None
    sub.previous_webhook_secret = sub.webhook_secret if keep else None
    sub.previous_secret_expires_at = now + previous_valid_for if keep else None
    sub.webhook_secret = seal_secret(keyring, sub.id, secret)
    return secret


def _signing_secrets(keyring: Keyring, sub: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign `sub`'s deliveries at `now`: none for a disabled subscription, else the current
    one and, until it expires, the one it replaced."""
    if not sub.is_active or not sub.webhook_secret:
        return []
    sealed = [sub.webhook_secret]
    expires = sub.previous_secret_expires_at
    if sub.previous_webhook_secret and expires is not None and expires > now:
        sealed.append(sub.previous_webhook_secret)
    return [open_secret(keyring, sub.id, one) for one in sealed]


def verify_signature(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within `tolerance` seconds."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


def subscribed_events(session: Session, company_id: uuid.UUID) -> set[str]:
    """Event types at least one active outgoing subscription of the company wants (callers that emit
    many events read this once and skip the rest)."""
    rows = session.scalars(
        select(WebhookSubscription.events).where(
            WebhookSubscription.company_id == company_id,
            WebhookSubscription.provider == OUTGOING,
            WebhookSubscription.is_active.is_(True),
        )
    ).all()
    return {event for events in rows for event in (events or [])}


def emit_event(
    session: Session,
    company_id: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    event_id: str | None = None,
) -> list[uuid.UUID]:
    """Queue `event_type` for every active subscription of the company that wants it, in the caller's
    transaction (so the event commits with the change it reports). Returns the delivery ids."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    now = now or datetime.now(UTC)
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": event_type,
        "created_at": now.isoformat(),
        "company_id": str(company_id),
        "data": data,
    }
    subs = session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.company_id == company_id,
            WebhookSubscription.provider == OUTGOING,
            WebhookSubscription.is_active.is_(True),
        )
    ).all()
    ids = []
    for sub in subs:
        if event_type not in (sub.events or []):
            continue
        delivery = WebhookDelivery(
            subscription_id=sub.id,
            company_id=company_id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            status="pending",
            next_attempt_at=now,
        )
        session.add(delivery)
        session.flush()
        ids.append(delivery.id)
    return ids


def replay(session: Session, delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """A new delivery of the same event (same event id and payload) to the same subscription, due now."""
    again = WebhookDelivery(
        subscription_id=delivery.subscription_id,
        company_id=delivery.company_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        status="pending",
        next_attempt_at=now,
        max_attempts=delivery.max_attempts,
        replay_of_id=delivery.id,
    )
    session.add(again)
    session.flush()
    return again


@dataclass(frozen=True)
class DeliveryPolicy:
    """Backoff `base_delay_s` x 2^(attempt-1) capped at `max_delay_s`; `disable_after` failed deliveries
    in a row disable the subscription; `lease_s`: how long a claimed delivery is left to its sweeper;
    `allow_private_targets`: let deliveries reach private addresses and plain http (development and tests);
    `extra_ports`: ports allowed besides 443 and 8443 (see connectors.webhook_targets)."""

    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    disable_after: int = 5
    timeout_s: float = 10.0
    lease_s: float = 300.0
    batch: int = 100
    allow_private_targets: bool = False  # development only: see connectors.webhook_targets
    extra_ports: frozenset[int] = frozenset()

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.base_delay_s * 2 ** max(attempt - 1, 0), self.max_delay_s))


@dataclass
class SweepResult:
    sent: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    disabled_subscriptions: list[str] = field(default_factory=list)


def _claim(sessions: sessionmaker[Session], now: datetime, policy: DeliveryPolicy) -> list[uuid.UUID]:
    with sessions.begin() as session:
        query = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status.in_(("pending", "retrying")), WebhookDelivery.next_attempt_at <= now
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(policy.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(next_attempt_at=now + timedelta(seconds=policy.lease_s))
            )
        return ids


def _send(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], policy: DeliveryPolicy
) -> tuple[int | None, str | None]:
    """POST to the vetted addresses of `url` (the next one when one cannot be reached)."""
    try:
        target = pin(url, allow_private=policy.allow_private_targets, extra_ports=policy.extra_ports)
    except UnsafeTarget as err:
        return None, f"not sent: {err}"
    error = "could not reach the endpoint"
    for address_url in target.urls:
        try:
            response = client.post(
                address_url,
                content=body,
                headers={**headers, **target.headers},
                extensions=dict(target.extensions),
            )
            break
        except httpx.ConnectError as exc:
            error = f"{type(exc).__name__}: could not reach the endpoint"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: could not reach the endpoint"
    else:
        return None, error
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"the endpoint answered HTTP {response.status_code}"


def _end_subscription(
    session: Session, sub: WebhookSubscription, finished: datetime, result: SweepResult
) -> None:
    """The receiver answered 410 Gone: it ended the subscription. Disable it and fail what is queued."""
    reason = (
        f"ended at {finished.isoformat()}: the endpoint answered 410 Gone (the receiver unsubscribed); "
        "nothing more is sent to it"
    )
    queued = session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == sub.id,
            WebhookDelivery.status.in_(("pending", "retrying")),
        )
    ).all()
    for row in queued:  # this delivery included
        row.status, row.next_attempt_at = "failed", None
        if row.last_status_code != GONE:
            row.last_error = "not sent: the receiver ended the subscription (410 Gone)"
    result.failed += sum(1 for row in queued)
    if sub.is_active:
        sub.is_active, sub.disabled_reason = False, reason
        result.disabled_subscriptions.append(str(sub.id))
        log.info(
            "webhook subscription %s of company %s ended by its receiver (410 Gone)", sub.id, sub.company_id
        )


def deliver_due(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    client: httpx.Client,
    *,
    policy: DeliveryPolicy | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SweepResult:
    """Send every delivery that is due (one attempt each) and record the outcome."""
    policy = policy or DeliveryPolicy()
    result = SweepResult()
    for delivery_id in _claim(sessions, now(), policy):
        _deliver_one(sessions, keyring, client, delivery_id, policy, now, result)
    return result


def _deliver_one(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    client: httpx.Client,
    delivery_id: uuid.UUID,
    policy: DeliveryPolicy,
    now: Callable[[], datetime],
    result: SweepResult,
) -> None:
    with sessions() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        sub = session.get(WebhookSubscription, delivery.subscription_id) if delivery else None
        if delivery is None or sub is None:
            return
        started = now()
        url, sub_id = sub.webhook_url, sub.id
        signing = _signing_secrets(keyring, sub, started)
        attempt = delivery.attempts + 1
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
        event_id, event_type = delivery.event_id, delivery.event_type
    code: int | None
    error: str | None
    if not signing:
        code, error = None, "the subscription is disabled"
        duration_ms = 0
    else:
        ts = int(started.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sierra-sync-webhooks/1",
            SIGNATURE_HEADER: sign(signing, ts, body),
            "Sierra-Event-Id": event_id,
            "Sierra-Event-Type": event_type,
            "Sierra-Delivery-Id": str(delivery_id),
            "Sierra-Attempt": str(attempt),
        }
        t0 = time.perf_counter()
        code, error = _send(client, url, body, headers, policy)
        duration_ms = int((time.perf_counter() - t0) * 1000)
        result.sent += 1
    finished = now()
    with sessions.begin() as session:
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        sub = session.get(WebhookSubscription, sub_id, with_for_update=True)
        assert delivery is not None
        assert sub is not None
        session.add(
            WebhookDeliveryAttempt(
                delivery_id=delivery_id,
                attempt_number=attempt,
                attempted_at=started,
                status_code=code,
                error=redact_text(error) if error else None,
                duration_ms=duration_ms,
            )
        )
        delivery.attempts = attempt
        delivery.last_status_code = code
        delivery.last_error = error
        sub.last_triggered_at = finished
        if error is None:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", finished, None
            sub.trigger_count += 1
            sub.consecutive_failures = 0
            result.succeeded += 1
            return
        sub.error_count += 1
        if code == GONE:
            _end_subscription(session, sub, finished, result)
            return
        if attempt < delivery.max_attempts and sub.is_active:
            delivery.status, delivery.next_attempt_at = "retrying", finished + policy.delay(attempt)
            result.retrying += 1
            return
        delivery.status, delivery.next_attempt_at = "failed", None
        result.failed += 1
        if not sub.is_active:
            return
        sub.consecutive_failures += 1
        if sub.consecutive_failures >= policy.disable_after:
            sub.is_active = False
            sub.disabled_reason = (
                f"disabled at {finished.isoformat()} after {sub.consecutive_failures} failed deliveries in a "
                f"row (last: {error}); fix the endpoint, then PATCH is_active=true and replay"
            )
            result.disabled_subscriptions.append(str(sub_id))
            log.warning(
                "webhook subscription %s of company %s disabled after %d failed deliveries in a row (%s)",
                sub_id,
                sub.company_id,
                sub.consecutive_failures,
                error,
            )
