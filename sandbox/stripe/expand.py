"""`expand[]`: replace id references by the objects they name (nested paths, list `data.` paths)."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.stripe.errors import invalid_request
from sandbox.stripe.store import JSON, snapshot

# Which fields of which objects may be expanded (Stripe's "expandable" markers for what the sandbox serves).
EXPANDABLE: dict[str, frozenset[str]] = {
    "payment_intent": frozenset({"customer", "latest_charge", "payment_method"}),
    "charge": frozenset({"balance_transaction", "customer", "payment_intent", "failure_balance_transaction"}),
    "refund": frozenset({"balance_transaction", "charge", "payment_intent", "failure_balance_transaction"}),
    "balance_transaction": frozenset({"source"}),
    "payout": frozenset({"balance_transaction", "failure_balance_transaction"}),
    "dispute": frozenset({"charge", "payment_intent"}),
}
MAX_DEPTH = 4


def expand(obj: JSON, paths: list[str], lookup: Callable[[str], JSON | None]) -> JSON:
    """Return `obj` with every path in `paths` expanded (the input is not modified)."""
    result = snapshot(obj)
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH + (1 if result.get("object") == "list" else 0):
            raise invalid_request(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand(result, parts, path, lookup)
    return result


def _expand(node: JSON, parts: list[str], path: str, lookup: Callable[[str], JSON | None]) -> None:
    head, rest = parts[0], parts[1:]
    if node.get("object") == "list" and head == "data" and rest:
        for item in node["data"]:
            _expand(item, rest, path, lookup)
        return
    if head not in EXPANDABLE.get(str(node.get("object")), frozenset()):
        raise invalid_request(f"This property cannot be expanded ({head}).", param="expand")
    value = node.get(head)
    if isinstance(value, str):
        target = lookup(value)
        if target is None:
            return
        value = snapshot(target)
        node[head] = value
    if isinstance(value, dict) and rest:
        _expand(value, rest, path, lookup)
