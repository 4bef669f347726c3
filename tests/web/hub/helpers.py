"""Shared by the hub's tests: a hub configuration, seeded people, hand-off tokens, and reading a page's
CSRF token."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.hub_users import add_user
from sierra_sync.web.hub import HubConfig
from sierra_sync.web.hub.signing import sign
from tests import factories

COOKIE_SECRET = "c" * 40
HANDOFF_SECRET = "h" * 40
PASSWORD = "correct horse battery"


def config(**kw: Any) -> HubConfig:
    options: dict[str, Any] = {
        "cookie_secrets": (COOKIE_SECRET,),
        "handoff_secrets": (HANDOFF_SECRET,),
        "local_login": True,
        "cookie_secure": False,
    }
    options.update(kw)
    return HubConfig(**options)


def seed(sessions: sessionmaker[Session], name: str = "Owner Builders") -> tuple[uuid.UUID, str, str]:
    """A company with an owner and a read-only member; returns (company id, owner email, member email)."""
    tag = uuid.uuid4().hex[:6]
    with sessions.begin() as s:
        company = factories.company(s, f"{name} {tag}")
        owner = add_user(
            s, company.id, f"owner-{tag}@example.com", "Olive Owner", role="Owner", password=PASSWORD
        )
        member = add_user(
            s, company.id, f"pm-{tag}@example.com", "Pat PM", role="Project Manager", password=PASSWORD
        )
        return company.id, owner.email, member.email


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def handoff_token(
    company_id: uuid.UUID, *, secret: str = HANDOFF_SECRET, life: int = 60, **claims: Any
) -> str:
    now = int(time.time())
    body = {
        "sub": "host-user-1",
        "company_id": str(company_id),
        "role": "Owner",
        "name": "Hana Host",
        "iat": now,
        "exp": now + life,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return sign(secret, body)
