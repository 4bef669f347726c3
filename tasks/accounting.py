"""A company's accounting connection behind the neutral engine's adapter: QuickBooks or Xero, whichever the
company's books are in (a company uses one or the other)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.adapter import AccountingAdapter
from connectors.accounting.push_types import Target
from connectors.quickbooks_sync.sync_adapter import QuickBooksSyncAdapter
from connectors.xero.provider import XERO
from connectors.xero.settings import XeroSettings
from connectors.xero.sync_adapter import XeroSyncAdapter
from sierra_core.crypto import Keyring
from tasks.runtime import accounting_provider, company_sync, sessions
from tasks.xero import xero_company

__all__ = ["AccountingSync", "accounting_sync"]


@dataclass(frozen=True)
class AccountingSync:
    """A company's accounting connection, ready for the neutral engine: its adapter and push target."""

    sessions: sessionmaker[Session]
    provider: str
    adapter: AccountingAdapter
    target: Target


@contextmanager
def accounting_sync(company_id: uuid.UUID, keyring: Keyring | None = None) -> Iterator[AccountingSync]:
    """Open the company's accounting connection (QuickBooks or Xero) behind its adapter."""
    factory = sessions()
    with factory() as session:
        provider = accounting_provider(session, company_id)
    if provider != XERO.name:
        with company_sync(company_id) as cs:
            adapter = QuickBooksSyncAdapter(cs.client, cs.connection.settings)
            yield AccountingSync(factory, provider, adapter, cs.target)
        return
    with xero_company(company_id, keyring=keyring) as xc:
        settings = XeroSettings.from_json(xc.connection.settings)
        target = Target(xc.connection.integration_id, xc.connection.company_id, settings)
        yield AccountingSync(factory, provider, XeroSyncAdapter(xc.client, settings), target)
