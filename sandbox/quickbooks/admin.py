"""The sandbox-only admin API under /__sandbox/: JSON in, JSON out (documented in README.md).

No authentication: the sandbox listens on loopback. Errors are `{"error": "..."}` with 400 or 404.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.quickbooks.attachments import serve_file
from sandbox.quickbooks.entities import SPECS, Engine
from sandbox.quickbooks.http import Request, Response, admin_json
from sandbox.quickbooks.query import resolve_entity
from sandbox.quickbooks.seed import BOOKS
from sandbox.quickbooks.wire import QboFault, loads

if TYPE_CHECKING:
    from sandbox.quickbooks.app import QboSandbox

__all__ = ["handle"]

FAULT_KEYS = ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_mode", "drop_hang_s")


class AdminError(Exception):
    """A bad admin request: status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        payload = loads(req.body)
    except ValueError:
        raise AdminError(400, "the body must be JSON") from None
    if not isinstance(payload, dict):
        raise AdminError(400, "the body must be a JSON object")
    return payload


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise AdminError(400, f"{key} must be a number")
    return float(value)


async def handle(app: QboSandbox, req: Request) -> Response:
    """Route one admin request."""
    try:
        return await _route(app, req)
    except AdminError as err:
        return admin_json({"error": err.message}, err.status)
    except ValueError as err:
        return admin_json({"error": str(err)}, 400)


async def _route(app: QboSandbox, req: Request) -> Response:
    parts = req.path.strip("/").split("/")[1:]
    method = req.method
    head = parts[0] if parts else ""
    if head == "reset" and method == "POST":
        return _reset(app)
    if head == "attachments" and method == "GET" and len(parts) == 3:
        return serve_file(app.store.realms.get(parts[1]), parts[2], req, app.clock.timestamp())
    if head == "realms":
        return _realms(app, req, parts[1:])
    if head == "faults":
        if method == "POST":
            return _faults(app, _body(req))
        realm = req.q("realm")
        if realm:
            inj = app.injector(realm)
            return admin_json(
                {"realm": realm, **_settings(inj.settings), "throttle_pending": inj.throttle_pending}
            )
        return admin_json({"realm": None, **_settings(app.default_faults)})
    if head == "limits":
        return _limits(app, req)
    if head == "stats" and method == "GET":
        realm = req.q("realm")
        if realm:
            if realm not in app.store.realms:
                raise AdminError(404, f"no realm {realm}")
            return admin_json({"realm": realm, **app.stats.realm(realm).as_dict()})
        return admin_json(app.stats.total())
    if head == "tokens":
        return _tokens(app, req, parts[1:])
    if head == "clock":
        if method == "POST":
            seconds = _number(_body(req).get("advance_seconds", 0), "advance_seconds")
            app.clock.advance(seconds)
        return admin_json({"now": app.clock.now().isoformat(), "frozen": app.clock.frozen})
    if head == "oauth":
        if method == "POST":
            body = _body(req)
            if "consent" in body:
                if body["consent"] not in ("auto", "deny"):
                    raise AdminError(400, "consent must be 'auto' or 'deny'")
                app.oauth.consent = body["consent"]
            if "refresh_rotation" in body:
                if body["refresh_rotation"] not in ("daily", "always"):
                    raise AdminError(400, "refresh_rotation must be 'daily' or 'always'")
                app.oauth.refresh_rotation = body["refresh_rotation"]
        return admin_json({"consent": app.oauth.consent, "refresh_rotation": app.oauth.refresh_rotation})
    if head == "webhooks":
        if len(parts) > 1 and parts[1] == "deliveries" and method == "GET":
            return admin_json({"deliveries": app.webhooks.deliveries})
        if len(parts) > 1 and parts[1] == "flush" and method == "POST":
            await app.webhooks.drain()
            return admin_json({"deliveries": len(app.webhooks.deliveries)})
        if method == "POST":
            app.webhooks.configure(_body(req))
        return admin_json(app.webhooks.settings())
    raise AdminError(404, f"no admin endpoint {method} {req.path}")


def _reset(app: QboSandbox) -> Response:
    app.store.reset()
    app.oauth.reset()
    app.stats.reset()
    app.limiter.reset()
    app.injectors.clear()
    app.webhooks.deliveries.clear()
    return admin_json({"ok": True})


def _settings(settings: Any) -> dict[str, Any]:
    return {key: getattr(settings, key) for key in FAULT_KEYS}


def _faults(app: QboSandbox, body: dict[str, Any]) -> Response:
    changes: dict[str, Any] = {}
    for key in ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_hang_s"):
        if key in body:
            changes[key] = _number(body[key], key)
    if "drop_mode" in body:
        changes["drop_mode"] = body["drop_mode"]
    throttle = body.get("throttle")
    if throttle is not None and (not isinstance(throttle, int) or isinstance(throttle, bool) or throttle < 0):
        raise AdminError(400, "throttle must be the number of upcoming requests to throttle (>= 0)")
    realm = body.get("realm")
    if realm is not None:
        realm = str(realm)
        if realm not in app.store.realms:
            raise AdminError(404, f"no realm {realm}")
    return admin_json(app.set_faults(realm, changes, throttle))


def _limits(app: QboSandbox, req: Request) -> Response:
    if req.method == "POST":
        body = _body(req)
        realm = body.pop("realm", None)
        if realm is None:
            app.limiter.default = app.limiter.default.updated(body)
            app.limiter.per_realm = {k: v.updated(body) for k, v in app.limiter.per_realm.items()}
        else:
            realm = str(realm)
            if realm not in app.store.realms:
                raise AdminError(404, f"no realm {realm}")
            app.limiter.per_realm[realm] = app.limiter.limits(realm).updated(body)
    else:
        realm = req.q("realm")
    limits = app.limiter.limits(realm) if realm else app.limiter.default
    return admin_json({"realm": realm, **limits.__dict__})


def _realms(app: QboSandbox, req: Request, rest: list[str]) -> Response:
    if not rest:
        if req.method == "GET":
            return admin_json({"realms": [r.meta() for r in app.store.realms.values()]})
        if req.method != "POST":
            raise AdminError(404, "use GET or POST /__sandbox/realms")
        body = _body(req)
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
            out["tokens"] = json.loads(app.oauth.grant_for_realm(realm.id).body)
        return admin_json(out, 201)
    found = app.store.realms.get(rest[0])
    if found is None:
        raise AdminError(404, f"no realm {rest[0]}")
    realm = found
    if len(rest) == 1 and req.method == "GET":
        counts = {name: sum(1 for _ in realm.live(name)) for name in sorted(realm.entities)}
        return admin_json(realm.meta() | {"entity_counts": counts})
    if len(rest) == 3 and rest[1] == "entities":
        try:
            entity = resolve_entity(rest[2]).name
        except QboFault:
            raise AdminError(404, f"unknown entity {rest[2]}") from None
        if req.method == "GET":
            with_deleted = (req.q("deleted") or "").lower() in ("1", "true")
            items = [rec.data for rec in realm.table(entity).values() if with_deleted or not rec.deleted]
            return admin_json({"entity": entity, "count": len(items), "items": items})
        if req.method == "POST":
            try:
                payload = loads(req.body)
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
                    return admin_json({"error": f"{fault.code} {fault.detail}", "fault": fault.fault()}, 400)
            ctx.events.clear()
            return admin_json({"entity": entity, "count": len(created), "items": created}, 201)
    raise AdminError(404, f"no admin endpoint {req.method} {req.path}")


def _tokens(app: QboSandbox, req: Request, rest: list[str]) -> Response:
    if not rest and req.method == "GET":
        return admin_json(app.oauth.tokens())
    body = _body(req) if req.method == "POST" else {}
    if not rest and req.method == "POST":
        realm_id = str(body.get("realm_id", ""))
        if realm_id not in app.store.realms:
            raise AdminError(404, f"no realm {realm_id}")
        return app.oauth.grant_for_realm(realm_id)
    if rest == ["expire"] and req.method == "POST":
        kind = body.get("kind", "access")
        if kind not in ("access", "refresh", "all"):
            raise AdminError(400, "kind must be 'access', 'refresh' or 'all'")
        target = body.get("realm_id")
        return admin_json({"expired": app.oauth.expire(str(target) if target else None, kind)})
    raise AdminError(404, f"no admin endpoint {req.method} {req.path}")
