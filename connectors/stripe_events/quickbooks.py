"""The QuickBooks side of Stripe events: collected payments and fee expenses go through the push engine
(so they get its links, requestids, find-before-create and sync-log rows); refunds become RefundReceipts,
one per Stripe refund, linked as entity type `refund` so a redelivered event never books one twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.links import links_for, save_link
from connectors.accounting.outcome import PushResult
from connectors.quickbooks.client import QuickBooksClient, make_request_id
from connectors.quickbooks.errors import QuickBooksError
from connectors.quickbooks.mapping_refund import RefundRefs, StripeRefund, refund_to_refund_receipt
from connectors.quickbooks_sync.push import Pusher, quickbooks_settings
from connectors.quickbooks_sync.push_types import PushOptions, Target
from connectors.stripe_events.errors import StripeEventError
from connectors.stripe_events.record import refund_app_id
from sierra_core import synclog
from sierra_core.db.models import Invoice, Payment

__all__ = ["REFUND_ENTITY", "RefundPush", "create_linked", "push_collected", "push_refund_receipts"]

log = logging.getLogger("sierra_sync.stripe_events")

REFUND_ENTITY = "refund"  # entity_links / sync-log entity type of RefundReceipts made from Stripe refunds


class MissingCustomerError(StripeEventError):
    """The payment's customer has no QuickBooks link yet (its push failed); retry after it is pushed."""

    retryable = True


def push_collected(
    sessions: sessionmaker[Session],
    client: QuickBooksClient,
    target: Target,
    ids: Iterable[uuid.UUID],
    *,
    trigger: str = "webhook",
    flow_run_id: str | None = None,
) -> PushResult:
    """Push the given payments and expenses (and whatever they depend on that QBO lacks) to QuickBooks."""
    options = PushOptions(trigger=trigger, flow_run_id=flow_run_id)
    return Pusher(sessions, client, target, options).run(("payment", "expense"), list(ids))


@dataclass(frozen=True)
class RefundPush:
    """One refund's RefundReceipt: its QBO id, and whether this call created it."""

    refund_id: str
    qbo_id: str
    created: bool


def push_refund_receipts(
    sessions: sessionmaker[Session],
    client: QuickBooksClient,
    target: Target,
    payment_id: uuid.UUID,
    refunds: Sequence[StripeRefund],
    *,
    trigger: str = "webhook",
    flow_run_id: str | None = None,
) -> list[RefundPush]:
    """A RefundReceipt in QuickBooks for each refund not booked yet (one sync-log row per write)."""
    out: list[RefundPush] = []
    app_ids = {r.id: refund_app_id(r.id) for r in refunds}
    with sessions() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:  # pragma: no cover - recorded before
            raise StripeEventError(f"payment {payment_id} is not recorded")
        links = links_for(session, target.integration_id, REFUND_ENTITY, app_ids.values())
        customer = links_for(session, target.integration_id, "customer", [payment.customer_id])
        number = session.scalar(select(Invoice.invoice_number).where(Invoice.id == payment.invoice_id))
        session.expunge(payment)
    for refund in refunds:
        app_id = app_ids[refund.id]
        if app_id in links:
            out.append(RefundPush(refund.id, links[app_id].external_id, False))
            continue
        link = customer.get(payment.customer_id)
        if link is None:
            raise MissingCustomerError(
                f"Stripe refund {refund.id}: the customer is not in QuickBooks yet; push the customer "
                "(push-to-quickbooks), then reprocess the event",
                code="missing_reference",
            )
        body = refund_to_refund_receipt(
            refund,
            payment,
            RefundRefs(customer_id=link.external_id, invoice_number=number),
            quickbooks_settings(target),
        )
        qbo_id = create_linked(
            sessions,
            client,
            target,
            entity_type=REFUND_ENTITY,
            app_id=app_id,
            qbo_entity="RefundReceipt",
            body=body,
            trigger=trigger,
            flow_run_id=flow_run_id,
        )
        log.info("Stripe refund %s booked in QuickBooks as RefundReceipt %s", refund.id, qbo_id)
        out.append(RefundPush(refund.id, qbo_id, True))
    return out


def create_linked(
    sessions: sessionmaker[Session],
    client: QuickBooksClient,
    target: Target,
    *,
    entity_type: str,
    app_id: uuid.UUID,
    qbo_entity: str,
    body: dict[str, Any],
    trigger: str,
    flow_run_id: str | None,
) -> str:
    """Create `body` as a `qbo_entity` once for (entity_type, app_id): a sync-log row per attempt, a
    deterministic requestid (a lost response is answered from it), then the entity link. Returns its id.
    Not retried by the push sweep (which knows only app records): the caller's event or run retries it."""
    request_id = make_request_id(target.integration_id, entity_type, app_id, 1, "create")
    with sessions.begin() as session:
        log_id = synclog.start_attempt(
            session,
            integration_id=target.integration_id,
            company_id=target.company_id,
            sync_type=entity_type,
            direction="push",
            trigger=trigger,
            entity_type=entity_type,
            entity_id=app_id,
            request_payload={"operation": "create", qbo_entity: body},
            max_retries=0,
            flow_run_id=flow_run_id,
            request_id=request_id,
        )
    try:
        created = client.create(qbo_entity, body, request_id)
    except QuickBooksError as err:
        with sessions.begin() as session:
            synclog.finish_failure(
                session, log_id, error_code=err.code, error_message=err.message, retryable=False
            )
        raise
    qbo_id = str(created["Id"])
    with sessions.begin() as session:
        save_link(
            session,
            integration_id=target.integration_id,
            company_id=target.company_id,
            entity_type=entity_type,
            app_id=app_id,
            external_id=qbo_id,
            sync_token=str(created.get("SyncToken", "0")),
            version=1,
            external_updated_at=None,
        )
        synclog.finish_success(session, log_id, external_entity_id=qbo_id, response_payload=created)
    return qbo_id
