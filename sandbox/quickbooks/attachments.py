"""Attachable, /upload and /download: notes and files linked to transactions, items or names.

    POST /attachable                 a note (or metadata only): Note or FileName required
    POST /upload                     multipart/form-data: `file_content_N` (the file; raw or base64) with
                                     an optional `file_metadata_N` (an Attachable as JSON: AttachableRef,
                                     FileName, ContentType, Note, ...); the answer is {"AttachableResponse":
                                     [{"Attachable"} or {"Fault"} per file], "time"}. Metadata with an Id
                                     replaces that attachable's file.
    GET  /download/{id}              a temporary URL of the file, as text/plain

`AttachableRef[].EntityRef` must name an existing object (610 otherwise). A file gets `FileAccessUri`
(`/v3/company/{realm}/download/{id}`), `TempDownloadUri` (a signed link valid 15 minutes, served by
`GET /__sandbox/attachments/{realm}/{id}?expires=&signature=` without a token, as Intuit's S3 links are) and
`Size`; those are read-only. Only Intuit's approved file types are taken, and a request is at most 100 MB.
Intuit sends no webhook for attachables.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import SPECS, URL_NAMES, Ctx, Engine, EntitySpec, LineIds, assemble, register
from sandbox.quickbooks.http import Request, Response, qbo_json
from sandbox.quickbooks.multipart import Part, parse_form_data
from sandbox.quickbooks.resources import Call, register_resource
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS
from sandbox.quickbooks.wire import QboFault, api_time

if TYPE_CHECKING:
    from sandbox.quickbooks.store import Realm

__all__ = ["APPROVED_TYPES", "LINK_TTL_S", "MAX_UPLOAD_BYTES", "serve_file", "temp_url"]

ENTITY = "Attachable"
APPROVED_TYPES = frozenset(
    [
        "ai",
        "csv",
        "doc",
        "docx",
        "eps",
        "gif",
        "jpeg",
        "jpg",
        "ods",
        "pdf",
        "png",
        "rtf",
        "tif",
        "tiff",
        "txt",
        "xls",
        "xlsx",
        "xml",
    ]
)
CATEGORIES = ("Contact Photo", "Document", "Image", "Receipt", "Signature", "Sound", "Other")
LINK_TTL_S = 15 * 60
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
READ_ONLY_FILE_KEYS = (
    "FileAccessUri",
    "TempDownloadUri",
    "Size",
    "ThumbnailFileAccessUri",
    "ThumbnailTempDownloadUri",
)
_SECRET = secrets.token_bytes(32)  # signs temporary links; a restarted sandbox hands out new ones


# ---------------------------------------------------------------- the entity


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _refs(ctx: Ctx, given: Any) -> list[dict[str, Any]]:
    if given in (None, ""):
        return []
    if not isinstance(given, list):
        raise faults.invalid_property("Property Name:AttachableRef must be a list")
    out = []
    for entry in given:
        if not isinstance(entry, dict) or not isinstance(entry.get("EntityRef"), dict):
            raise faults.required("AttachableRef.EntityRef")
        ref = entry["EntityRef"]
        kind = URL_NAMES.get(str(ref.get("type") or "").lower())
        if kind is None:
            raise faults.invalid_property(f"Property Name:AttachableRef.EntityRef.type {ref.get('type')!r}")
        if ref.get("value") in (None, ""):
            raise faults.required("AttachableRef.EntityRef.value")
        target = ctx.realm.get(kind, str(ref["value"]))
        if target is None:
            raise faults.not_found()
        built: dict[str, Any] = {"IncludeOnSend": _flag(entry.get("IncludeOnSend", False))}
        built["EntityRef"] = {"type": SPECS[kind].key, "value": str(ref["value"])}
        if entry.get("LineInfo") not in (None, ""):
            built["LineInfo"] = entry["LineInfo"]
        out.append(built)
    return out


def compute_attachable(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Attachable: a note, a file's metadata, or both; links checked; file fields kept from the upload."""
    out: dict[str, Any] = {
        k: v for k, v in body.items() if v not in (None, "") and k not in READ_ONLY_FILE_KEYS
    }
    if not out.get("Note") and not out.get("FileName"):
        raise faults.required("Note")
    for key, limit in (("Note", 2000), ("FileName", 1000), ("Tag", 2000), ("PlaceName", 2000)):
        if isinstance(out.get(key), str) and len(out[key]) > limit:
            raise faults.invalid_property(f"Property Name:{key} is longer than {limit} characters")
    if out.get("Category") is not None and out["Category"] not in CATEGORIES:
        raise faults.invalid_property(f"Property Name:Category value {out['Category']} is not supported")
    out["AttachableRef"] = _refs(ctx, body.get("AttachableRef"))
    if prev is not None:
        for key in READ_ONLY_FILE_KEYS:
            if key in prev.data:
                out[key] = prev.data[key]
        if "ContentType" not in out and "ContentType" in prev.data:
            out["ContentType"] = prev.data["ContentType"]
    return out


def _query_view(data: dict[str, Any]) -> dict[str, Any]:
    """Queries filter on `AttachableRef.EntityRef.type/value` (Intuit's documented query): the first link."""
    refs = data.get("AttachableRef")
    if isinstance(refs, list) and refs and isinstance(refs[0], dict):
        return {**data, "AttachableRef": refs[0]}
    return data


def _after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    if new is None or new.get("status") == "Deleted":
        ctx.store.drop_file(ctx.realm, entity_id)


# ---------------------------------------------------------------- links


def _signature(realm_id: str, attachable_id: str, expires: int) -> str:
    message = f"{realm_id}/{attachable_id}/{expires}".encode()
    return hmac.new(_SECRET, message, hashlib.sha256).hexdigest()


def temp_url(ctx: Ctx, base_url: str, attachable_id: str) -> str:
    """A link to the file that works without a token for LINK_TTL_S seconds (of the sandbox clock)."""
    expires = int(ctx.now.timestamp()) + LINK_TTL_S
    signature = _signature(ctx.realm.id, attachable_id, expires)
    return (
        f"{base_url}/__sandbox/attachments/{quote(ctx.realm.id)}/{quote(attachable_id)}"
        f"?expires={expires}&signature={signature}"
    )


def serve_file(realm: Realm | None, attachable_id: str, req: Request, now_ts: float) -> Response:
    """GET /__sandbox/attachments/{realm}/{id}: the file behind a valid, unexpired temporary link."""
    expires, signature = req.q("expires") or "", req.q("signature") or ""
    valid = (
        realm is not None
        and expires.isdigit()
        and hmac.compare_digest(signature, _signature(realm.id, attachable_id, int(expires)))
    )
    if not valid or int(expires) < now_ts:
        body = b"This link is invalid or has expired: GET /v3/company/{realm}/download/{id} gives a new one."
        return Response(403, body, "text/plain")
    assert realm is not None
    stored = realm.files.get(attachable_id)
    rec = realm.get(ENTITY, attachable_id)
    if stored is None or rec is None:
        return Response(404, b"No such file.", "text/plain")
    name = str(rec.data.get("FileName") or attachable_id).replace('"', "")
    disposition = f'attachment; filename="{name}"'.encode("latin-1", "replace")
    return Response(200, stored[1], stored[0], [(b"content-disposition", disposition)])


# ---------------------------------------------------------------- upload


def _attach_file(
    engine: Engine, attachable_id: str, part: Part, content_type: str, base_url: str
) -> dict[str, Any]:
    ctx = engine.ctx
    rec = ctx.realm.get(ENTITY, attachable_id)
    assert rec is not None
    ctx.store.save_file(ctx.realm, attachable_id, content_type, part.data)
    content = dict(rec.data)
    content["FileAccessUri"] = f"/v3/company/{ctx.realm.id}/download/{attachable_id}"
    content["TempDownloadUri"] = temp_url(ctx, base_url, attachable_id)
    content["Size"] = len(part.data)
    content["ContentType"] = content_type
    rec.data = assemble(SPECS[ENTITY], content, {})
    ctx.store.save(ctx.realm, ENTITY, attachable_id)
    return rec.data


def _one_upload(engine: Engine, meta_part: Part | None, file_part: Part, base_url: str) -> dict[str, Any]:
    meta: Any = {}
    if meta_part is not None and meta_part.data.strip():
        try:
            meta = json.loads(meta_part.data)
        except ValueError:
            raise faults.invalid_property(f"Property Name:{meta_part.name} is not JSON") from None
        if not isinstance(meta, dict):
            raise faults.invalid_property(f"Property Name:{meta_part.name} must be an Attachable object")
    file_name = meta.get("FileName") or file_part.filename
    if not file_name:
        raise faults.required("FileName")
    extension = str(file_name).rsplit(".", 1)[-1].lower() if "." in str(file_name) else ""
    if extension not in APPROVED_TYPES:
        raise faults.invalid_property(
            f"Property Name:FileName {file_name}: the file type is not one QuickBooks accepts "
            f"({', '.join(sorted(APPROVED_TYPES))})"
        )
    content_type = str(meta.get("ContentType") or file_part.content_type or "application/octet-stream")
    content_type = "image/jpeg" if content_type.lower() == "image/jpg" else content_type
    body = {**meta, "FileName": file_name, "ContentType": content_type}
    if body.get("Id") not in (None, ""):
        data = engine.update(ENTITY, body)
    else:
        body.pop("Id", None)
        data = engine.create(ENTITY, body)
    return _attach_file(engine, str(data["Id"]), file_part, content_type, base_url)


def _upload(call: Call) -> Response:
    ctx = call.engine.ctx
    if call.req.method != "POST":
        raise faults.unsupported(f"{call.req.method} /upload")
    if len(call.req.body) > MAX_UPLOAD_BYTES:
        raise faults.invalid_property("Property Name:request body is larger than 100 MB")
    try:
        parts = parse_form_data(call.req.headers.get("content-type", ""), call.req.body)
    except ValueError as err:
        raise faults.invalid_property(f"Operation Cannot consume content type: {err}") from None
    meta = {p.name.removeprefix("file_metadata_"): p for p in parts if p.name.startswith("file_metadata_")}
    files = [p for p in parts if p.name.startswith("file_content_")]
    if not files:
        raise faults.required("file_content_0")
    results: list[dict[str, Any]] = []
    for part in files:
        try:
            data = _one_upload(
                call.engine, meta.get(part.name.removeprefix("file_content_")), part, call.base_url
            )
            results.append({"Attachable": data})
        except QboFault as fault:
            results.append({"Fault": fault.fault()})
    return qbo_json({"AttachableResponse": results, "time": api_time(ctx.now, ctx.realm.tz)})


def _download(call: Call) -> Response:
    if call.req.method != "GET" or not call.item_id:
        raise faults.unsupported(f"{call.req.method} /download")
    ctx = call.engine.ctx
    rec = ctx.realm.get(ENTITY, call.item_id)
    if rec is None or call.item_id not in ctx.realm.files:
        raise faults.not_found()
    return Response(200, temp_url(ctx, call.base_url, call.item_id).encode(), "text/plain")


register(
    EntitySpec(
        name=ENTITY,
        order=(
            *SYSTEM_KEYS[:2],
            "FileName",
            "FileAccessUri",
            "TempDownloadUri",
            "Size",
            "ContentType",
            "Category",
            "Note",
            "Tag",
            "Lat",
            "Long",
            "PlaceName",
            "ThumbnailFileAccessUri",
            "ThumbnailTempDownloadUri",
            "AttachableRef",
            *SYSTEM_KEYS[2:],
        ),
        compute=compute_attachable,
        deletable=True,
        sparse_empty=("AttachableRef",),
        after_write=_after,
        query_view=_query_view,
        webhook=False,
    )
)
register_resource("upload", _upload, raw_body=True)
register_resource("download", _download)
