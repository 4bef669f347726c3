"""Request and response bodies of /api/v1 (pydantic): what the OpenAPI document shows and what is enforced.

Inputs refuse unknown fields, NUL characters and text that is not UTF-8 (a clear 400 rather than a database
error); money is Decimal with two places, serialised as a string.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from connectors.outgoing_webhooks import EVENT_TYPES

T = TypeVar("T")

ProjectStatus = Literal["lead", "planning", "active", "on_hold", "completed", "cancelled"]
TaskStatus = Literal["todo", "in_progress", "blocked", "done", "cancelled"]
TaskPriority = Literal["low", "normal", "high", "urgent"]
SyncStatus = Literal["pending", "in_progress", "success", "failed", "retrying"]
InvoiceStatus = Literal["draft", "sent", "partially_paid", "paid", "void"]
DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]
EventType = Literal[
    "invoice.synced",
    "invoice.sync_failed",
    "payment.received",
    "reconciliation.completed",
    "integration.expired",
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    return value


Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_storable)]
Code = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_storable)]
Line = Annotated[str, Field(max_length=500), AfterValidator(_storable)]
Short = Annotated[str, Field(max_length=255), AfterValidator(_storable)]
Long = Annotated[str, Field(max_length=10_000), AfterValidator(_storable)]
Kind = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_storable)]


CENT = Decimal("0.01")
# Positive, at most two places, answered with two ("480000.50") whether created, read or listed.
Budget = Annotated[
    Decimal, Field(gt=0, max_digits=14, decimal_places=2), AfterValidator(lambda d: d.quantize(CENT))
]
Hours = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
# Dates a construction schedule can hold (and every database can store).
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2200, 12, 31))]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int = Field(description="Rows matching the filters, all pages together.")
    has_more: bool


class Page(BaseModel, Generic[T]):
    data: list[T]
    pagination: Pagination


class One(BaseModel, Generic[T]):
    data: T


# --- projects ---------------------------------------------------------------------------------------------


class ProjectOut(BaseModel):
    """The product brief's project (createProjectSchema) with our extra fields: code, site address."""

    id: uuid.UUID
    name: str
    description: str | None
    client_id: uuid.UUID | None
    project_type: str | None
    estimated_budget: Decimal | None
    start_date: date | None
    target_completion: date | None
    status: ProjectStatus
    code: str | None
    site_address: str | None
    created_at: datetime
    updated_at: datetime


# API field -> Project column, where the brief's name differs from the column's.
PROJECT_COLUMNS = {"client_id": "customer_id", "estimated_budget": "budget", "target_completion": "end_date"}


class ProjectFields(Input):
    """The writable fields: the brief's createProjectSchema (name 1-255 characters, estimated_budget
    positive, status one of its six) plus `code` and `site_address`. target_completion must not be before
    start_date (checked by the endpoint against the stored dates too, so the error names the field)."""

    name: Name | None = None
    description: Long | None = None
    client_id: uuid.UUID | None = Field(None, description="A contact of your company (see /contacts).")
    project_type: Kind | None = Field(None, description="Free text, e.g. residential, commercial, remodel.")
    estimated_budget: Budget | None = None
    start_date: Day | None = None
    target_completion: Day | None = None
    status: ProjectStatus | None = None
    code: Code | None = Field(None, description="Your own reference; unique among live projects.")
    site_address: Line | None = None


class ProjectCreate(ProjectFields):
    name: Name
    status: ProjectStatus = "active"


class ProjectUpdate(ProjectFields):
    """Only the fields sent change; `null` clears a field that may be empty."""

    @model_validator(mode="after")
    def _required_stay(self) -> ProjectUpdate:
        for name in ("name", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


# --- tasks ------------------------------------------------------------------------------------------------


class TaskOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    status: TaskStatus
    priority: TaskPriority
    assignee: str | None
    due_date: date | None
    estimated_hours: Decimal | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TaskCreate(Input):
    title: Name
    description: Long | None = None
    status: TaskStatus = "todo"
    priority: TaskPriority = "normal"
    assignee: Short | None = None
    due_date: Day | None = None
    estimated_hours: Hours | None = None


class NewTask(TaskCreate):
    """A task for POST /tasks, which names its project in the body."""

    project_id: uuid.UUID = Field(description="A project of your company.")


class TaskUpdate(Input):
    title: Name | None = None
    description: Long | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    assignee: Short | None = None
    due_date: Day | None = None
    estimated_hours: Hours | None = None

    @model_validator(mode="after")
    def _required_stay(self) -> TaskUpdate:
        for name in ("title", "status", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


# --- contacts, invoices -----------------------------------------------------------------------------------


class Address(BaseModel):
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


class ContactOut(BaseModel):
    id: uuid.UUID
    contact_type: Literal["customer", "vendor"]
    display_name: str
    company_name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    phone: str | None
    currency: str
    is_active: bool
    billing_address: Address
    created_at: datetime
    updated_at: datetime


class InvoiceLineOut(BaseModel):
    line_number: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    item_code: str | None
    taxable: bool


class InvoiceOut(BaseModel):
    id: uuid.UUID
    invoice_number: str
    customer_id: uuid.UUID
    project_id: uuid.UUID | None
    issue_date: date
    due_date: date | None
    status: InvoiceStatus
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    balance: Decimal
    memo: str | None
    created_at: datetime
    updated_at: datetime


class InvoiceDetail(InvoiceOut):
    lines: list[InvoiceLineOut]


# --- sync logs, integrations ------------------------------------------------------------------------------


class SyncLogOut(BaseModel):
    id: uuid.UUID
    integration_id: uuid.UUID
    sync_type: str
    direction: str
    trigger: str | None
    entity_type: str | None
    entity_id: uuid.UUID | None
    external_entity_id: str | None
    status: SyncStatus
    attempt_number: int
    started_at: datetime
    completed_at: datetime | None
    duration_ms: int | None
    error_code: str | None
    error_message: str | None
    next_retry_at: datetime | None
    created_at: datetime


class IntegrationOut(BaseModel):
    id: uuid.UUID
    integration_type: str
    is_active: bool
    is_connected: bool
    connection_status: str
    status_message: str | None
    external_company_id: str | None
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    connected_at: datetime | None
    last_sync_at: datetime | None
    last_sync_status: str | None
    last_sync_error: str | None
    next_sync_at: datetime | None
    total_syncs: int
    successful_syncs: int
    failed_syncs: int
    open_failures: int = Field(description="Sync-log rows failed or retrying that no later attempt retried.")


# --- outgoing webhooks ------------------------------------------------------------------------------------


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventType]
    is_active: bool
    disabled_reason: str | None
    consecutive_failures: int
    trigger_count: int
    error_count: int
    last_triggered_at: datetime | None
    created_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        None,
        description="After a secret rotation: until when deliveries are also signed with the old secret.",
    )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The signing secret (`whsec_…`), shown only in this answer.")


Url = Annotated[HttpUrl, Field(max_length=2000)]


class SubscriptionCreate(Input):
    url: Url
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))

    @model_validator(mode="after")
    def _unique(self) -> SubscriptionCreate:
        if len(set(self.events)) != len(self.events):
            raise ValueError("events must not repeat")
        return self


class SubscriptionUpdate(Input):
    url: Url | None = None
    events: list[EventType] | None = Field(None, min_length=1, max_length=len(EVENT_TYPES))
    is_active: bool | None = Field(None, description="true re-enables a disabled subscription.")

    @model_validator(mode="after")
    def _valid(self) -> SubscriptionUpdate:
        for name in ("url", "events", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.events is not None and len(set(self.events)) != len(self.events):
            raise ValueError("events must not repeat")
        return self


class SecretRotation(Input):
    previous_secret_valid_for_s: int = Field(
        86_400,
        ge=0,
        le=7 * 86_400,
        description="Seconds the current secret keeps signing deliveries next to the new one (each delivery "
        "then carries two `v1=` signatures), so your receiver can switch without rejecting any; 0 retires "
        "it at once. At most 7 days.",
    )


class AttemptOut(BaseModel):
    attempt_number: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    replay_of_id: uuid.UUID | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]
