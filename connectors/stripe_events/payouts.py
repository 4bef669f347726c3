"""Stripe payouts booked in QuickBooks: where a card payment's journey ends, at the bank.

A card payment reaches QuickBooks as a Payment deposited to Undeposited Funds (or the Stripe clearing
account) and its fee as a Purchase. When Stripe pays the balance out (`payout.paid`, or the scheduled
`book-stripe-payouts` run for payouts the webhook missed), each company whose payments the payout carries
gets one Deposit into its bank account (`accounts.stripe_payouts_to`, Checking by default) with one line
per payment, linked to the QuickBooks Payment: the money moves from Undeposited Funds to the bank, as a
bookkeeper records it. With the fees already booked as expenses from the bank, the bank account then shows
what Stripe actually sent.

Idempotent: one entity link per (payout, company) (entity type `payout`), a deterministic requestid for
the create (a lost response is answered from it), and a sync-log row per attempt. Payments not in
QuickBooks yet are pushed first; a payment the app does not know stops the payout's booking for that
company with a message (reconciliation lists it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.links import links_for
from connectors.quickbooks_sync.push import quickbooks_settings
from connectors.quickbooks_sync.push_types import Target
from connectors.stripe_events.errors import StripeEventError
from connectors.stripe_events.quickbooks import create_linked, push_collected
from sierra_core.db.models import Payment

__all__ = [
    "PAYOUT_ENTITY",
    "CompanyShare",
    "PayoutBooking",
    "book_payout",
    "payout_app_id",
    "payout_shares",
]

log = logging.getLogger("sierra_sync.stripe_events")

PAYOUT_ENTITY = "payout"  # entity_links / sync-log entity type of Deposits made from Stripe payouts
NOTE_PREFIX = "Stripe payout "  # how a Deposit names its payout (PrivateNote), read back by reconciliation
_NAMESPACE = uuid.UUID("9b7d4c1e-2a6f-5d83-9e40-c1b2a3f4e5d6")
CHARGE_TYPES = ("charge", "payment")


@runtime_checkable
class PayoutLister(Protocol):
    def list_paid_payouts(self, start: datetime, end: datetime | None = None) -> Iterator[dict[str, Any]]: ...
    def payout_transactions(self, payout_id: str) -> Iterator[dict[str, Any]]: ...


class PayoutNotReady(StripeEventError):
    """A payment the payout carries is not in QuickBooks yet (its push failed): retried later."""

    retryable = True


def payout_app_id(payout_id: str, company_id: uuid.UUID) -> uuid.UUID:
    """The id a company's share of a payout is known by in the entity links (no app row of its own)."""
    return uuid.uuid5(_NAMESPACE, f"stripe-payout:{payout_id}:{company_id}")


@dataclass(frozen=True)
class CompanyShare:
    """The payments of one company a payout carries, with their gross amounts (what the QuickBooks
    Payments hold)."""

    company_id: uuid.UUID
    payments: tuple[tuple[uuid.UUID, Decimal], ...]

    @property
    def payment_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(p for p, _ in self.payments)

    @property
    def amount(self) -> Decimal:
        return sum((a for _, a in self.payments), Decimal("0.00"))


@dataclass
class PayoutShares:
    payout_id: str
    arrival: datetime
    amount: Decimal  # what Stripe sent to the bank (net of fees and refunds)
    companies: dict[uuid.UUID, CompanyShare] = field(default_factory=dict)
    unknown_charges: list[str] = field(default_factory=list)  # paid out, but no app payment names them


CENT = Decimal("0.01")


def _minor(value: Any) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def payout_shares(session: Session, stripe: PayoutLister, payout: Mapping[str, Any]) -> PayoutShares:
    """Split a payout by company through the app payments its charges belong to."""
    payout_id = str(payout["id"])
    charges = [
        str(t["source"])
        for t in stripe.payout_transactions(payout_id)
        if t.get("type") in CHARGE_TYPES and t.get("source")
    ]
    shares = PayoutShares(
        payout_id,
        datetime.fromtimestamp(int(payout.get("arrival_date") or payout.get("created") or 0), UTC),
        _minor(payout.get("amount")),
    )
    rows = session.execute(
        select(Payment.id, Payment.company_id, Payment.amount, Payment.stripe_charge_id)
        .where(Payment.stripe_charge_id.in_(charges), Payment.deleted_at.is_(None))
        .order_by(Payment.payment_date, Payment.id)
    ).all()
    found = {row.stripe_charge_id for row in rows}
    shares.unknown_charges = [c for c in charges if c not in found]
    grouped: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.company_id, []).append(row)
    for company_id, mine in grouped.items():
        shares.companies[company_id] = CompanyShare(
            company_id, tuple((r.id, Decimal(str(r.amount)).quantize(CENT)) for r in mine)
        )
    return shares


@dataclass(frozen=True)
class PayoutBooking:
    """One company's Deposit for a payout: its QuickBooks id, the amount, and whether this call made it."""

    payout_id: str
    company_id: uuid.UUID
    deposit_id: str
    amount: Decimal
    created: bool


def deposit_body(
    shares: PayoutShares, share: CompanyShare, payment_links: Mapping[uuid.UUID, str], target: Target
) -> dict[str, Any]:
    """The QuickBooks Deposit: one line per payment, linked to its QuickBooks Payment."""
    return {
        "DepositToAccountRef": quickbooks_settings(target).accounts.stripe_payouts_to.as_ref(),
        "TxnDate": shares.arrival.date().isoformat(),
        "PrivateNote": f"{NOTE_PREFIX}{shares.payout_id}",
        "Line": [
            {
                "Amount": str(amount),
                "LinkedTxn": [{"TxnId": payment_links[payment_id], "TxnType": "Payment", "TxnLineId": "0"}],
            }
            for payment_id, amount in share.payments
        ],
    }


def book_payout(
    sessions: sessionmaker[Session],
    stripe: PayoutLister,
    payout: Mapping[str, Any],
    open_company: Any,
    *,
    trigger: str = "webhook",
    flow_run_id: str | None = None,
) -> list[PayoutBooking]:
    """Book `payout` (a paid Stripe payout) as one Deposit per company; already-booked shares are
    returned as they are. `open_company(company_id)` is a context manager yielding the company's
    QuickBooks link (client, target) or None when it is not connected (that share is skipped)."""
    with sessions() as session:
        shares = payout_shares(session, stripe, payout)
    if shares.unknown_charges:
        log.warning(
            "Stripe payout %s carries %d charge(s) no app payment names: not booked (reconcile lists them)",
            shares.payout_id,
            len(shares.unknown_charges),
        )
    out: list[PayoutBooking] = []
    for share in shares.companies.values():
        with open_company(share.company_id) as qbo:
            if qbo is None:
                log.info(
                    "payout %s: company %s is not connected to QuickBooks", shares.payout_id, share.company_id
                )
                continue
            out.append(_book_share(sessions, qbo.client, qbo.target, shares, share, trigger, flow_run_id))
    return out


def _payment_links(
    sessions: sessionmaker[Session],
    client: Any,
    target: Target,
    share: CompanyShare,
    trigger: str,
    run: str | None,
) -> dict[uuid.UUID, str]:
    with sessions() as session:
        links = links_for(session, target.integration_id, "payment", share.payment_ids)
    missing = [p for p in share.payment_ids if p not in links]
    if missing:  # pushed first: the Deposit must link to the Payments
        push_collected(sessions, client, target, missing, trigger=trigger, flow_run_id=run)
        with sessions() as session:
            links = links_for(session, target.integration_id, "payment", share.payment_ids)
    still = [p for p in share.payment_ids if p not in links]
    if still:
        raise PayoutNotReady(
            f"{len(still)} payment(s) of this payout are not in QuickBooks yet; the retry sweep pushes them, "
            "then the payout is booked on its next run",
            code="missing_reference",
        )
    return {p: links[p].external_id for p in share.payment_ids}


def _book_share(
    sessions: sessionmaker[Session],
    client: Any,
    target: Target,
    shares: PayoutShares,
    share: CompanyShare,
    trigger: str,
    flow_run_id: str | None,
) -> PayoutBooking:
    app_id = payout_app_id(shares.payout_id, share.company_id)
    with sessions() as session:
        booked = links_for(session, target.integration_id, PAYOUT_ENTITY, [app_id]).get(app_id)
    if booked is not None:
        return PayoutBooking(shares.payout_id, share.company_id, booked.external_id, share.amount, False)
    payment_links = _payment_links(sessions, client, target, share, trigger, flow_run_id)
    body = deposit_body(shares, share, payment_links, target)
    deposit_id = create_linked(
        sessions,
        client,
        target,
        entity_type=PAYOUT_ENTITY,
        app_id=app_id,
        qbo_entity="Deposit",
        body=body,
        trigger=trigger,
        flow_run_id=flow_run_id,
    )
    log.info(
        "Stripe payout %s: %s of company %s deposited in QuickBooks (Deposit %s)",
        shares.payout_id,
        share.amount,
        share.company_id,
        deposit_id,
    )
    return PayoutBooking(shares.payout_id, share.company_id, deposit_id, share.amount, True)
