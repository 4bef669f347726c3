"""The push to QuickBooks: the neutral engine (`connectors.accounting.push`) on the QuickBooks adapter.

Per entity type the push costs one lookup request (a batch of queries: find-before-create by DocNumber or
DisplayName for records without a link, and the current QBO objects of linked records) plus one batch
request per 30 writes; 6140/6240 after a lost response read as "already there: link it".
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.push import Pusher as AccountingPusher
from connectors.accounting.push_types import PushOptions, Target
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.settings import QuickBooksSettings
from connectors.quickbooks_sync.sync_adapter import WRITE_CHUNK, QuickBooksSyncAdapter

__all__ = ["Pusher", "quickbooks_settings"]


def quickbooks_settings(target: Target) -> QuickBooksSettings:
    if not isinstance(target.settings, QuickBooksSettings):
        raise TypeError(f"a QuickBooks sync needs QuickBooks settings, not {type(target.settings).__name__}")
    return target.settings


class Pusher(AccountingPusher):
    """One push run for one company's QuickBooks connection."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: QuickBooksClient,
        target: Target,
        options: PushOptions | None = None,
        adapter: QuickBooksSyncAdapter | None = None,
    ) -> None:
        adapter = adapter or QuickBooksSyncAdapter(client, quickbooks_settings(target))
        super().__init__(sessions, adapter, target, options, write_chunk=WRITE_CHUNK)
        self.client = client
