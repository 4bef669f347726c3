"""The integrations hub's people: `users` (who may sign in, in which company, with which role),
`hub_session_tokens` (the ids of the host SaaS's hand-off tokens already exchanged: each works once) and
`hub_login_failures` (recent failed sign-ins, for the rate limit)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from sierra_core.db.models.base import Base, Timestamps, UUIDPk
from sierra_core.db.types import JSONDoc, UTCDateTime


class HubUser(UUIDPk, Timestamps, Base):
    """A person of a company. `role` is the host's role name ("Owner", "Project Manager"…);
    `permissions` its permission document (`{"settings": {"edit": true}}` lets a non-owner manage
    integrations). `password_hash` (scrypt) only for local sign-in; None for people the host hands over."""

    __tablename__ = "users"
    __table_args__ = (Index("idx_users_company", "company_id"),)

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(50), nullable=False, default="Member", server_default="Member")
    permissions: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HubSessionToken(UUIDPk, Timestamps, Base):
    """A hand-off token already exchanged for a session (its `jti`'s SHA-256), kept until it expires."""

    __tablename__ = "hub_session_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class HubLoginFailure(UUIDPk, Base):
    """One attempt at the hub's local sign-in for an email from a client address, kept while it counts
    against the limit (sierra_sync/web/hub/login_limit.py); `key_hash` is the SHA-256 of the lower-cased
    email and the address, so neither is stored in clear. In the database, so every worker sees it."""

    __tablename__ = "hub_login_failures"
    __table_args__ = (
        Index("idx_hub_login_failures_key", "key_hash", "failed_at"),
        Index("idx_hub_login_failures_at", "failed_at"),
    )

    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
