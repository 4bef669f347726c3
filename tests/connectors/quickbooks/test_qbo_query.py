"""Query building (literal escaping, identifiers) and STARTPOSITION/MAXRESULTS paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.query import (
    PaginationError,
    identifier,
    paginate,
    quote_literal,
    result_rows,
    select,
)
from tests.connectors.quickbooks.qbo_fakes import fixture


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien", r"'O\'Brien'"),
        ("Amy's Bird Sanctuary", r"'Amy\'s Bird Sanctuary'"),
        ("x' OR '1'='1", r"'x\' OR \'1\'=\'1'"),
        ("back\\slash", r"'back\\slash'"),
        ("trailing\\", r"'trailing\\'"),
        ("a\\'b", r"'a\\\'b'"),
        ("", "''"),
        (True, "true"),
        (42, "'42'"),
        (Decimal("300.00"), "'300.00'"),
        (date(2025, 6, 1), "'2025-06-01'"),
        (datetime(2025, 6, 1, 12, 0, 5, 999, tzinfo=UTC), "'2025-06-01T12:00:05+00:00'"),
    ],
)
def test_quote_literal(value, expected):
    assert quote_literal(value) == expected


def test_escaping_matches_the_real_capture():
    # The hotglue capture queried DisplayName in ('Amy\'s Bird Sanctuary') and QBO found the customer.
    sent = fixture("batch_query_customer_escaped_apostrophe.json")["request"]["body"]["BatchItemRequest"][0][
        "Query"
    ]
    assert quote_literal("Amy's Bird Sanctuary") in sent


def _unquote(literal: str) -> list[str]:
    """Tokenise like QBO's lexer (a quoted run with backslash escapes): every literal found."""
    import re

    return [re.sub(r"\\(.)", r"\1", m[1:-1]) for m in re.findall(r"'(?:\\.|[^'\\])*'", literal)]


@pytest.mark.parametrize("value", ["O'Brien", "x' OR '1'='1", "a\\", "\\'", "'; DROP", "it''s"])
def test_literal_is_one_token_and_round_trips(value):
    text = select("Customer").where("DisplayName", "=", value).render()
    assert _unquote(text) == [value]


def test_naive_datetime_refused():
    with pytest.raises(ValueError, match="naive"):
        quote_literal(datetime(2025, 1, 1))


def test_control_characters_are_neutralised():
    assert quote_literal("a\nb") == "'a b'"


@pytest.mark.parametrize("name", ["DisplayName", "MetaData.LastUpdatedTime", "Id"])
def test_identifier_ok(name):
    assert identifier(name) == name


@pytest.mark.parametrize("name", ["Id;", "Id OR 1", "", "1abc", "a b", "Name'", "x--", "*"])
def test_identifier_refused(name):
    with pytest.raises(ValueError, match="not a QuickBooks entity or field name"):
        identifier(name)


def test_builder_renders_qbo_grammar():
    q = (
        select("Invoice", "Id", "DocNumber", "SyncToken")
        .where("DocNumber", "IN", ["A-1", "O'B-2"])
        .where("TotalAmt", ">=", Decimal("10.00"))
        .order_by("MetaData.LastUpdatedTime", descending=True)
    )
    assert q.render(start=1001, max_results=1000) == (
        "SELECT Id, DocNumber, SyncToken FROM Invoice WHERE DocNumber IN ('A-1', 'O\\'B-2') "
        "AND TotalAmt >= '10.00' ORDERBY MetaData.LastUpdatedTime DESC STARTPOSITION 1001 MAXRESULTS 1000"
    )
    assert q.render_count() == (
        "SELECT COUNT(*) FROM Invoice WHERE DocNumber IN ('A-1', 'O\\'B-2') AND TotalAmt >= '10.00'"
    )


@pytest.mark.parametrize(("op", "value"), [("OR", "x"), ("!=", "x"), ("IN", "abc"), ("IN", []), ("=", ["a"])])
def test_builder_refuses_bad_conditions(op, value):
    with pytest.raises(ValueError, match=r"operator|IN needs|single value"):
        select("Customer").where("DisplayName", op, value)


def test_page_bounds():
    with pytest.raises(ValueError, match="MAXRESULTS"):
        select("Customer").render(max_results=1001)
    with pytest.raises(ValueError, match="1-based"):
        select("Customer").render(start=0)


def test_result_rows_currency_alias_and_empty():
    currency = fixture("batch_query_currency.json")["response"]["body"]["BatchItemResponse"][0][
        "QueryResponse"
    ]
    assert [r["Code"] for r in result_rows(currency, "Currency")] == ["GBP", "EUR", "CAD"]
    assert result_rows({}, "Invoice") == []
    empty = fixture("batch_query_invoice_not_found.json")["response"]["body"]["BatchItemResponse"][0]
    assert result_rows(empty["QueryResponse"], "Invoice") == []


class FakeQbo:
    """A query endpoint over `n` rows that honours STARTPOSITION/MAXRESULTS like QBO (1-based)."""

    def __init__(self, n: int, key: str = "Customer", ignore_start: bool = False) -> None:
        self.rows = [{"Id": str(i + 1)} for i in range(n)]
        self.key = key
        self.ignore_start = ignore_start
        self.queries: list[str] = []

    def __call__(self, text: str) -> dict[str, Any]:
        import re

        self.queries.append(text)
        start = int(re.search(r"STARTPOSITION (\d+)", text)[1])  # type: ignore[index]
        size = int(re.search(r"MAXRESULTS (\d+)", text)[1])  # type: ignore[index]
        if self.ignore_start:
            start = 1
        page = self.rows[start - 1 : start - 1 + size]
        if not page:
            return {}
        return {self.key: page, "startPosition": start, "maxResults": len(page)}


@pytest.mark.parametrize(("n", "pages"), [(0, 1), (1, 1), (999, 1), (1000, 2), (2500, 3)])
def test_paginate_reads_everything_once(n, pages):
    fake = FakeQbo(n)
    rows = list(paginate(fake, select("Customer")))
    assert [r["Id"] for r in rows] == [str(i + 1) for i in range(n)]
    assert len(fake.queries) == pages
    assert all("ORDERBY Id" in q for q in fake.queries)
    assert "STARTPOSITION 1 MAXRESULTS 1000" in fake.queries[0]


def test_paginate_under_a_different_result_key():
    fake = FakeQbo(1500, key="CompanyCurrency")
    assert len(list(paginate(fake, select("Currency")))) == 1500


def test_paginate_loop_guard_on_a_server_ignoring_startposition():
    fake = FakeQbo(5000, ignore_start=True)
    with pytest.raises(PaginationError, match="same page"):
        list(paginate(fake, select("Customer")))
    assert len(fake.queries) == 2


def test_paginate_max_pages_guard():
    fake = FakeQbo(5000)
    with pytest.raises(PaginationError, match="did not end"):
        list(paginate(fake, select("Customer"), page_size=10, max_pages=3))


def test_aware_datetimes_of_other_offsets_are_kept():
    pst = timezone(timedelta(hours=-8))
    assert quote_literal(datetime(2025, 1, 1, 4, tzinfo=pst)) == "'2025-01-01T04:00:00-08:00'"
