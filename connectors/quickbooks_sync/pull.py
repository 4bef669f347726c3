"""The pull from QuickBooks: the neutral engine (`connectors.accounting.pull`) on the QuickBooks adapter.

One CDC call reads every entity type from the oldest cursor minus a small lag window (QBO's client falls
back to LastUpdatedTime queries past 30 days); objects seen before are skipped by their SyncToken.

    with open_client(...) as client:
        result = Puller(sessions, client, Target(...), PullOptions(trigger="scheduled")).run(full=False)
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.pull import FAR_PAST, read_cursors
from connectors.accounting.pull import Puller as AccountingPuller
from connectors.accounting.pull_types import PullOptions
from connectors.accounting.push_types import Target
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks_sync.push import quickbooks_settings
from connectors.quickbooks_sync.sync_adapter import QuickBooksSyncAdapter

__all__ = ["FAR_PAST", "Puller", "read_cursors"]


class Puller(AccountingPuller):
    """One pull run for one company's QuickBooks connection."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: QuickBooksClient,
        target: Target,
        options: PullOptions | None = None,
    ) -> None:
        super().__init__(
            sessions, QuickBooksSyncAdapter(client, quickbooks_settings(target)), target, options
        )
        self.client = client
