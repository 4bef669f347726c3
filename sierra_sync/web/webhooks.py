"""POST /webhooks/stripe and POST /webhooks/quickbooks: verify, store in the inbox, answer, then dispatch.

Order of work per request: refuse what needs no body (503 when the endpoint is not configured, 401 without a
signature header); read the raw body, at most `AppDeps.max_body_bytes` (413 past it, the rest unread);
verify its signature (401/400 otherwise); parse it (400 when malformed); insert it into the inbox in one
transaction (503 when the database is unavailable, so the sender retries: nothing validly signed is
dropped); answer 200; then, in a background task after the answer, hand the new events to the dispatcher.
A duplicate delivery is acknowledged and not dispatched. Log lines name the provider, event ids and reasons;
never a secret, a signature or the raw body.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors import inbox
from connectors.db.models import Company, Integration
from connectors.inbox import InboxEvent, NewEvent
from sierra_sync.errors import SierraError
from sierra_sync.web.deps import AppDeps
from sierra_sync.web.signatures import SignatureError, verify_intuit, verify_stripe

__all__ = [
    "MalformedEventError",
    "QuickBooksNotification",
    "parse_quickbooks",
    "parse_stripe",
    "router",
]

log = logging.getLogger("sierra_sync.web.webhooks")

_OPERATIONS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}
_MAX_EVENT_ID = 255


class MalformedEventError(ValueError):
    """The body is not a webhook of the expected shape; `str(err)` says what is wrong (safe to log)."""


# --------------------------------------------------------------------------- parsing (pure)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedEventError("the body is not valid JSON") from None


def parse_stripe(body: bytes) -> dict[str, Any]:
    """A Stripe event envelope (`id` evt_…, `type`), or `MalformedEventError`."""
    event = _json(body)
    if not isinstance(event, dict):
        raise MalformedEventError("a Stripe event must be a JSON object")
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_EVENT_ID:
        raise MalformedEventError("the Stripe event has no usable id")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEventError("the Stripe event has no type")
    if event.get("object", "event") != "event":
        raise MalformedEventError("the body is not a Stripe event object")
    return event


@dataclass(frozen=True)
class QuickBooksNotification:
    """One entity change from Intuit, in either format, with a stable event id.

    `payload` is normalised for processing: format, realmId, entity, entityId, operation (past tense:
    created, updated, deleted, voided, merged), occurredAt, deletedId (merges) and the original item.
    """

    event_id: str
    event_type: str
    realm_id: str
    payload: dict[str, Any]


def _stable_id(*parts: str) -> str:
    text = ":".join(parts)
    if len(text) <= _MAX_EVENT_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise MalformedEventError(f"{where} lacks {key}")
    return value


def _legacy(body: Mapping[str, Any]) -> list[QuickBooksNotification]:
    notes = body.get("eventNotifications")
    if not isinstance(notes, list) or not notes:
        raise MalformedEventError("eventNotifications must be a non-empty list")
    out: list[QuickBooksNotification] = []
    for note in notes:
        if not isinstance(note, Mapping):
            raise MalformedEventError("each eventNotification must be an object")
        realm = _text(note, "realmId", "an eventNotification")
        change = note.get("dataChangeEvent")
        entities = change.get("entities") if isinstance(change, Mapping) else None
        if not isinstance(entities, list):
            raise MalformedEventError("an eventNotification lacks dataChangeEvent.entities")
        for entity in entities:
            if not isinstance(entity, Mapping):
                raise MalformedEventError("each entity change must be an object")
            name = _text(entity, "name", "an entity change")
            entity_id = _text(entity, "id", "an entity change")
            operation = _text(entity, "operation", "an entity change")
            updated = _text(entity, "lastUpdated", "an entity change")
            past = _OPERATIONS.get(operation, operation.lower())
            out.append(
                QuickBooksNotification(
                    event_id=_stable_id("legacy", realm, name, entity_id, operation, updated),
                    event_type=f"qbo.{name.lower()}.{past}",
                    realm_id=realm,
                    payload={
                        "format": "legacy",
                        "realmId": realm,
                        "entity": name,
                        "entityId": entity_id,
                        "operation": past,
                        "occurredAt": updated,
                        "deletedId": entity.get("deletedId"),
                        "notification": dict(entity),
                    },
                )
            )
    return out


def _cloudevents(items: Sequence[Any]) -> list[QuickBooksNotification]:
    out: list[QuickBooksNotification] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise MalformedEventError("each CloudEvent must be an object")
        event_id = _text(item, "id", "a CloudEvent")
        event_type = _text(item, "type", "a CloudEvent")
        realm = _text(item, "intuitaccountid", "a CloudEvent")
        parts = event_type.split(".")
        if len(parts) < 3 or parts[0] != "qbo":
            raise MalformedEventError("a CloudEvent type must look like qbo.<entity>.<operation>.v1")
        data = item.get("data")
        out.append(
            QuickBooksNotification(
                event_id=_stable_id("ce", event_id),
                event_type=event_type,
                realm_id=realm,
                payload={
                    "format": "cloudevents",
                    "realmId": realm,
                    "entity": parts[1],
                    "entityId": item.get("intuitentityid"),
                    "operation": parts[2],
                    "occurredAt": item.get("time"),
                    "deletedId": data.get("deletedId") if isinstance(data, Mapping) else None,
                    "notification": dict(item),
                },
            )
        )
    if not out:
        raise MalformedEventError("the CloudEvents list is empty")
    return out


def parse_quickbooks(body: bytes) -> list[QuickBooksNotification]:
    """Every entity change in an Intuit webhook body: the legacy `eventNotifications` object or a
    CloudEvents array. `MalformedEventError` when it is neither."""
    data = _json(body)
    if isinstance(data, list):
        return _cloudevents(data)
    if isinstance(data, Mapping):
        return _legacy(data)
    raise MalformedEventError("an Intuit webhook is an eventNotifications object or a CloudEvents array")


# --------------------------------------------------------------------------- storing


def _stripe_owner(session: Session, event: Mapping[str, Any]) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(company, stripe integration) of an event, from the object's metadata.company_id when it names a
    company that exists here; (None, None) otherwise (payouts, objects made outside sierra-sync)."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    raw = metadata.get("company_id") if isinstance(metadata, Mapping) else None
    try:
        company_id = uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None, None
    if company_id is None or session.get(Company, company_id) is None:
        return None, None
    integration_id = session.scalar(
        select(Integration.id).where(
            Integration.company_id == company_id, Integration.integration_type == "stripe"
        )
    )
    return company_id, integration_id


def _store_stripe(sessions: sessionmaker[Session], event: dict[str, Any], raw: str) -> list[inbox.Stored]:
    with sessions.begin() as session:
        company_id, integration_id = _stripe_owner(session, event)
        new = NewEvent(
            provider="stripe",
            event_id=str(event["id"]),
            event_type=str(event["type"]),
            raw_payload=raw,
            payload=event,
            company_id=company_id,
            integration_id=integration_id,
        )
        return inbox.store_events(session, [new])


def _store_quickbooks(
    sessions: sessionmaker[Session], notes: Sequence[QuickBooksNotification], raw: str
) -> list[inbox.Stored]:
    with sessions.begin() as session:
        owners: dict[str, tuple[uuid.UUID | None, uuid.UUID | None]] = {}
        for realm in {n.realm_id for n in notes}:
            row = session.execute(
                select(Integration.company_id, Integration.id).where(
                    Integration.integration_type == "quickbooks_online",
                    Integration.external_company_id == realm,
                )
            ).first()
            owners[realm] = (row[0], row[1]) if row else (None, None)
        new = [
            NewEvent(
                provider="quickbooks",
                event_id=n.event_id,
                event_type=n.event_type,
                raw_payload=raw,
                payload=n.payload,
                company_id=owners[n.realm_id][0],
                integration_id=owners[n.realm_id][1],
            )
            for n in notes
        ]
        return inbox.store_events(session, new)


# --------------------------------------------------------------------------- the endpoints


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _reject(provider: str, status: int, reason: str, request: Request, size: int) -> JSONResponse:
    log.warning("rejected %s webhook from %s: %s (%d bytes)", provider, _client(request), reason, size)
    return JSONResponse({"error": reason}, status_code=status)


def _unavailable(provider: str, err: Exception) -> JSONResponse:
    what = err.message if isinstance(err, SierraError) else type(err).__name__
    log.error(
        "could not store a %s webhook (database unavailable: %s); answered 503 so it is resent",
        provider,
        what,
    )
    return JSONResponse(
        {"error": "temporarily unable to store the event; retry later"},
        status_code=503,
        headers={"Retry-After": "30"},
    )


def _dispatch(deps: AppDeps, events: list[InboxEvent]) -> None:
    assert deps.dispatcher is not None
    try:
        deps.dispatcher.dispatch(events)
    except Exception as exc:  # the events are stored; a sweep finds them
        log.error(
            "dispatching %d event(s) failed (%s); they stay in the inbox", len(events), type(exc).__name__
        )


def _acknowledge(
    provider: str, stored: list[inbox.Stored], background: BackgroundTasks, deps: AppDeps
) -> JSONResponse:
    new = [s.event for s in stored if not s.duplicate]
    duplicates = len(stored) - len(new)
    for s in stored:
        log.info(
            "%s webhook %s (%s) %s",
            provider,
            s.event.event_id,
            s.event.event_type,
            "duplicate: acknowledged, not processed again" if s.duplicate else "stored",
        )
    if new:
        background.add_task(_dispatch, deps, new)
    return JSONResponse({"received": len(new), "duplicates": duplicates})


async def _body(request: Request, deps: AppDeps, provider: str) -> bytes | JSONResponse:
    """The raw body, read up to `deps.max_body_bytes`: 413 for a larger declared length (nothing read) or
    as soon as a body (chunked) passes the limit while read; the rest is never read."""
    limit = deps.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _reject(provider, 413, "the body is too large for a webhook", request, int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _reject(provider, 413, "the body is too large for a webhook", request, len(body))
    return bytes(body)


def router(deps: AppDeps) -> APIRouter:
    """The webhook endpoints, bound to `deps`."""
    api = APIRouter(tags=["webhooks"])

    @api.post("/webhooks/stripe", summary="Receive a Stripe event (verified with Stripe-Signature)")
    async def stripe_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
        if not deps.stripe_webhook_secrets:
            log.error(
                "a Stripe webhook arrived but no signing secret is configured (sierra-sync blocks setup)"
            )
            return JSONResponse({"error": "the Stripe endpoint is not configured"}, status_code=503)
        signature = request.headers.get("stripe-signature")
        if not signature:  # refused before the body is read
            return _reject("stripe", 401, "missing Stripe-Signature header", request, 0)
        body = await _body(request, deps, "stripe")
        if isinstance(body, JSONResponse):
            return body
        try:
            verify_stripe(
                body,
                signature,
                deps.stripe_webhook_secrets,
                now=deps.clock(),
                tolerance=deps.stripe_tolerance,
            )
            event = parse_stripe(body)
        except SignatureError as err:
            return _reject("stripe", err.status, err.reason, request, len(body))
        except MalformedEventError as err:
            return _reject("stripe", 400, str(err), request, len(body))
        try:
            stored = await run_in_threadpool(_store_stripe, deps.sessions, event, body.decode())
        except (SQLAlchemyError, SierraError) as err:
            return _unavailable("stripe", err)
        return _acknowledge("stripe", stored, background, deps)

    @api.post("/webhooks/quickbooks", summary="Receive Intuit change notifications (intuit-signature)")
    async def quickbooks_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
        if not deps.quickbooks_verifier_token:
            log.error(
                "an Intuit webhook arrived but no verifier token is configured (sierra-sync blocks setup)"
            )
            return JSONResponse({"error": "the QuickBooks endpoint is not configured"}, status_code=503)
        signature = request.headers.get("intuit-signature")
        if not signature:  # refused before the body is read
            return _reject("quickbooks", 401, "missing intuit-signature header", request, 0)
        body = await _body(request, deps, "quickbooks")
        if isinstance(body, JSONResponse):
            return body
        try:
            verify_intuit(body, signature, deps.quickbooks_verifier_token)
            notes = parse_quickbooks(body)
        except SignatureError as err:
            return _reject("quickbooks", err.status, err.reason, request, len(body))
        except MalformedEventError as err:
            return _reject("quickbooks", 400, str(err), request, len(body))
        try:
            stored = await run_in_threadpool(_store_quickbooks, deps.sessions, notes, body.decode())
        except (SQLAlchemyError, SierraError) as err:
            return _unavailable("quickbooks", err)
        return _acknowledge("quickbooks", stored, background, deps)

    return api
