"""What the web app depends on, injected (tests pass their own; `sierra-sync api serve` builds them from
the settings and the Prefect blocks with `from_environment`)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.crypto import Keyring
from sierra_sync.web.dispatch import Dispatcher, InProcessDispatcher

if TYPE_CHECKING:
    from sierra_sync.web.hub.config import HubConfig

__all__ = ["AppDeps", "OAuthCompleter"]

log = logging.getLogger("sierra_sync.web")


class OAuthCompleter(Protocol):
    """Finishes a provider's authorization from its callback's query; returns the integration id and raises
    SierraError (with a message for the user) when it cannot (see web/oauth_callback.OAuthCallbacks)."""

    def configured(self, provider: str) -> bool: ...

    def complete(self, provider: str, query: Mapping[str, str]) -> uuid.UUID: ...


@dataclass
class AppDeps:
    """Everything `create_app` needs.

    `webhook_secrets`: per provider name, the secret(s) its webhooks are signed with (Stripe's `whsec_…`,
    Intuit's verifier token; two during a rotation); a provider without any: its endpoint answers 503 (not
    configured). `dispatcher`: who processes stored events (default: an in-process dispatcher with no
    handlers, which leaves events `received`). `oauth`: finishes connections of the configured providers
    (None: every callback answers 503). `clock`: Unix seconds (tests freeze it). `webhook_tolerance`:
    overrides every timestamped scheme's replay window (seconds). `public_base_url`: this app's public URL,
    for providers that sign the notification URL (Square).
    `counters_engine`: where API-key counting, request-log batches and list pages run (default: the
    sessions' engine); `sierra-sync api serve` passes one whose PostgreSQL connections commit
    asynchronously, so a key's counter row is never locked across a WAL flush (see
    sierra_core.db.engine.make_engine). Data writes always go through `sessions`, durably.
    """

    sessions: sessionmaker[Session]
    webhook_secrets: Mapping[str, Sequence[str]] = field(default_factory=dict, repr=False)
    dispatcher: Dispatcher | None = None
    oauth: OAuthCompleter | None = None
    clock: Callable[[], float] = time.time
    webhook_tolerance: int | None = None
    public_base_url: str | None = None
    max_body_bytes: int = 1_000_000  # the largest request body read (webhooks and API): 413 past it
    webhook_keyring: Keyring | None = field(default=None, repr=False)  # seals outgoing-webhook secrets
    webhook_allow_private: bool = False  # subscriptions may name private addresses and http (development)
    webhook_ports: frozenset[int] = frozenset()  # ports subscriptions may name besides 443 and 8443
    counters_engine: Engine | None = None
    hub: HubConfig | None = None  # the integrations hub under /hub (None: not served)
    lean_reads: bool = True  # hot list pages answered without the framework on PostgreSQL (api.lean)
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
            raise TypeError("AppDeps.sessions must be bound to an engine (see sierra_core.db.engine)")
        return self.counters_engine

    @property
    def autocommit(self) -> Engine:
        """`counters_engine` in autocommit mode, sharing its pool: single statements that need no
        transaction (API key checks, list pages) run on it with no BEGIN and no ROLLBACK round trips."""
        if self._autocommit is None:
            raise TypeError("AppDeps.sessions must be bound to an engine (see sierra_core.db.engine)")
        return self._autocommit

    def __repr__(self) -> str:  # never the secrets
        signed = ",".join(sorted(p for p, secrets in self.webhook_secrets.items() if secrets)) or "none"
        return f"AppDeps(webhooks={signed}, dispatcher={type(self.dispatcher).__name__})"
