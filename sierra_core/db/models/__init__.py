"""Every table of the app database, importable from one place (Alembic reads `Base.metadata`)."""

from sierra_core.db.models.app import (
    Company,
    Contact,
    Expense,
    Invoice,
    InvoiceLineItem,
    Payment,
    PaymentAttempt,
    Project,
)
from sierra_core.db.models.base import Base
from sierra_core.db.models.health import IntegrationHealth
from sierra_core.db.models.integration import (
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
from sierra_core.db.models.public_api import (
    ApiIdempotencyKey,
    ProjectTask,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
from sierra_core.db.models.reconciliation import ReconciliationItem, ReconciliationRun
from sierra_core.db.models.users import HubLoginFailure, HubSessionToken, HubUser

__all__ = [
    "ApiIdempotencyKey",
    "ApiKey",
    "ApiRequestLog",
    "Base",
    "Company",
    "Contact",
    "EntityLink",
    "Expense",
    "HubLoginFailure",
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
