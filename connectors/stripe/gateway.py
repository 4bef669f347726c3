"""The Stripe gateway: the only code that talks to Stripe, through the official SDK's `StripeClient`.

    gateway = StripeGateway(secret_key, base_url="http://127.0.0.1:8702")   # base_url None: api.stripe.com
    intent = gateway.create_invoice_payment_intent(
        InvoicePayment(invoice_id=inv.id, company_id=inv.company_id, balance=inv.balance, currency="usd")
    )
    fees = gateway.payment_fees(intent.id)          # Decimal fee, net and fee details, once it succeeded
    for event in gateway.list_events(since, types=["payment_intent.succeeded"]):
        ...

One `StripeClient` per gateway (never the module-global `stripe.api_key`). The SDK's own retries are off
(`max_network_retries=0` by default): this module retries instead (layer 1 of DESIGN.md), because the SDK
does not retry a connection reset mid-response, and a retried write must carry the *same* Idempotency-Key.
Every write here has a key derived from what it does, so a retry, a replayed flow or a crashed worker's
successor gets Stripe's saved answer instead of a second intent or refund.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import stripe
from stripe.params import (
    EventListParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    RefundCreateParams,
)

from connectors.kit.errors import ProviderError
from connectors.kit.pagination import CursorPages, Page, PaginationError, paginate
from connectors.kit.retry import RetryPolicy, run_with_retries
from connectors.stripe.errors import StripeConfigError, StripeInvalidRequestError, classify
from connectors.stripe.money import AmountError, normalize_currency, to_minor_units
from connectors.stripe.types import (
    BalanceTransactionInfo,
    InvoicePayment,
    PaymentIntentInfo,
    RefundInfo,
    StripeEvent,
)
from sierra_core.redact import redact_text

__all__ = [
    "EVENT_RETENTION",
    "RetryPolicy",
    "StripeGateway",
    "backfill_start",
    "confirm_key",
    "payment_intent_key",
    "refund_key",
    "validate_base_url",
]

log = logging.getLogger("sierra_sync.stripe")

T = TypeVar("T")
EVENT_RETENTION = timedelta(days=30)  # Stripe lists and retrieves events for 30 days
MAX_EVENT_TYPES = 20  # Stripe's limit for `types[]`
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_KEY_PREFIX = "sierra"


# --------------------------------------------------------------------------- idempotency keys


def payment_intent_key(invoice_id: object, balance: Decimal, currency: str, *, generation: int = 0) -> str:
    """The Idempotency-Key of the intent paying `invoice_id`'s open `balance`.

    The same invoice and balance give the same key (paying twice reuses the intent); a changed balance (a
    partial payment landed, the invoice was edited) gives a new one. Stripe remembers keys for 24 hours.
    """
    code = normalize_currency(currency)
    cents = to_minor_units(balance, code)
    key = f"{_KEY_PREFIX}:pi:invoice:{invoice_id}:{cents}{code}"
    return f"{key}:g{generation}" if generation else key


def confirm_key(intent_id: str, attempt: str | None = None) -> str:
    """Key of one confirmation attempt; pass a stable `attempt` (e.g. the PaymentAttempt id) to make a
    re-run of the same attempt a replay, or leave it out for a fresh attempt (retries inside one call
    always reuse the key)."""
    return f"{_KEY_PREFIX}:confirm:{intent_id}:{attempt or uuid.uuid4().hex}"


def refund_key(target_id: str, refund_ref: str) -> str:
    """Key of one refund: the charge or intent refunded and the app's own reference for that refund."""
    return f"{_KEY_PREFIX}:refund:{target_id}:{refund_ref}"


# --------------------------------------------------------------------------- configuration


def validate_base_url(base_url: str | None) -> str | None:
    """`base_url` without a trailing slash (None: Stripe itself); https, or http to a loopback host only."""
    if base_url is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StripeConfigError(f"Stripe API base URL {redact_text(base_url)!r} is not an http(s) URL")
    if parts.scheme == "http" and not loopback:
        raise StripeConfigError(
            f"Stripe API base URL {redact_text(base_url)!r} uses plain http; use https "
            "(plain http is only for the local sandbox on 127.0.0.1)"
        )
    if parts.username or parts.password or parts.query:
        raise StripeConfigError("Stripe API base URL must not carry credentials or a query string")
    return base_url.rstrip("/")


def backfill_start(since: datetime, now: datetime | None = None) -> tuple[datetime, bool]:
    """Where an event backfill can start: `since`, or 30 days ago when `since` is older (then True: the
    events before that are gone from Stripe, and the caller should reconcile that gap another way)."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware (UTC)")
    now = now or datetime.now(UTC)
    oldest = now - EVENT_RETENTION + timedelta(minutes=1)  # a minute of slack for clock skew
    return (oldest, True) if since < oldest else (since, False)


# --------------------------------------------------------------------------- the gateway


class StripeGateway:
    """Stripe for one account (one secret key). Thread-safe for concurrent calls (the SDK client is)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        max_network_retries: int = 0,
        http_client: stripe.HTTPClient | None = None,
        stripe_version: str | None = None,
    ) -> None:
        if not api_key or not api_key.startswith(("sk_", "rk_")):
            raise StripeConfigError(
                "the Stripe key must be a secret (sk_…) or restricted (rk_…) key; check the Stripe "
                "secret-key block (`sierra-sync blocks setup`)"
            )
        self.base_url = validate_base_url(base_url)
        self.retry = retry or RetryPolicy()
        kwargs: dict[str, Any] = {"max_network_retries": max_network_retries}
        if self.base_url:
            kwargs["base_addresses"] = {"api": self.base_url}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if stripe_version:
            kwargs["stripe_version"] = stripe_version
        self._client = stripe.StripeClient(api_key, **kwargs)

    def __repr__(self) -> str:  # never the key
        return f"StripeGateway(base_url={self.base_url or 'https://api.stripe.com'!r})"

    # ----------------------------------------------------------------- payment intents

    def create_invoice_payment_intent(self, payment: InvoicePayment) -> PaymentIntentInfo:
        """Create (or, for the same invoice and balance, get back) the PaymentIntent for an invoice.

        Amount: the balance in minor units, exactly (`Decimal('1234.56')` -> 123456; sub-cent or
        non-positive balances raise `AmountError`). Metadata carries `invoice_id` and `company_id` (and
        `invoice_number` when given), which is how webhook events find their invoice again.
        """
        currency = normalize_currency(payment.currency)
        amount = to_minor_units(payment.balance, currency)
        key = payment_intent_key(payment.invoice_id, payment.balance, currency, generation=payment.generation)
        metadata = {"invoice_id": str(payment.invoice_id), "company_id": str(payment.company_id)}
        if payment.invoice_number:
            metadata["invoice_number"] = payment.invoice_number
        params: PaymentIntentCreateParams = {"amount": amount, "currency": currency, "metadata": metadata}
        params["automatic_payment_methods"] = {"enabled": True}
        if payment.customer:
            params["customer"] = payment.customer
        description = payment.description or (
            f"Invoice {payment.invoice_number}" if payment.invoice_number else None
        )
        if description:
            params["description"] = description
        intent = self._call(
            f"create the payment intent for invoice {payment.invoice_id}",
            lambda: self._client.v1.payment_intents.create(params=params, options={"idempotency_key": key}),
            idempotency_key=key,
        )
        return PaymentIntentInfo.from_dict(_dict(intent), idempotency_key=key, replayed=_replayed(intent))

    def confirm_payment_intent(
        self, intent_id: str, payment_method: str, *, attempt: str | None = None
    ) -> PaymentIntentInfo:
        """Confirm an intent with a payment method (`pm_…`, or a test method such as `pm_card_visa`).

        A decline raises `CardDeclinedError` (not retryable; `decline_code`, `payment_intent_id`); an intent
        that needs 3-D Secure comes back with status `requires_action`. See `confirm_key` for `attempt`.
        """
        key = confirm_key(intent_id, attempt)
        params: PaymentIntentConfirmParams = {"payment_method": payment_method}
        intent = self._call(
            f"confirm payment intent {intent_id}",
            lambda: self._client.v1.payment_intents.confirm(
                intent_id, params=params, options={"idempotency_key": key}
            ),
            idempotency_key=key,
        )
        return PaymentIntentInfo.from_dict(_dict(intent), idempotency_key=key, replayed=_replayed(intent))

    def retrieve_payment_intent(self, intent_id: str) -> PaymentIntentInfo:
        """The intent as Stripe has it now."""
        intent = self._call(
            f"read payment intent {intent_id}", lambda: self._client.v1.payment_intents.retrieve(intent_id)
        )
        return PaymentIntentInfo.from_dict(_dict(intent))

    def cancel_payment_intent(self, intent_id: str, *, reason: str = "abandoned") -> PaymentIntentInfo:
        """Cancel an intent that was not paid (e.g. the invoice was voided); idempotent per intent."""
        key = f"{_KEY_PREFIX}:cancel:{intent_id}"
        intent = self._call(
            f"cancel payment intent {intent_id}",
            lambda: self._client.v1.payment_intents.cancel(
                intent_id, params={"cancellation_reason": reason}, options={"idempotency_key": key}
            ),
            idempotency_key=key,
        )
        return PaymentIntentInfo.from_dict(_dict(intent), idempotency_key=key, replayed=_replayed(intent))

    # ----------------------------------------------------------------- refunds

    def refund(
        self,
        *,
        refund_ref: str,
        payment_intent_id: str | None = None,
        charge_id: str | None = None,
        amount: Decimal | None = None,
        currency: str = "usd",
        reason: str | None = None,
    ) -> RefundInfo:
        """Refund a payment, fully (`amount` None) or partly, exactly once per `refund_ref`.

        `refund_ref` is the app's own reference for this refund (e.g. the id of the refund record or of the
        credit memo): the same reference is the same refund, so a retry or a re-run cannot refund twice,
        while two partial refunds of the same amount need two references.
        """
        if (payment_intent_id is None) == (charge_id is None):
            raise ValueError("refund needs exactly one of payment_intent_id and charge_id")
        if not refund_ref or len(refund_ref) > 100:
            raise ValueError("refund_ref must be 1..100 characters (the app's reference for this refund)")
        if reason is not None and reason not in REFUND_REASONS:
            raise ValueError(f"refund reason must be one of {', '.join(REFUND_REASONS)}")
        target = payment_intent_id or charge_id
        assert target is not None
        params: RefundCreateParams = {"metadata": {"refund_ref": refund_ref}}
        if payment_intent_id:
            params["payment_intent"] = payment_intent_id
        else:
            params["charge"] = target
        if amount is not None:
            params["amount"] = to_minor_units(amount, currency)
        if reason:
            params["reason"] = reason
        key = refund_key(target, refund_ref)
        refund = self._call(
            f"refund {target}",
            lambda: self._client.v1.refunds.create(params=params, options={"idempotency_key": key}),
            idempotency_key=key,
        )
        return RefundInfo.from_dict(_dict(refund), idempotency_key=key, replayed=_replayed(refund))

    # ----------------------------------------------------------------- fees

    def payment_fees(self, intent_id: str) -> BalanceTransactionInfo | None:
        """The balance transaction of the intent's charge: amount, Stripe's fee, net and fee details.

        None while there is no succeeded charge (the intent has not been paid yet).
        """
        intent = self._call(
            f"read the fees of payment intent {intent_id}",
            lambda: self._client.v1.payment_intents.retrieve(
                intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            ),
        )
        data = _dict(intent)
        charge = data.get("latest_charge")
        if not isinstance(charge, Mapping) or charge.get("status") != "succeeded":
            return None
        txn = charge.get("balance_transaction")
        if not isinstance(txn, Mapping):
            return None
        return BalanceTransactionInfo.from_dict(txn, payment_intent_id=intent_id)

    def balance_transaction(self, transaction_id: str) -> BalanceTransactionInfo:
        """One balance transaction (`txn_…`): of a charge, a refund, a dispute or a payout."""
        txn = self._call(
            f"read balance transaction {transaction_id}",
            lambda: self._client.v1.balance_transactions.retrieve(transaction_id),
        )
        return BalanceTransactionInfo.from_dict(_dict(txn))

    # ----------------------------------------------------------------- listings (reconciliation)

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        """One charge as a plain dict (amounts in minor units), e.g. one outside a listed period."""
        charge = self._call(f"read charge {charge_id}", lambda: self._client.v1.charges.retrieve(charge_id))
        return _dict(charge)

    def list_charges(
        self, start: datetime, end: datetime, *, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every charge created in [start, end), as plain dicts, page by page (`starting_after`)."""
        params = {"created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())}, "limit": page_size}
        return self._list("list Stripe charges", self._client.v1.charges.list, params)

    def list_balance_transactions(
        self, start: datetime, end: datetime, *, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every balance transaction created in [start, end) (charges, refunds, fees, payouts), as dicts."""
        params = {"created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())}, "limit": page_size}
        return self._list(
            "list Stripe balance transactions", self._client.v1.balance_transactions.list, params
        )

    # ----------------------------------------------------------------- payouts

    def retrieve_payout(self, payout_id: str) -> dict[str, Any]:
        """One payout (`po_…`) as a plain dict: amount, arrival_date, status."""
        return _dict(
            self._call(f"read payout {payout_id}", lambda: self._client.v1.payouts.retrieve(payout_id))
        )

    def list_paid_payouts(
        self, start: datetime, end: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every payout created in [start, end) (no end: up to now) and paid out (status `paid`), as dicts."""
        created = {"gte": int(start.timestamp())} | ({} if end is None else {"lt": int(end.timestamp())})
        params = {
            "created": created,
            "status": "paid",
            "limit": page_size,
        }
        return self._list("list Stripe payouts", self._client.v1.payouts.list, params)

    def payout_transactions(self, payout_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """The balance transactions a payout paid out (charges, refunds, fees, and the payout's own)."""
        params = {"payout": payout_id, "limit": page_size}
        return self._list(
            f"list the transactions of payout {payout_id}", self._client.v1.balance_transactions.list, params
        )

    def _list(
        self, context: str, fn: Callable[..., Any], params: Mapping[str, Any], max_pages: int = 100_000
    ) -> Iterator[dict[str, Any]]:
        """Every object of a Stripe list, page by page (starting_after + has_more, with the kit's guard)."""

        def page(query: dict[str, Any]) -> Page:
            data = _dict(self._call(context, _bind(fn, query)))
            return Page(data.get("data") or [], has_more=bool(data.get("has_more")))

        strategy = CursorPages(limit=int(params.get("limit", 100)), extra=params)
        try:
            for row in paginate(page, strategy, max_pages=max_pages, what=context):
                yield dict(row)
        except PaginationError as err:
            raise StripeInvalidRequestError(f"Stripe: {err}") from None

    # ----------------------------------------------------------------- events

    def retrieve_event(self, event_id: str) -> StripeEvent:
        """One event by id (within Stripe's 30 days): to re-check a webhook against the API."""
        event = self._call(f"read event {event_id}", lambda: self._client.v1.events.retrieve(event_id))
        return StripeEvent.from_dict(_dict(event))

    def list_events(
        self,
        since: datetime,
        types: Sequence[str] = (),
        *,
        now: datetime | None = None,
        page_size: int = 100,
        max_pages: int = 10_000,
    ) -> Iterator[StripeEvent]:
        """Every event created at or after `since` (newest first, as Stripe lists them), page by page.

        `since` older than Stripe's 30-day retention is moved up to it (with a warning; see
        `backfill_start`). `types` filters by event type (at most 20, wildcards such as `charge.*`
        allowed). Each page is fetched with layer-1 retries.
        """
        if len(types) > MAX_EVENT_TYPES:
            raise ValueError(f"Stripe filters on at most {MAX_EVENT_TYPES} event types at once")
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be 1..100")
        start, clamped = backfill_start(since, now)
        if clamped:
            log.warning(
                "Stripe keeps events for 30 days: backfill from %s, not %s; reconcile the gap another way",
                start.isoformat(),
                since.isoformat(),
            )
        params: EventListParams = {"created": {"gte": int(start.timestamp())}, "limit": page_size}
        if types:
            params["types"] = list(types)
        for item in self._list("list Stripe events", self._client.v1.events.list, params, max_pages):
            yield StripeEvent.from_dict(item)

    # ----------------------------------------------------------------- retries and translation

    def _call(self, context: str, fn: Callable[[], T], *, idempotency_key: str | None = None) -> T:
        def attempt() -> T:
            try:
                return fn()
            except stripe.StripeError as exc:
                raise classify(exc, context=context, idempotency_key=idempotency_key) from None

        return run_with_retries(self.retry, attempt, _log_retry)


def _log_retry(error: ProviderError, wait: float, attempt_number: int) -> None:
    log.warning("Stripe call failed (attempt %d), retrying in %.1f s: %s", attempt_number, wait, error)


def _bind(fn: Callable[..., T], params: Any) -> Callable[[], T]:
    return lambda: fn(params=params)


def _dict(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict(for_json=True)) if hasattr(obj, "to_dict") else dict(obj)


def _replayed(obj: Any) -> bool:
    response = getattr(obj, "last_response", None)
    headers: Mapping[str, str] = getattr(response, "headers", None) or {}
    return (
        str(headers.get("Idempotent-Replayed") or headers.get("idempotent-replayed") or "").lower() == "true"
    )


__all__ += ["AmountError", "StripeConfigError"]
