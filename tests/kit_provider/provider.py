"""Acme Tasks, a small OAuth provider with webhooks, declared for the connector kit (tests only). Its name is
`other`, the integrations table's slot for a provider it does not list (a real one adds its name there)."""

from __future__ import annotations

import json

from connectors.kit.adapter import Adapter, MalformedEventError, WebhookEvent
from connectors.kit.provider import Endpoints, OAuth2, Provider, Refresh, TokenFields, Webhooks

ACME_TASKS = Provider(
    name="other",
    title="Acme Tasks",
    category="automation",
    auth=OAuth2(
        mode="code_pkce",
        environments={
            "local": Endpoints(
                authorize="{base}/oauth/authorize",
                token="{base}/oauth/token",
                revoke="{base}/oauth/revoke",
                discovery="{base}/.well-known/openid-configuration",
                api_base="{base}/v1",
            )
        },
        scopes=("tasks.read", "tasks.write"),
        token_auth="body",
        revoke_auth="body",
        token=TokenFields(extras={"external_company_id": "workspace_id"}),
        refresh=Refresh(kind="rotating_grace", grace_s=600, lifetime_s=30 * 86_400),
    ),
    webhooks=Webhooks(
        scheme="hmac_timestamped",
        header="Acme-Signature",
        signature_item="v1",
        signed_format="{timestamp}.{body}",
    ),
)


def parse_webhook(body: bytes) -> list[WebhookEvent]:
    """One event per delivery: {"id", "type", "workspace_id", "data"}."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise MalformedEventError("an Acme Tasks webhook body must be JSON") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("id"), str)
        or not isinstance(doc.get("type"), str)
    ):
        raise MalformedEventError("an Acme Tasks event needs a string id and type")
    return [WebhookEvent(doc["id"], doc["type"], doc, tenant_id=doc.get("workspace_id"))]


ADAPTER = Adapter(provider=ACME_TASKS, parse_webhook=parse_webhook)
