"""Every table of the app database, importable from one place (Alembic reads `Base.metadata`)."""

from connectors.db.models.app import (
    Company,
    Contact,
    Expense,
    Invoice,
    InvoiceLineItem,
    Payment,
    PaymentAttempt,
    Project,
)
from connectors.db.models.base import Base
from connectors.db.models.health import IntegrationHealth
from connectors.db.models.integration import (
    ApiKey,
    ApiRequestLog,
    EntityLink,
    Integration,
    IntegrationSyncLog,
    OAuthState,
    RateLimitWindow,
    SyncCursor,
    WebhookEvent,
    WebhookSubscription,
)
from connectors.db.models.public_api import (
    ApiIdempotencyKey,
    ProjectTask,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
from connectors.db.models.reconciliation import ReconciliationItem, ReconciliationRun
from connectors.db.models.users import HubSessionToken, HubUser

__all__ = [
    "ApiIdempotencyKey",
    "ApiKey",
    "ApiRequestLog",
    "Base",
    "Company",
    "Contact",
    "EntityLink",
    "Expense",
    "HubSessionToken",
    "HubUser",
    "Integration",
    "IntegrationHealth",
    "IntegrationSyncLog",
    "Invoice",
    "InvoiceLineItem",
    "OAuthState",
    "Payment",
    "PaymentAttempt",
    "Project",
    "ProjectTask",
    "RateLimitWindow",
    "ReconciliationItem",
    "ReconciliationRun",
    "SyncCursor",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEvent",
    "WebhookSubscription",
]
