"""The QuickBooks Online API client: one `httpx.Client` per connection, typed errors, layer-1 retries.

    with QuickBooksClient("https://quickbooks.api.intuit.com", realm_id, BearerAuth(tokens)) as qbo:
        invoice = qbo.create("Invoice", body, request_id=make_request_id(integration_id, "invoice", 42, 3))
        for customer in qbo.query_all(select("Customer").where("Active", "=", True)):
            ...

Every call goes to `/v3/company/{realm}/…?minorversion=75` and asks for JSON. Every write carries a
`requestid` (QBO replays the original answer for a repeated one), which is what makes retrying a write safe:
network errors, dropped responses, 5xx and 429 are retried with tenacity (1 s, 2 s, 4 s plus jitter; a 429
waits Retry-After or 60 s), always with the same URL and requestid. Everything else raises at once.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from connectors.kit.auth import TokenSource
from connectors.kit.errors import ProviderError
from connectors.kit.http import ApiClient, Idempotency
from connectors.kit.ratelimit import Limiter, NoLimiter, Pausable
from connectors.kit.retry import RetryPolicy
from connectors.quickbooks import batch as batch_mod
from connectors.quickbooks import cdc as cdc_mod
from connectors.quickbooks.classify import classify
from connectors.quickbooks.codec import dumps
from connectors.quickbooks.errors import (
    BaseURLError,
    NetworkError,
    ServerError,
    ThrottledError,
)
from connectors.quickbooks.query import Select, paginate
from sierra_core.redact import redact_text

__all__ = [
    "DEFAULT_TIMEOUT",
    "MINOR_VERSION",
    "QuickBooksClient",
    "RetryPolicy",
    "make_request_id",
    "validate_base_url",
]

log = logging.getLogger("sierra_sync.qbo")

MINOR_VERSION = 75
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)  # QBO itself gives up on a request after 120 s
GET_QUERY_MAX = 1000  # longer queries go as POST application/text (URLs have limits on the way)
_REQUEST_ID_NAMESPACE = uuid.UUID("6f0e2d3a-5b1c-5e8f-9a47-3c2b1d0e9f11")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Intuit documents the void of these as a sparse update with include=void (`operation=void` is for Invoice
# and the other types); its PHP SDK special-cases payment and salesreceipt the same way.
VOID_BY_UPDATE = frozenset({"Payment", "SalesReceipt", "BillPayment"})


def make_request_id(
    integration_id: object,
    entity_type: str,
    app_id: object,
    version: object,
    operation: str = "upsert",
) -> str:
    """A deterministic QBO `requestid` (a UUIDv5, 36 characters: fits the batch limit too).

    The same (integration, entity type, app id, version, operation) always gives the same id, so a retry,
    a crashed worker's successor or a replayed flow sends the same one and QBO answers with the original.
    Bump `version` (e.g. the app row's updated_at or revision) when the content to write changes.
    """
    name = f"{integration_id}|{entity_type.lower()}|{app_id}|{version}|{operation.lower()}"
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, name))


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash; `BaseURLError` unless https (plain http only for loopback)."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise BaseURLError(
            f"QuickBooks base URL {base_url!r} is malformed; use e.g. https://quickbooks.api.intuit.com"
        ) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise BaseURLError(
            f"QuickBooks base URL {redact_text(base_url)!r} must be an http(s) URL with a host, "
            "e.g. https://quickbooks.api.intuit.com"
        )
    if url.scheme == "http" and not _is_loopback(url.host):
        raise BaseURLError(
            f"QuickBooks base URL {redact_text(base_url)!r} uses plain http; use https "
            "(plain http is only allowed for the local sandbox on 127.0.0.1 / localhost)"
        )
    if url.userinfo or url.query:
        raise BaseURLError("QuickBooks base URL must not carry credentials or a query string")
    return base_url.rstrip("/")


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{kind} {value!r} is not a QuickBooks entity name (letters and digits only)")
    return value


def _check_id(kind: str, value: object) -> str:
    text = str(value)
    if not _ID.match(text):
        raise ValueError(f"{kind} {text!r} is not a valid QuickBooks id")
    return text


def _check_request_id(request_id: str, limit: int = 50) -> str:
    if not request_id or len(request_id) > limit or not request_id.isascii() or not request_id.isprintable():
        raise ValueError(f"requestid must be 1..{limit} printable ASCII characters (see make_request_id)")
    return request_id


class QuickBooksClient(ApiClient):
    """A QBO API client for one company (realm); use it as a context manager (it owns one httpx.Client).

    `auth` is a `BearerAuth`, any `httpx.Auth`, or a `TokenSource` (wrapped in `BearerAuth`).
    `limiter` is entered around every HTTP attempt (see connectors/kit/ratelimit.py); `transport` is for
    tests. Retries, the limiter and classification are the kit's `ApiClient`; requestids travel in the
    query, as Intuit wants them.
    """

    title = "QuickBooks"
    logger = log

    def __init__(
        self,
        base_url: str,
        realm_id: str,
        auth: httpx.Auth | TokenSource,
        *,
        transport: httpx.BaseTransport | None = None,
        minor_version: int = MINOR_VERSION,
        limiter: Limiter | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        self.realm_id = _check_id("realm id", realm_id)
        self.minor_version = minor_version
        super().__init__(
            f"{self.base_url}/v3/company/{self.realm_id}/",
            auth,
            classify=classify,
            network_error=lambda message, request_id: NetworkError(message, request_id=request_id),
            idempotency=Idempotency(query="requestid"),
            retry=retry,
            limiter=limiter if limiter is not None else NoLimiter(),
            transport=transport,
            timeout=timeout,
        )
        self.limiter: Limiter

    def on_retry(self, error: ProviderError, wait: float, attempt_number: int, shown: str) -> None:
        if isinstance(error, ThrottledError) and isinstance(self.limiter, Pausable):
            self.limiter.pause(wait)  # the whole realm goes quiet, not just this request
        super().on_retry(error, wait, attempt_number, shown)

    # ------------------------------------------------------------------ reads

    def read(self, entity: str, entity_id: object) -> dict[str, Any]:
        """`GET /{entity}/{id}`: the object (raises `ObjectNotFoundError` when it does not exist)."""
        name = _check_name("entity", entity)
        oid = _check_id(f"{name} id", entity_id)
        data = self.request("GET", f"{name.lower()}/{oid}", context=f"read {name} {oid}")
        return _entity_of(data, name)

    def query(self, sql: str) -> dict[str, Any]:
        """Run one QBO query; returns its `QueryResponse` (`{}` when nothing matches).

        Build `sql` with `query.select(...)` / `quote_literal`, never by pasting values into text.
        """
        if len(sql) <= GET_QUERY_MAX:
            data = self.request("GET", "query", params={"query": sql}, context="query")
        else:
            data = self.request(
                "POST", "query", content=sql.encode("utf-8"), content_type="application/text", context="query"
            )
        response = data.get("QueryResponse") if isinstance(data, Mapping) else None
        return dict(response) if isinstance(response, Mapping) else {}

    def query_all(
        self, query: Select, *, page_size: int = 1000, max_pages: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        """Every row of `query`, page by page (STARTPOSITION/MAXRESULTS, at most 1000 per page)."""
        return paginate(self.query, query, page_size=page_size, max_pages=max_pages)

    def count(self, query: Select) -> int:
        """`SELECT COUNT(*)` for `query`'s entity and conditions."""
        response = self.query(query.render_count())
        return int(response.get("totalCount", 0))

    def cdc(
        self,
        entities: Sequence[str],
        since: datetime,
        *,
        now: datetime | None = None,
        max_objects: int = cdc_mod.CDC_MAX_OBJECTS,
    ) -> cdc_mod.ChangeSet:
        """Everything changed in `entities` since `since` (see `cdc.changed_since`)."""
        return cdc_mod.changed_since(self, entities, since, now=now, max_objects=max_objects)

    def cdc_page(self, entities: Sequence[str], since: datetime) -> list[dict[str, Any]]:
        """One raw `GET /cdc` call: the list of per-entity `QueryResponse` objects."""
        names = ",".join(_check_name("entity", e) for e in entities)
        data = self.request(
            "GET", "cdc", params={"entities": names, "changedSince": since.isoformat()}, context="cdc"
        )
        return cdc_mod.query_responses(data)

    # ------------------------------------------------------------------ writes

    def create(self, entity: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        """`POST /{entity}` with a new object; returns the object QBO stored (with Id, SyncToken, totals)."""
        name = _check_name("entity", entity)
        data = self.request("POST", name.lower(), json=body, request_id=request_id, context=f"create {name}")
        return _entity_of(data, name)

    def update(
        self, entity: str, body: Mapping[str, Any], request_id: str, *, sparse: bool = True
    ) -> dict[str, Any]:
        """`POST /{entity}` with `Id` + `SyncToken` (sparse by default: only the fields sent change).

        A stale SyncToken raises `StaleObjectError`; re-read and apply the conflict policy.
        """
        name = _check_name("entity", entity)
        if not body.get("Id") or body.get("SyncToken") is None:
            raise ValueError(f"update {name}: the body needs Id and SyncToken (read the object first)")
        payload = {**body, "sparse": sparse}
        data = self.request(
            "POST", name.lower(), json=payload, request_id=request_id, context=f"update {name} {body['Id']}"
        )
        return _entity_of(data, name)

    def delete(self, entity: str, entity_id: object, sync_token: str, request_id: str) -> dict[str, Any]:
        """`POST /{entity}?operation=delete`; returns QBO's marker `{"status": "Deleted", "Id": …}`."""
        return self._operation("delete", entity, entity_id, sync_token, request_id)

    def void(self, entity: str, entity_id: object, sync_token: str, request_id: str) -> dict[str, Any]:
        """Void a transaction the way Intuit documents it for its type; returns the voided object.

        Payment, SalesReceipt and BillPayment: `POST /{entity}?operation=update&include=void` with a sparse
        body; the others (Invoice, ...): `POST /{entity}?operation=void`.
        """
        if _check_name("entity", entity) in VOID_BY_UPDATE:
            return self._operation("update", entity, entity_id, sync_token, request_id, include="void")
        return self._operation("void", entity, entity_id, sync_token, request_id)

    def _operation(
        self,
        operation: str,
        entity: str,
        entity_id: object,
        sync_token: str,
        request_id: str,
        include: str | None = None,
    ) -> dict[str, Any]:
        name = _check_name("entity", entity)
        oid = _check_id(f"{name} id", entity_id)
        params = {"operation": operation}
        body: dict[str, Any] = {"Id": oid, "SyncToken": str(sync_token)}
        if include is not None:
            params["include"] = include
            body["sparse"] = True
        data = self.request(
            "POST",
            name.lower(),
            params=params,
            json=body,
            request_id=request_id,
            context=f"{include or operation} {name} {oid}",
        )
        return _entity_of(data, name)

    def batch(
        self, items: Sequence[batch_mod.BatchItem], *, request_id: str | None = None
    ) -> list[batch_mod.BatchResult]:
        """Run `items` as `POST /batch` requests of at most 30; one `BatchResult` per item, in order.

        Each chunk's requestid is derived from `request_id` (or from the items) so a retried chunk replays.
        """
        results: list[batch_mod.BatchResult] = []
        for index, chunk in enumerate(batch_mod.chunks(items)):
            rid = batch_mod.chunk_request_id(chunk, request_id, index)
            data = self.request(
                "POST",
                "batch",
                json=batch_mod.request_body(chunk),
                request_id=rid,
                batch=True,
                context=f"batch of {len(chunk)}",
            )
            results.extend(batch_mod.parse_response(chunk, data, request_id=rid))
        return results

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
        batch: bool = False,
        context: str = "",
    ) -> Any:
        """One API call under `/v3/company/{realm}/`, with retries; the parsed JSON or a `QuickBooksError`.

        Writes (POST) must carry `request_id`: retrying them is only safe because QBO replays by it.
        """
        # Queries (and batches of queries only) are reads sent as POST; every other POST is a write.
        if method.upper() != "GET" and path not in ("query", "batch") and request_id is None:
            raise ValueError(f"{context or path}: every QuickBooks write needs a requestid (make_request_id)")
        query: dict[str, str] = {"minorversion": str(self.minor_version)}
        query.update(params or {})
        if request_id is not None:
            _check_request_id(request_id, 36 if batch else 50)
        if json is not None:
            content = dumps(json)
            content_type = "application/json"
        return self.send(
            method,
            path,
            params=query,
            content=content,
            content_type=content_type,
            idempotency_key=request_id,
            batch=batch,
            context=context,
        )

    def shown(self, method: str, path: str, params: Mapping[str, str]) -> str:
        # Only the query string can carry free text; the realm and path are validated ids (and a 16-digit
        # realm id would otherwise be masked as a card number).
        query = redact_text("&".join(f"{k}={v}" for k, v in params.items()))
        return f"{method} {self.base_url}/v3/company/{self.realm_id}/{path}?{query}"


def _entity_of(data: Any, entity: str) -> dict[str, Any]:
    """The object in `{"Invoice": {...}, "time": ...}` (key matched case-insensitively)."""
    if isinstance(data, Mapping):
        if isinstance(data.get(entity), Mapping):
            return dict(data[entity])
        for key, value in data.items():
            if key.lower() == entity.lower() and isinstance(value, Mapping):
                return dict(value)
        objects = [v for k, v in data.items() if k != "time" and isinstance(v, Mapping)]
        if len(objects) == 1:
            return dict(objects[0])
    raise ServerError(
        f"QuickBooks answered without the {entity} object; the answer may have been cut off; try again."
    )
