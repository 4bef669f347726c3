"""Pagination as small strategy objects with a loop guard, for any provider (the dlt habit).

    for row in paginate(fetch, OffsetPages(page_size=1000)):  # QuickBooks STARTPOSITION/MAXRESULTS
    for row in paginate(fetch, CursorPages(id_key="id")):      # Stripe starting_after + has_more
    for row in paginate(fetch, PageNumbers(page_size=100)):    # Xero page=N
    for row in paginate(fetch, NextTokens(token_key="nextPageToken", param="pageToken"))  # Google, Graph

`fetch(params) -> Page` asks the provider for one page with the strategy's parameters; the strategy says
what to ask next, or that the listing ended. A page identical to the previous one (a server ignoring the
paging parameters) or more than `max_pages` pages raise `PaginationError` instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CursorPages",
    "NextTokens",
    "OffsetPages",
    "Page",
    "PageNumbers",
    "PaginationError",
    "Strategy",
    "paginate",
]


class PaginationError(RuntimeError):
    """Paging did not end: the server repeated a page or the listing exceeded the page budget."""


@dataclass(frozen=True)
class Page:
    """One page: its rows, and what the provider said about the next one."""

    rows: Sequence[Mapping[str, Any]]
    has_more: bool | None = None  # Stripe's has_more
    next_token: str | None = None  # Google's nextPageToken, Graph's @odata.nextLink


class Strategy(Protocol):
    def first(self) -> dict[str, Any]:
        """The parameters of the first page."""
        ...

    def next(self, params: Mapping[str, Any], page: Page) -> dict[str, Any] | None:
        """The parameters of the page after `page` (fetched with `params`), or None at the end."""
        ...


@dataclass(frozen=True)
class OffsetPages:
    """1-based offsets (QuickBooks' STARTPOSITION/MAXRESULTS); a short page is the last."""

    page_size: int
    start: int = 1
    start_param: str = "start"
    size_param: str = "size"

    def first(self) -> dict[str, Any]:
        return {self.start_param: self.start, self.size_param: self.page_size}

    def next(self, params: Mapping[str, Any], page: Page) -> dict[str, Any] | None:
        if len(page.rows) < self.page_size:
            return None
        return {**params, self.start_param: int(params[self.start_param]) + len(page.rows)}


@dataclass(frozen=True)
class PageNumbers:
    """Numbered pages from 1 (Xero's page=N, 100 a page); a short page is the last."""

    page_size: int
    param: str = "page"

    def first(self) -> dict[str, Any]:
        return {self.param: 1}

    def next(self, params: Mapping[str, Any], page: Page) -> dict[str, Any] | None:
        if len(page.rows) < self.page_size:
            return None
        return {**params, self.param: int(params[self.param]) + 1}


@dataclass(frozen=True)
class CursorPages:
    """The last row's id as the cursor while the provider says there is more (Stripe)."""

    limit: int = 100
    id_key: str = "id"
    param: str = "starting_after"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def first(self) -> dict[str, Any]:
        return {"limit": self.limit, **self.extra}

    def next(self, params: Mapping[str, Any], page: Page) -> dict[str, Any] | None:
        if not page.has_more or not page.rows:
            return None
        return {**params, self.param: page.rows[-1][self.id_key]}


@dataclass(frozen=True)
class NextTokens:
    """An opaque token or link for the next page (Google's nextPageToken, Graph's @odata.nextLink)."""

    param: str = "pageToken"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def first(self) -> dict[str, Any]:
        return dict(self.extra)

    def next(self, params: Mapping[str, Any], page: Page) -> dict[str, Any] | None:
        if not page.next_token:
            return None
        return {**params, self.param: page.next_token}


def paginate(
    fetch: Callable[[dict[str, Any]], Page],
    strategy: Strategy,
    *,
    max_pages: int = 10_000,
    what: str = "the listing",
    key: Callable[[Mapping[str, Any]], Any] = lambda row: row.get("Id", row.get("id")),
) -> Iterator[Mapping[str, Any]]:
    """Every row, page by page; `key` identifies rows for the repeated-page guard."""
    params: dict[str, Any] | None = strategy.first()
    previous: list[Any] | None = None
    for _ in range(max_pages):
        assert params is not None
        page = fetch(params)
        ids = [key(row) for row in page.rows]
        if page.rows and ids == previous:
            raise PaginationError(f"the provider returned the same page twice for {what}; stopped paging")
        yield from page.rows
        params = strategy.next(params, page)
        if params is None:
            return
        previous = ids
    raise PaginationError(f"paging {what} did not end after {max_pages} pages; narrow the query")
