"""Public-API keys: creation (the key is shown once; only its SHA-256 and a visible prefix are stored),
permissions, revocation, and the one atomic statement that authenticates a request and counts it against
the key's hourly and daily limits.

Rate limits are fixed UTC windows (calendar hour, calendar day) kept on the key row itself
(`requests_this_hour` + `hour_window_start`, `requests_today` + `day_window_start`). One
`UPDATE … WHERE <key is valid> AND <both counts after this request fit> RETURNING …` decides and counts, so
every API process sharing the database agrees: PostgreSQL re-checks the WHERE on the newest row version when
two updates race (READ COMMITTED), SQLite serialises writers. A refused request is not counted in the
windows (it still adds to `total_requests`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Update, and_, bindparam, case, or_, select, update
from sqlalchemy.orm import Session

from sierra_core.db.models import ApiKey
from sierra_core.db.models.base import table_of
from sierra_core.errors import ConfigError, NotFoundError

__all__ = [
    "RESOURCES",
    "AuthResult",
    "CreatedKey",
    "RateState",
    "authenticate_and_count",
    "create_key",
    "day_start",
    "hash_key",
    "hour_start",
    "list_keys",
    "parse_expiry",
    "parse_permissions",
    "permission_text",
    "release_slots",
    "revoke_key",
]

RESOURCES = ("projects", "tasks", "contacts", "invoices", "sync_logs", "integrations", "webhooks")
ENVIRONMENTS = {"production": "sk_live_", "sandbox": "sk_test_"}
PREFIX_CHARS = 12  # "sk_live_" + 4 random characters: enough to tell keys apart in a list
_EXPIRY = re.compile(r"^(\d+)([hdw])$")


def hash_key(raw: str) -> str:
    """The stored form of a key: SHA-256 hex (256 random bits: no salt or slow hash needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_permissions(text: str) -> dict[str, dict[str, bool]]:
    """`projects:rw,contacts:r` -> {"projects": {"read": True, "write": True, "delete": False}, …}."""
    perms: dict[str, dict[str, bool]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        resource, _, modes = part.partition(":")
        if resource not in RESOURCES:
            raise ConfigError(f"unknown permission resource {resource!r}; use one of {', '.join(RESOURCES)}")
        if not modes or set(modes) - {"r", "w"}:
            raise ConfigError(f"permission {part!r}: give r, w or rw after the colon (e.g. {resource}:rw)")
        perms[resource] = {"read": "r" in modes, "write": "w" in modes, "delete": False}
    if not perms:
        raise ConfigError("give at least one permission, e.g. --permissions projects:rw,contacts:r")
    return perms


def permission_text(perms: dict[str, Any]) -> str:
    """The CLI spelling of stored permissions (`projects:rw,contacts:r`)."""
    parts = []
    for resource, modes in sorted(perms.items()):
        letters = ("r" if modes.get("read") else "") + ("w" if modes.get("write") else "")
        if letters:
            parts.append(f"{resource}:{letters}")
    return ",".join(parts)


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`90d`, `12h`, `2w` -> an aware datetime after `now`; None or `never` -> no expiry."""
    if text is None or text == "never":
        return None
    match = _EXPIRY.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(f"--expires-in {text!r}: give a positive count of h, d or w (e.g. 90d) or 'never'")
    n, unit = int(match.group(1)), match.group(2)
    return now + {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `raw` is the only copy of the secret; show it once and drop it."""

    id: uuid.UUID
    raw: str
    prefix: str
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"CreatedKey(id={self.id}, prefix={self.prefix!r})"


def create_key(
    session: Session,
    company_id: uuid.UUID,
    name: str,
    permissions: dict[str, dict[str, bool]],
    *,
    environment: str = "production",
    expires_at: datetime | None = None,
    rate_limit_per_hour: int = 1000,
    rate_limit_per_day: int = 10000,
) -> CreatedKey:
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"--environment must be production or sandbox, not {environment!r}")
    if rate_limit_per_hour <= 0 or rate_limit_per_day <= 0:
        raise ConfigError("rate limits must be positive")
    raw = ENVIRONMENTS[environment] + secrets.token_urlsafe(32)
    row = ApiKey(
        company_id=company_id,
        key_name=name,
        key_value=hash_key(raw),
        key_prefix=raw[:PREFIX_CHARS],
        environment=environment,
        permissions=permissions,
        expires_at=expires_at,
        rate_limit_per_hour=rate_limit_per_hour,
        rate_limit_per_day=rate_limit_per_day,
    )
    session.add(row)
    session.flush()
    return CreatedKey(row.id, raw, row.key_prefix, expires_at)


def list_keys(session: Session, company_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).where(ApiKey.company_id == company_id).order_by(ApiKey.created_at))
    )


def revoke_key(session: Session, key: str, now: datetime, company_id: uuid.UUID | None = None) -> ApiKey:
    """Revoke by id or by visible prefix (unique among the company's keys); the next request gets 401."""
    query = select(ApiKey)
    try:
        query = query.where(ApiKey.id == uuid.UUID(key))
    except ValueError:
        query = query.where(ApiKey.key_prefix == key)
    if company_id is not None:
        query = query.where(ApiKey.company_id == company_id)
    rows = list(session.scalars(query))
    if not rows:
        raise NotFoundError(f"no API key with id or prefix {key!r}; `sierra-sync api-keys list` shows them")
    if len(rows) > 1:
        raise ConfigError(f"{len(rows)} keys share the prefix {key!r}; revoke by id instead")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now
        row.is_active = False
        session.flush()
    return row


def hour_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class RateState:
    """Counts after this request in the current windows, the limits, and when each window resets."""

    hour_count: int
    hour_limit: int
    day_count: int
    day_limit: int
    hour_reset: datetime
    day_reset: datetime

    @property
    def binding(self) -> tuple[int, int, datetime]:
        """(limit, remaining, reset) of the window with the least room left (the hour on a tie)."""
        hour_left = max(self.hour_limit - self.hour_count, 0)
        day_left = max(self.day_limit - self.day_count, 0)
        if day_left < hour_left:
            return self.day_limit, day_left, self.day_reset
        return self.hour_limit, hour_left, self.hour_reset

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until a request fits again (the later reset when both windows are full)."""
        resets = []
        if self.hour_count >= self.hour_limit:
            resets.append(self.hour_reset)
        if self.day_count >= self.day_limit:
            resets.append(self.day_reset)
        target = max(resets) if resets else now
        return max(int((target - now).total_seconds() + 0.999), 1)


@dataclass(frozen=True)
class AuthResult:
    """`status`: 'ok', 'unknown' (no such key), 'revoked', 'expired' or 'limited'. When 'ok': `granted`
    requests were counted (this one and `granted - 1` reserved for later ones, see `authenticate_and_count`),
    `rate` holds the counts after all of them, and `expires_at` is the key's expiry."""

    status: str
    key_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    permissions: dict[str, Any] | None = None
    environment: str | None = None
    rate: RateState | None = None
    expires_at: datetime | None = None
    granted: int = 1


@cache
def _statements() -> tuple[Update, Update, Update]:
    """The two statements of `authenticate_and_count`, built once with bind parameters (building them per
    request costs more CPU than the round trip; SQLAlchemy also caches their compiled form)."""
    t = table_of(ApiKey)
    c = t.c
    key_hash = bindparam("key_hash", type_=c.key_value.type)
    now = bindparam("now", type_=c.last_used_at.type)
    hs = bindparam("hour_start", type_=c.hour_window_start.type)
    ds = bindparam("day_start", type_=c.day_window_start.type)
    ip = bindparam("ip", type_=c.last_request_ip.type)
    n = bindparam("n", type_=c.total_requests.type)
    new_hour = case((c.hour_window_start == hs, c.requests_this_hour + n), else_=n)
    new_day = case((c.day_window_start == ds, c.requests_today + n), else_=n)
    valid = and_(
        c.key_value == key_hash,
        c.is_active.is_(True),
        c.revoked_at.is_(None),
        or_(c.expires_at.is_(None), c.expires_at > now),
    )
    count = (
        update(t)
        .where(valid, new_hour <= c.rate_limit_per_hour, new_day <= c.rate_limit_per_day)
        .values(
            requests_this_hour=new_hour,
            hour_window_start=hs,
            requests_today=new_day,
            day_window_start=ds,
            total_requests=c.total_requests + n,
            last_used_at=now,
            last_request_ip=ip,
        )
        .returning(
            c.id,
            c.company_id,
            c.permissions,
            c.environment,
            c.requests_this_hour,
            c.rate_limit_per_hour,
            c.requests_today,
            c.rate_limit_per_day,
            c.expires_at,
        )
    )
    refused = (
        update(t)
        .where(c.key_value == key_hash)
        .values(total_requests=c.total_requests + 1, last_used_at=now, last_request_ip=ip)
        .returning(
            c.id,
            c.company_id,
            c.is_active,
            c.revoked_at,
            c.expires_at,
            c.hour_window_start,
            c.requests_this_hour,
            c.rate_limit_per_hour,
            c.day_window_start,
            c.requests_today,
            c.rate_limit_per_day,
            c.permissions,
            c.environment,
        )
    )
    unused = bindparam("unused", type_=c.total_requests.type)
    key_id = bindparam("key_id", type_=c.id.type)

    def minus(column: Any, window: Any = None, start: Any = None) -> Any:
        less = case((column >= unused, column - unused), else_=0)
        return less if window is None else case((window == start, less), else_=column)

    # Reserved requests never used: out of the windows they were counted in (if still current) and the total.
    release = (
        update(t)
        .where(c.id == key_id)
        .values(
            requests_this_hour=minus(c.requests_this_hour, c.hour_window_start, hs),
            requests_today=minus(c.requests_today, c.day_window_start, ds),
            total_requests=minus(c.total_requests),
        )
    )
    return count, refused, release


def authenticate_and_count(
    conn: Connection, raw_key: str, now: datetime, ip: str | None, *, reserve: int = 1
) -> AuthResult:
    """Authenticate `raw_key` and count this request against its limits, atomically (each statement is
    atomic on its own: run it on an autocommit connection, or commit after).

    `reserve` > 1: count that many requests at once when they all fit in both windows (this one and the
    next ones of a process that caches the key, see connectors.apikey_cache), else just this one; the
    result's `granted` says which. Unused ones go back with `release_slots`."""
    count, refused, _ = _statements()
    hs, ds = hour_start(now), day_start(now)
    params = {"key_hash": hash_key(raw_key), "now": now, "hour_start": hs, "day_start": ds, "ip": ip}
    hour_reset, day_reset = hs + timedelta(hours=1), ds + timedelta(days=1)
    for granted in dict.fromkeys((max(reserve, 1), 1)):
        counted = conn.execute(count, {**params, "n": granted}).first()
        if counted is not None:
            rate = RateState(counted[4], counted[5], counted[6], counted[7], hour_reset, day_reset)
            return AuthResult("ok", counted[0], counted[1], counted[2], counted[3], rate, counted[8], granted)
    # Refused: find out why (and count the refused request as used, outside the windows).
    row = conn.execute(refused, params).first()
    if row is None:
        return AuthResult("unknown")
    if row[3] is not None or not row[2]:
        return AuthResult("revoked", row[0], row[1])
    if row[4] is not None and row[4] <= now:
        return AuthResult("expired", row[0], row[1])
    hour_count = row[6] if row[5] == hs else 0
    day_count = row[9] if row[8] == ds else 0
    rate = RateState(hour_count, row[7], day_count, row[10], hour_reset, day_reset)
    return AuthResult("limited", row[0], row[1], row[11], row[12], rate)


def release_slots(conn: Connection, key_id: uuid.UUID, hour: datetime, day: datetime, unused: int) -> None:
    """Give back `unused` requests that `authenticate_and_count(reserve=…)` counted in the windows starting
    at `hour` and `day` (a window that has moved on since is left alone: it started from zero)."""
    _, _, release = _statements()
    params = {"key_id": key_id, "hour_start": hour, "day_start": day, "unused": unused}
    conn.execute(release, params)
