"""Accounting-API paths that are not plain entity endpoints: `/preferences` (no id), `/exchangerate?...`,
`/taxservice/taxcode`, `/upload` (multipart), `/download/{id}` (a URL as text).

A module registers a `Resource` under the first path segment after the realm; the app asks it before the
entity routes. A handler answers a `Response`, raises a `QboFault`, or returns None to let the generic entity
route handle the request (e.g. `POST /preferences` is an ordinary update).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.quickbooks.entities import Engine
from sandbox.quickbooks.http import Request, Response

__all__ = ["RESOURCES", "Call", "Resource", "raw_body", "register_resource"]


@dataclass
class Call:
    """One request to a registered resource."""

    engine: Engine
    req: Request
    item_id: str | None  # the path segment after the resource, if any
    body: Any  # the JSON body (None for raw-body resources and GETs)
    base_url: str  # this sandbox as the client reached it (for URLs the response hands out)


Handler = Callable[[Call], "Response | None"]


@dataclass(frozen=True)
class Resource:
    """A handler and whether it reads the request body itself (not JSON)."""

    handler: Handler
    raw_body: bool = False


RESOURCES: dict[str, Resource] = {}


def register_resource(segment: str, handler: Handler, raw_body: bool = False) -> None:
    """Serve `/v3/company/{realm}/{segment}[/...]` with `handler` (segment compared lower-case)."""
    RESOURCES[segment.lower()] = Resource(handler, raw_body)


def raw_body(segment: str) -> bool:
    """Whether the resource parses its own body (the app must not parse it as JSON)."""
    found = RESOURCES.get(segment)
    return found is not None and found.raw_body
