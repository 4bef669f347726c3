"""What the web app depends on, injected (tests pass their own; `sierra-sync api serve` builds them from
the settings and the Prefect blocks with `from_environment`)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from sierra_sync.web.dispatch import Dispatcher, InProcessDispatcher
from sierra_sync.web.signatures import STRIPE_TOLERANCE_SECONDS

__all__ = ["AppDeps", "OAuthCompleter"]

log = logging.getLogger("sierra_sync.web")


class OAuthCompleter(Protocol):
    """Finishes a QuickBooks authorization from the callback's query; returns the integration id and
    raises SierraError (with a message for the user) when it cannot."""

    def __call__(
        self, *, state: str, code: str | None, realm_id: str | None, error: str | None
    ) -> uuid.UUID: ...


@dataclass
class AppDeps:
    """Everything `create_app` needs.

    `stripe_webhook_secrets`: the endpoint signing secret(s) (`whsec_…`; two during a rotation); empty: the
    Stripe endpoint answers 503 (not configured). `quickbooks_verifier_token`: Intuit's verifier token;
    None: the QuickBooks endpoint answers 503. `dispatcher`: who processes stored events (default: an
    in-process dispatcher with no handlers, which leaves events `received`). `oauth_completer`: finishes
    QuickBooks connections (None: the callback answers 503). `clock`: Unix seconds (tests freeze it).
    `counters_engine`: where API-key counting, request-log batches and list pages run (default: the
    sessions' engine); `sierra-sync api serve` passes one whose PostgreSQL connections commit
    asynchronously, so a key's counter row is never locked across a WAL flush (see
    connectors.db.engine.make_engine). Data writes always go through `sessions`, durably.
    """

    sessions: sessionmaker[Session]
    stripe_webhook_secrets: Sequence[str] = ()
    quickbooks_verifier_token: str | None = field(default=None, repr=False)
    dispatcher: Dispatcher | None = None
    oauth_completer: OAuthCompleter | None = None
    clock: Callable[[], float] = time.time
    stripe_tolerance: int = STRIPE_TOLERANCE_SECONDS
    max_body_bytes: int = 1_000_000  # the largest request body read (webhooks and API): 413 past it
    webhook_keyring: Keyring | None = field(default=None, repr=False)  # seals outgoing-webhook secrets
    webhook_allow_private: bool = False  # subscriptions may name private addresses and http (development)
    webhook_ports: frozenset[int] = frozenset()  # ports subscriptions may name besides 443 and 8443
    counters_engine: Engine | None = None
    _autocommit: Engine | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.dispatcher is None:
            self.dispatcher = InProcessDispatcher(self.sessions)
        if self.counters_engine is None:
            bind = self.sessions.kw.get("bind")
            self.counters_engine = bind if isinstance(bind, Engine) else None
        if self.counters_engine is not None:
            self._autocommit = self.counters_engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def counters(self) -> Engine:
        """`counters_engine` (for batches in a transaction: the request log)."""
        if self.counters_engine is None:
            raise TypeError("AppDeps.sessions must be bound to an engine (see connectors.db.engine)")
        return self.counters_engine

    @property
    def autocommit(self) -> Engine:
        """`counters_engine` in autocommit mode, sharing its pool: single statements that need no
        transaction (API key checks, list pages) run on it with no BEGIN and no ROLLBACK round trips."""
        if self._autocommit is None:
            raise TypeError("AppDeps.sessions must be bound to an engine (see connectors.db.engine)")
        return self._autocommit

    def __repr__(self) -> str:  # never the secrets
        return (
            f"AppDeps(stripe_secrets={len(self.stripe_webhook_secrets)}, "
            f"quickbooks_verifier={'set' if self.quickbooks_verifier_token else 'unset'}, "
            f"dispatcher={type(self.dispatcher).__name__})"
        )
