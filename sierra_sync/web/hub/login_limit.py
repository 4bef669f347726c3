"""The sign-in rate limit of the hub's local login: at most `LIMIT` password checks that fail per email and
client address in `WINDOW`; after that, 429 with Retry-After until the oldest failure leaves the window.

Kept in the database (`hub_login_failures`), so it holds across workers and processes. Every attempt first
records itself and then counts the attempts in the window (its own included): concurrent guesses on
several workers all see each other, so no more than `LIMIT` passwords are ever checked per window. A
refused attempt takes its row back (hammering does not lengthen the wait); a successful sign-in clears the
key's failures. Unknown and known emails are limited alike (the answer tells nothing about an account).
The key is the SHA-256 of the lower-cased email and the address: neither is stored in clear.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.db.models import HubLoginFailure
from sierra_core.db.types import utcnow

__all__ = ["LIMIT", "WINDOW", "Attempt", "begin", "failed", "failures", "key_of", "succeeded"]

LIMIT = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt under way: `retry_after` seconds (refused) or None (go on and check)."""

    key_hash: str
    row_id: uuid.UUID | None
    retry_after: int | None


def key_of(email: str, address: str) -> str:
    return hashlib.sha256(f"{email.strip().lower()}\n{address}".encode()).hexdigest()


def begin(sessions: sessionmaker[Session], email: str, address: str, now: datetime | None = None) -> Attempt:
    """Record an attempt for (email, address); refused when it would be one too many in the window."""
    now = now or utcnow()
    key = key_of(email, address)
    row_id = uuid.uuid4()
    with sessions.begin() as session:
        session.add(HubLoginFailure(id=row_id, key_hash=key, failed_at=now))
    since = now - WINDOW
    with sessions.begin() as session:
        in_window = session.scalars(
            select(HubLoginFailure.failed_at)
            .where(HubLoginFailure.key_hash == key, HubLoginFailure.failed_at > since)
            .order_by(HubLoginFailure.failed_at, HubLoginFailure.id)
        ).all()
        if len(in_window) <= LIMIT:
            return Attempt(key, row_id, None)
        session.execute(delete(HubLoginFailure).where(HubLoginFailure.id == row_id))
    # Free again once enough of the oldest have left the window for this attempt to be the LIMIT-th.
    frees_at = in_window[len(in_window) - LIMIT - 1] + WINDOW
    return Attempt(key, None, max(1, math.ceil((frees_at - now).total_seconds())))


def failed(sessions: sessionmaker[Session], attempt: Attempt, now: datetime | None = None) -> None:
    """The password was wrong: the attempt's row stays; rows that left the window (any key) go."""
    with sessions.begin() as session:
        session.execute(
            delete(HubLoginFailure).where(HubLoginFailure.failed_at <= (now or utcnow()) - WINDOW)
        )


def succeeded(sessions: sessionmaker[Session], attempt: Attempt) -> None:
    """Signed in: the key's failures (and this attempt) are forgotten."""
    with sessions.begin() as session:
        session.execute(delete(HubLoginFailure).where(HubLoginFailure.key_hash == attempt.key_hash))


def failures(session: Session, email: str, address: str) -> int:
    """How many attempts of (email, address) are on record (tests and support)."""
    key = key_of(email, address)
    return int(
        session.scalar(
            select(func.count()).select_from(HubLoginFailure).where(HubLoginFailure.key_hash == key)
        )
        or 0
    )
