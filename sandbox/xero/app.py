"""The Xero sandbox: Xero Identity's OAuth server (on the kit), `GET /connections`, and the Accounting API
at /api.xro/2.0 for the organisation named by the `xero-tenant-id` header.

Per resource: `GET /{Resource}` (the list, see `query.py`), `GET /{Resource}/{id}`, `PUT /{Resource}`
(creates), `POST /{Resource}` and `POST /{Resource}/{id}` (create or update). Bodies are `{"Invoices":
[...]}` or one bare document. With `summarizeErrors=false` a batch answers 200 with every element, the
refused ones carrying `StatusAttributeString: ERROR` and their `ValidationErrors`; otherwise any refusal
answers a 400 ValidationException and nothing of the batch is applied. An `Idempotency-Key` seen before
answers the first answer again. Every answer carries X-DayLimit-Remaining, X-MinLimit-Remaining and
X-AppMinLimit-Remaining; a spent day or app minute answers 429 with Retry-After and X-Rate-Limit-Problem.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.kit.api import api_endpoint
from sandbox.kit.app import Kit
from sandbox.kit.oauth import TenantHooks
from sandbox.kit.spec import KitOptions
from sandbox.kit.throttle import Limits
from sandbox.xero import journals
from sandbox.xero.attachments import ATTACHABLE, Attachments
from sandbox.xero.banking import add_option, save_bank_transaction, save_tracking_category
from sandbox.xero.contacts import save_contact, save_item
from sandbox.xero.events import EventSender
from sandbox.xero.invoices import save_invoice
from sandbox.xero.payments import save_payment
from sandbox.xero.query import parse_since, select
from sandbox.xero.saving import SaveContext, Saved, Saver
from sandbox.xero.settings import save_account, save_tax_rate
from sandbox.xero.spec import API_PATH, xero_spec
from sandbox.xero.state import OrgState
from sandbox.xero.store import ID_FIELDS, PAGED, Organisation
from sandbox.xero.wire import (
    BadRequest,
    api_error,
    envelope,
    json_response,
    ms_date,
    parse_body,
    validation_exception,
)

__all__ = ["XeroSandbox", "XeroSandboxOptions", "create_app"]

SAVERS: dict[str, Saver] = {
    "Contacts": save_contact,
    "Invoices": save_invoice,
    "Payments": save_payment,
    "Items": save_item,
    "Accounts": save_account,
    "TaxRates": save_tax_rate,
    "BankTransactions": save_bank_transaction,
    "TrackingCategories": save_tracking_category,
}
Handler = Callable[[Request, str], Awaitable[Response]]


@dataclass
class XeroSandboxOptions:
    """The Xero sandbox's own knobs (the kit's are in `kit`)."""

    client_id: str = "local-client"
    client_secret: str = field(default="local-secret", repr=False)  # the documented local default
    day_limit: int = 5000
    app_minute_limit: int = 10_000
    kit: KitOptions = field(
        default_factory=lambda: KitOptions(limits=Limits(requests_per_minute=60, concurrent_requests=5))
    )


class XeroSandbox:
    """Organisations and their documents; `app` is the ASGI app."""

    def __init__(self, options: XeroSandboxOptions | None = None) -> None:
        self.options = options or XeroSandboxOptions()
        self.orgs: dict[str, Organisation] = {}
        self._names = itertools.count(1)
        self._app_minute: deque[float] = deque()
        hooks = TenantHooks(create=self._organisation, exists=self.orgs.__contains__)
        spec = xero_spec(self.options.client_id, self.options.client_secret)
        self.kit = Kit(spec, self.options.kit, hooks)
        self.attachments = Attachments()
        assert self.kit.webhooks is not None  # the spec signs webhooks
        self.events = EventSender(self.kit.webhooks)
        self.kit.on_reset.append(self.orgs.clear)
        self.kit.on_reset.append(self.attachments.forget)
        self.state: OrgState | None = None
        if self.kit.persistence is not None:  # `kit.state_file`: the organisations outlive a restart
            self.state = OrgState(self.kit.persistence)
            orgs, files = self.state.load()
            self.orgs.update(orgs)
            self.attachments.files.update(files)
            self._names = itertools.count(len(self.orgs))
            self.kit.on_reset.append(self.state.wipe)
            self.kit.on_shutdown.append(self._save_all)
        self.app = self.kit.app(self._routes())

    def _persist(self, tenant: str) -> None:
        org = self.orgs.get(tenant)
        if self.state is not None and org is not None:
            self.state.save(org, self.attachments.files)

    def _save_all(self) -> None:
        for tenant in list(self.orgs):
            self._persist(tenant)

    # ------------------------------------------------------------------ organisations

    def _organisation(self, wanted: str | None) -> str:
        tenant = wanted or _uuid()
        if tenant not in self.orgs:
            name = "Demo Company (NZ)" if not self.orgs else f"Demo Company {next(self._names) + 1}"
            org = Organisation(tenant, name, ms_date(self.kit.clock.now()))
            org.seed(ms_date(self.kit.clock.now()))
            self.orgs[tenant] = org
            self._persist(tenant)
        return tenant

    async def _connections(self, request: Request) -> Response:
        server = self.kit.require_oauth()
        token = server.bearer(request.headers.get("authorization"))
        if token is None or self.kit.clock.timestamp() >= token.expires:
            return api_error(401, "invalid_token")
        grant = server.grants.get(token.grant_id)
        org = self.orgs.get(token.tenant_id)
        if org is None or grant is None or grant.revoked:  # a removed connection is not listed
            return JSONResponse([])
        created = self.kit.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return JSONResponse(
            [
                {
                    "id": _uuid(token.grant_id),
                    "authEventId": _uuid(token.grant_id + "auth"),
                    "tenantId": org.tenant_id,
                    "tenantType": "ORGANISATION",
                    "tenantName": org.name,
                    "createdDateUtc": created,
                    "updatedDateUtc": created,
                }
            ]
        )

    async def _disconnect(self, request: Request) -> Response:
        """DELETE /connections/{id}: the app's access to that organisation ends (its tokens stop working)."""
        server = self.kit.require_oauth()
        token = server.bearer(request.headers.get("authorization"))
        if token is None or self.kit.clock.timestamp() >= token.expires:
            return api_error(401, "invalid_token")
        wanted = str(request.path_params["connection_id"])
        grant = server.grants.get(token.grant_id)
        if grant is None or grant.revoked or _uuid(grant.id) != wanted:
            return api_error(404, "not_found")
        server.revoke_grant(grant)  # kept in the state file: it stays removed after a restart
        return Response(status_code=204)

    # ------------------------------------------------------------------ the pipeline around every call

    def _rated(self, handler: Handler) -> Handler:
        """Xero's day and app-minute allowances and the remaining-calls headers."""

        async def rated(request: Request, tenant: str) -> Response:
            org, now = self.orgs[tenant], self.kit.clock.now()
            today = now.strftime("%Y-%m-%d")
            if org.day != today:
                org.day, org.day_calls = today, 0
            window, stamp = self._app_minute, now.timestamp()
            while window and window[0] <= stamp - 60:
                window.popleft()
            if org.day_calls >= self.options.day_limit:
                midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
                wait = max(1, int((midnight - now).total_seconds()))
                return _throttled("day", wait)
            if len(window) >= self.options.app_minute_limit:
                return _throttled("appminute", max(1, int(window[0] + 60 - stamp)))
            org.day_calls += 1
            window.append(stamp)
            response = await handler(request, tenant)
            response.headers["X-DayLimit-Remaining"] = str(self.options.day_limit - org.day_calls)
            response.headers["X-AppMinLimit-Remaining"] = str(self.options.app_minute_limit - len(window))
            minute = self.kit.limiter.remaining(tenant)
            if minute is not None:
                response.headers["X-MinLimit-Remaining"] = str(minute)
            return response

        return rated

    def _endpoint(self, handler: Handler, write: bool) -> Callable[[Request], Awaitable[Response]]:
        return api_endpoint(
            self.kit,
            self._rated(self._saving(handler) if write else handler),
            tenant_header="xero-tenant-id",
            write=write,
            errors=api_error,
        )

    def _saving(self, handler: Handler) -> Handler:
        """Write-through: a write call's organisation is saved before it answers (with a state file)."""

        async def saving(request: Request, tenant: str) -> Response:
            response = await handler(request, tenant)
            self._persist(tenant)
            return response

        return saving

    def _routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route(path, self._connections, methods=["GET"]) for path in ("/connections", "/Connections")
        ]
        routes.append(Route("/__sandbox/webhooks/intent", self.events.intent_to_receive, methods=["POST"]))
        routes += [
            Route(path + "/{connection_id}", self._disconnect, methods=["DELETE"])
            for path in ("/connections", "/Connections")
        ]
        for resource in SAVERS:
            base = f"{API_PATH}/{resource}"
            routes += [
                Route(base, self._endpoint(self._list(resource), False), methods=["GET"]),
                Route(base, self._endpoint(self._save(resource, True), True), methods=["PUT"]),
                Route(base, self._endpoint(self._save(resource, False), True), methods=["POST"]),
                Route(base + "/{doc_id}", self._endpoint(self._one(resource), False), methods=["GET"]),
                Route(
                    base + "/{doc_id}", self._endpoint(self._save(resource, False), True), methods=["POST"]
                ),
            ]
        routes.append(Route(f"{API_PATH}/Organisation", self._endpoint(self._organisation_info, False)))
        routes.append(Route(f"{API_PATH}/Journals", self._endpoint(self._journals, False), methods=["GET"]))
        options = f"{API_PATH}/TrackingCategories/{{doc_id}}/Options"
        routes.append(Route(options, self._endpoint(self._options, True), methods=["PUT"]))
        for resource in ATTACHABLE:
            files = f"{API_PATH}/{resource}/{{doc_id}}/Attachments"
            routes += [
                Route(files, self._endpoint(self._attachment_list(resource), False), methods=["GET"]),
                Route(
                    files + "/{file_name}",
                    self._endpoint(self._attachment_get(resource), False),
                    methods=["GET"],
                ),
                Route(
                    files + "/{file_name}",
                    self._endpoint(self._attachment_put(resource), True),
                    methods=["PUT", "POST"],
                ),
            ]
        return routes

    # ------------------------------------------------------------------ the organisation

    async def _organisation_info(self, request: Request, tenant: str) -> Response:
        """GET /Organisation: the organisation of the tenant header (Xero's Organisations envelope)."""
        org = self.orgs[tenant]
        info = {
            "OrganisationID": org.tenant_id,
            "APIKey": "",
            "Name": org.name,
            "LegalName": org.name,
            "PaysTax": True,
            "Version": "NZ",
            "OrganisationType": "COMPANY",
            "BaseCurrency": "NZD",
            "CountryCode": "NZ",
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 3,
            "SalesTaxBasis": "INVOICE",
            "SalesTaxPeriod": "TWOMONTHS",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": org.created_ms,
            "OrganisationEntityType": "COMPANY",
            "Timezone": "NEWZEALANDSTANDARDTIME",
            "ShortCode": "!" + org.tenant_id[:5],
            "Edition": "BUSINESS",
            "Class": "PREMIUM",
        }
        return json_response(envelope("Organisations", [info], self.kit.clock.now()))

    # ------------------------------------------------------------------ attachments and tracking options

    def _attachment_put(self, resource: str) -> Handler:
        async def handler(request: Request, tenant: str) -> Response:
            return await self.attachments.put(request, self.orgs[tenant], resource, self.kit.clock.now())

        return handler

    def _attachment_list(self, resource: str) -> Handler:
        async def handler(request: Request, tenant: str) -> Response:
            doc_id = str(request.path_params["doc_id"])
            return self.attachments.list(self.orgs[tenant], resource, doc_id, self.kit.clock.now())

        return handler

    def _attachment_get(self, resource: str) -> Handler:
        async def handler(request: Request, tenant: str) -> Response:
            doc_id, name = str(request.path_params["doc_id"]), str(request.path_params["file_name"])
            return self.attachments.content(self.orgs[tenant], resource, doc_id, name)

        return handler

    async def _options(self, request: Request, tenant: str) -> Response:
        try:
            elements = parse_body(await request.body(), "Options")
        except BadRequest as err:
            return validation_exception(None, [str(err)])
        now = self.kit.clock.now()
        ctx = SaveContext(self.orgs[tenant], True, ms_date(now), now.date())
        category_id = str(request.path_params["doc_id"])
        before = copy.deepcopy(ctx.org.docs["TrackingCategories"])
        outcomes = [add_option(ctx, category_id, element) for element in elements]
        refused = [o for o in outcomes if o.errors]
        if refused:
            ctx.org.docs["TrackingCategories"] = before  # all or nothing
            return validation_exception([_element(o, True) for o in refused])
        return json_response(envelope("Options", [o.doc for o in outcomes], now))

    # ------------------------------------------------------------------ reads

    def _list(self, resource: str) -> Handler:
        async def handler(request: Request, tenant: str) -> Response:
            docs = list(self.orgs[tenant].docs[resource].values())
            try:
                chosen = select(
                    resource,
                    docs,
                    ID_FIELDS[resource],
                    request.query_params,
                    request.headers.get("if-modified-since"),
                    resource in PAGED,
                )
            except BadRequest as err:
                return validation_exception(None, [str(err)])
            return json_response(envelope(resource, chosen, self.kit.clock.now()))

        return handler

    async def _journals(self, request: Request, tenant: str) -> Response:
        """GET /Journals?offset=N: the ledger's journals numbered above N, 100 at most."""
        header = request.headers.get("if-modified-since")
        try:
            since = parse_since(header) if header else None
            chosen = journals.select_journals(self.orgs[tenant].journals, request.query_params, since)
        except (BadRequest, ValueError) as err:
            return validation_exception(None, [str(err)])
        return json_response(envelope("Journals", chosen, self.kit.clock.now()))

    def _one(self, resource: str) -> Handler:
        async def handler(request: Request, tenant: str) -> Response:
            doc_id = str(request.path_params["doc_id"])
            docs = self.orgs[tenant].docs[resource]
            doc = docs.get(doc_id) or next(
                (d for d in docs.values() if doc_id in (d.get("InvoiceNumber"), d.get("Code"))), None
            )
            if doc is None:
                return api_error(404, "not_found")
            return json_response(envelope(resource, [doc], self.kit.clock.now()))

        return handler

    # ------------------------------------------------------------------ writes

    def _save(self, resource: str, create_only: bool) -> Handler:
        saver = SAVERS[resource]
        id_field = ID_FIELDS[resource]

        async def handler(request: Request, tenant: str) -> Response:
            org = self.orgs[tenant]
            raw = await request.body()
            key = request.headers.get("idempotency-key")
            where = f"{request.url.path}?{request.url.query}"  # not the host: a restart may change the port
            fingerprint = hashlib.sha256(f"{request.method} {where}".encode() + raw).hexdigest()
            if key and key in org.replies:
                seen, answer = org.replies[key]
                if seen != fingerprint:
                    return validation_exception(
                        None, ["This Idempotency-Key was used for a different request"]
                    )
                return answer
            try:
                elements = parse_body(raw, resource)
            except BadRequest as err:
                return validation_exception(None, [str(err)])
            if "doc_id" in request.path_params:
                if len(elements) != 1:
                    return validation_exception(None, [f"POST {resource}/{{id}} takes exactly one document"])
                elements[0][id_field] = str(request.path_params["doc_id"])
            known = set(org.docs[resource])
            postings = {k: journals.posting(resource, d) for k, d in org.docs[resource].items()}
            answer = self._apply(org, resource, saver, elements, create_only, request.query_params)
            if answer.status_code == 200:
                saved = json.loads(bytes(answer.body))[resource]
                changes = [
                    (str(d[id_field]), str(d[id_field]) not in known)
                    for d in saved
                    if not d.get("ValidationErrors") and d.get(id_field)
                ]
                now = self.kit.clock.now()
                for doc in saved:
                    if doc.get("ValidationErrors") or not doc.get(id_field):
                        continue
                    invoice_id = (doc.get("Invoice") or {}).get("InvoiceID")
                    invoice = org.docs["Invoices"].get(str(invoice_id)) if invoice_id else None
                    before = postings.get(str(doc[id_field]))
                    journals.record(org.journals, resource, before, doc, now, invoice)
                base = f"{str(request.base_url).rstrip('/')}{API_PATH}"
                self.events.changed(tenant, resource, changes, base, self.kit.clock.now())
            if key:
                org.replies[key] = (fingerprint, answer)
            return answer

        return handler

    def _apply(
        self,
        org: Organisation,
        resource: str,
        saver: Saver,
        elements: list[dict[str, Any]],
        create_only: bool,
        params: Any,
    ) -> Response:
        summarize = str(params.get("summarizeErrors", "true")).lower() != "false"
        now = self.kit.clock.now()
        ctx = SaveContext(org, create_only, ms_date(now), now.date())
        before = (copy.deepcopy(org.docs), dict(org.numbers)) if summarize else None
        outcomes: list[Saved] = [saver(ctx, element) for element in elements]
        refused = [o for o in outcomes if o.errors]
        if summarize and refused:
            assert before is not None
            org.docs, org.numbers = before  # a summarized batch is all or nothing
            return validation_exception([_element(o, True) for o in refused])
        return json_response(envelope(resource, [_element(o, not summarize) for o in outcomes], now))


def _element(outcome: Saved, with_status: bool) -> dict[str, Any]:
    doc = copy.copy(outcome.doc)
    if outcome.errors:
        doc["ValidationErrors"] = [{"Message": m} for m in outcome.errors]
        doc["HasErrors"] = True
    if with_status:
        doc["StatusAttributeString"] = "ERROR" if outcome.errors else "OK"
    return doc


def _throttled(problem: str, wait: int) -> Response:
    return JSONResponse(
        {"Message": "Rate limit exceeded"}, 429, {"Retry-After": str(wait), "X-Rate-Limit-Problem": problem}
    )


def _uuid(seed: str | None = None) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed)) if seed else str(uuid.uuid4())


def create_app(options: XeroSandboxOptions | None = None) -> Any:
    """The ASGI app of a new Xero sandbox."""
    return XeroSandbox(options).app
