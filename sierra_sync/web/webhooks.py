"""POST /webhooks/{provider}: verify, store in the inbox, answer, then dispatch; for any declared provider.

Order of work per request: answer a verification handshake that carries no body (Dropbox's challenge,
Graph's validationToken, Adobe Sign's client id); refuse what needs no body (503 when the provider has no
secret configured here, 401 without its signature header); read the raw body, at most
`AppDeps.max_body_bytes` (413 past it, the rest unread); verify the provider's declared proof (401/400
otherwise); answer a body-borne handshake (Slack's url_verification); parse it with the provider's adapter
(400 when malformed); insert its events into the inbox in one transaction, each with its company (503 when
the database is unavailable, so the sender retries: nothing validly signed is dropped); answer 200; then, in
a background task after the answer, hand the new events to the dispatcher. A duplicate delivery is
acknowledged and not dispatched. Log lines name the provider, event ids and reasons; never a secret, a
signature or the raw body.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.kit.adapter import Adapter, MalformedEventError, WebhookEvent
from connectors.kit.registry import get_adapter
from connectors.kit.webhooks import SignatureError, handshake_answer, verify
from sierra_core import inbox
from sierra_core.db.models import Company, Integration
from sierra_core.errors import NotFoundError, SierraError
from sierra_core.inbox import InboxEvent, NewEvent
from sierra_sync.web.deps import AppDeps

__all__ = ["router", "store_webhook_events"]

log = logging.getLogger("sierra_sync.web.webhooks")


# --------------------------------------------------------------------------- storing


def _owner(session: Session, provider: str, event: WebhookEvent) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(company, integration) of an event: the company it names when that company exists here, else the
    connection whose provider account is the event's tenant; (None, None) when neither is known."""
    if event.company_id is not None and session.get(Company, event.company_id) is not None:
        integration_id = session.scalar(
            select(Integration.id).where(
                Integration.company_id == event.company_id, Integration.integration_type == provider
            )
        )
        return event.company_id, integration_id
    if event.tenant_id:
        row = session.execute(
            select(Integration.company_id, Integration.id).where(
                Integration.integration_type == provider, Integration.external_company_id == event.tenant_id
            )
        ).first()
        if row is not None:
            return row[0], row[1]
    return None, None


def store_webhook_events(
    sessions: sessionmaker[Session], provider: str, events: Sequence[WebhookEvent], raw: str
) -> list[inbox.Stored]:
    """Insert a verified body's events into the inbox, each with its company (one transaction)."""
    with sessions.begin() as session:
        new = []
        for event in events:
            company_id, integration_id = _owner(session, provider, event)
            new.append(
                NewEvent(
                    provider=provider,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    raw_payload=raw,
                    payload=event.payload,
                    company_id=company_id,
                    integration_id=integration_id,
                )
            )
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


def _parse(adapter: Adapter, body: bytes) -> tuple[list[WebhookEvent], str]:
    assert adapter.parse_webhook is not None
    events = list(adapter.parse_webhook(body))
    stored = adapter.scrub_webhook(body) if adapter.scrub_webhook else body
    return events, stored.decode("utf-8", errors="replace")


def router(deps: AppDeps) -> APIRouter:
    """The webhook endpoint of every declared provider, bound to `deps`."""
    api = APIRouter(tags=["webhooks"])

    async def receive(provider: str, request: Request, background: BackgroundTasks) -> Response:
        try:
            adapter = get_adapter(provider)
        except NotFoundError:
            return JSONResponse({"error": f"no provider called {provider!r} receives webhooks here"}, 404)
        name, spec = adapter.provider.name, adapter.provider.webhooks
        if spec.scheme == "none" or adapter.parse_webhook is None:
            return JSONResponse({"error": f"{adapter.provider.title} sends no webhooks"}, status_code=404)
        query, headers = dict(request.query_params), dict(request.headers)
        early = handshake_answer(spec, request.method, query, headers, b"", verified=False)
        if early is not None:
            return Response(early.body, early.status, early.headers, media_type=early.media_type)
        secrets = deps.webhook_secrets.get(name, ())
        if not secrets:
            log.error("a %s webhook arrived but no secret is configured (sierra-sync blocks setup)", name)
            return JSONResponse({"error": f"the {name} endpoint is not configured"}, status_code=503)
        if spec.header and spec.header.lower() not in headers:  # refused before the body is read
            return _reject(name, 401, f"missing {spec.header} header", request, 0)
        body = await _body(request, deps, name)
        if isinstance(body, JSONResponse):
            return body
        if deps.webhook_tolerance is not None:
            spec = spec.model_copy(update={"tolerance_s": deps.webhook_tolerance})
        url = (
            f"{deps.public_base_url.rstrip('/')}{request.url.path}"
            if deps.public_base_url
            else str(request.url)
        )
        try:
            verify(spec, body, headers, secrets, now=deps.clock(), url=url)
            late = handshake_answer(spec, request.method, query, headers, body, verified=True)
            if late is not None:
                return Response(late.body, late.status, late.headers, media_type=late.media_type)
            events, raw = _parse(adapter, body)
        except SignatureError as err:
            return _reject(name, err.status, err.reason, request, len(body))
        except MalformedEventError as err:
            return _reject(name, 400, str(err), request, len(body))
        if not events:  # a signed, empty delivery (Xero's intent-to-receive): nothing to store
            return JSONResponse({"received": 0, "duplicates": 0})
        try:
            stored = await run_in_threadpool(store_webhook_events, deps.sessions, name, events, raw)
        except (SQLAlchemyError, SierraError) as err:
            return _unavailable(name, err)
        return _acknowledge(name, stored, background, deps)

    api.add_api_route(
        "/webhooks/{provider}",
        receive,
        methods=["POST"],
        summary="Receive a provider's webhook (verified as the provider declares: Stripe-Signature, "
        "intuit-signature, ...)",
    )
    api.add_api_route(
        "/webhooks/{provider}",
        receive,
        methods=["GET"],
        summary="Answer a provider's verification handshake (Dropbox challenge, Graph validationToken)",
        include_in_schema=False,
    )
    return api
