"""What differs between the entity types the push handles, in one table: the app model, the QBO entity,
the find-before-create field, the label a bookkeeper recognises, and how to map a row given the QBO ids of
what it depends on."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from connectors.accounting.adapter import RefResolver
from connectors.quickbooks import mapping
from connectors.quickbooks.settings import QuickBooksSettings
from connectors.quickbooks_sync.dependencies import DependencyProblem
from sierra_core.db.models import Contact, Expense, Invoice, Payment

ORDER = ("customer", "invoice", "payment", "expense")


class MissingDependencyError(mapping.MappingError):
    """A row needs another record (its customer, its invoice) in QuickBooks first, and it is not there.
    Retryable only when the dependency is on its way (`dependency_pending`); when only a person can fix
    the dependency (deleted, missing, never sent, failed for good), it is not, and the code says which."""

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


@dataclass(frozen=True)
class Deps:
    """QBO ids of what rows depend on: app id -> QBO id, per entity type; and, for dependencies without
    one, what is wrong with them (connectors.quickbooks_sync.dependencies)."""

    customers: Mapping[uuid.UUID, str]
    invoices: Mapping[uuid.UUID, str]
    problems: Mapping[tuple[str, uuid.UUID], DependencyProblem] = field(default_factory=dict)

    def _missing(
        self, row_label: str, dep_type: str, app_id: uuid.UUID, pending: str
    ) -> MissingDependencyError:
        problem = self.problems.get((dep_type, app_id))
        if problem is None:
            return MissingDependencyError(
                f"QuickBooks sync failed: {row_label}: {pending}; this record follows it.",
                code="dependency_pending",
                retryable=True,
            )
        return MissingDependencyError(
            f"QuickBooks sync failed: {row_label}: {problem.what} {problem.why}. To fix: {problem.fix}.",
            code=problem.code,
            retryable=problem.retryable,
        )

    def customer(self, row_label: str, customer_id: uuid.UUID | None) -> str:
        if customer_id is None:
            raise MissingDependencyError(
                f"QuickBooks sync failed: {row_label} has no customer. Choose its customer in the app, then "
                "run replay-failed for this company.",
                code="missing_customer",
                retryable=False,
            )
        qbo_id = self.customers.get(customer_id)
        if not qbo_id:
            raise self._missing(
                row_label,
                "customer",
                customer_id,
                "its customer is not in QuickBooks yet (its sync is pending)",
            )
        return qbo_id

    def invoice(self, row_label: str, invoice_id: uuid.UUID | None) -> str | None:
        if invoice_id is None:
            return None
        qbo_id = self.invoices.get(invoice_id)
        if not qbo_id:
            raise self._missing(
                row_label,
                "invoice",
                invoice_id,
                "the invoice it pays is not in QuickBooks yet (its sync is pending)",
            )
        return qbo_id


@dataclass(frozen=True)
class Spec:
    entity_type: str
    qbo_entity: str
    model: type[Any]
    lookup_field: str | None
    lookup_value: Callable[[Any], str | None]
    label: Callable[[Any], str]
    body: Callable[[Any, RefResolver, QuickBooksSettings], dict[str, Any]]
    depends_on: tuple[tuple[str, str], ...]  # (row attribute holding an app id, entity type it refers to)
    enabled: Callable[[QuickBooksSettings], bool]
    options: tuple[Any, ...] = ()

    def query(self, company_id: uuid.UUID) -> Select[Any]:
        stmt = select(self.model).where(self.model.company_id == company_id)
        return stmt.options(*self.options) if self.options else stmt


def _invoice_body(row: Invoice, deps: RefResolver, settings: QuickBooksSettings) -> dict[str, Any]:
    label = f"Invoice #{row.invoice_number}"
    refs = mapping.InvoiceRefs(customer_id=deps.customer(label, row.customer_id))
    return mapping.invoice_to_qbo(row, refs, settings)


def _payment_body(row: Payment, deps: RefResolver, settings: QuickBooksSettings) -> dict[str, Any]:
    label = _payment_label(row)
    refs = mapping.PaymentRefs(
        customer_id=deps.customer(label, row.customer_id), invoice_id=deps.invoice(label, row.invoice_id)
    )
    return mapping.payment_to_qbo(row, refs, settings)


def _payment_label(row: Payment) -> str:
    ref = mapping.payment_ref_num(row)
    return f"Payment {ref}" if ref else f"Payment of {row.amount} on {row.payment_date}"


SPECS: dict[str, Spec] = {
    "customer": Spec(
        entity_type="customer",
        qbo_entity="Customer",
        model=Contact,
        lookup_field="DisplayName",
        lookup_value=lambda row: row.display_name,
        label=lambda row: f"Customer '{row.display_name}'",
        body=lambda row, deps, settings: mapping.contact_to_customer(row),
        depends_on=(),
        enabled=lambda s: s.sync_customers,
    ),
    "invoice": Spec(
        entity_type="invoice",
        qbo_entity="Invoice",
        model=Invoice,
        lookup_field="DocNumber",
        lookup_value=lambda row: row.invoice_number,
        label=lambda row: f"Invoice #{row.invoice_number}",
        body=_invoice_body,
        depends_on=(("customer_id", "customer"),),
        enabled=lambda s: s.sync_invoices,
        options=(selectinload(Invoice.lines),),
    ),
    "payment": Spec(
        entity_type="payment",
        qbo_entity="Payment",
        model=Payment,
        lookup_field="PaymentRefNum",
        lookup_value=mapping.payment_ref_num,
        label=_payment_label,
        body=_payment_body,
        depends_on=(("customer_id", "customer"), ("invoice_id", "invoice")),
        enabled=lambda s: s.sync_payments,
    ),
    "expense": Spec(
        entity_type="expense",
        qbo_entity="Purchase",
        model=Expense,
        lookup_field="DocNumber",
        lookup_value=mapping.expense_doc_number,
        label=lambda row: f"Expense {row.reference_number or row.id} ({row.vendor_name})",
        body=lambda row, deps, settings: mapping.expense_to_purchase(row, mapping.ExpenseRefs(), settings),
        depends_on=(),
        enabled=lambda s: s.sync_expenses,
    ),
}
