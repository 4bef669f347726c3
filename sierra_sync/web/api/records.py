"""Read-only /api/v1 resources: contacts, invoices (with lines), sync logs (filters), integration status."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import selectinload

from sierra_core.db.models import Contact, Integration, IntegrationSyncLog, Invoice
from sierra_core.db.models.base import table_of
from sierra_sync.web.api.auth import ApiContext, app_deps, require
from sierra_sync.web.api.common import ERRORS, Limit, Offset, columns, not_found, page, windowed
from sierra_sync.web.api.lean import LeanList
from sierra_sync.web.api.schemas import (
    Address,
    ContactOut,
    IntegrationOut,
    InvoiceDetail,
    InvoiceOut,
    InvoiceStatus,
    One,
    Page,
    SyncLogOut,
    SyncStatus,
)
from sierra_sync.web.deps import AppDeps

# Text filters reach SQL: NUL cannot be stored or compared by PostgreSQL, so it is a 400, never a 500.
NO_NUL = r"^[^\x00]*$"

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERRORS)
Deps = Annotated[AppDeps, Depends(app_deps)]


# The billing address of ContactOut is kept in the columns bill_<part> of contacts.
_BILLING = [f"bill_{part}" for part in Address.model_fields]


def _with_address(item: dict[str, Any]) -> dict[str, Any]:
    """A contact's flat fields (bill_* included) shaped like ContactOut."""
    item["billing_address"] = {column[5:]: item.pop(column) for column in _BILLING}
    return item


def contact_json(row: Contact) -> dict[str, Any]:
    fields = {k: getattr(row, k) for k in (*ContactOut.model_fields, *_BILLING) if k != "billing_address"}
    return ContactOut.model_validate(_with_address(fields)).model_dump(mode="json")


@router.get("/contacts", response_model=Page[ContactOut], tags=["contacts"], summary="List contacts")
def list_contacts(
    ctx: Annotated[ApiContext, Depends(require("contacts", "read"))],
    deps: Deps,
    contact_type: Annotated[
        Literal["customer", "vendor"] | None, Query(description="customer or vendor")
    ] = None,
    email: Annotated[
        str | None,
        Query(
            max_length=255,
            pattern=NO_NUL,
            description="Only contacts with this e-mail (any letter case).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            pattern=NO_NUL,
            description="Only contacts whose display name contains this.",
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    query = select(*columns(ContactOut, Contact), *(table_of(Contact).c[c] for c in _BILLING)).where(
        Contact.company_id == ctx.company_id, Contact.deleted_at.is_(None)
    )
    if contact_type is not None:
        query = query.where(Contact.contact_type == contact_type)
    if email is not None:
        query = query.where(func.lower(Contact.email) == email.lower())
    if name is not None:
        query = query.where(func.lower(Contact.display_name).contains(name.lower(), autoescape=True))
    query = query.order_by(Contact.display_name, Contact.id)
    with deps.autocommit.connect() as conn:
        return page(conn, query, limit, offset, ContactOut, _with_address)


@router.get(
    "/contacts/{contact_id}", response_model=One[ContactOut], tags=["contacts"], summary="Get a contact"
)
def get_contact(
    contact_id: uuid.UUID, ctx: Annotated[ApiContext, Depends(require("contacts", "read"))], deps: Deps
) -> Any:
    with deps.sessions() as session:
        row = session.scalar(
            select(Contact).where(
                Contact.id == contact_id, Contact.company_id == ctx.company_id, Contact.deleted_at.is_(None)
            )
        )
        if row is None:
            raise not_found("contact")
        return {"data": contact_json(row)}


@router.get("/invoices", response_model=Page[InvoiceOut], tags=["invoices"], summary="List invoices")
def list_invoices(
    ctx: Annotated[ApiContext, Depends(require("invoices", "read"))],
    deps: Deps,
    status: Annotated[InvoiceStatus | None, Query(description="Only invoices in this status.")] = None,
    customer_id: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    values = {"status": status, "customer_id": customer_id, "project_id": project_id}
    statement, params = _invoices_page(ctx, values)
    with deps.autocommit.connect() as conn:
        return page(conn, statement, limit, offset, InvoiceOut, params=params)


_INVOICE_FILTERS = ("status", "customer_id", "project_id")


@cache
def _invoice_list(filters: frozenset[str]) -> Select[Any]:
    """The statement of a GET /invoices page with these filters, built once (bound: company_id, filters)."""
    query = select(*columns(InvoiceOut, Invoice)).where(
        Invoice.company_id == bindparam("company_id"), Invoice.deleted_at.is_(None)
    )
    for name in _INVOICE_FILTERS:
        if name in filters:
            query = query.where(getattr(Invoice, name) == bindparam(name))
    return windowed(query.order_by(Invoice.issue_date.desc(), Invoice.invoice_number, Invoice.id))


def _invoices_page(ctx: ApiContext, query: dict[str, Any]) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of a GET /invoices page and its values (the route and its lean path share it)."""
    filters = {name: query[name] for name in _INVOICE_FILTERS if query.get(name) is not None}
    return _invoice_list(frozenset(filters)), {"company_id": ctx.company_id, **filters}


# GET list routes the API guard answers itself on PostgreSQL when it can (api.lean): the invoice list is
# what Zapier's "new invoice" and "invoice paid" triggers poll.
LEAN = (LeanList("/api/v1/invoices", "invoices", InvoiceOut, _invoices_page),)


@router.get(
    "/invoices/{invoice_id}", response_model=One[InvoiceDetail], tags=["invoices"], summary="Get an invoice"
)
def get_invoice(
    invoice_id: uuid.UUID, ctx: Annotated[ApiContext, Depends(require("invoices", "read"))], deps: Deps
) -> Any:
    with deps.sessions() as session:
        row = session.scalar(
            select(Invoice)
            .options(selectinload(Invoice.lines))
            .where(
                Invoice.id == invoice_id, Invoice.company_id == ctx.company_id, Invoice.deleted_at.is_(None)
            )
        )
        if row is None:
            raise not_found("invoice")
        return {"data": InvoiceDetail.model_validate(row, from_attributes=True).model_dump(mode="json")}


@router.get("/sync-logs", response_model=Page[SyncLogOut], tags=["sync"], summary="List sync attempts")
def list_sync_logs(
    ctx: Annotated[ApiContext, Depends(require("sync_logs", "read"))],
    deps: Deps,
    status: Annotated[SyncStatus | None, Query(description="Only attempts in this status.")] = None,
    entity_type: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,30}$", description="customer, invoice, payment, expense …")
    ] = None,
    entity_id: uuid.UUID | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Started at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Started before (ISO 8601 with offset).")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    log = IntegrationSyncLog
    query = select(*columns(SyncLogOut, log)).where(log.company_id == ctx.company_id)
    if status is not None:
        query = query.where(log.status == status)
    if entity_type is not None:
        query = query.where(log.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(log.entity_id == entity_id)
    if since is not None:
        query = query.where(log.started_at >= since)
    if until is not None:
        query = query.where(log.started_at < until)
    with deps.autocommit.connect() as conn:
        return page(conn, query.order_by(log.started_at.desc(), log.id), limit, offset, SyncLogOut)


@router.get(
    "/integrations", response_model=Page[IntegrationOut], tags=["sync"], summary="Connection and sync status"
)
def list_integrations(
    ctx: Annotated[ApiContext, Depends(require("integrations", "read"))], deps: Deps
) -> Any:
    log = IntegrationSyncLog
    with deps.sessions() as session:
        rows = session.scalars(
            select(Integration)
            .where(Integration.company_id == ctx.company_id)
            .order_by(Integration.integration_type)
        ).all()
        open_counts = dict(
            session.execute(
                select(log.integration_id, func.count())
                .where(
                    log.company_id == ctx.company_id,
                    log.status.in_(("failed", "retrying")),
                    log.retried_by_id.is_(None),
                )
                .group_by(log.integration_id)
            ).all()
        )
        data = []
        for row in rows:
            fields = {k: getattr(row, k) for k in IntegrationOut.model_fields if hasattr(row, k)}
            fields["access_token_expires_at"] = row.expires_at
            fields["open_failures"] = int(open_counts.get(row.id, 0))
            data.append(IntegrationOut.model_validate(fields).model_dump(mode="json"))
    return {
        "data": data,
        "pagination": {"limit": len(data), "offset": 0, "total": len(data), "has_more": False},
    }
