"""The organisation a company keeps its books in, when one authorization reaches several (Xero: GET
/connections lists every organisation the person granted). The kit leaves such a connection `connecting`
with the list in `settings.tenant_choices`; `settle` records the one named by id or exact name, or says, in
one error, which ones there are."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import connect as kit_connect
from connectors.kit.provider import Provider
from sierra_core.db.models import Company, Integration
from sierra_core.errors import ConfigError

__all__ = ["Chosen", "match", "pending", "settle"]


@dataclass(frozen=True)
class Chosen:
    id: str
    name: str | None
    integration_id: uuid.UUID


def _row(session: Session, provider: Provider, company_id: uuid.UUID) -> Integration | None:
    return session.scalar(
        select(Integration).where(
            Integration.company_id == company_id, Integration.integration_type == provider.name
        )
    )


def _choices(row: Integration) -> list[kit_connect.Tenant]:
    listed = (row.settings or {}).get(kit_connect.TENANT_CHOICES) or []
    return [
        kit_connect.Tenant(str(c["id"]), str(c["name"]) if c.get("name") else None)
        for c in listed
        if isinstance(c, dict) and c.get("id")
    ]


def pending(
    sessions: sessionmaker[Session], provider: Provider, company_id: uuid.UUID
) -> list[kit_connect.Tenant]:
    """The organisations the company's authorization reaches while it waits for a choice (else none)."""
    with sessions() as session:
        row = _row(session, provider, company_id)
        if row is None or row.connection_status != "connecting" or not row.access_token:
            return []
        return _choices(row)


def _listing(choices: list[kit_connect.Tenant]) -> str:
    return ", ".join(f"{c.name or 'unnamed'} ({c.id})" for c in choices)


def match(choices: list[kit_connect.Tenant], wanted: str) -> kit_connect.Tenant:
    """The organisation `wanted` names: its tenant id, else its exact name (case aside)."""
    text = wanted.strip()
    by_id = [c for c in choices if c.id.lower() == text.lower()]
    if by_id:
        return by_id[0]
    by_name = [c for c in choices if (c.name or "").casefold() == text.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise ConfigError(
            f"several organisations are named {text!r}: {_listing(by_name)}; give --tenant the tenant id"
        )
    raise ConfigError(f"no organisation {text!r} among those this authorization reaches: {_listing(choices)}")


def settle(
    sessions: sessionmaker[Session], provider: Provider, company_id: uuid.UUID, wanted: str | None
) -> Chosen:
    """Record the organisation `wanted` names (or check it is the one connected); without `wanted` and with
    several organisations to choose from, one error listing them."""
    title = provider.title
    with sessions() as session:
        row = _row(session, provider, company_id)
        if row is None:
            raise ConfigError(
                f"this company has no {title} connection; run `sierra-sync connect {provider.name}`"
            )
        integration_id, status = row.id, row.connection_status
        choices, tenant = _choices(row), row.external_company_id
        name = (row.settings or {}).get("external_company_name")
        found = session.get(Company, company_id)
        company = found.name if found is not None else str(company_id)
    if status == "connecting" and choices:
        if wanted is None:
            raise ConfigError(
                f"this {title} authorization reaches {len(choices)} organisations: {_listing(choices)}; "
                f"choose the one {company} keeps its books in: `sierra-sync connect {provider.name} "
                f'--company "{company}" --tenant <id or name>` (no new consent needed)'
            )
        picked = kit_connect.choose_tenant(sessions, provider, company_id, match(choices, wanted).id)
        return Chosen(picked.id, picked.name, integration_id)
    if status != "connected" or not tenant:
        raise ConfigError(f"the {title} connection of {company} is {status}; run connect again")
    current = kit_connect.Tenant(tenant, str(name) if name else None)
    if wanted is not None:
        try:
            match([current], wanted)
        except ConfigError:
            raise ConfigError(
                f"this {title} authorization reaches only {_listing([current])}, not {wanted!r}; {company} "
                f"is connected to it. To use another organisation, grant it in {title}'s consent, then "
                "connect again"
            ) from None
    return Chosen(current.id, current.name, integration_id)
