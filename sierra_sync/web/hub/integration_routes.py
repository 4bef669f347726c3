"""The integrations page: one card per provider; Connect (to the provider's consent page), Disconnect,
Sync now and the run's progress (a small JSON document the page polls until the run ends)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from connectors.kit.adapter import Adapter
from connectors.kit.registry import ADAPTERS
from sierra_core.db.models import Integration, IntegrationSyncLog
from sierra_core.errors import SierraError
from sierra_sync.web.hub.auth import HubError, Manager, Principal, Viewer, app_deps, hub_config
from sierra_sync.web.hub.cards import cards
from sierra_sync.web.hub.pages import notice, render
from sierra_sync.web.oauth_callback import OAuthCallbacks

__all__ = ["router", "user_uuid"]

router = APIRouter(prefix="/hub", include_in_schema=False)
TITLES = {name: a.provider.title for name, a in ADAPTERS.items()}


def user_uuid(principal: Principal) -> uuid.UUID | None:
    """The person as the integrations table records them (host user ids that are not UUIDs: None)."""
    try:
        return uuid.UUID(principal.user_id)
    except ValueError:
        return None


def adapter_of(provider: str) -> Adapter:
    adapter = ADAPTERS.get(provider)
    if adapter is None:
        raise HubError(404, "Unknown integration", f"There is no integration called {provider!r} here.")
    return adapter


def connector(request: Request) -> OAuthCallbacks | None:
    found = app_deps(request).oauth
    return found if isinstance(found, OAuthCallbacks) else None


@router.get("/")
def overview(request: Request, me: Viewer) -> Response:
    deps = app_deps(request)
    oauth = connector(request)
    with deps.sessions() as session:
        found = cards(session, me.company_id)
    return render(
        request,
        "integrations.html",
        me,
        section="integrations",
        cards=found,
        configured={c.name: bool(oauth and oauth.configured(c.name)) for c in found},
        can_sync=hub_config(request).runs is not None,
        toast=notice(request, TITLES),
    )


@router.post("/integrations/{provider}/connect")
async def connect(provider: str, request: Request, form: Manager) -> Response:
    adapter = adapter_of(provider)
    oauth = connector(request)
    if oauth is None or not oauth.configured(provider):
        raise HubError(
            503,
            f"{adapter.provider.title} is not set up on this server",
            "An administrator must save its app credentials first (sierra-sync blocks setup).",
        )
    me = form.principal
    try:
        url = await run_in_threadpool(oauth.begin, provider, me.company_id, user_uuid(me))
    except SierraError as err:
        raise HubError(502, f"Could not reach {adapter.provider.title}", err.message) from None
    return RedirectResponse(url, status_code=303)


@router.post("/integrations/{provider}/disconnect")
async def disconnect(provider: str, request: Request, form: Manager) -> Response:
    adapter = adapter_of(provider)
    oauth = connector(request)
    if oauth is None or not oauth.configured(provider):
        raise HubError(
            503, f"{adapter.provider.title} is not set up on this server", "Nothing to disconnect."
        )
    me = form.principal
    try:
        await run_in_threadpool(oauth.disconnect, provider, me.company_id, user_uuid(me))
    except SierraError as err:
        raise HubError(
            502,
            f"{adapter.provider.title} did not confirm the disconnection",
            f"{err.message} Try again in a minute; the connection is unchanged.",
        ) from None
    return RedirectResponse(f"/hub/?done=disconnected&provider={provider}", status_code=303)


def _connected(request: Request, me: Principal, provider: str) -> Integration:
    with app_deps(request).sessions() as session:
        row = session.scalar(
            select(Integration).where(
                Integration.company_id == me.company_id, Integration.integration_type == provider
            )
        )
    if row is None or row.connection_status != "connected":
        title = adapter_of(provider).provider.title
        raise HubError(409, f"{title} is not connected", f"Connect {title} first, then sync.")
    return row


@router.post("/integrations/{provider}/sync")
async def sync_now(provider: str, request: Request, form: Manager) -> Response:
    adapter = adapter_of(provider)
    runs = hub_config(request).runs
    if adapter.sync_flow is None or runs is None:
        raise HubError(404, "No sync here", f"{adapter.provider.title} has no sync to start from the hub.")
    me = form.principal
    _connected(request, me, provider)
    params = {"company": str(me.company_id), "trigger": "manual"}
    try:
        run_id = await run_in_threadpool(runs.start, adapter.sync_flow, params)
    except Exception as err:  # the orchestrator is down: say so, keep the page
        raise HubError(
            503,
            "The sync could not start",
            f"The scheduler did not answer ({type(err).__name__}); try again shortly.",
        ) from None
    progress = f"/hub/integrations/{provider}/runs/{run_id}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"run_id": run_id, "progress_url": progress}, status_code=202)
    return RedirectResponse(f"/hub/?run={run_id}&provider={provider}", status_code=303)


def _progress(request: Request, row: Integration, since: Any) -> dict[str, int]:
    log = IntegrationSyncLog
    with app_deps(request).sessions() as session:
        found = session.execute(
            select(log.status, func.count())
            .where(log.integration_id == row.id, log.trigger == "manual", log.started_at >= since)
            .group_by(log.status)
        ).all()
    return {status: int(count) for status, count in found}


@router.get("/integrations/{provider}/runs/{run_id}")
async def run_progress(provider: str, run_id: str, request: Request, me: Viewer) -> Response:
    title = adapter_of(provider).provider.title
    runs = hub_config(request).runs
    state = await run_in_threadpool(runs.state, run_id) if runs is not None else None
    if state is None or state.company != str(me.company_id):
        raise HubError(404, "Unknown sync run", "This sync run is not one of your company's.")
    row = _connected(request, me, provider) if state.status != "failed" else None
    counts = (
        await run_in_threadpool(_progress, request, row, state.started_at - timedelta(seconds=2))
        if row
        else {}
    )
    synced, failed = counts.get("success", 0), counts.get("failed", 0)
    working = counts.get("in_progress", 0) + counts.get("retrying", 0) + counts.get("pending", 0)
    if state.status == "failed":
        text = f"{title} sync failed: {state.message or 'see the sync log'}"
    elif state.done:
        text = f"{title} sync finished: {synced} synced, {failed} failed."
        if failed:
            text += " Open the sync log to see what to fix."
    elif state.status == "scheduled":
        text = f"{title} sync is starting…"
    else:
        text = f"{title} sync in progress: {synced} synced, {failed} failed so far."
    return JSONResponse(
        {
            "status": state.status,
            "done": state.done,
            "synced": synced,
            "failed": failed,
            "working": working,
            "message": text,
        },
        headers={"Cache-Control": "no-store"},
    )
