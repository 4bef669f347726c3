"""People of the integrations hub: local accounts with scrypt password hashes, and the brief's role rule
(owners and people allowed to edit settings manage integrations; everyone else reads).

Hashes are `scrypt$<n>$<r>$<p>$<salt b64>$<key b64>` (hashlib.scrypt, RFC 7914, 16-byte random salt):
the parameters travel with the hash, so they can be raised later without breaking old ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sierra_core.db.models import HubUser
from sierra_core.db.types import utcnow
from sierra_core.errors import ConfigError

__all__ = ["MIN_PASSWORD", "add_user", "authenticate", "can_manage", "hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1  # 16 MiB of memory per hash: OWASP's minimum for scrypt
MIN_PASSWORD = 12
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored` (constant-time); False for a malformed or missing hash."""
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


# Compared against when the email is unknown, so an unknown address costs the same time as a wrong password.
_DUMMY = hash_password(secrets.token_urlsafe(16))


def can_manage(role: str, permissions: Mapping[str, Any] | None) -> bool:
    """The brief's rule: the Owner, or a role whose permissions say settings.edit = true."""
    settings = (permissions or {}).get("settings")
    return role.strip().lower() == "owner" or (isinstance(settings, Mapping) and settings.get("edit") is True)


def add_user(
    session: Session,
    company_id: uuid.UUID,
    email: str,
    name: str,
    *,
    role: str = "Member",
    permissions: Mapping[str, Any] | None = None,
    password: str | None = None,
) -> HubUser:
    """A new person of the company (the caller commits); the email is kept lower-case."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 255:
        raise ConfigError(f"{email!r} is not an email address (like name@example.com)")
    if len(name.strip()) > 255:
        raise ConfigError("the name must have at most 255 characters")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    if session.scalar(select(func.count()).select_from(HubUser).where(HubUser.email == email)):
        raise ConfigError(f"a user with email {email} already exists")
    user = HubUser(
        company_id=company_id,
        email=email,
        name=name.strip() or email,
        role=role,
        permissions=dict(permissions or {}),
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> HubUser | None:
    """The active user with this email and password, or None (the same time either way)."""
    user = session.scalar(select(HubUser).where(HubUser.email == email.strip().lower()))
    if user is None or not user.is_active or user.password_hash is None:
        verify_password(password, _DUMMY)
        return None
    if not verify_password(password, user.password_hash):
        return None
    user.last_login_at = utcnow()
    return user
