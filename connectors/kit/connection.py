"""A company's stored connection to a provider, checked usable, as plain values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.kit.provider import Provider
from connectors.kit.tokens import ReauthorizationRequiredError
from sierra_core.db.models import Integration
from sierra_core.errors import NotFoundError

__all__ = ["StoredConnection", "load_stored_connection"]


@dataclass(frozen=True)
class StoredConnection:
    """One connected integration: its ids, the provider's account id (realm, account, tenant), settings."""

    integration_id: uuid.UUID
    company_id: uuid.UUID
    external_company_id: str | None
    settings: dict[str, Any] = field(default_factory=dict)


def load_stored_connection(
    session: Session, company_id: uuid.UUID, provider: Provider, *, needs_tenant: bool = True
) -> StoredConnection:
    """The company's connection to `provider`, or one line saying how to make it usable."""
    command = f"`sierra-sync connect {provider.name} --company …`"
    row = session.scalar(
        select(Integration).where(
            Integration.company_id == company_id, Integration.integration_type == provider.name
        )
    )
    if row is None:
        raise NotFoundError(f"this company is not connected to {provider.title}; run {command}")
    if row.connection_status != "connected" or (needs_tenant and not row.external_company_id):
        raise ReauthorizationRequiredError(
            row.status_message
            or f"this company's {provider.title} connection is {row.connection_status}; run {command}"
        )
    return StoredConnection(row.id, row.company_id, row.external_company_id, dict(row.settings or {}))
