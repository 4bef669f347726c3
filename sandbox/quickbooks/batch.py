"""POST /batch: up to 30 independent items (create / update / delete / void / query), each with its own
result or Fault, always HTTP 200 once the envelope is valid. `time` appears once, at the top level.
Queries see the books as they were before the batch's writes.
"""

from __future__ import annotations

from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import SPECS, URL_NAMES, Engine
from sandbox.quickbooks.query import run as run_query
from sandbox.quickbooks.wire import QboFault

__all__ = ["MAX_ITEMS", "batch_items", "run_batch"]

MAX_ITEMS = 30
_NOT_ENTITY = frozenset({"bId", "operation", "optionsData", "Query"})


def batch_items(body: Any) -> list[Any]:
    """The item list of a batch body; 2010 when malformed, a fault when over 30 items."""
    if not isinstance(body, dict) or not isinstance(body.get("BatchItemRequest"), list):
        raise faults.invalid_property("Property Name:BatchItemRequest must be a list")
    items: list[Any] = body["BatchItemRequest"]
    if len(items) > MAX_ITEMS:
        raise QboFault(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:BatchItemRequest has {len(items)} items; at most {MAX_ITEMS} are allowed",
            "BatchItemRequest",
        )
    return items


def _one(engine: Engine, item: Any, max_cap: int, default_max: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise faults.invalid_property("Property Name:BatchItemRequest items must be objects")
    if item.get("bId") in (None, ""):
        raise faults.required("bId")
    if "Query" in item:
        return {"QueryResponse": run_query(engine.realm, str(item["Query"]), max_cap, default_max)}
    names = [k for k in item if k not in _NOT_ENTITY]
    if len(names) != 1:
        raise faults.required("operation")
    given = names[0]
    entity = given if given in SPECS else URL_NAMES.get(given.lower(), given)  # CreditCardPayment
    if entity not in SPECS:
        raise faults.unsupported(f"{entity}")
    operation = item.get("operation")
    if operation is None:
        raise faults.required("operation")
    options = str(item.get("optionsData") or "")
    data = engine.write(entity, item[given], str(operation), "allowduplicatedocnum" in options.lower())
    return {entity: data}


def run_batch(
    engine: Engine, items: list[Any], max_cap: int = 1000, default_max: int = 100
) -> list[dict[str, Any]]:
    """Run every item on its own; a failing item gets a Fault next to its bId and the others go on.

    Items are independent: queries run first, on the books as they were before the batch, so one item never
    sees what another creates (Intuit does not order them); writes then run in the order sent.
    """
    results: dict[int, dict[str, Any]] = {}
    order = sorted(
        range(len(items)), key=lambda i: 0 if isinstance(items[i], dict) and "Query" in items[i] else 1
    )
    for index in order:
        item = items[index]
        try:
            result = _one(engine, item, max_cap, default_max)
        except QboFault as fault:
            result = {"Fault": fault.fault()}
        result["bId"] = item.get("bId") if isinstance(item, dict) else None
        results[index] = result
    return [results[i] for i in range(len(items))]
