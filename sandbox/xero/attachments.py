"""Attachments of invoices, bank transactions and contacts: `PUT|POST /{Resource}/{id}/Attachments/{FileName}`
with the raw file as the body (`IncludeOnline=true` shows it on the online invoice), at most 10 per
document and 25 MB each; GET lists them, GET .../{FileName} answers the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.xero.store import ID_FIELDS, Organisation, new_id
from sandbox.xero.wire import api_error, envelope, json_response, validation_exception

__all__ = ["ATTACHABLE", "Attachments"]

ATTACHABLE = ("Invoices", "BankTransactions", "Contacts")
MAX_BYTES = 25 * 1024 * 1024
MAX_PER_DOCUMENT = 10


@dataclass
class Attachments:
    """The files of every organisation's documents, by (tenant, resource, id)."""

    files: dict[tuple[str, str, str], dict[str, tuple[dict[str, Any], bytes]]] = field(default_factory=dict)

    async def put(self, request: Request, org: Organisation, resource: str, now: Any) -> Response:
        doc_id, name = str(request.path_params["doc_id"]), str(request.path_params["file_name"])
        doc = org.docs[resource].get(doc_id)
        if doc is None:
            return api_error(404, "not_found")
        content = await request.body()
        held = self.files.setdefault((org.tenant_id, resource, doc_id), {})
        problems = []
        if not content:
            problems.append("The attachment is empty")
        if len(content) > MAX_BYTES:
            problems.append("The attachment is larger than 25 MB")
        if name not in held and len(held) >= MAX_PER_DOCUMENT:
            problems.append(f"A document can have at most {MAX_PER_DOCUMENT} attachments")
        if problems:
            return validation_exception(None, problems)
        attachment_id = held[name][0]["AttachmentID"] if name in held else new_id()
        url = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        meta = {
            "AttachmentID": attachment_id,
            "FileName": name,
            "Url": url,
            "MimeType": request.headers.get("content-type", "application/octet-stream"),
            "ContentLength": len(content),
        }
        if resource == "Invoices":
            meta["IncludeOnline"] = request.query_params.get("IncludeOnline", "false").lower() == "true"
        held[name] = (meta, content)
        doc["HasAttachments"] = True
        return json_response(envelope("Attachments", [meta], now))

    def list(self, org: Organisation, resource: str, doc_id: str, now: Any) -> Response:
        if doc_id not in org.docs[resource]:
            return api_error(404, "not_found")
        held = self.files.get((org.tenant_id, resource, doc_id), {})
        return json_response(envelope("Attachments", [meta for meta, _ in held.values()], now))

    def content(self, org: Organisation, resource: str, doc_id: str, name: str) -> Response:
        found = self.files.get((org.tenant_id, resource, doc_id), {}).get(name)
        if found is None:
            return api_error(404, "not_found")
        meta, content = found
        return Response(content, media_type=str(meta["MimeType"]))

    def forget(self) -> None:
        self.files.clear()


assert all(r in ID_FIELDS for r in ATTACHABLE)
