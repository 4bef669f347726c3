"""What the QuickBooks mapping selects offer: the connected company's accounts, items and tax codes, read
from QuickBooks when the settings page opens (a few hundred rows; one query each)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from connectors.kit.connection import load_stored_connection
from connectors.quickbooks.connection import Connection, open_client
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.quickbooks.query import select
from connectors.quickbooks.settings import QuickBooksSettings
from sierra_core.errors import SierraError
from sierra_sync.web.oauth_callback import OAuthCallbacks

__all__ = ["Choice", "QboChoices", "load_choices"]

EXPENSE_TYPES = frozenset({"Expense", "Cost of Goods Sold", "Other Expense"})
DEPOSIT_TYPES = frozenset({"Bank", "Other Current Asset"})


@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    kind: str = ""


@dataclass(frozen=True)
class QboChoices:
    accounts: list[Choice]
    items: list[Choice]
    tax_codes: list[Choice]

    def income(self) -> list[Choice]:
        return [a for a in self.accounts if a.kind in ("Income", "Other Income")]

    def deposit(self) -> list[Choice]:
        return [a for a in self.accounts if a.kind in DEPOSIT_TYPES]

    def expense(self) -> list[Choice]:
        return [a for a in self.accounts if a.kind in EXPENSE_TYPES]

    def name_of(self, kind: str, value: str) -> str | None:
        pool = {"account": self.accounts, "item": self.items, "tax": self.tax_codes}[kind]
        return next((c.name for c in pool if c.id == value), None)


def load_choices(sessions: sessionmaker[Session], oauth: OAuthCallbacks, company_id: uuid.UUID) -> QboChoices:
    """The lists, or SierraError saying why they cannot be read (not connected, QuickBooks down…)."""
    app = oauth.app(QUICKBOOKS.name)
    if app is None:
        raise SierraError("QuickBooks is not set up on this server")
    with sessions() as session:
        stored = load_stored_connection(session, company_id, QUICKBOOKS)
    assert stored.external_company_id is not None
    connection = Connection(
        stored.integration_id, company_id, stored.external_company_id, QuickBooksSettings()
    )
    with open_client(sessions, connection, oauth.keyring, app) as client:
        accounts = [
            Choice(
                str(a["Id"]), str(a.get("FullyQualifiedName") or a.get("Name")), str(a.get("AccountType", ""))
            )
            for a in client.query_all(select("Account").where("Active", "=", True))
        ]
        items = [
            Choice(str(i["Id"]), str(i.get("FullyQualifiedName") or i.get("Name")), str(i.get("Type", "")))
            for i in client.query_all(select("Item").where("Active", "=", True))
        ]
        taxes = [Choice(str(t["Id"]), str(t.get("Name"))) for t in client.query_all(select("TaxCode"))]
    return QboChoices(
        sorted(accounts, key=lambda c: c.name.lower()), sorted(items, key=lambda c: c.name.lower()), taxes
    )
