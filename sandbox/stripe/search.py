"""Stripe's search query language and the `/search` endpoints (customers, payment intents, charges).

A query is clauses joined by `AND` or by `OR` (not both): `field:'value'` (exact, case-insensitive),
`field~'value'` (substring, at least 3 characters), `field>N`, `<`, `>=`, `<=` (numbers and timestamps),
`metadata['key']:'value'`, `field:null`, and `-` before a clause negates it. The answer is a `search_result`
with `next_page` (an opaque cursor for `page`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.stripe.errors import StripeError, invalid_request
from sandbox.stripe.params import JSON, check_known, get_int, get_str
from sandbox.stripe.pipeline import Call, Handler
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>[a-z_][a-z0-9_.]*)(?:\[(?P<q>['"])(?P<key>[^'"]+)(?P=q)\])?\s*
        (?P<op>:|~|>=|<=|>|<)\s*
        (?:(?P<vq>['"])(?P<text>(?:\\.|(?!(?P=vq)).)*)(?P=vq)|(?P<bare>-?[0-9]+(?:\.[0-9]+)?|null))\s*""",
    re.VERBOSE,
)
_JOIN = re.compile(r"\s+(AND|OR)\s+")


@dataclass(frozen=True)
class Clause:
    """One `field op value` test."""

    field: str
    key: str | None
    op: str
    value: str | float | None
    negated: bool

    def matches(self, obj: JSON) -> bool:
        actual = _lookup(obj, self.field, self.key)
        return self._test(actual) != self.negated

    def _test(self, actual: Any) -> bool:
        if self.value is None:
            return actual is None or actual == ""
        if actual is None:
            return False
        if self.op in (">", "<", ">=", "<="):
            if not isinstance(actual, int | float) or isinstance(actual, bool):
                return False
            bound = float(self.value)
            return {">": actual > bound, "<": actual < bound, ">=": actual >= bound, "<=": actual <= bound}[
                self.op
            ]
        text = str(actual).lower()
        wanted = str(self.value).lower() if not isinstance(self.value, float) else _number(self.value)
        if self.op == "~":
            return wanted in text
        return text == wanted


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _lookup(obj: JSON, field: str, key: str | None) -> Any:
    if field == "metadata":
        return obj.get("metadata", {}).get(key or "")
    node: Any = obj
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _syntax_error(query: str) -> StripeError:
    return invalid_request(
        f'We were unable to parse your search query `{query}`. Try using the format `metadata["key"]:'
        '"value"` to query for metadata or key:"value" to query for other fields.',
        param="query",
    )


def parse(query: str, fields: dict[str, str], resource: str) -> tuple[list[Clause], str]:
    """The clauses of `query` and how they join (`AND` / `OR`); one clear 400 for anything else."""
    parts = _JOIN.split(query.strip())
    texts, joins = parts[::2], set(parts[1::2])
    if len(joins) > 1:
        raise invalid_request("Combining AND and OR clauses is not supported.", param="query")
    if len(texts) > 10:
        raise invalid_request("Search queries can have up to 10 clauses.", param="query")
    clauses = []
    for text in texts:
        match = _CLAUSE.fullmatch(text)
        if match is None:
            raise _syntax_error(query)
        field, key, op = match["field"], match["key"], match["op"]
        kind = fields.get(field)
        if kind is None or (field == "metadata") != (key is not None):
            raise invalid_request(
                f"Field `{field}` is an unsupported search field for resource `{resource}`. See "
                f"http://stripe.com/docs/search#query-fields-for-{resource} for a list of supported fields.",
                param="query",
            )
        value: str | float | None
        if match["vq"] is not None:
            value = re.sub(r"\\(.)", r"\1", match["text"])
        elif match["bare"] == "null":
            value = None
        else:
            value = float(match["bare"])
        if op in (">", "<", ">=", "<=") and (kind != "number" or not isinstance(value, float)):
            raise invalid_request(
                f"Field `{field}` does not support the operator `{op}`; it works on numbers only.",
                param="query",
            )
        if op == "~" and (kind != "text" or not isinstance(value, str) or len(value) < 3):
            raise invalid_request(
                f"Substring search (`~`) needs a text field and at least 3 characters: `{text.strip()}`.",
                param="query",
            )
        clauses.append(Clause(field, key, op, value, match["neg"] is not None))
    return clauses, (joins.pop() if joins else "AND")


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(page: str | None) -> int:
    if page is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(page + "=" * (-len(page) % 4)).decode()
        return int(text.removeprefix("offset:")) if text.startswith("offset:") else -1
    except (ValueError, UnicodeDecodeError):
        return -1


def searcher(kind: str, url: str, fields: dict[str, str]) -> Handler:
    """A GET `url` handler searching `kind` objects on `fields` (name -> "text" | "number" | "metadata")."""
    resource = url.split("/")[2]

    def search(state: SandboxState, call: Call) -> JSON:
        check_known(call.params, ("query", "limit", "page"))
        query = get_str(call.params, "query", required=True)
        assert query is not None
        clauses, join = parse(query, fields, resource)
        combine: Callable[[Any], bool] = all if join == "AND" else any
        limit = get_int(call.params, "limit")
        limit = 10 if limit is None else limit
        if not 1 <= limit <= 100:
            raise invalid_request("This value must be between 1 and 100.", param="limit")
        start = _offset(get_str(call.params, "page"))
        if start < 0:
            raise invalid_request("Invalid page: the value is not a next_page of this search.", param="page")
        found = [o for o in state.store.all(kind) if combine(c.matches(o) for c in clauses)]
        page = [snapshot(o) for o in found[start : start + limit]]
        more = start + limit < len(found)
        return {
            "object": "search_result",
            "data": page,
            "has_more": more,
            "next_page": _page_token(start + limit) if more else None,
            "url": url,
        }

    search.__doc__ = f"GET {url}."
    return search


CUSTOMER_FIELDS = {
    "created": "number",
    "email": "text",
    "metadata": "metadata",
    "name": "text",
    "phone": "text",
}
PAYMENT_INTENT_FIELDS = {
    "amount": "number", "created": "number", "currency": "text", "customer": "text", "metadata": "metadata",
    "status": "text",
}  # fmt: skip
CHARGE_FIELDS = {
    "amount": "number", "created": "number", "currency": "text", "customer": "text", "disputed": "text",
    "metadata": "metadata", "payment_method_details.card.last4": "text", "refunded": "text",
    "status": "text",
}  # fmt: skip

ROUTES = [
    ("GET", "/v1/customers/search", searcher("customer", "/v1/customers/search", CUSTOMER_FIELDS)),
    (
        "GET",
        "/v1/payment_intents/search",
        searcher("payment_intent", "/v1/payment_intents/search", PAYMENT_INTENT_FIELDS),
    ),
    ("GET", "/v1/charges/search", searcher("charge", "/v1/charges/search", CHARGE_FIELDS)),
]
