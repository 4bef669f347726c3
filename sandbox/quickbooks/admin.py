"""The QBO sandbox's own admin endpoints, on top of the kit's contract (`sandbox.kit.admin`: tokens, faults,
stats, clock, reset, limits, webhooks): companies and their entities, the temporary attachment URLs, and
Intuit's OAuth switches (consent, daily or per-refresh rotation). Documented in README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from sandbox.kit.admin import AdminError, admin_endpoint, read_json
from sandbox.quickbooks.attachments import serve_file
from sandbox.quickbooks.entities import SPECS, Engine
from sandbox.quickbooks.http import Receive, Send, admin_json, read_request
from sandbox.quickbooks.oauth import rotation_interval
from sandbox.quickbooks.query import resolve_entity
from sandbox.quickbooks.seed import BOOKS
from sandbox.quickbooks.wire import QboFault, loads

if TYPE_CHECKING:
    from sandbox.kit.app import Kit
    from sandbox.quickbooks.app import QboSandbox

__all__ = ["routes"]


def _json(obj: Any, status: int = 200) -> Response:
    """A Starlette response in the admin API's exact-number JSON (Decimals as numbers)."""
    answer = admin_json(obj, status)
    return Response(answer.body, status, media_type=answer.content_type)


def routes(app: QboSandbox) -> list[BaseRoute]:
    """The QBO admin routes (before the kit's, so /__sandbox/oauth here wins)."""

    async def attachments(scope: Any, receive: Receive, send: Send) -> None:
        req = await read_request(scope, receive)
        parts = req.path.strip("/").split("/")  # __sandbox, attachments, realm, id
        if req.method != "GET" or len(parts) != 4:
            response = admin_json({"error": f"no admin endpoint {req.method} {req.path}"}, 404)
        else:
            response = serve_file(app.store.realms.get(parts[2]), parts[3], req, app.clock.timestamp())
        await response.send(send)

    async def realms(kit: Kit, request: Request) -> Any:
        return await _realms(app, request)

    async def realm(kit: Kit, request: Request) -> Any:
        return await _realm(app, request, request.path_params["realm"], request.path_params.get("entity"))

    async def oauth(kit: Kit, request: Request) -> Any:
        return await _oauth(app, request)

    kit = app.kit
    return [
        Mount("/__sandbox/attachments", app=attachments),
        Route("/__sandbox/realms", admin_endpoint(kit, realms), methods=["GET", "POST"]),
        Route("/__sandbox/realms/{realm}", admin_endpoint(kit, realm), methods=["GET"]),
        Route(
            "/__sandbox/realms/{realm}/entities/{entity}", admin_endpoint(kit, realm), methods=["GET", "POST"]
        ),
        Route("/__sandbox/oauth", admin_endpoint(kit, oauth), methods=["GET", "POST"]),
    ]


async def _oauth(app: QboSandbox, request: Request) -> Any:
    server = app.oauth
    if request.method == "POST":
        body = await read_json(request)
        if "consent" in body:
            if body["consent"] not in ("auto", "page", "deny"):
                raise AdminError(400, "consent must be 'auto', 'page' or 'deny'")
            server.consent = body["consent"]
        if "refresh_rotation" in body:
            if body["refresh_rotation"] not in ("daily", "always"):
                raise AdminError(400, "refresh_rotation must be 'daily' or 'always'")
            server.rotation_interval_s = rotation_interval(app.options, body["refresh_rotation"])
    mode = "always" if server.rotation_interval_s == 0 else "daily"
    return {"consent": server.consent, "refresh_rotation": mode}


async def _realms(app: QboSandbox, request: Request) -> Any:
    if request.method == "GET":
        return _json({"realms": [r.meta() for r in app.store.realms.values()]})
    body = await read_json(request)
    seed = body.get("seed")
    if seed is not None and seed not in BOOKS:
        raise AdminError(400, "seed must be 'sample', 'lists' or 'empty'")
    custom = body.get("custom_fields")
    if custom is not None:
        if not isinstance(custom, list):
            raise AdminError(400, "custom_fields must be a list of names")
        custom = [
            {"DefinitionId": str(i), "Name": str(name), "Type": "StringType"}
            for i, name in enumerate(custom, 1)
        ]
    realm_id = body.get("realm_id")
    if realm_id is not None and str(realm_id) in app.store.realms:
        raise AdminError(400, f"realm {realm_id} already exists")
    realm = app.create_realm(
        str(realm_id) if realm_id is not None else None,
        body.get("name"),
        body.get("timezone"),
        books=seed,
        custom_fields=custom,
    )
    out: dict[str, Any] = realm.meta()
    if body.get("tokens"):
        out["tokens"] = app.oauth.grant_for(realm.id, "com.intuit.quickbooks.accounting")
    return _json(out, 201)


async def _realm(app: QboSandbox, request: Request, realm_id: str, entity_name: str | None) -> Any:
    realm = app.store.realms.get(realm_id)
    if realm is None:
        raise AdminError(404, f"no realm {realm_id}")
    if entity_name is None:
        counts = {name: sum(1 for _ in realm.live(name)) for name in sorted(realm.entities)}
        return _json(realm.meta() | {"entity_counts": counts})
    try:
        entity = resolve_entity(entity_name).name
    except QboFault:
        raise AdminError(404, f"unknown entity {entity_name}") from None
    if request.method == "GET":
        with_deleted = (request.query_params.get("deleted") or "").lower() in ("1", "true")
        items = [rec.data for rec in realm.table(entity).values() if with_deleted or not rec.deleted]
        return _json({"entity": entity, "count": len(items), "items": items})
    try:
        payload = loads(await request.body())
    except ValueError:
        raise AdminError(400, "the body must be JSON") from None
    bodies = payload if isinstance(payload, list) else [payload]
    ctx = app.ctx(realm)
    engine = Engine(ctx)
    created = []
    for body in bodies:
        try:
            if SPECS[entity].custom_write is not None:  # RecurringTransaction, ExchangeRate
                created.append(engine.write(entity, body, "create", True))
            else:
                created.append(engine.create(entity, body, seed=True))
        except QboFault as fault:
            return _json({"error": f"{fault.code} {fault.detail}", "fault": fault.fault()}, 400)
    ctx.events.clear()
    return _json({"entity": entity, "count": len(created), "items": created}, 201)
