"""What differs between the entity types the engine handles, in one table: the app model, the label a
bookkeeper recognises, what a row depends on and whether the connection syncs the type. How a type is
called at the provider, its natural key and its mapping are the adapter's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from connectors.accounting.dependencies import DependencyProblem
from connectors.accounting.push_types import SyncSettings
from sierra_core.db.models import Contact, Expense, Invoice, Payment
from sierra_core.errors import SierraError

__all__ = ["ORDER", "SPECS", "Deps", "MappingError", "MissingDependencyError", "Spec"]

ORDER = ("customer", "invoice", "payment", "expense")
PAYMENT_REF_LIMIT = 21  # the label shows the end of a long reference (where Stripe ids differ)


class MappingError(SierraError):
    """An app row cannot be written to the provider as it is; the message names the fix."""


class MissingDependencyError(MappingError):
    """A row needs another record (its customer, its invoice) at the provider first, and it is not there.
    Retryable only when the dependency is on its way (`dependency_pending`); when only a person can fix
    the dependency (deleted, missing, never sent, failed for good), it is not, and the code says which."""

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


@dataclass(frozen=True)
class Deps:
    """External ids of what rows depend on: app id -> external id, per entity type; and, for dependencies
    without one, what is wrong with them (connectors.accounting.dependencies). `title` names the
    provider in messages."""

    customers: Mapping[uuid.UUID, str]
    invoices: Mapping[uuid.UUID, str]
    problems: Mapping[tuple[str, uuid.UUID], DependencyProblem] = field(default_factory=dict)
    title: str = "the accounting system"

    def _missing(
        self, row_label: str, dep_type: str, app_id: uuid.UUID, pending: str
    ) -> MissingDependencyError:
        problem = self.problems.get((dep_type, app_id))
        if problem is None:
            return MissingDependencyError(
                f"{self.title} sync failed: {row_label}: {pending}; this record follows it.",
                code="dependency_pending",
                retryable=True,
            )
        return MissingDependencyError(
            f"{self.title} sync failed: {row_label}: {problem.what} {problem.why}. To fix: {problem.fix}.",
            code=problem.code,
            retryable=problem.retryable,
        )

    def customer(self, row_label: str, customer_id: uuid.UUID | None) -> str:
        if customer_id is None:
            raise MissingDependencyError(
                f"{self.title} sync failed: {row_label} has no customer. Choose its customer in the app, "
                "then run replay-failed for this company.",
                code="missing_customer",
                retryable=False,
            )
        external_id = self.customers.get(customer_id)
        if not external_id:
            raise self._missing(
                row_label,
                "customer",
                customer_id,
                f"its customer is not in {self.title} yet (its sync is pending)",
            )
        return external_id

    def invoice(self, row_label: str, invoice_id: uuid.UUID | None) -> str | None:
        if invoice_id is None:
            return None
        external_id = self.invoices.get(invoice_id)
        if not external_id:
            raise self._missing(
                row_label,
                "invoice",
                invoice_id,
                f"the invoice it pays is not in {self.title} yet (its sync is pending)",
            )
        return external_id


@dataclass(frozen=True)
class Spec:
    entity_type: str
    model: type[Any]
    label: Callable[[Any], str]
    depends_on: tuple[tuple[str, str], ...]  # (row attribute holding an app id, entity type it refers to)
    enabled: Callable[[SyncSettings], bool]
    options: tuple[Any, ...] = ()

    def query(self, company_id: uuid.UUID) -> Select[Any]:
        stmt = select(self.model).where(self.model.company_id == company_id)
        return stmt.options(*self.options) if self.options else stmt


def payment_reference(row: Payment) -> str | None:
    """A payment's reference: its own, else its Stripe charge or payment intent id."""
    for candidate in (row.reference_number, row.stripe_charge_id, row.stripe_payment_intent_id):
        if candidate and candidate.strip():
            return str(candidate.strip())
    return None


def _payment_label(row: Payment) -> str:
    ref = payment_reference(row)
    return f"Payment {ref[-PAYMENT_REF_LIMIT:]}" if ref else f"Payment of {row.amount} on {row.payment_date}"


SPECS: dict[str, Spec] = {
    "customer": Spec(
        entity_type="customer",
        model=Contact,
        label=lambda row: f"Customer '{row.display_name}'",
        depends_on=(),
        enabled=lambda s: s.sync_customers,
    ),
    "invoice": Spec(
        entity_type="invoice",
        model=Invoice,
        label=lambda row: f"Invoice #{row.invoice_number}",
        depends_on=(("customer_id", "customer"),),
        enabled=lambda s: s.sync_invoices,
        options=(selectinload(Invoice.lines),),
    ),
    "payment": Spec(
        entity_type="payment",
        model=Payment,
        label=_payment_label,
        depends_on=(("customer_id", "customer"), ("invoice_id", "invoice")),
        enabled=lambda s: s.sync_payments,
    ),
    "expense": Spec(
        entity_type="expense",
        model=Expense,
        label=lambda row: f"Expense {row.reference_number or row.id} ({row.vendor_name})",
        depends_on=(),
        enabled=lambda s: s.sync_expenses,
    ),
}
