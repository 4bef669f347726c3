"""The Xero Accounting API client on the kit's `ApiClient`: one organisation (tenant) per client.

    with XeroClient(app.api_base_url, tenant_id, token_source, limiter=xero_limiter(tenant_id)) as xero:
        for invoice in xero.pull("Invoices", modified_since=last_pull, where='Type=="ACCREC"'):
            ...
        outcomes = xero.save("Invoices", [BatchRecord(str(row.id), invoice_payload, row.version)])

Every request carries `xero-tenant-id`; writes carry an `Idempotency-Key` (Xero answers a repeated key with
the first answer), so a retried or re-run write never makes a second document. Reads page with `page=N`
(100 a page, a short page is the last) and pull changes with If-Modified-Since. Batch writes go 50 records a
request with `summarizeErrors=false`: each element comes back saved or with its ValidationErrors.

Budgets (the declaration's Rate): 60 calls a minute and 5 at a time per organisation, 10,000 a minute per
app (the limiter), 5,000 a day per organisation: the remaining count Xero reports is watched, and once it
is spent (or a 429 says `day`) the rest of a batch comes back as `DailyBudgetExhausted` outcomes for the
next UTC day, never as failures.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from connectors.kit.auth import TokenSource
from connectors.kit.errors import ProviderError
from connectors.kit.http import ApiClient, Idempotency
from connectors.kit.pagination import Page, PageNumbers, paginate
from connectors.kit.ratelimit import ChainedLimiter, Limiter, Limits, Pausable, shared_limiter
from connectors.kit.retry import RetryPolicy
from connectors.xero.classify import RateRemaining, classify, next_utc_day, validation_messages
from connectors.xero.codec import dumps
from connectors.xero.errors import DailyLimitError, NetworkError, ThrottledError, ValidationError, XeroError
from connectors.xero.outcomes import BatchRecord, DailyBudgetExhausted, Outcome, Rejected, Saved
from connectors.xero.provider import XERO

__all__ = [
    "BATCH_SIZE",
    "PAGED",
    "PAGE_SIZE",
    "XeroClient",
    "idempotency_key",
    "xero_limiter",
]

log = logging.getLogger("sierra_sync.xero")

PAGE_SIZE = 100
BATCH_SIZE = 50
# The collections Xero pages (page=N); the others answer whole.
PAGED = frozenset({"Contacts", "Invoices", "Payments", "BankTransactions", "CreditNotes", "ManualJournals"})
_ID_FIELD = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "Payments": "PaymentID",
    "BankTransactions": "BankTransactionID",
    "Items": "ItemID",
    "Accounts": "AccountID",
    "TaxRates": "TaxType",
    "TrackingCategories": "TrackingCategoryID",
}
_KEY_NAMESPACE = uuid.UUID("b0f3f0a4-6a51-5c57-9d43-2f7d1c1e0a22")
VOIDABLE = {"AUTHORISED": "VOIDED", "DRAFT": "DELETED", "SUBMITTED": "DELETED"}


def idempotency_key(tenant_id: str, resource: str, records: Sequence[BatchRecord], operation: str) -> str:
    """A deterministic Idempotency-Key for writing `records` (their keys and versions) to `resource`."""
    parts = "|".join(sorted(f"{r.key}@{r.version}" for r in records))
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{tenant_id}|{resource}|{operation}|{parts}"))


def xero_limiter(tenant_id: str, *, engine: Engine | None = None) -> ChainedLimiter:
    """The organisation's budget (60 a minute, 5 at a time; shared with other workers through `engine`),
    then the app's (10,000 a minute), as the declaration states them."""
    tenant = shared_limiter(tenant_id, engine=engine, limits=Limits.from_rate(XERO.rate))
    app_limits = Limits.app_from_rate(XERO.rate)
    assert app_limits is not None
    return ChainedLimiter(tenant, shared_limiter("xero-app", limits=app_limits))


def _id_field(resource: str) -> str:
    try:
        return _ID_FIELD[resource]
    except KeyError:
        raise ValueError(f"{resource!r} is not a Xero collection this client knows") from None


class XeroClient(ApiClient):
    """The Accounting API of one Xero organisation; use it as a context manager."""

    title = "Xero"
    logger = log

    def __init__(
        self,
        base_url: str,
        tenant_id: str,
        auth: httpx.Auth | TokenSource,
        *,
        limiter: Limiter | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not tenant_id.strip():
            raise ValueError("a Xero client needs the organisation's tenant id (xero-tenant-id)")
        self.tenant_id = tenant_id
        self.clock = clock
        self.remaining: RateRemaining | None = None
        self.resume_at: datetime | None = None  # set once the daily allowance is known to be spent
        super().__init__(
            base_url.rstrip("/") + "/",
            auth,
            classify=self._classify,
            network_error=lambda message, key: NetworkError(message, request_id=key),
            idempotency=Idempotency(header="Idempotency-Key"),
            retry=retry,
            limiter=limiter,
            transport=transport,
            timeout=timeout,
            headers={"xero-tenant-id": tenant_id},
        )

    # ------------------------------------------------------------------ plumbing

    def _classify(
        self, status: int, headers: httpx.Headers, body: bytes, *, context: str, request_id: str | None
    ) -> Any:
        remaining = RateRemaining.from_headers(headers)
        if remaining is not None:
            self.remaining = remaining
            if remaining.day is not None and remaining.day <= 0:
                self.resume_at = next_utc_day(self.clock())
        try:
            return classify(status, headers, body, context=context, request_id=request_id, now=self.clock)
        except DailyLimitError as err:
            self.resume_at = err.resume_at
            raise

    def on_retry(self, error: ProviderError, wait: float, attempt_number: int, shown: str) -> None:
        if isinstance(error, ThrottledError):
            limiters = getattr(self.limiter, "limiters", (self.limiter,))
            target = limiters[-1] if error.problem == "appminute" else limiters[0]
            if isinstance(target, Pausable):
                target.pause(wait)  # the organisation (or the whole app) goes quiet, not just this request
        super().on_retry(error, wait, attempt_number, shown)

    def _check_day(self, what: str) -> None:
        if self.resume_at is not None and self.clock() < self.resume_at:
            raise DailyLimitError(
                f"Xero {what}: not sent, this organisation's daily allowance of Xero calls is spent; it "
                f"waits until {self.resume_at:%Y-%m-%d %H:%M} UTC (nothing failed)",
                resume_at=self.resume_at,
                problem="day",
            )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        modified_since: datetime | None = None,
        idempotency_key: str | None = None,
        context: str,
    ) -> Any:
        """One request with the daily allowance checked first; JSON bodies are written with exact money."""
        self._check_day(context)
        headers: dict[str, str] = {}
        if modified_since is not None:
            headers["If-Modified-Since"] = modified_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if body is not None:
            content, content_type = dumps(body), "application/json"
        return self.send(
            method,
            path,
            params=params,
            content=content,
            content_type=content_type,
            headers=headers,
            idempotency_key=idempotency_key,
            context=context,
        )

    # ------------------------------------------------------------------ reads

    def pull(
        self,
        resource: str,
        *,
        modified_since: datetime | None = None,
        where: str | None = None,
        order: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every `resource` document changed since `modified_since` (all when None), filtered by Xero's
        `where` and sorted by its `order`; paged 100 at a time where Xero pages."""
        id_field = _id_field(resource)
        query = dict(params or {})
        if where:
            query["where"] = where
        if order:
            query["order"] = order

        def fetch(page_params: dict[str, Any]) -> Page:
            answer = self.call(
                "GET",
                resource,
                params={**query, **{k: str(v) for k, v in page_params.items()}},
                modified_since=modified_since,
                context=f"list {resource}",
            )
            rows = answer.get(resource) if isinstance(answer, Mapping) else None
            return Page(rows=list(rows or []))

        if resource not in PAGED:
            for row in fetch({}).rows:
                yield dict(row)
            return
        pages = paginate(
            fetch, PageNumbers(PAGE_SIZE), what=f"Xero {resource}", key=lambda row: row.get(id_field)
        )
        for row in pages:
            yield dict(row)

    def journals(
        self, offset: int | None = None, *, modified_since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One page of the general ledger's journals: those numbered above `offset` (and created since
        `modified_since`), oldest first, at most 100 (a full page: ask again from its last number)."""
        params = {"offset": str(offset)} if offset is not None else None
        answer = self.call(
            "GET", "Journals", params=params, modified_since=modified_since, context="list Journals"
        )
        rows = answer.get("Journals") if isinstance(answer, Mapping) else None
        return [dict(row) for row in rows or []]

    def get(self, resource: str, xero_id: str) -> dict[str, Any]:
        """One document by its id (`NotFoundError` when it does not exist)."""
        answer = self.call("GET", f"{resource}/{xero_id}", context=f"read {resource} {xero_id}")
        rows = answer.get(resource) if isinstance(answer, Mapping) else None
        if not rows:
            raise XeroError(f"Xero read {resource} {xero_id}: the answer holds no {resource}")
        return dict(rows[0])

    # ------------------------------------------------------------------ batch writes

    def save(
        self, resource: str, records: Sequence[BatchRecord], *, batch_size: int = BATCH_SIZE
    ) -> list[Outcome]:
        """Create or update `records` (POST, `summarizeErrors=false`), `batch_size` a request; one outcome
        per record, in order. The daily allowance running out defers the rest (`DailyBudgetExhausted`);
        other errors that retries did not cure are raised (the caller's run fails and is retried)."""
        id_field = _id_field(resource)
        outcomes: list[Outcome] = []
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            try:
                outcomes.extend(self._save_chunk(resource, id_field, chunk))
            except DailyLimitError as err:
                rest = records[start:]
                log.warning(
                    "Xero daily limit for organisation %s: %d %s deferred to %s",
                    self.tenant_id,
                    len(rest),
                    resource,
                    err.resume_at.isoformat(),
                )
                outcomes.extend(DailyBudgetExhausted(r.key, err.resume_at, err.message) for r in rest)
                break
        return outcomes

    def _save_chunk(self, resource: str, id_field: str, chunk: Sequence[BatchRecord]) -> list[Outcome]:
        key = idempotency_key(self.tenant_id, resource, chunk, "save")
        try:
            answer = self.call(
                "POST",
                resource,
                params={"summarizeErrors": "false"},
                body={resource: [dict(r.payload) for r in chunk]},
                idempotency_key=key,
                context=f"save {len(chunk)} {resource}",
            )
        except ValidationError as err:
            if len(err.elements) == len(chunk):
                return [_outcome(r, e, id_field) for r, e in zip(chunk, err.elements, strict=True)]
            return [Rejected(r.key, (err.message,), err.code or "validation") for r in chunk]
        documents = answer.get(resource) if isinstance(answer, Mapping) else None
        if not isinstance(documents, list) or len(documents) != len(chunk):
            raise XeroError(
                f"Xero save {resource}: the answer holds {len(documents or [])} documents for {len(chunk)} "
                "records; nothing can be matched, run the sync again (the same Idempotency-Key is sent)",
                request_id=key,
            )
        return [_outcome(r, d, id_field) for r, d in zip(chunk, documents, strict=True)]

    # ------------------------------------------------------------------ single-document operations

    def void_invoice(self, invoice: Mapping[str, Any], version: int | str = 1) -> dict[str, Any]:
        """End an invoice as Xero allows: AUTHORISED → VOIDED, DRAFT or SUBMITTED → DELETED. A paid (or
        part-paid) invoice cannot be voided until its payments are removed."""
        invoice_id, status = str(invoice["InvoiceID"]), str(invoice.get("Status", ""))
        if status in ("VOIDED", "DELETED"):
            return dict(invoice)
        target = VOIDABLE.get(status)
        if target is None or invoice.get("AmountPaid") not in (None, 0):
            number = invoice.get("InvoiceNumber") or invoice_id
            raise ValidationError(
                f"Xero invoice {number} is {status or 'in an unknown state'} with payments applied; remove "
                "its payments in Xero (or in the app) before voiding it"
            )
        record = BatchRecord(invoice_id, {"InvoiceID": invoice_id, "Status": target}, version)
        answer = self.call(
            "POST",
            f"Invoices/{invoice_id}",
            body={"Invoices": [dict(record.payload)]},
            idempotency_key=idempotency_key(self.tenant_id, "Invoices", [record], target.lower()),
            context=f"{target.lower()} invoice {invoice_id}",
        )
        return dict(answer["Invoices"][0])

    def delete_payment(self, payment_id: str, version: int | str = 1) -> dict[str, Any]:
        """Delete (reverse) a payment: Xero's way to undo one."""
        record = BatchRecord(payment_id, {"Status": "DELETED"}, version)
        answer = self.call(
            "POST",
            f"Payments/{payment_id}",
            body={"Payments": [dict(record.payload)]},
            idempotency_key=idempotency_key(self.tenant_id, "Payments", [record], "delete"),
            context=f"delete payment {payment_id}",
        )
        return dict(answer["Payments"][0])

    def attach_invoice_pdf(
        self, invoice_id: str, file_name: str, pdf: bytes, *, include_online: bool = True
    ) -> dict[str, Any]:
        """PUT the invoice's PDF as an attachment (shown on the online invoice when `include_online`)."""
        if not pdf.startswith(b"%PDF"):
            raise ValueError(f"{file_name} is not a PDF (it does not start with %PDF)")
        safe_name = file_name.replace("/", "_").strip() or "invoice.pdf"
        digest = hashlib.sha256(pdf).hexdigest()
        answer = self.call(
            "PUT",
            f"Invoices/{invoice_id}/Attachments/{safe_name}",
            params={"IncludeOnline": "true" if include_online else "false"},
            content=pdf,
            content_type="application/pdf",
            idempotency_key=str(uuid.uuid5(_KEY_NAMESPACE, f"{self.tenant_id}|attach|{invoice_id}|{digest}")),
            context=f"attach {safe_name} to invoice {invoice_id}",
        )
        return dict(answer["Attachments"][0])

    def add_tracking_option(self, category_id: str, name: str) -> dict[str, Any]:
        """Add an option (a project) to a tracking category."""
        record = BatchRecord(name, {"Name": name})
        answer = self.call(
            "PUT",
            f"TrackingCategories/{category_id}/Options",
            body=dict(record.payload),
            idempotency_key=idempotency_key(self.tenant_id, "TrackingOptions", [record], category_id),
            context=f"add tracking option {name!r}",
        )
        return dict(answer["Options"][0])


def _outcome(record: BatchRecord, document: Mapping[str, Any], id_field: str) -> Outcome:
    messages = tuple(validation_messages(document.get("ValidationErrors")))
    if document.get("StatusAttributeString") == "ERROR" or messages or document.get("HasErrors"):
        return Rejected(record.key, messages or ("Xero refused the record without a message",))
    xero_id = str(document.get(id_field) or "")
    if not xero_id:
        return Rejected(record.key, (f"Xero answered without {id_field}",), "no_id")
    return Saved(record.key, xero_id, created=not record.payload.get(id_field), document=dict(document))
