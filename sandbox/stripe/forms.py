"""Decode Stripe's form encoding: `metadata[invoice_id]=7`, `expand[]=x`, `expand[0]=x`, `a[b][c]=1`.

The result is a tree of dicts, lists and strings. Lists come from `key[]` or from all-integer keys
(`expand[0]`, `expand[1]`: what the official SDKs send); `metadata` keeps its keys, even numeric ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from sandbox.stripe.errors import StripeError, invalid_request

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_KEEP_KEYS = frozenset({"metadata"})


def parse_query(raw: bytes | str) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` body or query string."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return decode_pairs(parse_qsl(text, keep_blank_values=True))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Build the nested parameter tree from flat `(key, value)` pairs."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise invalid_request(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        _insert(root, parts, value, key)
    return {name: _listify(name, node) for name, node in root.items()}


def _insert(node: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        if isinstance(node.get(head), dict | list):
            raise _conflict(key)
        node[head] = value
        return
    if rest[0] == "" and len(rest) == 1:  # key[]=v appends
        existing = node.setdefault(head, [])
        if not isinstance(existing, list):
            raise _conflict(key)
        existing.append(value)
        return
    if rest[0] == "":
        raise invalid_request(f"Invalid array: {key}", param=key)
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise _conflict(key)
    _insert(child, rest, value, key)


def _listify(name: str, node: Any) -> Any:
    if isinstance(node, list):
        return [_listify("", item) for item in node]
    if not isinstance(node, dict):
        return node
    if name not in _KEEP_KEYS and node and all(k.isdigit() for k in node):
        return [_listify("", node[k]) for k in sorted(node, key=int)]
    return {k: _listify(k, v) for k, v in node.items()}


def _conflict(key: str) -> StripeError:
    return invalid_request(f"Invalid hash: {key} is given both as a value and as a nested object", param=key)
