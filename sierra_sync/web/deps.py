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
    """

    sessions: sessionmaker[Session]
    stripe_webhook_secrets: Sequence[str] = ()
    quickbooks_verifier_token: str | None = field(default=None, repr=False)
    dispatcher: Dispatcher | None = None
    oauth_completer: OAuthCompleter | None = None
    clock: Callable[[], float] = time.time
    stripe_tolerance: int = STRIPE_TOLERANCE_SECONDS
    max_body_bytes: int = 1_000_000
    webhook_keyring: Keyring | None = field(default=None, repr=False)  # seals outgoing-webhook secrets
    _autocommit: Engine | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.dispatcher is None:
            self.dispatcher = InProcessDispatcher(self.sessions)
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, Engine):
            self._autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def autocommit(self) -> Engine:
        """The sessions' engine in autocommit mode, sharing its pool: single statements that need no
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
