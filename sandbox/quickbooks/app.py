"""The QBO sandbox on the sandbox kit: the accounting API (authentication, throttling, fault injection,
requestid idempotency) as a raw-ASGI mount of the kit's Starlette app, which also serves Intuit's OAuth
server (`oauth.py` declares it) and the admin API (the kit's contract plus `admin.py`).

    app = create_app(SandboxOptions(client_id="local-client", client_secret="local-secret"))
    with LocalServer(app) as server: ...

Routes (paths as Intuit's, all on one host):
    /.well-known/openid_configuration    GET   discovery document
    /connect/oauth2                      GET   authorize (auto-consent)
    /oauth2/v1/tokens/bearer             POST  token
    /v2/oauth2/tokens/revoke             POST  revoke (also /oauth2/v1/tokens/revoke)
    /v1/openid_connect/userinfo          GET   userinfo;   /op/v1/jwks GET: the id_token signing key
    /v3/company/{realm}/...              the accounting API (entities, query, cdc, batch, companyinfo, and the
                                         resources of resources.py: preferences, upload, download, ...)
    /__sandbox/...                       admin API (the kit's contract and admin.py)
"""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.routing import Mount, Route

from sandbox.common.faults import Decision, FaultInjector, drop_response
from sandbox.kit.app import Kit
from sandbox.kit.oauth import OAuthServer, TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec
from sandbox.quickbooks import admin, entity_modules, expenses, faults, names, payments, txn  # noqa: F401  (register types)
from sandbox.quickbooks.batch import batch_items, run_batch
from sandbox.quickbooks.cdc import cdc
from sandbox.quickbooks.entities import URL_NAMES, Ctx, Engine
from sandbox.quickbooks.http import Receive, Request, Response, Send, qbo_json, read_request
from sandbox.quickbooks.includes import ALLOW_DUPLICATE_DOCNUM, INVOICE_LINK, VOID, parse_include, with_links
from sandbox.quickbooks.limits import QboLimits
from sandbox.quickbooks.oauth import oauth_spec
from sandbox.quickbooks.options import SandboxOptions
from sandbox.quickbooks.query import run as run_query
from sandbox.quickbooks.resources import RESOURCES, Call, raw_body
from sandbox.quickbooks.seed import seed_realm
from sandbox.quickbooks.store import Realm, Store
from sandbox.quickbooks.webhooks import SIGNING, Webhooks, intuit_headers
from sandbox.quickbooks.wire import QboFault, api_time, fault_body, loads

__all__ = ["QboSandbox", "create_app"]

log = logging.getLogger("sandbox.quickbooks")

API_PREFIX = "/v3/company/"
THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached.  Try again later"
# Resources of the accounting API that are not entities (their other paths and methods have no resource).
_OWN_ROUTES = frozenset({"query", "cdc", "batch", "companyinfo"})


def sandbox_spec(options: SandboxOptions) -> SandboxSpec:
    """The QBO sandbox declared for the kit, with its options."""
    return SandboxSpec(
        name="quickbooks_online",
        title="QuickBooks Online",
        oauth=oauth_spec(options),
        signing=SIGNING,
        webhook_secret_name="verifier_token",  # noqa: S106 - a field name
        scope_param="realm",
        tenant_body_key="realm_id",
        stats_key="realms",
        default_port=8701,
    )


def kit_options(options: SandboxOptions) -> KitOptions:
    """The kit's share of the QBO options."""
    return KitOptions(
        clock=options.clock,
        seed=options.seed,
        state_file=options.state_file,
        faults=options.fault_settings(),
        scope_faults=options.realm_faults,
        limits=QboLimits(
            requests_per_minute=options.requests_per_minute,
            requests_per_second=options.requests_per_second,
            concurrent_requests=options.concurrent_requests,
            batch_requests_per_minute=options.batch_requests_per_minute,
            batch_items_count_toward_limit=options.batch_items_count_toward_limit,
            throttle_xml=options.throttle_xml,
        ),
        webhook_url=options.webhook_url,
        webhook_secret=options.webhook_verifier_token,
        webhook_attempts=options.webhook_attempts,
        webhook_retry_delay_s=options.webhook_retry_delay_s,
        public_url=options.public_url,
    )


class QboSandbox:
    """The ASGI application and everything it holds; see `create_app`."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.kit = Kit(
            sandbox_spec(options),
            kit_options(options),
            TenantHooks(
                create=lambda realm_id: self.create_realm(realm_id).id,
                exists=lambda realm_id: realm_id in self.store.realms,
            ),
        )
        self.clock = self.kit.clock
        self.persistence = self.kit.persistence
        self.store = Store(self.clock, self.persistence)
        self.stats = self.kit.stats
        self.limiter = self.kit.limiter
        self.oauth: OAuthServer = self.kit.require_oauth()
        assert self.kit.webhooks is not None
        self.kit.webhooks.headers = intuit_headers
        self.webhooks = Webhooks(options, self.kit.webhooks)
        self.kit.webhook_configure = self.webhooks.configure
        self.kit.webhook_settings = self.webhooks.settings
        self.kit.on_reset.append(self.store.reset)
        self._tid_prefix = uuid.uuid4().hex[:16]  # intuit_tid: unique per response, cheaper than uuid4 each
        self._tid_seq = itertools.count(1)
        self.asgi = self.kit.app(
            [
                Mount("/v3/company", app=self._api_asgi),
                Route("/", self._home, methods=["GET"]),
                *admin.routes(self),
            ]
        )

    # ------------------------------------------------------------ realms, faults

    def create_realm(
        self,
        realm_id: str | None = None,
        name: str | None = None,
        timezone: str | None = None,
        books: str | None = None,
        custom_fields: list[dict[str, Any]] | None = None,
    ) -> Realm:
        """A new company with the books asked for ("sample", "lists", "empty"; default `new_company`)."""
        if realm_id is not None and realm_id in self.store.realms:
            raise ValueError(f"realm {realm_id} already exists")
        realm = self.store.new_realm(realm_id, name, timezone or self.options.timezone)
        if custom_fields is not None:
            realm.custom_fields = custom_fields
        seed_realm(self.ctx(realm), books or self.options.new_company)
        return realm

    def ctx(self, realm: Realm) -> Ctx:
        """A fresh operation context for one request on `realm`."""
        return Ctx(self.store, realm, self.clock.now(), self.options.multicurrency)

    def injector(self, realm_id: str) -> FaultInjector:
        """The fault injector of a realm (created from the default settings on first use)."""
        return self.kit.faults.injector(realm_id)

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        # The accounting API is the hot path: straight to its handler, past Starlette's middleware and router
        # (the same handler the app's /v3/company mount serves; ~20 % less CPU per request).
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self._api_asgi(scope, receive, send)
            return
        await self.asgi(scope, receive, send)

    async def _api_asgi(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await self._api(await read_request(scope, receive), send)

    async def _home(self, request: StarletteRequest) -> StarletteResponse:
        body = json.dumps({"service": "QuickBooks Online sandbox", "realms": len(self.store.realms)})
        return StarletteResponse(body.encode(), media_type="application/json")

    def base_url(self, req: Request) -> str:
        """This sandbox's base URL as the client sees it."""
        if self.options.public_url:
            return self.options.public_url.rstrip("/")
        return f"{req.scheme}://{req.headers.get('host', '127.0.0.1')}"

    # ------------------------------------------------------------ accounting API

    async def _api(self, req: Request, send: Send) -> None:
        parts = req.path[len(API_PREFIX) :].strip("/").split("/")
        realm_id = parts[0]
        resource = parts[1].lower() if len(parts) > 1 else ""
        item_id = parts[2] if len(parts) > 2 else None
        if len(parts) > 3:  # /invoice/{id}/pdf, /invoice/{id}/send, ...: not served here
            resource = "/".join([resource, *(p.lower() for p in parts[3:])])
        tid = [(b"intuit_tid", f"{self._tid_prefix}-{next(self._tid_seq):08x}".encode())]
        auth = self.oauth.authenticate(req.headers.get("authorization"), realm_id)
        realm = self.store.realms.get(realm_id)
        if auth != "ok" or realm is None:
            if realm is not None:
                self.stats.scope(realm_id).auth_failures += 1
            failure = _auth_failure(auth if auth != "ok" else "forbidden", self.clock.timestamp())
            failure.headers.extend(tid)
            await failure.send(send)
            return
        stats = self.stats.scope(realm_id)
        stats.requests_total += 1
        stats.requests_by_endpoint[f"{req.method} /{resource}{'/{id}' if item_id else ''}"] += 1
        if not self.limiter.enter(realm_id):
            stats.throttled += 1
            await self._throttled(realm, req, tid).send(send)
            return
        try:
            await self._api_admitted(req, send, realm, resource, item_id, tid)
        finally:
            self.limiter.leave(realm_id)

    async def _api_admitted(
        self,
        req: Request,
        send: Send,
        realm: Realm,
        resource: str,
        item_id: str | None,
        tid: list[tuple[bytes, bytes]],
    ) -> None:
        stats = self.stats.scope(realm.id)
        is_batch = resource == "batch" and req.method == "POST"
        is_write = req.method == "POST" and resource not in ("query",)
        body: Any = None
        body_error: QboFault | None = None
        # Only routes that take a JSON body read one: an unknown route answers as unknown whatever it sent;
        # special resources (/upload is multipart) say whether they take one.
        takes_json = is_batch or (resource in URL_NAMES and item_id is None) or resource in RESOURCES
        if req.method == "POST" and takes_json and not raw_body(resource):
            try:
                body = loads(req.body) if req.body else None
            except ValueError:
                body_error = faults.invalid_property("Property Name:Can not parse the request body as JSON")
        n_items: int | None = None
        if is_batch:
            raw = body.get("BatchItemRequest") if isinstance(body, dict) else None
            n_items = len(raw) if isinstance(raw, list) else 0
        if not self.limiter.admit(realm.id, n_items):
            stats.throttled += 1
            await self._throttled(realm, req, tid).send(send)
            return
        injector = self.injector(realm.id)
        decision = injector.decide(is_write)
        if decision is not Decision.PASS:
            stats.faults_injected += 1
            stats.faults_by_kind[decision.value] += 1
        if decision is Decision.THROTTLE:
            stats.throttled += 1
            await self._throttled(realm, req, tid).send(send)
            return
        await injector.delay()
        if decision is Decision.ERROR:
            error = self._server_error(realm, injector.error_status())
            error.headers.extend(tid)
            await error.send(send)
            return
        if is_batch:
            stats.batch_requests += 1
            stats.batch_items += n_items or 0
        requestid = req.q("requestid") if req.method == "POST" else None
        response: Response | None = None
        if requestid is not None:
            limit = 36 if is_batch else 50
            if not requestid or len(requestid) > limit:
                response = self._fault(
                    realm,
                    faults.invalid_property(f"Property Name:requestid must be 1 to {limit} characters"),
                )
            else:
                cached = realm.requestids.get(requestid)
                if cached is not None and cached[0] > self.clock.timestamp():
                    stats.idempotent_replays += 1
                    response = Response(cached[1], cached[2], cached[3])
                    requestid = None  # already stored
        if response is None:
            ctx = self.ctx(realm)
            try:
                if body_error is not None:
                    raise body_error
                response = self._dispatch(req, ctx, resource, item_id, body)
            except QboFault as fault:
                response = self._fault(realm, fault)
            if ctx.events:
                self.webhooks.notify(realm.id, realm.tz, ctx.events)
            if requestid is not None and response.status < 500:
                now_ts = self.clock.timestamp()
                if len(realm.requestids) >= 10_000:  # keep memory bounded on long runs
                    realm.requestids = {k: v for k, v in realm.requestids.items() if v[0] > now_ts}
                expires = now_ts + self.options.requestid_ttl_s
                realm.requestids[requestid] = (expires, response.status, response.body, response.content_type)
        if decision is Decision.DROP:
            await drop_response(send, injector.settings.drop_mode, injector.settings.drop_hang_s)
            return
        response.headers.extend(tid)
        await response.send(send)

    def _dispatch(self, req: Request, ctx: Ctx, resource: str, item_id: str | None, body: Any) -> Response:
        realm = ctx.realm
        now = ctx.now
        include = parse_include(req.q("include"))
        if resource == "query" and req.method in ("GET", "POST") and item_id is None:
            text = req.q("query") if req.method == "GET" else req.body.decode("utf-8", "replace")
            result = run_query(
                realm, text or "", self.options.max_results_cap, self.options.default_max_results
            )
            if INVOICE_LINK in include and isinstance(result.get("Invoice"), list):
                result["Invoice"] = [self._linked(realm, inv) for inv in result["Invoice"]]
            return qbo_json({"QueryResponse": result, "time": api_time(now, realm.tz)})
        if resource == "cdc" and req.method == "GET" and item_id is None:
            result = cdc(
                realm,
                req.q("entities"),
                req.q("changedSince"),
                now,
                self.options.cdc_window_days,
                self.options.cdc_max_objects,
                self.options.cdc_too_old,
            )
            return qbo_json(result | {"time": api_time(now, realm.tz)})
        if resource == "batch" and req.method == "POST" and item_id is None:
            items = batch_items(body)
            out = run_batch(
                Engine(ctx), items, self.options.max_results_cap, self.options.default_max_results
            )
            return qbo_json({"BatchItemResponse": out, "time": api_time(now, realm.tz)})
        if resource == "companyinfo" and req.method == "GET" and item_id is not None:
            return qbo_json({"CompanyInfo": self._company_info(realm), "time": api_time(now, realm.tz)})
        special = RESOURCES.get(resource)
        if special is not None:
            answer = special.handler(Call(Engine(ctx), req, item_id, body, self.base_url(req)))
            if answer is not None:
                return answer
        entity = URL_NAMES.get(resource)
        if entity is None:
            if not resource or "/" in resource or resource in _OWN_ROUTES:
                raise self._no_resource(req)
            # An entity name QBO does not serve here: Intuit answers "Operation bankrule is not supported."
            raise faults.unsupported(resource)
        engine = Engine(ctx)
        if req.method == "GET" and item_id is not None:
            data = engine.read(entity, item_id)
        elif req.method == "POST" and item_id is None:
            data = engine.write(
                entity,
                body,
                req.q("operation"),
                ALLOW_DUPLICATE_DOCNUM in include,
                include_void=VOID in include,
            )
        else:
            raise self._no_resource(req)
        if entity == "Invoice" and INVOICE_LINK in include:
            data = self._linked(realm, data)
        return qbo_json({entity: data, "time": api_time(now, realm.tz)})

    def _linked(self, realm: Realm, invoice: dict[str, Any]) -> dict[str, Any]:
        """An invoice with its `InvoiceLink` (include=invoiceLink), when QBO would issue one."""
        return with_links(realm.id, invoice, self.options.online_payments)

    def _no_resource(self, req: Request) -> QboFault:
        """QBO's answer to a path or method it has no resource for (a 400 "Unsupported Operation")."""
        query = urlencode(req.query, doseq=True)
        full = f"{self.base_url(req)}{req.path}{'?' + query if query else ''}"
        return faults.unsupported(f"Could not find resource for relative : {req.path} of full path: {full}")

    def _company_info(self, realm: Realm) -> dict[str, Any]:
        return {
            "CompanyName": realm.name,
            "LegalName": realm.name,
            "CompanyAddr": {"Id": "1", **realm.company_addr},
            "Country": "US",
            "SupportedLanguages": "en",
            "DefaultTimeZone": realm.timezone,
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
        }

    # ------------------------------------------------------------ error responses

    def _fault(self, realm: Realm, fault: QboFault) -> Response:
        return qbo_json(fault_body(fault, self.clock.now(), realm.tz), fault.status)

    def _server_error(self, realm: Realm, status: int) -> Response:
        if status == 503:
            return Response(503, b"Service Unavailable", "text/html")
        fault = QboFault(
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error: An unexpected error occurred while accessing or saving your data. "
            "Please wait a few minutes and try again.",
            "",
            status=status,
            fault_type="SystemFault",
        )
        return self._fault(realm, fault)

    def _throttled(self, realm: Realm, req: Request, tid: list[tuple[bytes, bytes]]) -> Response:
        limits = self.limiter.limits(realm.id)
        when = api_time(self.clock.now(), realm.tz)
        headers: list[tuple[bytes, bytes]] = list(tid)
        if self.options.throttle_retry_after_s is not None:
            headers.append((b"retry-after", str(self.options.throttle_retry_after_s).encode()))
        if getattr(limits, "throttle_xml", True):
            body = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<IntuitResponse time="{when}" xmlns="http://schema.intuit.com/finance/v3">\n'
                '    <Fault type="SERVICE">\n        <Error code="3001">\n'
                f"            <Message>{THROTTLE_MESSAGE}</Message>\n"
                f"            <Detail>{THROTTLE_DETAIL}</Detail>\n"
                "        </Error>\n    </Fault>\n</IntuitResponse>"
            )
            return Response(429, body.encode(), "application/xml", headers)
        fault = QboFault("3001", THROTTLE_MESSAGE, THROTTLE_DETAIL, "", status=429, fault_type="SERVICE")
        response = self._fault(realm, fault)
        response.headers.extend(headers)
        return response


def _auth_failure(kind: str, now_ts: float) -> Response:
    """Intuit's lower-case 401/403 body (the one real clients see), with a Unix-millis `time`."""
    if kind == "forbidden":
        status, error = (
            403,
            {
                "message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                "detail": None,
                "code": "3100",
                "element": None,
            },
        )
        fault_type = "SERVICE"
    else:
        detail = "Token expired" if kind == "expired" else "Malformed bearer token or token invalid"
        status, error = (
            401,
            {
                "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "detail": detail,
                "code": "3200",
                "element": None,
            },
        )
        fault_type = "AUTHENTICATION"
    body: dict[str, Any] = {
        "warnings": None,
        "intuitObject": None,
        "fault": {"error": [error], "type": fault_type},
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(now_ts * 1000),
        "status": None,
        "cdcresponse": [],
    }
    headers = (
        [(b"www-authenticate", b'Bearer realm="Intuit", error="invalid_token"')] if status == 401 else []
    )
    return Response(status, json.dumps(body, separators=(",", ":")).encode(), "application/json", headers)


def create_app(options: SandboxOptions | None = None) -> QboSandbox:
    """The QBO sandbox as an ASGI app (`app.options`, `app.clock`, `app.store` are there for tests)."""
    return QboSandbox(options or SandboxOptions())
