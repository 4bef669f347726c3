"""Xero behind the neutral engine's `AccountingAdapter`: mapping both ways, lookups before create, batch
saves, the change feed, voids and deletes, error classification and the daily budget, over
`connectors.xero`'s client.

App entity -> Xero resource: customer -> Contacts (found by Name), invoice -> Invoices ACCREC (by
InvoiceNumber), payment -> Payments (no natural key: always created; undone by deleting), expense ->
BankTransactions SPEND (by Reference). Lookups are one request per entity type for up to 100 records
(`InvoiceNumbers=` / `IDs=` where Xero takes them, else one `where` of ORed conditions); writes go 100 to
a request with `summarizeErrors=false` (one bad record never hides the others), the next one in flight
while the engine records the last. The change feed of an incremental pull (`changes_from`) is one read of
Xero's Journals since the last journal number seen: every posted change (an invoice authorised, edited or
voided, a payment, a bank transaction) writes journals, and their SourceTypes say which collections to
read again with If-Modified-Since; what journals do not see (contacts, drafts) Xero's webhooks flag; and
every `full_sweep_minutes` every collection is read anyway, so nothing waits longer than that even without
webhooks. An idle incremental sync costs one request. Xero has no version number: a document's
UpdatedDateUTC is its version token. A spent daily allowance is never a failure: the records wait until
the next UTC day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.accounting.adapter import (
    Change,
    ChangeFeed,
    DocMeta,
    Document,
    ErrorKind,
    Found,
    Lookup,
    RefResolver,
    RequestCounter,
    Write,
    WriteResult,
)
from connectors.xero import mapping
from connectors.xero.client import PAGE_SIZE, PAGED, XeroClient
from connectors.xero.codec import parse_date, parse_datetime
from connectors.xero.errors import DailyLimitError, ValidationError, XeroError
from connectors.xero.outcomes import BatchRecord, DailyBudgetExhausted, Rejected
from connectors.xero.settings import XeroSettings

__all__ = [
    "CATEGORY_TYPES",
    "JOURNAL_SOURCES",
    "LOOKUP_CHUNK",
    "RESOURCES",
    "WRITE_CHUNK",
    "Resource",
    "XeroSyncAdapter",
]

LOOKUP_CHUNK = 100  # conditions per `where` (one request per entity type for a 100-record push)
WRITE_CHUNK = 100  # documents per batch save


@dataclass(frozen=True)
class Resource:
    name: str  # the Accounting API collection
    id_field: str
    key_field: str | None  # the natural key looked up before a create
    kind: str | None = None  # the Type the app's documents have there (ACCREC, SPEND)
    keys_param: str | None = None  # the list filter taking natural keys (shorter than a `where`)
    ids_param: bool = False  # whether the collection takes `IDs=`


RESOURCES = {
    "customer": Resource("Contacts", "ContactID", "Name", ids_param=True),
    "invoice": Resource("Invoices", "InvoiceID", "InvoiceNumber", "ACCREC", "InvoiceNumbers", ids_param=True),
    "payment": Resource("Payments", "PaymentID", None),
    "expense": Resource("BankTransactions", "BankTransactionID", "Reference", "SPEND"),
}
# The entity types to read again when a journal of this SourceType was written (an invoice's payment
# changes the invoice's AmountDue and Status; a new invoice may name a contact created with it).
JOURNAL_SOURCES: dict[str, tuple[str, ...]] = {
    "ACCREC": ("invoice", "customer"),
    "ACCRECPAYMENT": ("payment", "invoice"),
    "ARCREDITPAYMENT": ("payment", "invoice"),
    "ARPREPAYMENT": ("payment",),
    "AROVERPAYMENT": ("payment",),
    "ACCPAYPAYMENT": ("payment",),
    "CASHPAID": ("expense",),
    "EXTERNALSPENDMONEY": ("expense",),
}
# The entity types a Xero webhook event's category flags (journals never see contacts or drafts).
CATEGORY_TYPES: dict[str, tuple[str, ...]] = {"CONTACT": ("customer",), "INVOICE": ("invoice", "customer")}
# What a change to a document's state is, besides an edit of its fields.
_DELETED = {"DELETED"}
_VOIDED = {"VOIDED"}
# Lists Xero keeps one entry per type of (its phones, its addresses): matched by type, not by position.
_TYPED = ("PhoneType", "AddressType")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _same(ours: Any, theirs: Any) -> bool:
    """Does Xero's value (its JSON) say what the mapped app value says?"""
    if isinstance(ours, Mapping):
        return isinstance(theirs, Mapping) and all(_same(v, theirs.get(k)) for k, v in ours.items())
    if isinstance(ours, list | tuple) and ours and all(isinstance(o, Mapping) for o in ours):
        kind = next((k for k in _TYPED if all(k in o for o in ours)), None)
        if kind is not None:
            theirs_by = {t.get(kind): t for t in theirs or [] if isinstance(t, Mapping)}
            return all(_same(o, theirs_by.get(o[kind])) for o in ours)
    if isinstance(ours, list | tuple):
        return (
            isinstance(theirs, list | tuple)
            and len(ours) == len(theirs)
            and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    if isinstance(ours, bool) or ours is None:
        return bool(ours == theirs)
    if isinstance(ours, Decimal | int):
        try:
            return theirs is not None and Decimal(str(theirs)) == Decimal(ours)
        except InvalidOperation:
            return False
    if isinstance(ours, date):
        try:
            return parse_date(theirs) == ours
        except ValueError:
            return False
    return str(ours) == ("" if theirs is None else str(theirs))


class XeroSyncAdapter:
    """One Xero organisation (its client and settings) as an `AccountingAdapter`."""

    title = "Xero"
    event_id_field = "xero_id"
    missing_code = "xero_record_missing"
    write_chunk = WRITE_CHUNK
    pipelined_writes = True  # Xero takes 5 requests at a time per organisation; the engine uses 2
    splits_payments = False  # a Xero payment pays one invoice; its ids are UUIDs, dashes included

    def __init__(self, client: XeroClient, settings: XeroSettings) -> None:
        self.client = client
        self.settings = settings

    # ------------------------------------------------------------------ names and keys

    def entity_name(self, entity_type: str) -> str:
        return RESOURCES[entity_type].name

    def lookup_value(self, entity_type: str, row: Any) -> str | None:
        if entity_type == "customer":
            return str(row.display_name)[:255]
        if entity_type == "invoice":
            return str(row.invoice_number)
        if entity_type == "expense":
            ref = (row.reference_number or "").strip()
            return ref[:255] or None
        return None

    def duplicate_code(self, entity_type: str) -> str:
        return "duplicate_name" if entity_type == "customer" else "duplicate_number"

    def meta(self, entity_type: str, document: Mapping[str, Any]) -> DocMeta:
        res = RESOURCES[entity_type]
        status = str(document.get("Status") or document.get("ContactStatus") or "")
        token = document.get("UpdatedDateUTC")
        return DocMeta(
            str(document.get(res.id_field) or ""),
            str(token) if token else None,
            parse_datetime(token),
            deleted=status in _DELETED,
            voided=status in _VOIDED,
        )

    def describe(self, entity_type: str, document: Mapping[str, Any]) -> str:
        if entity_type == "customer" and document.get("Name"):
            return f"Customer '{document['Name']}'"
        if entity_type == "invoice" and document.get("InvoiceNumber"):
            return f"Invoice #{document['InvoiceNumber']}"
        res = RESOURCES[entity_type]
        return f"Xero {res.name[:-1]} {document.get(res.id_field)}"

    # ------------------------------------------------------------------ mapping

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        if entity_type == "customer":
            return mapping.contact_to_xero(row)
        if entity_type == "invoice":
            label = f"Invoice #{row.invoice_number}"
            return mapping.invoice_to_xero(row, refs.customer(label, row.customer_id), self.settings)
        if entity_type == "payment":
            label = f"Payment of {row.amount} on {row.payment_date}"
            invoice_id = refs.invoice(label, row.invoice_id)
            if invoice_id is None:
                raise mapping.MappingError(
                    f"Xero sync failed: {label} pays no invoice; Xero records a payment only against an "
                    "invoice. Choose its invoice in the app, then run replay-failed for this company.",
                    code="missing_invoice",
                )
            return mapping.payment_to_xero(row, invoice_id, self.settings)
        if entity_type == "expense":
            return mapping.expense_to_xero(row, self.settings)
        raise ValueError(f"Xero has no mapping for entity type {entity_type!r}")

    def from_external(
        self, entity_type: str, document: Mapping[str, Any], current: Any = None
    ) -> dict[str, Any]:
        if entity_type == "customer":
            values = mapping.contact_from_xero(document)
            if current is not None:
                values.pop("contact_type", None)  # the app's own classification stays
            return values
        if entity_type == "invoice":
            values = mapping.invoice_from_xero(document)
            if current is not None:  # an organisation without multi-currency answers in its base currency
                values.pop("currency", None)
            return values
        if entity_type == "payment":
            values = mapping.payment_from_xero(document)
            values.pop("invoice_xero_id", None)
            if current is None:  # Xero's payments name no method; the app's column needs one
                values["method"] = "other"
            return values
        if entity_type == "expense":
            return self._expense_values(document)
        raise ValueError(f"Xero documents of entity type {entity_type!r} are not read into the app")

    @staticmethod
    def _expense_values(document: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {"amount": Decimal(str(document.get("Total") or "0"))}
        when = parse_date(document.get("Date"))
        if when is not None:
            values["expense_date"] = when
        if document.get("Reference"):
            values["reference_number"] = str(document["Reference"])
        return values

    def sparse_update(
        self, entity_type: str, body: Mapping[str, Any], current: Mapping[str, Any]
    ) -> Document | None:
        """The fields of `body` Xero does not already hold, with the document's id; lines go whole (Xero
        replaces them) and only when one differs. A status is only moved forward (DRAFT -> AUTHORISED):
        Xero itself moves an invoice to PAID."""
        res = RESOURCES[entity_type]
        update: Document = {}
        for key, value in body.items():
            if key == "Status":
                if current.get("Status") == "DRAFT" and value != "DRAFT":
                    update[key] = value
                continue
            if key == "LineItems" and isinstance(value, list):
                if not _same(value, current.get("LineItems")):
                    update[key] = value
                    if "LineAmountTypes" in body:
                        update["LineAmountTypes"] = body["LineAmountTypes"]
                continue
            if not _same(value, current.get(key)):
                update[key] = value
        if not update:
            return None
        return {res.id_field: str(current[res.id_field]), **update}

    def reference(self, entity_type: str, document: Mapping[str, Any], to: str) -> str | None:
        contact: Any = document.get("Contact")
        if entity_type == "payment":
            invoice = document.get("Invoice") or {}
            if to == "invoice":
                return str(invoice.get("InvoiceID") or "") or None
            contact = invoice.get("Contact")
            if not contact and invoice.get("InvoiceID"):  # a trimmed answer: read the invoice
                contact = self.client.get("Invoices", str(invoice["InvoiceID"])).get("Contact")
        if to == "customer" and isinstance(contact, Mapping):
            return str(contact.get("ContactID") or "") or None
        return None

    def payment_parts(self, document: Mapping[str, Any]) -> list[tuple[str | None, Decimal]]:
        """A Xero payment pays one invoice."""
        invoice_id = self.reference("payment", document, "invoice")
        return [(invoice_id, Decimal(str(document.get("Amount") or "0")))]

    # ------------------------------------------------------------------ reads

    def lookup(self, wanted: Mapping[str, Lookup], counter: RequestCounter) -> dict[str, Found]:
        out: dict[str, Found] = {}
        for entity_type, want in wanted.items():
            res = RESOURCES[entity_type]
            found = out.setdefault(entity_type, Found())
            values = sorted(v for v in want.values if v) if res.key_field else []
            for i in range(0, len(values), LOOKUP_CHUNK):
                chunk = values[i : i + LOOKUP_CHUNK]
                if res.keys_param and not any("," in v for v in chunk):
                    docs = self._read(res, counter, params={res.keys_param: ",".join(chunk)})
                else:
                    where = " OR ".join(f"{res.key_field}=={_quoted(v)}" for v in chunk)
                    docs = self._read(res, counter, params={"where": where})
                for doc in docs:
                    found.by_value.setdefault(str(doc.get(res.key_field or "")), doc)
            ids = sorted(want.ids)
            for i in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[i : i + LOOKUP_CHUNK]
                if res.ids_param:
                    docs = self._read(res, counter, params={"IDs": ",".join(chunk)})
                else:
                    where = " OR ".join(f"{res.id_field}==Guid({_quoted(x)})" for x in chunk)
                    docs = self._read(res, counter, params={"where": where})
                for doc in docs:
                    found.by_id[str(doc.get(res.id_field))] = doc
        return out

    def _read(
        self, res: Resource, counter: RequestCounter, *, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        docs = list(self.client.pull(res.name, params=params))
        counter.single_requests += _requests(res, len(docs))
        if res.kind:
            docs = [d for d in docs if d.get("Type") in (None, res.kind)]
        return docs

    def read(self, entity_type: str, external_id: str) -> Document:
        return self.client.get(RESOURCES[entity_type].name, external_id)

    def changes(
        self, entity_types: Sequence[str], since: datetime, *, now: datetime, max_objects: int = 1000
    ) -> ChangeFeed:
        """One If-Modified-Since read per entity type (paged 100 at a time); Xero lists voided and
        deleted documents with their status, so deletions are complete."""
        out: list[Change] = []
        requests = sum(self._collection(entity_type, since, out) for entity_type in entity_types)
        return ChangeFeed(out, now, deletes_complete=True, requests=requests)

    def _collection(self, entity_type: str, since: datetime, out: list[Change]) -> int:
        """Read one collection's changes since `since` into `out`; the requests it cost."""
        res = RESOURCES[entity_type]
        where = f'Type=="{res.kind}"' if res.kind else None
        docs = list(self.client.pull(res.name, modified_since=since, where=where))
        for doc in docs:
            meta = self.meta(entity_type, doc)
            out.append(Change(entity_type, meta.external_id, doc, deleted=meta.deleted))
        return _requests(res, len(docs))

    def changes_from(
        self,
        since: Mapping[str, datetime],
        *,
        now: datetime,
        state: Mapping[str, Any],
        max_objects: int = 1000,
    ) -> ChangeFeed:
        """The incremental feed: the journals after the last one seen (`state["journal"]`; before the first,
        those created since the oldest cursor), then only the collections they point at or webhooks
        flagged (`state["flagged"]`), each from its own cursor; every collection when the last sweep
        (`state["swept_at"]`) is older than `full_sweep_minutes`, or the journals are more than
        `max_objects` behind. The new state carries the last journal number."""
        last = state.get("journal")
        offset = last if isinstance(last, int) and not isinstance(last, bool) else None
        modified = None if offset is not None else min(since.values())
        swept_at = state.get("swept_at")
        swept = datetime.fromisoformat(swept_at) if isinstance(swept_at, str) else None
        sweep = swept is None or now - swept >= timedelta(minutes=self.settings.full_sweep_minutes)
        pointed: set[str] = set()
        requests = 0
        for _ in range(max(1, max_objects // PAGE_SIZE)):
            page = self.client.journals(offset, modified_since=modified)
            requests += 1
            for journal in page:
                pointed.update(JOURNAL_SOURCES.get(str(journal.get("SourceType")), ()))
                number = journal.get("JournalNumber")
                if isinstance(number, int) and not isinstance(number, bool):
                    offset = max(offset or 0, number)
            if len(page) < PAGE_SIZE:
                break
        else:
            sweep = True  # too far behind to read journal by journal: read every collection instead
        pointed.update(str(t) for t in state.get("flagged") or {})
        read = [t for t in since if sweep or t in pointed]
        out: list[Change] = []
        for entity_type in read:
            requests += self._collection(entity_type, since[entity_type], out)
        new_state: dict[str, Any] = {
            "journal": offset,
            "swept_at": now.isoformat() if sweep else swept_at,
            "read": read,
        }
        return ChangeFeed(
            out, now, deletes_complete=True, requests=requests, state=new_state, read=frozenset(read)
        )

    # ------------------------------------------------------------------ writes

    def write(self, entity_type: str, writes: Sequence[Write], counter: RequestCounter) -> list[WriteResult]:
        res = RESOURCES[entity_type]
        records = [BatchRecord(w.key, w.body, w.request_id) for w in writes]
        if not self._day_spent():  # a spent day sends nothing: every record comes back deferred
            counter.batch_requests += (len(records) + WRITE_CHUNK - 1) // WRITE_CHUNK
        results: list[WriteResult] = []
        for outcome in self.client.save(res.name, records, batch_size=WRITE_CHUNK):
            if isinstance(outcome, Rejected):
                error: XeroError = ValidationError(
                    f"Xero refused it: {'; '.join(outcome.messages)}", code=outcome.code
                )
                results.append(WriteResult(outcome.key, error=error))
            elif isinstance(outcome, DailyBudgetExhausted):
                error = DailyLimitError(outcome.message, resume_at=outcome.resume_at, problem="day")
                results.append(WriteResult(outcome.key, error=error))
            else:
                results.append(WriteResult(outcome.key, document=outcome.document))
        return results

    def void(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        """An invoice: AUTHORISED -> VOIDED (a draft is deleted); a payment is deleted (Xero's undo)."""
        if entity_type == "invoice":
            return self.client.void_invoice(self.client.get("Invoices", external_id), request_id)
        if entity_type == "payment":
            return self.client.delete_payment(external_id, request_id)
        raise ValueError(f"Xero cannot void a {entity_type}; change or delete it in Xero")

    def delete(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        if entity_type in ("payment", "invoice"):  # a draft invoice is deleted, an authorised one voided
            return self.void(entity_type, external_id, version_token, request_id)
        raise ValueError(f"Xero does not delete a {entity_type} through the API; archive it in Xero")

    # ------------------------------------------------------------------ errors and budgets

    def classify(self, error: Exception) -> ErrorKind:
        if not isinstance(error, XeroError):
            return ErrorKind(
                code=getattr(error, "code", None) or "unclassified",
                retryable=bool(getattr(error, "retryable", False)),
            )
        text = str(error).lower()
        duplicate = isinstance(error, ValidationError) and ("must be unique" in text or "already" in text)
        resumes = error.resume_at if isinstance(error, DailyLimitError) else None
        return ErrorKind(
            code=str(error.code), retryable=error.retryable, duplicate=duplicate, budget_resumes_at=resumes
        )

    def _day_spent(self) -> bool:
        return self.client.resume_at is not None and self.client.clock() < self.client.resume_at

    def remaining_budget(self) -> int | None:
        """Calls left today for the organisation (Xero's X-DayLimit-Remaining), 0 once the day is spent."""
        if self._day_spent():
            return 0
        return self.client.remaining.day if self.client.remaining is not None else None


def _requests(res: Resource, found: int) -> int:
    """Requests a read of `found` documents cost: one, and one a page after the first where Xero pages (a
    full page asks for the next one)."""
    return found // PAGE_SIZE + 1 if res.name in PAGED else 1
