"""Loaders: the app database (SQL), QuickBooks (paginated queries) and Stripe (charges and balance
transactions) over a period, each into the DataFrame of `frames`, money in integer cents.

The period selects records by their business date (invoice issue date / TxnDate, payment date); the join
then closes over the links both ways, so a record whose date was moved out of the period in one system is
still compared instead of being reported missing: linked QuickBooks ids the period query did not return
are read by Id, and app records linked to QuickBooks objects of the period are loaded by id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from connectors.quickbooks import mapping
from connectors.quickbooks.mapping_expense import expense_doc_number
from connectors.quickbooks.query import Select
from connectors.quickbooks.query import select as qbo_select
from connectors.reconcile.frames import APP_COLUMNS, QBO_COLUMNS, STRIPE_COLUMNS, cents, frame, sub_cent
from connectors.reconcile.xero_source import reference
from connectors.stripe.errors import StripeApiError
from connectors.stripe_events.payouts import (
    NOTE_PREFIX,
    PAYOUT_ENTITY,
    PayoutLister,
    payout_app_id,
    payout_shares,
)
from sierra_core.db.models import Contact, EntityLink, Expense, Invoice, Payment

CHUNK = 500  # ids per SQL IN (...)
QBO_CHUNK = 200  # ids per QuickBooks IN (...)


class QueryClient(Protocol):
    def query_all(self, query: Select, *, page_size: int = 1000) -> Iterator[dict[str, Any]]: ...


class StripeLister(Protocol):
    def list_charges(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]: ...
    def list_balance_transactions(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]: ...
    def retrieve_charge(self, charge_id: str) -> dict[str, Any]: ...


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ------------------------------------------------------------------------------------------------- app


def _link(integration_id: uuid.UUID, entity_type: str, column: Any) -> Any:
    return and_(
        EntityLink.integration_id == integration_id,
        EntityLink.entity_type == entity_type,
        EntityLink.app_id == column,
    )


def load_app(
    session: Session,
    company_id: uuid.UUID,
    integration_id: uuid.UUID,
    start: date,
    end: date,
    *,
    ids: dict[str, set[uuid.UUID]] | None = None,
    system: str = "quickbooks",
) -> pd.DataFrame:
    """App invoices (issue date in the period), payments (payment date) and expenses (expense date), the
    customers they name, each with its id in the accounting system (`system`: quickbooks or xero, whose
    payment and expense numbers differ); with `ids`, exactly those records instead (any date)."""
    xero = system == "xero"
    rows: list[dict[str, Any]] = []
    customer_ids: set[uuid.UUID] = set()

    inv = select(Invoice, EntityLink.external_id).outerjoin(
        EntityLink, _link(integration_id, "invoice", Invoice.id)
    )
    pay = select(Payment, EntityLink.external_id).outerjoin(
        EntityLink, _link(integration_id, "payment", Payment.id)
    )
    exp = select(Expense, EntityLink.external_id).outerjoin(
        EntityLink, _link(integration_id, "expense", Expense.id)
    )
    inv = inv.where(Invoice.company_id == company_id)
    pay = pay.where(Payment.company_id == company_id)
    exp = exp.where(Expense.company_id == company_id)
    invoices: list[Any] = []
    payments: list[Any] = []
    expenses: list[Any] = []
    if ids is None:
        invoices = list(session.execute(inv.where(Invoice.issue_date.between(start, end))))
        payments = list(session.execute(pay.where(Payment.payment_date.between(start, end))))
        expenses = list(session.execute(exp.where(Expense.expense_date.between(start, end))))
    else:
        for chunk in _chunks(sorted(ids.get("invoice", ())), CHUNK):
            invoices += session.execute(inv.where(Invoice.id.in_(chunk)))
        for chunk in _chunks(sorted(ids.get("payment", ())), CHUNK):
            payments += session.execute(pay.where(Payment.id.in_(chunk)))
        for chunk in _chunks(sorted(ids.get("expense", ())), CHUNK):
            expenses += session.execute(exp.where(Expense.id.in_(chunk)))
        customer_ids |= ids.get("customer", set())
    for expense, external_id in expenses:
        rows.append(
            {
                "entity_type": "expense",
                "app_id": str(expense.id),
                "number": reference(expense.reference_number) if xero else expense_doc_number(expense),
                "amount": cents(expense.amount),
                "exact_amount": sub_cent(expense.amount),
                "status": expense.category,
                "deleted": expense.deleted_at is not None,
                "external_id": external_id,
            }
        )
    for invoice, external_id in invoices:
        customer_ids.add(invoice.customer_id)
        rows.append(
            {
                "entity_type": "invoice",
                "app_id": str(invoice.id),
                "number": invoice.invoice_number,
                "amount": cents(invoice.total),
                "exact_amount": sub_cent(invoice.total),
                "balance": cents(invoice.balance),
                "status": invoice.status,
                "deleted": invoice.deleted_at is not None,
                "external_id": external_id,
            }
        )
    for payment, external_id in payments:
        customer_ids.add(payment.customer_id)
        rows.append(
            {
                "entity_type": "payment",
                "app_id": str(payment.id),
                "number": reference(payment.reference_number) if xero else mapping.payment_ref_num(payment),
                "amount": cents(payment.amount),
                "exact_amount": sub_cent(payment.amount),
                "status": payment.status,
                "deleted": payment.deleted_at is not None,
                "external_id": external_id,
                "stripe_charge_id": payment.stripe_charge_id,
                "stripe_payment_intent_id": payment.stripe_payment_intent_id,
                "refunded": cents(payment.refunded_amount),
            }
        )
    cust = select(Contact, EntityLink.external_id).outerjoin(
        EntityLink, _link(integration_id, "customer", Contact.id)
    )
    for chunk in _chunks(sorted(customer_ids), CHUNK):
        stmt = cust.where(Contact.company_id == company_id, Contact.id.in_(chunk))
        for contact, external_id in session.execute(stmt):
            rows.append(
                {
                    "entity_type": "customer",
                    "app_id": str(contact.id),
                    "number": contact.display_name,
                    "amount": 0,
                    "status": "active" if contact.is_active else "inactive",
                    "deleted": contact.deleted_at is not None,
                    "external_id": external_id,
                }
            )
    return frame(rows, APP_COLUMNS)


def app_ids_linked_to(
    session: Session, integration_id: uuid.UUID, wanted: dict[str, set[str]]
) -> dict[str, set[uuid.UUID]]:
    """App ids linked to the given QuickBooks ids, per entity type."""
    out: dict[str, set[uuid.UUID]] = {}
    for entity_type, external_ids in wanted.items():
        for chunk in _chunks(sorted(external_ids), CHUNK):
            stmt = select(EntityLink.app_id).where(
                EntityLink.integration_id == integration_id,
                EntityLink.entity_type == entity_type,
                EntityLink.external_id.in_(chunk),
            )
            out.setdefault(entity_type, set()).update(session.scalars(stmt))
    return {k: v for k, v in out.items() if v}


def close_app(
    session: Session,
    company_id: uuid.UUID,
    integration_id: uuid.UUID,
    app: pd.DataFrame,
    qbo: pd.DataFrame,
    system: str = "quickbooks",
) -> pd.DataFrame:
    """Add the app records linked to accounting documents of the period that the app's period left out."""
    known = set(zip(app["entity_type"], app["external_id"].fillna(""), strict=True))
    wanted: dict[str, set[str]] = {}
    for entity_type, external_id in zip(qbo["entity_type"], qbo["external_id"], strict=True):
        if (entity_type, external_id) not in known:
            wanted.setdefault(str(entity_type), set()).add(str(external_id))
    ids = app_ids_linked_to(session, integration_id, wanted)
    have = set(app["app_id"])
    ids = {t: {i for i in v if str(i) not in have} for t, v in ids.items()}
    if not any(ids.values()):
        return app
    extra = load_app(session, company_id, integration_id, date.min, date.max, ids=ids, system=system)
    extra = extra[~extra["app_id"].isin(have)]
    return pd.concat([app, extra], ignore_index=True) if len(extra) else app


# ------------------------------------------------------------------------------------------------- QBO


def qbo_row(entity_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """One QuickBooks object as a row of the QBO frame."""
    row: dict[str, Any] = {
        "entity_type": entity_type,
        "external_id": str(obj["Id"]),
        "sync_token": str(obj.get("SyncToken", "")),
        "voided": False,
    }
    if entity_type == "customer":
        row.update(number=obj.get("DisplayName"), amount=0)
        return row
    row["amount"] = cents(mapping.money(obj.get("TotalAmt", 0), "TotalAmt"))
    row["voided"] = mapping.is_voided(obj)
    if entity_type == "invoice":
        row["number"] = obj.get("DocNumber")
        row["balance"] = cents(mapping.money(obj.get("Balance", 0), "Balance"))
    elif entity_type == "expense":
        row["number"] = obj.get("DocNumber")
    elif entity_type == PAYOUT_ENTITY:
        row["number"] = payout_of_deposit(obj)
    else:
        row["number"] = str(obj["PaymentRefNum"]) if obj.get("PaymentRefNum") else None
    return row


QBO_ENTITIES = {
    "invoice": "Invoice",
    "payment": "Payment",
    "customer": "Customer",
    "expense": "Purchase",
    PAYOUT_ENTITY: "Deposit",
}


def payout_of_deposit(obj: dict[str, Any]) -> str | None:
    """The Stripe payout id a Deposit sierra-sync booked names in its PrivateNote; None for other deposits."""
    note = str(obj.get("PrivateNote") or "")
    return (
        note[len(NOTE_PREFIX) :].split()[0]
        if note.startswith(NOTE_PREFIX) and len(note) > len(NOTE_PREFIX)
        else None
    )


def _by_ids(client: QueryClient, entity_type: str, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    wanted = sorted(ids)
    for chunk in _chunks(wanted, QBO_CHUNK):
        yield from client.query_all(qbo_select(QBO_ENTITIES[entity_type]).where("Id", "IN", list(chunk)))


def load_qbo(client: QueryClient, start: date, end: date, *, linked: dict[str, set[str]]) -> pd.DataFrame:
    """QuickBooks invoices, payments, purchases (expenses) and the Deposits sierra-sync booked for Stripe
    payouts, dated in the period (paginated), the linked ones the period left out (read by Id: deleted ones
    stay absent) and the customers either side names. Other deposits are not the app's: left out."""
    rows: list[dict[str, Any]] = []
    customers: set[str] = set(linked.get("customer", set()))
    for entity_type in ("invoice", "payment", "expense", PAYOUT_ENTITY):
        query = (
            qbo_select(QBO_ENTITIES[entity_type]).where("TxnDate", ">=", start).where("TxnDate", "<=", end)
        )
        seen: set[str] = set()
        objects = list(client.query_all(query))
        missing = set(linked.get(entity_type, set())) - {str(o["Id"]) for o in objects}
        objects += list(_by_ids(client, entity_type, missing))
        for obj in objects:
            if str(obj["Id"]) in seen:
                continue
            seen.add(str(obj["Id"]))
            if entity_type == PAYOUT_ENTITY and payout_of_deposit(obj) is None:
                continue
            rows.append(qbo_row(entity_type, obj))
            customer = mapping.ref_value(obj, "CustomerRef")
            if customer:
                customers.add(customer)
    rows += [qbo_row("customer", obj) for obj in _by_ids(client, "customer", customers)]
    return frame(rows, QBO_COLUMNS)


# ------------------------------------------------------------------------------------------------- Stripe


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC)."""
    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


def _minor(value: Any) -> int | None:
    # Two-decimal currencies: minor units are cents (the sandbox and the app's currencies).
    return None if value is None else int(value)


def stripe_row(charge: dict[str, Any], fees: dict[str, tuple[int, int]]) -> dict[str, Any]:
    fee_net = fees.get(str(charge["id"]))
    intent = charge.get("payment_intent")
    return {
        "charge_id": str(charge["id"]),
        "payment_intent_id": intent.get("id") if isinstance(intent, dict) else intent,
        "amount": _minor(charge.get("amount")),
        "refunded": _minor(charge.get("amount_refunded", 0)),
        "fee": fee_net[0] if fee_net else None,
        "net": fee_net[1] if fee_net else None,
        "status": charge.get("status"),
    }


def belongs_to(charge: dict[str, Any], company_id: uuid.UUID | None, referenced: set[str]) -> bool:
    """One Stripe account serves every company: a charge is this company's when its metadata says so
    (copied from the payment intent sierra-sync created) or when one of the company's payments names it."""
    if company_id is None or str(charge.get("id")) in referenced:
        return True
    metadata = charge.get("metadata") or {}
    return str(metadata.get("company_id", "")) == str(company_id)


def load_stripe(
    stripe: StripeLister, start: date, end: date, app: pd.DataFrame, company_id: uuid.UUID | None = None
) -> pd.DataFrame:
    """The company's Stripe charges created in the period with their fee and net (from the balance
    transactions), plus the charges app payments of the period name that were created outside it."""
    lo, hi = period_bounds(start, end)
    fees = {
        str(txn["source"]): (int(txn.get("fee", 0)), int(txn.get("net", 0)))
        for txn in stripe.list_balance_transactions(lo, hi)
        if txn.get("type") in ("charge", "payment") and txn.get("source")
    }
    payments = app[app["entity_type"] == "payment"]
    referenced = {str(c) for c in payments["stripe_charge_id"].dropna()}
    charges = {str(c["id"]): c for c in stripe.list_charges(lo, hi) if belongs_to(c, company_id, referenced)}
    for charge_id in payments["stripe_charge_id"].dropna():
        if str(charge_id) not in charges:
            try:
                charges[str(charge_id)] = stripe.retrieve_charge(str(charge_id))
            except StripeApiError as err:  # a charge Stripe does not know is a finding, not a failure
                if err.retryable:
                    raise
    return frame([stripe_row(c, fees) for c in charges.values()], STRIPE_COLUMNS)


def load_payouts(
    session: Session,
    stripe: object,
    start: date,
    end: date,
    company_id: uuid.UUID,
    integration_id: uuid.UUID,
) -> pd.DataFrame:
    """The company's share of every Stripe payout paid in the period, as app-side rows: what its QuickBooks
    Deposit should hold (the gross of the payments it carries), linked to the Deposit booked for it."""
    if not isinstance(stripe, PayoutLister):  # a Stripe source that lists no payouts
        return frame([], APP_COLUMNS)
    lo, hi = period_bounds(start, end)
    rows: list[dict[str, Any]] = []
    for payout in stripe.list_paid_payouts(lo, hi):
        share = payout_shares(session, stripe, payout).companies.get(company_id)
        if share is None:
            continue
        app_id = payout_app_id(str(payout["id"]), company_id)
        link = session.scalar(
            select(EntityLink.external_id).where(
                EntityLink.integration_id == integration_id,
                EntityLink.entity_type == PAYOUT_ENTITY,
                EntityLink.app_id == app_id,
            )
        )
        rows.append(
            {
                "entity_type": PAYOUT_ENTITY,
                "app_id": str(app_id),
                "number": str(payout["id"]),
                "amount": cents(share.amount),
                "status": str(payout.get("status")),
                "deleted": False,
                "external_id": link,
            }
        )
    return frame(rows, APP_COLUMNS)


def linked_external_ids(app: pd.DataFrame) -> dict[str, set[str]]:
    linked = app[app["external_id"].notna()]
    out: dict[str, set[str]] = {}
    for entity_type, external_id in zip(linked["entity_type"], linked["external_id"], strict=True):
        out.setdefault(str(entity_type), set()).add(str(external_id))
    return out


__all__ = [
    "app_ids_linked_to",
    "belongs_to",
    "close_app",
    "linked_external_ids",
    "load_app",
    "load_payouts",
    "load_qbo",
    "load_stripe",
    "period_bounds",
    "qbo_row",
    "stripe_row",
]
