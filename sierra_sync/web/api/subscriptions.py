"""/api/v1/webhooks: outgoing webhook subscriptions (the signing secret is shown once, stored sealed), their
deliveries with every attempt, and replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.outgoing_webhooks import (
    OUTGOING,
    new_secret,
    open_secret,
    replay,
    rotate_secret,
    seal_secret,
)
from connectors.webhook_targets import UnsafeTarget, check_url
from sierra_core.crypto import Keyring
from sierra_core.db.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from sierra_sync.web.api.auth import ApiContext, app_deps, now_of, require
from sierra_sync.web.api.common import (
    ERRORS,
    IdempotencyKey,
    Limit,
    Offset,
    columns,
    idempotent,
    not_found,
    page,
)
from sierra_sync.web.api.errors import ApiError
from sierra_sync.web.api.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryStatus,
    One,
    Page,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionOut,
    SubscriptionUpdate,
)
from sierra_sync.web.deps import AppDeps

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERRORS)
Deps = Annotated[AppDeps, Depends(app_deps)]
Read = Annotated[ApiContext, Depends(require("webhooks", "read"))]
Write = Annotated[ApiContext, Depends(require("webhooks", "write"))]
DISABLED: dict[int | str, dict[str, Any]] = {
    409: {**ERRORS[400], "description": "The subscription is disabled: re-enable it first"}
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    409: {**ERRORS[400], "description": "Idempotency-Key reused with another body"},
    503: {**ERRORS[400], "description": "Outgoing webhooks are not configured on this server"},
}


def sub_json(row: WebhookSubscription) -> dict[str, Any]:
    fields = {k: getattr(row, k) for k in SubscriptionOut.model_fields if hasattr(row, k)}
    fields["url"] = row.webhook_url
    return SubscriptionOut.model_validate(fields).model_dump(mode="json")


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return DeliveryOut.model_validate(row, from_attributes=True).model_dump(mode="json")


def _keyring(deps: AppDeps) -> Keyring:
    if deps.webhook_keyring is None:
        raise ApiError(
            503, "not_configured", "outgoing webhooks are not configured on this server (no encryption key)"
        )
    return deps.webhook_keyring


def _target(deps: AppDeps, url: str) -> str:
    """`url` if outgoing webhooks may be sent there (see connectors.webhook_targets), else a 400 naming it."""
    try:
        check_url(url, allow_private=deps.webhook_allow_private, extra_ports=deps.webhook_ports)
    except UnsafeTarget as err:
        raise ApiError(
            400,
            "validation_error",
            "the request is not valid; see details",
            details=[{"field": "url", "message": str(err)}],
        ) from None
    return url


def _sub(session: Session, ctx: ApiContext, sub_id: uuid.UUID) -> WebhookSubscription:
    row = session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.id == sub_id,
            WebhookSubscription.company_id == ctx.company_id,
            WebhookSubscription.provider == OUTGOING,
        )
    )
    if row is None:
        raise not_found("webhook subscription")
    return row


def _delivery(session: Session, ctx: ApiContext, delivery_id: uuid.UUID) -> WebhookDelivery:
    row = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.company_id == ctx.company_id
        )
    )
    if row is None:
        raise not_found("webhook delivery")
    return row


@router.get("/webhooks", response_model=Page[SubscriptionOut], summary="List webhook subscriptions")
def list_subscriptions(ctx: Read, deps: Deps, limit: Limit = 50, offset: Offset = 0) -> Any:
    sub = WebhookSubscription
    query = select(*columns(SubscriptionOut, sub, url=sub.webhook_url)).where(
        sub.company_id == ctx.company_id, sub.provider == OUTGOING
    )
    with deps.autocommit.connect() as conn:
        return page(conn, query.order_by(sub.created_at, sub.id), limit, offset, SubscriptionOut)


@router.post(
    "/webhooks",
    status_code=201,
    response_model=One[SubscriptionCreated],
    summary="Subscribe a URL to events (the answer holds the signing secret, once)",
    responses=UNAVAILABLE,
)
def create_subscription(body: SubscriptionCreate, ctx: Write, deps: Deps, key: IdempotencyKey = None) -> Any:
    keyring = _keyring(deps)
    url = _target(deps, str(body.url))

    def work(session: Session) -> tuple[int, Any]:
        secret = new_secret()
        row = WebhookSubscription(
            id=uuid.uuid4(),
            company_id=ctx.company_id,
            provider=OUTGOING,
            webhook_url=url,
            events=list(body.events),
            is_active=True,
        )
        row.webhook_secret = seal_secret(keyring, row.id, secret)
        session.add(row)
        session.flush()
        return 201, {"data": {**sub_json(row), "secret": secret}}

    path, dumped = "/api/v1/webhooks", body.model_dump(mode="json")
    store, restore = _secret_answer(deps, keyring)
    return idempotent(deps, ctx, key, "POST", path, dumped, work, store=store, restore=restore)


def _secret_answer(deps: AppDeps, keyring: Keyring) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(store, restore) for an answer that shows a secret: the stored answer never holds it, a replay
    re-opens the subscription's current secret from the sealed column."""

    def store(payload: Any) -> Any:
        return {"data": {k: v for k, v in payload["data"].items() if k != "secret"}}

    def restore(payload: Any) -> Any:
        with deps.sessions() as session:
            row = session.get(WebhookSubscription, uuid.UUID(payload["data"]["id"]))
            secret = open_secret(keyring, row.id, row.webhook_secret) if row and row.webhook_secret else None
        return {"data": {**payload["data"], "secret": secret}}

    return store, restore


@router.get("/webhooks/{subscription_id}", response_model=One[SubscriptionOut], summary="Get a subscription")
def get_subscription(subscription_id: uuid.UUID, ctx: Read, deps: Deps) -> Any:
    with deps.sessions() as session:
        return {"data": sub_json(_sub(session, ctx, subscription_id))}


@router.patch(
    "/webhooks/{subscription_id}",
    response_model=One[SubscriptionOut],
    summary="Change URL or events; is_active=true re-enables",
)
def update_subscription(subscription_id: uuid.UUID, body: SubscriptionUpdate, ctx: Write, deps: Deps) -> Any:
    url = _target(deps, str(body.url)) if body.url is not None else None
    with deps.sessions.begin() as session:
        row = _sub(session, ctx, subscription_id)
        if url is not None:
            row.webhook_url = url
        if body.events is not None:
            row.events = list(body.events)
        if body.is_active is not None:
            if body.is_active and not row.is_active:
                row.consecutive_failures, row.disabled_reason = 0, None
            row.is_active = body.is_active
        session.flush()
        return {"data": sub_json(row)}


@router.post(
    "/webhooks/{subscription_id}/rotate-secret",
    response_model=One[SubscriptionCreated],
    summary="Replace the signing secret (the answer holds the new one, once); the old one can keep signing "
    "for a while",
    responses=UNAVAILABLE,
)
def rotate_subscription_secret(
    subscription_id: uuid.UUID,
    ctx: Write,
    deps: Deps,
    body: SecretRotation | None = None,
    key: IdempotencyKey = None,
) -> Any:
    keyring = _keyring(deps)
    rotation = body or SecretRotation()
    now = now_of(deps)

    def work(session: Session) -> tuple[int, Any]:
        row = _sub(session, ctx, subscription_id)
        secret = rotate_secret(keyring, row, now, timedelta(seconds=rotation.previous_secret_valid_for_s))
        session.flush()
        return 200, {"data": {**sub_json(row), "secret": secret}}

    path = f"/api/v1/webhooks/{subscription_id}/rotate-secret"
    store, restore = _secret_answer(deps, keyring)
    dumped = rotation.model_dump(mode="json")
    return idempotent(deps, ctx, key, "POST", path, dumped, work, store=store, restore=restore)


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Delete a subscription")
def delete_subscription(subscription_id: uuid.UUID, ctx: Write, deps: Deps) -> Response:
    with deps.sessions.begin() as session:
        session.delete(_sub(session, ctx, subscription_id))
    return Response(status_code=204)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="Deliveries of a subscription, newest first",
)
def list_deliveries(
    subscription_id: uuid.UUID,
    ctx: Read,
    deps: Deps,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    with deps.sessions() as session:
        _sub(session, ctx, subscription_id)
        query = select(*columns(DeliveryOut, WebhookDelivery)).where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.company_id == ctx.company_id
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        return page(session.connection(), query, limit, offset, DeliveryOut)


@router.get(
    "/webhook-deliveries/{delivery_id}",
    response_model=One[DeliveryDetail],
    summary="A delivery with its payload and every attempt",
)
def get_delivery(delivery_id: uuid.UUID, ctx: Read, deps: Deps) -> Any:
    with deps.sessions() as session:
        row = _delivery(session, ctx, delivery_id)
        attempts = session.scalars(
            select(WebhookDeliveryAttempt)
            .where(WebhookDeliveryAttempt.delivery_id == row.id)
            .order_by(WebhookDeliveryAttempt.attempt_number)
        ).all()
        out = {
            **delivery_json(row),
            "payload": row.payload,
            "attempt_log": [
                AttemptOut.model_validate(a, from_attributes=True).model_dump(mode="json") for a in attempts
            ],
        }
        return {"data": DeliveryDetail.model_validate(out).model_dump(mode="json")}


@router.post(
    "/webhook-deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=One[DeliveryOut],
    summary="Send the same event again (a new delivery, same event id)",
    responses=DISABLED,
)
def replay_delivery(delivery_id: uuid.UUID, ctx: Write, deps: Deps) -> Any:
    with deps.sessions.begin() as session:
        row = _delivery(session, ctx, delivery_id)
        sub = session.get(WebhookSubscription, row.subscription_id)
        if sub is None or not sub.is_active:
            raise ApiError(
                409, "subscription_disabled", "the subscription is disabled; PATCH is_active=true first"
            )
        again = replay(session, row, now_of(deps))
        return {"data": delivery_json(again)}
