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

__all__ = [
    "ApiKey",
    "ApiRequestLog",
    "Base",
    "Company",
    "Contact",
    "EntityLink",
    "Expense",
    "Integration",
    "IntegrationSyncLog",
    "Invoice",
    "InvoiceLineItem",
    "OAuthState",
    "Payment",
    "PaymentAttempt",
    "Project",
    "RateLimitWindow",
    "SyncCursor",
    "WebhookEvent",
    "WebhookSubscription",
]
