"""Initial schema: the app tables, the integration tables of the product brief, and what sync needs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 03:28:26.192668
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sierra_core.db.types
from migrations.helpers import create_touch_triggers, drop_touch_triggers

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = [
    "companies",
    "api_keys",
    "contacts",
    "integrations",
    "oauth_states",
    "api_request_logs",
    "entity_links",
    "integration_sync_logs",
    "projects",
    "sync_cursors",
    "webhook_events",
    "webhook_subscriptions",
    "expenses",
    "invoices",
    "invoice_line_items",
    "payments",
    "payment_attempts",
]


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("legal_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="America/Los_Angeles", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("name", name=op.f("uq_companies_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("key_name", sa.String(length=255), nullable=False),
        sa.Column("key_value", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_type", sa.String(length=20), server_default="secret", nullable=False),
        sa.Column("environment", sa.String(length=20), server_default="production", nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("rate_limit_per_hour", sa.Integer(), server_default="1000", nullable=False),
        sa.Column("rate_limit_per_day", sa.Integer(), server_default="10000", nullable=False),
        sa.Column("total_requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requests_today", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requests_this_hour", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_used_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_request_ip", sa.String(length=45), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_api_keys_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_value", name=op.f("uq_api_keys_key_value")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            "idx_api_keys_active",
            ["is_active"],
            unique=False,
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )
        batch_op.create_index("idx_api_keys_company", ["company_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("contact_type", sa.String(length=20), server_default="customer", nullable=False),
        sa.Column("display_name", sa.String(length=500), nullable=False),
        sa.Column("company_name", sa.String(length=255), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("bill_line1", sa.String(length=500), nullable=True),
        sa.Column("bill_line2", sa.String(length=500), nullable=True),
        sa.Column("bill_city", sa.String(length=255), nullable=True),
        sa.Column("bill_region", sa.String(length=255), nullable=True),
        sa.Column("bill_postal_code", sa.String(length=30), nullable=True),
        sa.Column("bill_country", sa.String(length=255), nullable=True),
        sa.CheckConstraint("contact_type IN ('customer', 'vendor')", name=op.f("ck_contacts_contact_type")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contacts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_contacts_company_updated", ["company_id", "updated_at"], unique=False)

    op.create_table(
        "integrations",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("integration_type", sa.String(length=50), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_connected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("connection_status", sa.String(length=20), server_default="disconnected", nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("token_key_id", sa.String(length=64), nullable=True),
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("token_type", sa.String(length=50), server_default="Bearer", nullable=False),
        sa.Column("expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "refresh_token_hard_expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("token_refreshed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("external_company_id", sa.String(length=255), nullable=True),
        sa.Column("external_user_id", sa.String(length=255), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("last_sync_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_status", sa.String(length=20), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("next_sync_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("total_syncs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("successful_syncs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_syncs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("avg_sync_duration_ms", sa.Integer(), nullable=True),
        sa.Column("connected_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("connected_by", sa.Uuid(), nullable=True),
        sa.Column("disconnected_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disconnected_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "connection_status IN ('disconnected', 'connecting', 'connected', 'error', 'expired')",
            name=op.f("ck_integrations_connection_status"),
        ),
        sa.CheckConstraint(
            "integration_type IN ('quickbooks_online', 'xero', 'stripe', 'square', 'docusign', 'adobe_sign', 'gmail', 'outlook', 'google_calendar', 'outlook_calendar', 'slack', 'zapier', 'dropbox', 'google_drive', 'other')",
            name=op.f("ck_integrations_integration_type"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_integrations_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint(
            "company_id", "integration_type", name=op.f("uq_integrations_company_id_integration_type")
        ),
    )
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.create_index(
            "idx_integrations_active",
            ["is_active"],
            unique=False,
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )
        batch_op.create_index("idx_integrations_company", ["company_id"], unique=False)
        batch_op.create_index(
            "idx_integrations_next_sync",
            ["next_sync_at"],
            unique=False,
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )
        batch_op.create_index("idx_integrations_type", ["integration_type"], unique=False)

    op.create_table(
        "oauth_states",
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column(
            "integration_type", sa.String(length=50), server_default="quickbooks_online", nullable=False
        ),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_oauth_states_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state", name=op.f("uq_oauth_states_state")),
    )
    op.create_table(
        "api_request_logs",
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column(
            "query_params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "request_body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response_body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("rate_limit_exceeded", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_request_logs_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_api_request_logs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_request_logs")),
    )
    with op.batch_alter_table("api_request_logs", schema=None) as batch_op:
        batch_op.create_index("idx_api_logs_status", ["status_code"], unique=False)

    op.create_table(
        "entity_links",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("external_sync_token", sa.String(length=32), nullable=True),
        sa.Column("last_synced_version", sa.Integer(), nullable=True),
        sa.Column("last_synced_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_updated_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_entity_links_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_entity_links_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_links")),
        sa.UniqueConstraint(
            "integration_id",
            "entity_type",
            "app_id",
            name=op.f("uq_entity_links_integration_id_entity_type_app_id"),
        ),
        sa.UniqueConstraint(
            "integration_id",
            "entity_type",
            "external_id",
            name=op.f("uq_entity_links_integration_id_entity_type_external_id"),
        ),
    )
    op.create_table(
        "integration_sync_logs",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("sync_type", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=True),
        sa.Column("entity_type", sa.String(length=30), nullable=True),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("external_entity_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempt_number", sa.Integer(), server_default="1", nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default="3", nullable=False),
        sa.Column("started_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "error_details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "request_payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "response_payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("next_retry_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("retried_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "direction IN ('push', 'pull', 'bidirectional')", name=op.f("ck_integration_sync_logs_direction")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'success', 'failed', 'retrying')",
            name=op.f("ck_integration_sync_logs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_integration_sync_logs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_sync_logs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_sync_logs")),
    )
    with op.batch_alter_table("integration_sync_logs", schema=None) as batch_op:
        batch_op.create_index("idx_sync_logs_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(
            "idx_sync_logs_retry",
            ["next_retry_at"],
            unique=False,
            postgresql_where=sa.text("status = 'retrying'"),
            sqlite_where=sa.text("status = 'retrying'"),
        )
        batch_op.create_index("idx_sync_logs_status", ["status"], unique=False)

    op.create_table(
        "projects",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("site_address", sa.String(length=500), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("budget", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('bidding', 'active', 'on_hold', 'completed', 'cancelled')",
            name=op.f("ck_projects_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_projects_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["contacts.id"], name=op.f("fk_projects_customer_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "sync_cursors",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("cursor_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "cursor_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("direction IN ('push', 'pull')", name=op.f("ck_sync_cursors_direction")),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_sync_cursors_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint(
            "integration_id",
            "entity_type",
            "direction",
            name=op.f("uq_sync_cursors_integration_id_entity_type_direction"),
        ),
    )
    op.create_table(
        "webhook_events",
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("raw_payload", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), server_default="received", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("received_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('received', 'processing', 'processed', 'failed', 'ignored')",
            name=op.f("ck_webhook_events_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_webhook_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_webhook_events_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_webhook_events_provider_event_id")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_events_status_received", ["status", "received_at"], unique=False)

    op.create_table(
        "webhook_subscriptions",
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column(
            "events", sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("external_webhook_id", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_triggered_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trigger_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_webhook_subscriptions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_webhook_subscriptions_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.create_index("idx_webhooks_integration", ["integration_id"], unique=False)
        batch_op.create_index("idx_webhooks_provider", ["provider"], unique=False)

    op.create_table(
        "expenses",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("vendor_name", sa.String(length=500), nullable=False),
        sa.Column("vendor_contact_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("payment_type", sa.String(length=20), nullable=False),
        sa.Column("amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("expense_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reference_number", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "category IN ('materials', 'labor', 'subcontractor', 'equipment_rental', 'permits_fees', 'fuel', 'tools', 'insurance', 'office', 'payment_processing', 'other')",
            name=op.f("ck_expenses_category"),
        ),
        sa.CheckConstraint(
            "payment_type IN ('cash', 'check', 'credit_card', 'ach', 'other')",
            name=op.f("ck_expenses_payment_type"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_expenses_amount_positive")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_expenses_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_expenses_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_contact_id"], ["contacts.id"], name=op.f("fk_expenses_vendor_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses")),
    )
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_expenses_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_expenses_company_updated", ["company_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_expenses_project_id"), ["project_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_number", sa.String(length=21), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("subtotal", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("tax_rate", sierra_core.db.types.Fixed(precision=7, scale=4), nullable=False),
        sa.Column("tax_amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("total", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("balance", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("terms", sa.String(length=50), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("sent_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')", name=op.f("ck_invoices_status")
        ),
        sa.CheckConstraint(
            "ROUND(total - subtotal - tax_amount, 2) = 0", name=op.f("ck_invoices_total_is_subtotal_plus_tax")
        ),
        sa.CheckConstraint(
            "balance >= 0 AND balance <= total", name=op.f("ck_invoices_balance_within_total")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_invoices_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["contacts.id"], name=op.f("fk_invoices_customer_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_invoices_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "company_id", "invoice_number", name=op.f("uq_invoices_company_id_invoice_number")
        ),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_invoices_company_updated", ["company_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_project_id"), ["project_id"], unique=False)

    op.create_table(
        "invoice_line_items",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("quantity", sierra_core.db.types.Fixed(precision=14, scale=4), nullable=False),
        sa.Column("unit_price", sierra_core.db.types.Fixed(precision=14, scale=4), nullable=False),
        sa.Column("amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("item_code", sa.String(length=100), nullable=True),
        sa.Column("taxable", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_line_items_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line_items")),
        sa.UniqueConstraint(
            "invoice_id", "line_number", name=op.f("uq_invoice_line_items_invoice_id_line_number")
        ),
    )
    with op.batch_alter_table("invoice_line_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_line_items_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("refunded_amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="succeeded", nullable=False),
        sa.Column("reference_number", sa.String(length=100), nullable=True),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "method IN ('card', 'ach', 'check', 'cash', 'wire', 'other')", name=op.f("ck_payments_method")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'void')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount",
            name=op.f("ck_payments_refund_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_payments_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["contacts.id"], name=op.f("fk_payments_customer_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("stripe_charge_id", name=op.f("uq_payments_stripe_charge_id")),
        sa.UniqueConstraint("stripe_payment_intent_id", name=op.f("uq_payments_stripe_payment_intent_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_payments_company_updated", ["company_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "payment_attempts",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sierra_core.db.types.Fixed(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=100), nullable=True),
        sa.Column("decline_code", sa.String(length=100), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("attempted_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('requires_payment_method', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled')",
            name=op.f("ck_payment_attempts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_payment_attempts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payment_attempts_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_attempts_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_attempts_idempotency_key")),
    )
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_attempts_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_attempts_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_attempts_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_attempts_stripe_payment_intent_id"),
            ["stripe_payment_intent_id"],
            unique=False,
        )

    op.create_table(
        "rate_limit_windows",
        sa.Column("realm_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("window_start", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("realm_id", "bucket", "window_start", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index(
        "idx_sync_logs_integration", "integration_sync_logs", ["integration_id", sa.text("created_at DESC")]
    )
    op.create_index("idx_api_logs_company", "api_request_logs", ["company_id", sa.text("created_at DESC")])
    op.create_index("idx_api_logs_api_key", "api_request_logs", ["api_key_id", sa.text("created_at DESC")])
    create_touch_triggers(TABLES)


def downgrade() -> None:
    drop_touch_triggers(TABLES)
    op.drop_table("rate_limit_windows")
    op.drop_index("idx_api_logs_api_key", "api_request_logs")
    op.drop_index("idx_api_logs_company", "api_request_logs")
    op.drop_index("idx_sync_logs_integration", "integration_sync_logs")
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_attempts_stripe_payment_intent_id"))
        batch_op.drop_index(batch_op.f("ix_payment_attempts_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_attempts_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payment_attempts_company_id"))

    op.drop_table("payment_attempts")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payments_customer_id"))
        batch_op.drop_index("ix_payments_company_updated")
        batch_op.drop_index(batch_op.f("ix_payments_company_id"))

    op.drop_table("payments")
    with op.batch_alter_table("invoice_line_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_items_invoice_id"))

    op.drop_table("invoice_line_items")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_project_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_customer_id"))
        batch_op.drop_index("ix_invoices_company_updated")
        batch_op.drop_index(batch_op.f("ix_invoices_company_id"))

    op.drop_table("invoices")
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expenses_project_id"))
        batch_op.drop_index("ix_expenses_company_updated")
        batch_op.drop_index(batch_op.f("ix_expenses_company_id"))

    op.drop_table("expenses")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("idx_webhooks_provider")
        batch_op.drop_index("idx_webhooks_integration")

    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_status_received")

    op.drop_table("webhook_events")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_customer_id"))
        batch_op.drop_index(batch_op.f("ix_projects_company_id"))

    op.drop_table("projects")
    with op.batch_alter_table("integration_sync_logs", schema=None) as batch_op:
        batch_op.drop_index("idx_sync_logs_status")
        batch_op.drop_index(
            "idx_sync_logs_retry",
            postgresql_where=sa.text("status = 'retrying'"),
            sqlite_where=sa.text("status = 'retrying'"),
        )
        batch_op.drop_index("idx_sync_logs_entity")

    op.drop_table("integration_sync_logs")
    op.drop_table("entity_links")
    with op.batch_alter_table("api_request_logs", schema=None) as batch_op:
        batch_op.drop_index("idx_api_logs_status")

    op.drop_table("api_request_logs")
    op.drop_table("oauth_states")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_index("idx_integrations_type")
        batch_op.drop_index(
            "idx_integrations_next_sync",
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )
        batch_op.drop_index("idx_integrations_company")
        batch_op.drop_index(
            "idx_integrations_active",
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )

    op.drop_table("integrations")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_company_updated")
        batch_op.drop_index(batch_op.f("ix_contacts_company_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("idx_api_keys_company")
        batch_op.drop_index(
            "idx_api_keys_active",
            postgresql_where=sa.text("is_active = true"),
            sqlite_where=sa.text("is_active = true"),
        )

    op.drop_table("api_keys")
    op.drop_table("companies")
