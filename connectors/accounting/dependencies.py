"""Why a record's dependency (an invoice's customer, a payment's invoice) has no external id, and so
whether waiting can help.

Only a dependency that is on its way (pushed in this run and retrying) is worth waiting for: the record is
retryable (`dependency_pending`). A dependency that does not exist, was deleted in the app, is never sent
(a draft or void invoice, customer sync switched off) or failed for good in this run needs a person: the
record fails once, not retryable, with a code and a message naming the dependency and the fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.accounting.outcome import Failure
from connectors.accounting.push_types import SyncSettings
from sierra_core.db.models import Contact, Invoice

__all__ = ["DependencyProblem", "dependency_problems"]

REPLAY = "then run replay-failed for this company"


@dataclass(frozen=True)
class DependencyProblem:
    """What is wrong with a dependency: `code` (for the sync log), what it is (`what`: "its customer
    'Acme'"), why it has no external id and what a person does about it, and whether waiting helps."""

    code: str
    what: str
    why: str
    fix: str
    retryable: bool = False


def _customers(
    session: Session,
    company_id: uuid.UUID,
    settings: SyncSettings,
    ids: set[uuid.UUID],
    failed: Mapping[uuid.UUID, Failure],
    title: str,
) -> dict[uuid.UUID, DependencyProblem]:
    rows = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    out: dict[uuid.UUID, DependencyProblem] = {}
    for app_id in ids:
        contact = rows.get(app_id)
        if contact is None or contact.company_id != company_id:
            out[app_id] = DependencyProblem(
                "customer_not_found",
                f"its customer (id {app_id})",
                "does not exist in the app" + ("" if contact is None else " for this company"),
                f"relink the record to an existing customer in the app, {REPLAY}",
            )
            continue
        what = f"its customer '{contact.display_name}'"
        if contact.deleted_at is not None:
            out[app_id] = DependencyProblem(
                "customer_deleted",
                what,
                f"was deleted in the app on {contact.deleted_at.date().isoformat()}",
                f"restore the customer, or relink the record to another customer, {REPLAY}",
            )
        elif not settings.sync_customers:
            out[app_id] = DependencyProblem(
                "customer_sync_off",
                what,
                f"is not in {title} and customer sync is off in the integration settings",
                f"turn customer sync on (or create the customer in {title} and sync it), {REPLAY}",
            )
        elif app_id in failed:
            out[app_id] = _failed(what, failed[app_id])
    return out


def _invoices(
    session: Session,
    company_id: uuid.UUID,
    settings: SyncSettings,
    ids: set[uuid.UUID],
    failed: Mapping[uuid.UUID, Failure],
    title: str,
) -> dict[uuid.UUID, DependencyProblem]:
    rows = {i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
    out: dict[uuid.UUID, DependencyProblem] = {}
    for app_id in ids:
        invoice = rows.get(app_id)
        if invoice is None or invoice.company_id != company_id:
            out[app_id] = DependencyProblem(
                "invoice_not_found",
                f"the invoice it pays (id {app_id})",
                "does not exist in the app" + ("" if invoice is None else " for this company"),
                f"relink the payment to an existing invoice in the app, {REPLAY}",
            )
            continue
        what = f"the invoice it pays (#{invoice.invoice_number})"
        if invoice.deleted_at is not None:
            problem = DependencyProblem(
                "invoice_deleted",
                what,
                "was deleted in the app",
                f"restore the invoice, or relink the payment to another invoice, {REPLAY}",
            )
        elif invoice.status == "void":
            problem = DependencyProblem(
                "invoice_void", what, "is void and was never synced", f"relink the payment, {REPLAY}"
            )
        elif invoice.status == "draft" and not settings.sync_draft_invoices:
            problem = DependencyProblem(
                "invoice_draft",
                what,
                "is a draft, and drafts are not synced",
                f"send the invoice in the app (or turn draft sync on), {REPLAY}",
            )
        elif not settings.sync_invoices:
            problem = DependencyProblem(
                "invoice_sync_off",
                what,
                f"is not in {title} and invoice sync is off in the integration settings",
                f"turn invoice sync on, {REPLAY}",
            )
        elif app_id in failed:
            problem = _failed(what, failed[app_id])
        else:
            continue
        out[app_id] = problem
    return out


def _failed(what: str, failure: Failure) -> DependencyProblem:
    if failure.status == "retrying":
        return DependencyProblem(
            "dependency_pending",
            what,
            f"is waiting for its own retry ({failure.code})",
            "nothing to do: this record follows it",
            retryable=True,
        )
    return DependencyProblem(
        "dependency_failed",
        what,
        f"failed to sync ({failure.code}: {failure.message})",
        f"fix that first, {REPLAY} (it re-runs both, in order)",
    )


def dependency_problems(
    session: Session,
    company_id: uuid.UUID,
    settings: SyncSettings,
    dep_type: str,
    ids: Iterable[uuid.UUID],
    failures: Iterable[Failure],
    title: str = "the accounting system",
) -> dict[uuid.UUID, DependencyProblem]:
    """Problems of the `dep_type` records `ids` (app ids with no link); `failures` are this
    run's failures so far. Ids with no problem are simply pending (not pushed yet)."""
    wanted = set(ids)
    if not wanted:
        return {}
    failed = {f.app_id: f for f in failures if f.entity_type == dep_type}
    if dep_type == "customer":
        return _customers(session, company_id, settings, wanted, failed, title)
    if dep_type == "invoice":
        return _invoices(session, company_id, settings, wanted, failed, title)
    return {}
