"""Builders for the public-API tests: two companies with one row of everything, keys, a keyring."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.apikeys import create_key, parse_permissions
from connectors.outgoing_webhooks import OUTGOING, seal_secret
from sierra_core.crypto import Keyring, generate_key
from sierra_core.db.models import IntegrationSyncLog, Project, ProjectTask, WebhookSubscription
from sierra_sync.web import AppDeps
from tests import factories

ALL = "projects:rw,tasks:rw,contacts:r,invoices:r,sync_logs:r,integrations:r,webhooks:rw"


def keyring() -> Keyring:
    return Keyring.from_encoded({"k1": generate_key()}, {"k1": datetime(2026, 1, 1, tzinfo=UTC)})


@dataclass
class World:
    company_id: uuid.UUID
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def build_world(sessions: Any, ring: Keyring, name: str, **key_kw: Any) -> World:
    with sessions.begin() as s:
        company = factories.company(s, name)
        contact = factories.customer(s, company.id)
        invoice = factories.invoice(s, company.id, contact.id)
        integration = factories.integration(s, company.id, connection_status="connected", is_connected=True)
        project = Project(company_id=company.id, name=f"{name} barn", status="active")
        s.add(project)
        s.flush()
        task = ProjectTask(company_id=company.id, project_id=project.id, title="Pour footings")
        log = IntegrationSyncLog(
            integration_id=integration.id,
            company_id=company.id,
            sync_type="push",
            direction="push",
            entity_type="invoice",
            entity_id=invoice.id,
            status="failed",
            error_message="QuickBooks refused the customer",
        )
        sub = WebhookSubscription(
            id=uuid.uuid4(),
            company_id=company.id,
            provider=OUTGOING,
            webhook_url="http://127.0.0.1:9/hook",
            events=["invoice.synced"],
        )
        sub.webhook_secret = seal_secret(ring, sub.id, "whsec_worldsecret000000000")
        s.add_all([task, log, sub])
        s.flush()
        world = World(
            company.id,
            ids={
                "project": project.id,
                "task": task.id,
                "contact": contact.id,
                "invoice": invoice.id,
                "log": log.id,
                "subscription": sub.id,
            },
        )
        world.keys["all"] = create_key(s, company.id, "all", parse_permissions(ALL), **key_kw).raw
        world.keys["none"] = create_key(s, company.id, "projects only", parse_permissions("projects:r")).raw
        world.keys["projects_r"] = world.keys["none"]
    return world


class Api:
    """A client of the API app of a test (see the `api` fixture in conftest) and two companies' worlds."""

    def __init__(
        self, client: httpx.Client, deps: AppDeps, a: World, b: World, now: list[float], app: Any
    ) -> None:
        self.client, self.deps, self.a, self.b, self.now, self.app = client, deps, a, b, now, app

    def flush_log(self) -> None:
        """The request log is written in batches by a background thread: wait for what was sent so far."""
        assert self.app.state.request_log.flush()

    def call(
        self, method: str, path: str, key: str | None, body: Any = None, **headers: str
    ) -> httpx.Response:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.client.request(method, path, json=body, headers=headers)
