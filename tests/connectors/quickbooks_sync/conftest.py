"""A seeded company connected to the local QBO sandbox, ready to push."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import Connection, load_connection, open_client
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import PushOptions, Target
from connectors.seed.generate import seed
from sierra_core.db.models import Company, Integration
from tests.connectors.quickbooks import oauth_helpers as h

SETTINGS = {
    "default_item": {"value": "1", "name": "Services"},
    "accounts": {"default_expense": {"value": "80", "name": "Cost of Goods Sold"}},
}


@dataclass
class Connected:
    sessions: Any
    qbo: Any
    connection: Connection
    app: Any
    ring: Any

    def reload(self) -> None:
        with self.sessions() as s:
            self.connection = load_connection(s, self.connection.company_id)

    def push(self, types=("customer", "invoice", "payment", "expense"), ids=None, **options):
        retry = RetryPolicy(
            max_attempts=6, initial_wait=0.01, max_wait=0.05, jitter=0.0, sleep=lambda s: None
        )
        with open_client(self.sessions, self.connection, self.ring, self.app, retry=retry) as client:
            target = Target(
                self.connection.integration_id, self.connection.company_id, self.connection.settings
            )
            return Pusher(self.sessions, client, target, PushOptions(**options)).run(types, ids)

    def qbo_items(self, entity: str) -> list[dict[str, Any]]:
        listing: dict[str, Any] = self.qbo.admin(
            "GET", f"realms/{self.connection.realm_id}/entities/{entity}"
        )
        return list(listing["items"])


@pytest.fixture
def connected(engine, sessions, qbo):
    seed(engine, companies=1, invoices=24, seed_value=9)
    with sessions() as s:
        company_id = s.scalar(select(Company.id))
    with httpx.Client(timeout=30) as http:
        integration_id, _, app, ring = h.connect_company(sessions, qbo.url, http, company_id)
    with sessions.begin() as s:
        s.execute(update(Integration).where(Integration.id == integration_id).values(settings=SETTINGS))
    with sessions() as s:
        connection = load_connection(s, company_id)
    return Connected(sessions, qbo, connection, app, ring)
