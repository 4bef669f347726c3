"""List envelopes (`object: "list"`, `data`, `has_more`, `url`), cursors, limits and `created` filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.stripe.errors import invalid_request, resource_missing
from sandbox.stripe.params import JSON, get_int, get_str

PAGING_PARAMS = ("limit", "starting_after", "ending_before")
_RANGE_OPS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda v, b: v > b,
    "gte": lambda v, b: v >= b,
    "lt": lambda v, b: v < b,
    "lte": lambda v, b: v <= b,
}


def envelope(data: list[JSON], url: str, has_more: bool = False) -> JSON:
    """A list object as Stripe returns it."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def paginate(items: list[JSON], params: JSON, url: str, kind: str) -> JSON:
    """Cut one page out of `items` (newest first) with `limit`, `starting_after` and `ending_before`."""
    limit = get_int(params, "limit")
    if limit is None:
        limit = 10
    if limit < 1 or limit > 100:
        raise invalid_request("This value must be between 1 and 100.", param="limit")
    after = get_str(params, "starting_after")
    before = get_str(params, "ending_before")
    if after and before:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    ids = [item["id"] for item in items]
    if after is not None:
        if after not in ids:
            raise resource_missing(kind, after, "starting_after")
        start = ids.index(after) + 1
        page = items[start : start + limit]
        return envelope(page, url, start + limit < len(items))
    if before is not None:
        if before not in ids:
            raise resource_missing(kind, before, "ending_before")
        end = ids.index(before)
        start = max(end - limit, 0)
        return envelope(items[start:end], url, start > 0)
    return envelope(items[:limit], url, len(items) > limit)


def time_filter(params: JSON, name: str = "created") -> Callable[[int], bool]:
    """A predicate for `created=<ts>` or `created[gte]=…&created[lt]=…`."""
    raw: Any = params.get(name)
    if raw is None or raw == "":
        return lambda _value: True
    if isinstance(raw, str):
        exact = get_int(params, name)
        return lambda value: value == exact
    if not isinstance(raw, dict):
        raise invalid_request(f"Invalid {name}", param=name)
    checks: list[tuple[Callable[[int, int], bool], int]] = []
    for op, text in raw.items():
        compare = _RANGE_OPS.get(op)
        if compare is None:
            raise invalid_request(f"Received unknown parameter: {name}[{op}]", param=f"{name}[{op}]")
        try:
            bound = int(text)
        except (TypeError, ValueError):
            raise invalid_request(f"Invalid integer: {text}", param=f"{name}[{op}]") from None
        checks.append((compare, bound))
    return lambda value: all(compare(value, bound) for compare, bound in checks)
