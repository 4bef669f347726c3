"""API keys (create: the key is shown once, with a copy button; revoke) and outgoing webhook
subscriptions (create: URL and signing secret to copy; deliveries; replay), for the signed-in company.
Both reuse the public API's rules: `connectors.apikeys` and `connectors.outgoing_webhooks`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from connectors.apikeys import RESOURCES, create_key, list_keys, parse_expiry, permission_text, revoke_key
from connectors.kit.registry import ADAPTERS
from connectors.outgoing_webhooks import EVENT_TYPES, OUTGOING, new_secret, replay, seal_secret
from connectors.webhook_targets import UnsafeTarget, check_url
from sierra_core.db.models import WebhookDelivery, WebhookSubscription
from sierra_core.errors import SierraError
from sierra_sync.web.hub.auth import Form, HubError, Manager, Principal, Viewer, app_deps, hub_config
from sierra_sync.web.hub.pages import notice, render

__all__ = ["router"]

router = APIRouter(prefix="/hub", include_in_schema=False)
EXPIRIES = (("90d", "90 days"), ("30d", "30 days"), ("1w", "1 week"), ("never", "Never"))


def _keys_page(
    request: Request,
    me: Principal,
    *,
    created: object = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    form: Form | None = None,
) -> Response:
    with app_deps(request).sessions() as session:
        keys = [(k, permission_text(k.permissions or {})) for k in list_keys(session, me.company_id)]
    return render(
        request,
        "api_keys.html",
        me,
        section="keys",
        keys=keys,
        created=created,
        errors=errors or {},
        resources=RESOURCES,
        expiries=EXPIRIES,
        now_ts=datetime.now(UTC).timestamp(),
        form=form,
        toast=notice(request, {}),
        status_code=status,
    )


@router.get("/api-keys")
def api_keys(request: Request, me: Viewer) -> Response:
    return _keys_page(request, me)


@router.post("/api-keys")
async def create_api_key(request: Request, form: Manager) -> Response:
    me = form.principal
    errors: dict[str, str] = {}
    name = form.get("name")
    if not name or len(name) > 255:
        errors["name"] = "Give the key a name of 1 to 255 characters, e.g. “Zapier”."
    perms = {}
    for resource in RESOURCES:
        modes = form.all(f"perm:{resource}")
        if modes:
            perms[resource] = {"read": True, "write": "write" in modes, "delete": False}
    if not perms:
        errors["permissions"] = "Choose at least one thing the key may read."
    now = datetime.now(UTC)
    try:
        expires = parse_expiry(form.get("expires", "90d"), now)
    except SierraError:
        errors["expires"] = "Choose when the key expires."
        expires = None
    environment = form.get("environment", "production")
    if environment not in ("production", "sandbox"):
        errors["environment"] = "Choose live or test."
    if errors:
        return _keys_page(request, me, errors=errors, status=422, form=form)

    def make() -> object:
        with app_deps(request).sessions.begin() as session:
            return create_key(
                session, me.company_id, name, perms, environment=environment, expires_at=expires
            )

    created = await run_in_threadpool(make)
    return _keys_page(request, me, created=created, status=201)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(key_id: uuid.UUID, request: Request, form: Manager) -> Response:
    def revoke() -> None:
        with app_deps(request).sessions.begin() as session:
            revoke_key(session, str(key_id), datetime.now(UTC), company_id=form.principal.company_id)

    try:
        await run_in_threadpool(revoke)
    except SierraError:
        raise HubError(404, "Unknown API key", "That key is not one of your company's.") from None
    return RedirectResponse("/hub/api-keys?done=revoked", status_code=303)


def _incoming(request: Request) -> list[tuple[str, str]]:
    base = (hub_config(request).public_base_url or str(request.base_url)).rstrip("/")
    return [(a.provider.title, f"{base}/webhooks/{name}") for name, a in ADAPTERS.items() if a.parse_webhook]


def _hooks_page(
    request: Request,
    me: Principal,
    *,
    created: tuple[WebhookSubscription, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    form: Form | None = None,
) -> Response:
    with app_deps(request).sessions() as session:
        subs = list(
            session.scalars(
                select(WebhookSubscription)
                .where(
                    WebhookSubscription.company_id == me.company_id, WebhookSubscription.provider == OUTGOING
                )
                .order_by(WebhookSubscription.created_at)
            )
        )
        deliveries = {
            s.id: list(
                session.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.subscription_id == s.id)
                    .order_by(WebhookDelivery.created_at.desc())
                    .limit(10)
                )
            )
            for s in subs
        }
    return render(
        request,
        "webhooks.html",
        me,
        section="webhooks",
        incoming=_incoming(request),
        subs=subs,
        deliveries=deliveries,
        created=created,
        events=EVENT_TYPES,
        errors=errors or {},
        form=form,
        enabled=app_deps(request).webhook_keyring is not None,
        toast=notice(request, {}),
        status_code=status,
    )


@router.get("/webhooks")
def webhooks(request: Request, me: Viewer) -> Response:
    return _hooks_page(request, me)


@router.post("/webhooks")
async def create_subscription(request: Request, form: Manager) -> Response:
    me = form.principal
    deps = app_deps(request)
    keyring = deps.webhook_keyring
    if keyring is None:
        raise HubError(
            503, "Outgoing webhooks are off", "This server has no encryption key for webhook secrets."
        )
    errors: dict[str, str] = {}
    url = form.get("url")
    try:
        check_url(url, allow_private=deps.webhook_allow_private, extra_ports=deps.webhook_ports)
    except UnsafeTarget as err:
        errors["url"] = f"{err} Use the https address of your receiving app."
    events = [e for e in form.all("events") if e in EVENT_TYPES]
    if not events:
        errors["events"] = "Choose at least one event to send."
    if errors:
        return _hooks_page(request, me, errors=errors, status=422, form=form)

    def make() -> tuple[WebhookSubscription, str]:
        secret = new_secret()
        with deps.sessions.begin() as session:
            row = WebhookSubscription(
                id=uuid.uuid4(),
                company_id=me.company_id,
                provider=OUTGOING,
                webhook_url=url,
                events=events,
                is_active=True,
            )
            row.webhook_secret = seal_secret(keyring, row.id, secret)
            session.add(row)
        return row, secret

    created = await run_in_threadpool(make)
    return _hooks_page(request, me, created=created, status=201)


@router.post("/webhooks/deliveries/{delivery_id}/replay")
async def replay_delivery(delivery_id: uuid.UUID, request: Request, form: Manager) -> Response:
    def again() -> bool:
        with app_deps(request).sessions.begin() as session:
            row = session.scalar(
                select(WebhookDelivery).where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.company_id == form.principal.company_id
                )
            )
            if row is None:
                return False
            replay(session, row, datetime.now(UTC))
            return True

    if not await run_in_threadpool(again):
        raise HubError(404, "Unknown delivery", "That delivery is not one of your company's.")
    return RedirectResponse("/hub/webhooks?done=replayed", status_code=303)
