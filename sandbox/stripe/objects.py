"""Builders for Stripe objects with every field of Stripe's shapes (null when unset, metadata {})."""

from __future__ import annotations

from typing import Any

from sandbox.stripe.cards import TestCard

JSON = dict[str, Any]
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def address(raw: JSON | None) -> JSON | None:
    """A Stripe address with all six fields, or None."""
    if raw is None:
        return None
    return {name: raw.get(name) or None for name in ADDRESS_FIELDS}


def shipping(raw: JSON | None) -> JSON | None:
    """Shipping details (`address`, `name`, `phone`), or None."""
    if raw is None:
        return None
    return {"address": address(raw.get("address") or {}), "name": raw.get("name"), "phone": raw.get("phone")}


def customer(object_id: str, created: int, invoice_prefix: str) -> JSON:
    """A new customer with Stripe's defaults; the caller fills in what the request set."""
    return {
        "id": object_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def payment_method(object_id: str, created: int, card: TestCard, fingerprint: str) -> JSON:
    """A card PaymentMethod made from a test card."""
    return {
        "id": object_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": address({}),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": fingerprint,
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
            "regulated_status": "unregulated",
        },
        "created": created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "customer_account": None,
    }


def payment_intent(object_id: str, created: int, client_secret: str) -> JSON:
    """A new PaymentIntent in `requires_payment_method`; the caller fills in amount, currency and options."""
    return {
        "id": object_id,
        "object": "payment_intent",
        "amount": 0,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": client_secret,
        "confirmation_method": "automatic",
        "created": created,
        "currency": "usd",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
        "source": None,
        "excluded_payment_method_types": None,
        "customer_account": None,
        "managed_payments": {"enabled": False},
    }


def card_details(pm: JSON, amount: int) -> JSON:
    """`payment_method_details` of a charge paid with the card PaymentMethod `pm`."""
    card = pm["card"]
    return {
        "card": {
            "amount_authorized": amount,
            "brand": card["brand"],
            "checks": dict(card["checks"]),
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "three_d_secure": None,
            "wallet": None,
            "authorization_code": "123456",
            "regulated_status": "unregulated",
            "network_transaction_id": "1234567890",
            "transaction_link_id": None,
        },
        "type": "card",
    }


def charge(object_id: str, created: int, intent: JSON, pm: JSON, receipt_url: str) -> JSON:
    """A charge for `intent` paid with `pm`; succeeded by default (the caller marks failures)."""
    amount = intent["amount"]
    return {
        "id": object_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": dict(pm["billing_details"]),
        "calculated_statement_descriptor": "SIERRA SUITES",
        "captured": True,
        "created": created,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": pm["id"],
        "payment_method_details": card_details(pm, amount),
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": receipt_url,
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{object_id}/refunds",
        },
        "review": None,
        "shipping": intent["shipping"],
        "source_transfer": None,
        "statement_descriptor": intent["statement_descriptor"],
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
        "source": None,
    }


def fee_detail(amount: int, currency: str) -> JSON:
    """One `fee_details` entry: Stripe's processing fee."""
    return {
        "amount": amount,
        "application": None,
        "currency": currency,
        "description": "Stripe processing fees",
        "type": "stripe_fee",
    }


def balance_transaction(
    object_id: str,
    created: int,
    *,
    amount: int,
    fee: int,
    currency: str,
    source: str,
    type_: str,
    description: str | None,
    available_on: int,
) -> JSON:
    """A balance transaction; `net = amount - fee`, with one stripe_fee entry when there is a fee."""
    return {
        "id": object_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [fee_detail(fee, currency)] if fee else [],
        "net": amount - fee,
        "reporting_category": {"payout": "payout", "adjustment": "dispute"}.get(type_, type_),
        "source": source,
        "status": "pending",
        "type": type_,
        "balance_type": "payments",
    }


def refund(object_id: str, created: int, charge_obj: JSON, amount: int) -> JSON:
    """A refund of `amount` on `charge_obj` (Stripe's refund has no `livemode` field)."""
    return {
        "id": object_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
        "customer": charge_obj["customer"],
        "customer_account": None,
        "payment_method": charge_obj["payment_method"],
    }


def payout(
    object_id: str, created: int, *, amount: int, currency: str, arrival_date: int, automatic: bool
) -> JSON:
    """A payout to the account's default bank account, `in_transit` until its arrival date."""
    return {
        "id": object_id,
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": arrival_date,
        "automatic": automatic,
        "balance_transaction": None,
        "created": created,
        "currency": currency,
        "description": "STRIPE PAYOUT",
        "destination": "ba_1SierraSandboxBank000001",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "reconciliation_status": "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "in_transit",
        "type": "bank_account",
        "trace_id": {"status": "pending", "value": None},
        "payout_method": None,
    }


def dispute(object_id: str, created: int, charge_obj: JSON, due_by: int) -> JSON:
    """A dispute (chargeback) opened on `charge_obj` for its full amount."""
    return {
        "id": object_id,
        "object": "dispute",
        "amount": charge_obj["amount"],
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "evidence_details": {
            "due_by": due_by,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "reason": "fraudulent",
        "status": "needs_response",
    }


def event(
    object_id: str,
    created: int,
    *,
    type_: str,
    data_object: JSON,
    previous_attributes: JSON | None,
    api_version: str,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
) -> JSON:
    """An event envelope carrying a snapshot of the object (and, on updates, the previous values)."""
    data: JSON = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": object_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type_,
    }


def webhook_endpoint(
    object_id: str, created: int, url: str, enabled_events: list[str], api_version: str
) -> JSON:
    """A webhook endpoint as `/v1/webhook_endpoints` shows it (the secret is only shown on create)."""
    return {
        "id": object_id,
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": created,
        "description": None,
        "enabled_events": list(enabled_events),
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": url,
    }
