"""The Sierra Suites app tables this module syncs: companies, contacts, projects, invoices and their lines,
payments, payment attempts and expenses.

Syncable rows carry `version`, an integer bumped on every ORM update (optimistic locking); the sync layer
records the version it last pushed in `entity_links.last_synced_version`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
    true,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from sierra_core.db.models.base import Base, SoftDelete, Timestamps, UUIDPk, in_check
from sierra_core.db.types import Fixed, Money, UTCDateTime

LIVE_CODE = text("code IS NOT NULL AND deleted_at IS NULL")
INVOICE_STATUSES = ("draft", "sent", "partially_paid", "paid", "void")
PAYMENT_METHODS = ("card", "ach", "check", "cash", "wire", "other")
PAYMENT_STATUSES = ("pending", "succeeded", "failed", "refunded", "partially_refunded", "void")
ATTEMPT_STATUSES = (
    "requires_payment_method",
    "requires_action",
    "processing",
    "succeeded",
    "failed",
    "canceled",
)
EXPENSE_CATEGORIES = (
    "materials",
    "labor",
    "subcontractor",
    "equipment_rental",
    "permits_fees",
    "fuel",
    "tools",
    "insurance",
    "office",
    "payment_processing",
    "other",
)
EXPENSE_PAYMENT_TYPES = ("cash", "check", "credit_card", "ach", "other")
# The product brief's statuses (createProjectSchema); migration 0010 moved "bidding" to "lead".
PROJECT_STATUSES = ("lead", "planning", "active", "on_hold", "completed", "cancelled")


class Versioned:
    """An integer version bumped by the ORM on every update (optimistic locking: a stale write fails)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Company(UUIDPk, Timestamps, SoftDelete, Base):
    __tablename__ = "companies"

    name: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    legal_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    timezone: Mapped[str] = mapped_column(
        String(64), nullable=False, default="America/Los_Angeles", server_default="America/Los_Angeles"
    )


class Address:
    """Billing address columns (QBO BillAddr)."""

    bill_line1: Mapped[str | None] = mapped_column(String(500))
    bill_line2: Mapped[str | None] = mapped_column(String(500))
    bill_city: Mapped[str | None] = mapped_column(String(255))
    bill_region: Mapped[str | None] = mapped_column(String(255))
    bill_postal_code: Mapped[str | None] = mapped_column(String(30))
    bill_country: Mapped[str | None] = mapped_column(String(255))


class Contact(UUIDPk, Timestamps, SoftDelete, Versioned, Address, Base):
    """A customer of the construction company (QBO Customer)."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("contact_type IN ('customer', 'vendor')", name="contact_type"),
        Index("ix_contacts_company_updated", "company_id", "updated_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    contact_type: Mapped[str] = mapped_column(
        String(20), nullable=False, default="customer", server_default="customer"
    )
    display_name: Mapped[str] = mapped_column(String(500), nullable=False)
    company_name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())


class Project(UUIDPk, Timestamps, SoftDelete, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(in_check("status", PROJECT_STATUSES), name="status"),
        # A code names one live project of a company (two concurrent creates cannot both take it).
        Index(
            "uq_projects_company_code_live",
            "company_id",
            "code",
            unique=True,
            postgresql_where=LIVE_CODE,
            sqlite_where=LIVE_CODE,
        ),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    project_type: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active", server_default="active")
    site_address: Mapped[str | None] = mapped_column(String(500))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Money())


class Invoice(UUIDPk, Timestamps, SoftDelete, Versioned, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "invoice_number"),
        CheckConstraint(in_check("status", INVOICE_STATUSES), name="status"),
        # ROUND: SQLite keeps NUMERIC as REAL, where 0.1 + 0.2 is not exactly 0.3.
        CheckConstraint("ROUND(total - subtotal - tax_amount, 2) = 0", name="total_is_subtotal_plus_tax"),
        CheckConstraint("balance >= 0 AND balance <= total", name="balance_within_total"),
        Index("ix_invoices_company_updated", "company_id", "updated_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), nullable=False, index=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(21), nullable=False)  # QBO DocNumber: 21 chars max
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", server_default="draft")
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    subtotal: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    tax_rate: Mapped[Decimal] = mapped_column(Fixed(7, 4), nullable=False, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    terms: Mapped[str | None] = mapped_column(String(50))
    memo: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a Stripe dispute was opened

    lines: Mapped[list[InvoiceLineItem]] = relationship(
        back_populates="invoice", order_by="InvoiceLineItem.line_number", cascade="all, delete-orphan"
    )


class InvoiceLineItem(UUIDPk, Timestamps, Base):
    """A line of an invoice. Quantity and unit price keep 4 decimals (construction rates are often
    fractional cents per unit); the line amount is money, rounded to the cent."""

    __tablename__ = "invoice_line_items"
    __table_args__ = (UniqueConstraint("invoice_id", "line_number"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    line_number: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(4000), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Fixed(14, 4), nullable=False, default=Decimal("1"))
    unit_price: Mapped[Decimal] = mapped_column(Fixed(14, 4), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    item_code: Mapped[str | None] = mapped_column(String(100))
    taxable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(UUIDPk, Timestamps, SoftDelete, Versioned, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(in_check("method", PAYMENT_METHODS), name="method"),
        CheckConstraint(in_check("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"),
        Index("ix_payments_company_updated", "company_id", "updated_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), nullable=False, index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    refunded_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    payment_date: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="succeeded", server_default="succeeded"
    )
    reference_number: Mapped[str | None] = mapped_column(String(100))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)


class PaymentAttempt(UUIDPk, Timestamps, Base):
    """One try at collecting money (a Stripe PaymentIntent confirmation), successful or not."""

    __tablename__ = "payment_attempts"
    __table_args__ = (CheckConstraint(in_check("status", ATTEMPT_STATUSES), name="status"),)

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    decline_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Expense(UUIDPk, Timestamps, SoftDelete, Versioned, Base):
    """Money spent on a job (QBO Purchase)."""

    __tablename__ = "expenses"
    __table_args__ = (
        CheckConstraint(in_check("category", EXPENSE_CATEGORIES), name="category"),
        CheckConstraint(in_check("payment_type", EXPENSE_PAYMENT_TYPES), name="payment_type"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_expenses_company_updated", "company_id", "updated_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id"), index=True)
    vendor_name: Mapped[str] = mapped_column(String(500), nullable=False)
    vendor_contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("contacts.id"))
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    payment_type: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD", server_default="USD")
    expense_date: Mapped[date] = mapped_column(Date, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    reference_number: Mapped[str | None] = mapped_column(String(100))
