"""The OAuth 2.0 authorization server of every kit sandbox, configured per provider by an `OAuthSpec`.

A consent creates a *grant* (one connection: app + tenant) with a chain of refresh tokens. Refresh semantics
(`OAuthSpec.rotation`):

* `rotating_grace`: a refresh returns the grant's current refresh token, whose value changes once per
  `rotation_interval_s` (0: at every refresh); a superseded one keeps working for `grace_s` (and returns
  the current one) - Intuit's;
* `rotating_revoke`: every refresh returns a new refresh token and the old one dies at once;
* `non_rotating`: the same refresh token for its whole life;
* `remint`: no refresh token; `grant_type=client_credentials` mints a new access token.

Refresh tokens expire `refresh_ttl_s` after they were issued (rolling) and never after the grant's hard cap
(`refresh_hard_ttl_s` from the consent). Consent (`consent`): `auto` redirects back at once, `page` shows a
page whose form approves or denies, `deny` always declines. Error bodies are RFC 6749's
(`{"error": "invalid_grant", "error_description": ...}` 400, `{"error": "invalid_client"}` 401).

Subclass `OAuthServer` for a provider whose flow differs (Stripe Connect's deauthorize, a JWT grant) and name
the class in the spec; its routes come from `routes()`. Token values are secrets: nothing here logs them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.kit.clock import Clock
from sandbox.kit.consent import consent_page
from sandbox.kit.idtoken import Signer
from sandbox.kit.persist import Persistence
from sandbox.kit.stats import Stats

__all__ = ["AuthResult", "OAuthPaths", "OAuthServer", "OAuthSpec", "OidcSpec", "RotationMode", "TenantHooks"]

RotationMode = Literal["rotating_grace", "rotating_revoke", "non_rotating", "remint"]
Consent = Literal["auto", "page", "deny"]
AuthResult = Literal["ok", "invalid", "expired", "forbidden"]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class OAuthPaths:
    """Where the endpoints live on the sandbox (the first of several paths is the one advertised)."""

    authorize: str = "/oauth/authorize"
    token: str = "/oauth/token"  # noqa: S105 - a path
    revoke: tuple[str, ...] = ("/oauth/revoke",)
    userinfo: str | None = "/oauth/userinfo"
    discovery: tuple[str, ...] = ("/.well-known/openid-configuration",)


@dataclass(frozen=True)
class OidcSpec:
    """OpenID Connect: with the `openid` scope a code exchange also returns an RS256 id_token."""

    issuer_path: str = "/oidc"
    jwks_path: str = "/oidc/jwks"
    tenant_claim: str = "tenant"


@dataclass
class OAuthSpec:
    """A provider's OAuth server: the one developer app, endpoints, client auth, lifetimes, rotation."""

    client_id: str = "local-client"
    client_secret: str = field(default="local-secret", repr=False)  # the documented local default
    paths: OAuthPaths = field(default_factory=OAuthPaths)
    token_auth: Literal["basic", "body", "either"] = "either"  # noqa: S105 - a mode
    scopes: frozenset[str] | None = None  # the scopes it knows (None: any)
    needs_one_of: frozenset[str] = frozenset()  # a consent must ask for at least one of these
    tenant_param: str = "tenant"  # the callback's (and the admin token response's) tenant field: realmId
    tenant_request_param: str | None = None  # an authorize parameter naming an existing tenant (sandbox-only)
    tenant_in_token: bool = (
        False  # the token endpoint's answers carry the tenant too (Stripe's stripe_user_id)
    )
    tenant_key: str = "tenant_id"  # the tenant's key in admin listings (QBO: realm_id)
    rotation: RotationMode = "rotating_grace"
    rotation_interval_s: int = 0
    grace_s: int = 0
    code_ttl_s: int = 600
    access_ttl_s: int = 3600
    refresh_ttl_s: int = 90 * 86_400
    refresh_hard_ttl_s: int = 5 * 365 * 86_400
    refresh_expires_field: str | None = None  # e.g. x_refresh_token_expires_in
    refresh_hard_expires_field: str | None = None  # e.g. x_refresh_token_hard_expires_in
    hard_expires_header: str | None = None  # send the hard expiry only when this request header is "true"
    consent: Consent = "auto"
    code_prefix: str = ""
    refresh_prefix: str = ""
    access_token: Callable[[], str] = lambda: secrets.token_urlsafe(32)
    token_type: str = "bearer"  # noqa: S105 - a token type
    token_content_type: str = "application/json"  # noqa: S105 - a media type
    # invalid_grant's error_description (Intuit's); None: a bare {"error": "invalid_grant"} (Xero's)
    invalid_grant_description: str | None = "Token invalid"
    oidc: OidcSpec | None = None
    discovery_extra: dict[str, Any] = field(default_factory=dict)
    userinfo: Callable[[str], dict[str, Any]] | None = None  # the userinfo of a tenant


@dataclass
class TenantHooks:
    """How the OAuth server reaches the provider's tenants: create one (an id or None: a new id) and check
    that one exists."""

    create: Callable[[str | None], str]
    exists: Callable[[str], bool]


@dataclass
class Grant:
    """One connection: a consent of the app to one tenant. Saved whole (`revoked` too) to the state file;
    a grant saved before `revoked` existed loads as not revoked."""

    id: str
    tenant_id: str
    scope: str
    created: float
    hard_expires: float
    current_refresh: str
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    issued: float
    expires: float
    superseded_at: float | None = None
    forced_expired: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    tenant_id: str
    issued: float
    expires: float


@dataclass
class AuthCode:
    code: str
    redirect_uri: str
    tenant_id: str
    scope: str
    expires: float
    challenge: str | None
    method: str | None


def _loaded(raw: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    if "realm_id" in data:  # state files written before the kit
        data["tenant_id"] = data.pop("realm_id")
    return data


class OAuthServer:
    """The OAuth server's state and endpoints for one sandbox."""

    def __init__(
        self,
        spec: OAuthSpec,
        clock: Clock,
        tenants: TenantHooks,
        stats: Stats,
        persistence: Persistence | None = None,
        title: str = "the sandbox",
    ) -> None:
        self.spec = spec
        self.title = title
        self.public_url: str | None = None  # the base URL in the discovery document (None: the Host header)
        self.clock = clock
        self.tenants = tenants
        self.stats = stats
        self.consent: Consent = spec.consent
        self.rotation: RotationMode = spec.rotation
        self.rotation_interval_s = spec.rotation_interval_s
        self._persistence = persistence
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.access: dict[str, AccessToken] = {}
        self.signer = Signer()
        if persistence is not None:
            self._load(persistence)

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        """The OAuth endpoints as Starlette routes (with and without a trailing slash)."""
        p = self.spec.paths
        table: list[tuple[str, Callable[[Request], Any], list[str]]] = [
            (p.authorize, self.authorize_endpoint, ["GET", "POST"]),
            (p.token, self.token_endpoint, ["POST"]),
            *((path, self.revoke_endpoint, ["POST"]) for path in p.revoke),
            *((path, self.discovery_endpoint, ["GET"]) for path in p.discovery),
        ]
        if p.userinfo:
            table.append((p.userinfo, self.userinfo_endpoint, ["GET"]))
        if self.spec.oidc is not None:
            table.append((self.spec.oidc.jwks_path, self.jwks_endpoint, ["GET"]))
        routes: list[BaseRoute] = []
        for path, endpoint, methods in table:
            routes.append(Route(path, endpoint, methods=methods))
            routes.append(Route(path + "/", endpoint, methods=methods, include_in_schema=False))
        return routes

    # ------------------------------------------------------------ persistence

    def _load(self, persistence: Persistence) -> None:
        for value in persistence.load_ns("oauth_grant").values():
            grant = Grant(**_loaded(value))
            self.grants[grant.id] = grant
        for value in persistence.load_ns("oauth_refresh").values():
            rt = RefreshToken(**_loaded(value))
            self.refresh[rt.token] = rt
        for value in persistence.load_ns("oauth_access").values():
            at = AccessToken(**_loaded(value))
            self.access[at.token] = at

    def _save(self, obj: Grant | RefreshToken | AccessToken) -> None:
        if self._persistence is None:
            return
        if isinstance(obj, Grant):
            self._persistence.put("oauth_grant", obj.id, json.dumps(asdict(obj)))
            return
        ns = "oauth_refresh" if isinstance(obj, RefreshToken) else "oauth_access"
        self._persistence.put(ns, hashlib.sha256(obj.token.encode()).hexdigest(), json.dumps(asdict(obj)))

    def reset(self) -> None:
        """Forget every code, grant and token."""
        self.codes.clear()
        self.grants.clear()
        self.refresh.clear()
        self.access.clear()

    # ------------------------------------------------------------ responses

    def token_response(self, body: dict[str, Any], status: int = 200) -> Response:
        return Response(
            json.dumps(body, separators=(",", ":")).encode(),
            status,
            {"cache-control": "no-cache, no-store", "pragma": "no-cache"},
            media_type=self.spec.token_content_type,
        )

    def error(self, error: str, status: int = 400, description: str | None = None) -> Response:
        body = {"error": error}
        if description is not None:
            body["error_description"] = description
        return self.token_response(body, status)

    def invalid_grant(self) -> Response:
        return self.error("invalid_grant", 400, self.spec.invalid_grant_description)

    # ------------------------------------------------------------ discovery

    def base_url(self, request: Request) -> str:
        """This sandbox's base URL as the client sees it."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"{request.url.scheme}://{request.headers.get('host', '127.0.0.1')}"

    def discovery(self, base: str) -> dict[str, Any]:
        """The OpenID/OAuth configuration, pointing at this sandbox."""
        p, oidc = self.spec.paths, self.spec.oidc
        doc: dict[str, Any] = {"issuer": f"{base}{oidc.issuer_path}" if oidc else base}
        doc["authorization_endpoint"] = f"{base}{p.authorize}"
        doc["token_endpoint"] = f"{base}{p.token}"
        if p.userinfo:
            doc["userinfo_endpoint"] = f"{base}{p.userinfo}"
        doc["revocation_endpoint"] = f"{base}{p.revoke[0]}"
        if oidc:
            doc["jwks_uri"] = f"{base}{oidc.jwks_path}"
        doc["response_types_supported"] = ["code"]
        return doc | self.spec.discovery_extra

    async def discovery_endpoint(self, request: Request) -> Response:
        return Response(
            json.dumps(self.discovery(self.base_url(request))).encode(), media_type="application/json"
        )

    async def jwks_endpoint(self, request: Request) -> Response:
        return Response(json.dumps(self.signer.jwks()).encode(), media_type="application/json")

    # ------------------------------------------------------------ authorize

    async def authorize_endpoint(self, request: Request) -> Response:
        """GET: consent (at once, or a page); POST: the page's decision."""
        self.stats.oauth["authorize"] += 1
        if request.method == "POST":
            form = await _form(request)
            return self.authorize(form, decided=form.get("decision", "deny"))
        params = {k: v for k, v in request.query_params.items()}
        return self.authorize(params, decided=None)

    def authorize(self, params: Mapping[str, str], decided: str | None) -> Response:
        """Check the request; then consent per the mode (or the page's `decided`) and redirect back."""
        spec = self.spec
        if params.get("client_id") != spec.client_id:
            return Response(b"Invalid client_id", 400, media_type="text/plain")
        redirect_uri = params.get("redirect_uri") or ""
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or (parts.hostname or "") not in LOOPBACK:
            return Response(b"The redirect_uri must be a loopback http(s) URL", 400, media_type="text/plain")
        state = params.get("state")

        def back(answer: dict[str, str]) -> Response:
            if state is not None:
                answer["state"] = state
            sep = "&" if parts.query else "?"
            return Response(b"", 302, {"location": f"{redirect_uri}{sep}{urlencode(answer)}"}, "text/plain")

        if params.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = set((params.get("scope") or "").split())
        if (spec.scopes is not None and (not scopes or not scopes <= spec.scopes)) or (
            spec.needs_one_of and not scopes & spec.needs_one_of
        ):
            return back({"error": "invalid_scope"})
        if self.consent == "deny":
            return back({"error": "access_denied"})
        method = params.get("code_challenge_method")
        challenge = params.get("code_challenge")
        if challenge is not None and (method or "plain") not in ("S256", "plain"):
            return back({"error": "invalid_request"})
        if decided is None and self.consent == "page":
            return HTMLResponse(consent_page(self.title, spec.paths.authorize, params, sorted(scopes)))
        if decided is not None and decided != "approve":
            return back({"error": "access_denied"})
        wanted = params.get(spec.tenant_request_param) if spec.tenant_request_param else None
        tenant = wanted if wanted and self.tenants.exists(wanted) else self.tenants.create(wanted or None)
        code = self.new_secret("code")
        self.codes[code] = AuthCode(
            code=code,
            redirect_uri=redirect_uri,
            tenant_id=tenant,
            scope=" ".join(sorted(scopes)),
            expires=self.clock.timestamp() + spec.code_ttl_s,
            challenge=challenge,
            method=(method or "plain") if challenge is not None else None,
        )
        return back({"code": code, spec.tenant_param: tenant})

    # ------------------------------------------------------------ token

    def new_secret(self, kind: Literal["code", "refresh", "access"]) -> str:
        """A new authorization code, refresh or access token (override for a provider's own formats)."""
        if kind == "code":
            return self.spec.code_prefix + secrets.token_urlsafe(32)
        if kind == "refresh":
            return self.spec.refresh_prefix + secrets.token_urlsafe(36)
        return self.spec.access_token()

    def client_ok(self, headers: Mapping[str, str], form: Mapping[str, str]) -> bool:
        """The app authenticated as the spec asks (HTTP Basic, form fields, or either)."""
        header = headers.get("authorization", "")
        how = self.spec.token_auth
        if header[:6].lower() == "basic " and how != "body":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        elif how != "basic":
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            return False
        return hmac.compare_digest(client_id.encode(), self.spec.client_id.encode()) and hmac.compare_digest(
            secret.encode(), self.spec.client_secret.encode()
        )

    def _issue(
        self, grant: Grant, refresh: RefreshToken | None, hard_header: bool, id_token: str | None = None
    ) -> dict[str, Any]:
        spec, now = self.spec, self.clock.timestamp()
        at = AccessToken(self.new_secret("access"), grant.id, grant.tenant_id, now, now + spec.access_ttl_s)
        self.access[at.token] = at
        self._save(at)
        body: dict[str, Any] = {"token_type": spec.token_type, "access_token": at.token}
        if refresh is not None:
            body["refresh_token"] = refresh.token
        body["expires_in"] = spec.access_ttl_s
        if refresh is not None and spec.refresh_expires_field:
            left = min(refresh.expires, grant.hard_expires) - now
            body[spec.refresh_expires_field] = max(0, int(left))
        if refresh is not None and spec.refresh_hard_expires_field and hard_header:
            body[spec.refresh_hard_expires_field] = max(0, int(grant.hard_expires - now))
        if id_token is not None:
            body["id_token"] = id_token
        if spec.tenant_in_token:
            body[spec.tenant_param] = grant.tenant_id
        return body

    def _new_refresh(self, grant_id: str, hard_expires: float) -> RefreshToken:
        now = self.clock.timestamp()
        rt = RefreshToken(
            token=self.new_secret("refresh"),
            grant_id=grant_id,
            issued=now,
            expires=min(now + self.spec.refresh_ttl_s, hard_expires),
        )
        self.refresh[rt.token] = rt
        self._save(rt)
        return rt

    def _new_grant(self, tenant_id: str, scope: str) -> tuple[Grant, RefreshToken | None]:
        now = self.clock.timestamp()
        grant_id = secrets.token_hex(8)
        hard = now + self.spec.refresh_hard_ttl_s
        rt = None if self.rotation == "remint" else self._new_refresh(grant_id, hard)
        grant = Grant(grant_id, tenant_id, scope, now, hard, rt.token if rt else "")
        self.grants[grant_id] = grant
        self._save(grant)
        return grant, rt

    def grant_for(self, tenant_id: str, scope: str = "") -> dict[str, Any]:
        """A connection made without the browser dance (admin API): its token response, with the tenant."""
        grant, rt = self._new_grant(tenant_id, scope)
        return self._issue(grant, rt, True) | {self.spec.tenant_param: tenant_id}

    async def token_endpoint(self, request: Request) -> Response:
        self.stats.oauth["token"] += 1
        form = _parse_form(await request.body())
        return self.token(request.headers, form, self.base_url(request))

    def token(self, headers: Mapping[str, str], form: Mapping[str, str], base_url: str) -> Response:
        """The token endpoint: authorization_code, refresh_token and (remint) client_credentials grants."""
        if not self.client_ok(headers, form):
            return self.error("invalid_client", 401)
        header = self.spec.hard_expires_header
        hard_header = header is None or headers.get(header, "").lower() == "true"
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form, hard_header, base_url)
        if grant_type == "refresh_token" and self.rotation != "remint":
            return self._refresh(form, hard_header)
        if grant_type == "client_credentials" and self.rotation == "remint":
            tenant = form.get(self.spec.tenant_param) or "app"
            grant, _ = self._new_grant(tenant, form.get("scope", ""))
            return self.token_response(self._issue(grant, None, hard_header))
        if not grant_type:
            return self.error("invalid_request")
        return self.error("unsupported_grant_type")

    def _exchange(self, form: Mapping[str, str], hard_header: bool, base_url: str) -> Response:
        now = self.clock.timestamp()
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or now >= code.expires or form.get("redirect_uri") != code.redirect_uri:
            return self.invalid_grant()
        if code.challenge is not None and not _pkce_ok(code, form.get("code_verifier")):
            return self.invalid_grant()
        grant, rt = self._new_grant(code.tenant_id, code.scope)
        id_token = None
        oidc = self.spec.oidc
        if oidc is not None and "openid" in code.scope.split():
            id_token = self.signer.id_token(
                f"{base_url}{oidc.issuer_path}",
                self.spec.client_id,
                code.tenant_id,
                now,
                self.spec.access_ttl_s,
                oidc.tenant_claim,
            )
        return self.token_response(self._issue(grant, rt, hard_header, id_token))

    def _refresh(self, form: Mapping[str, str], hard_header: bool) -> Response:
        if not form.get("refresh_token"):
            return self.error("invalid_request")
        now = self.clock.timestamp()
        rt = self.refresh.get(form["refresh_token"])
        grant = self.grants.get(rt.grant_id) if rt else None
        if rt is None or grant is None or grant.revoked or rt.forced_expired:
            return self.invalid_grant()
        if now >= rt.expires or now >= grant.hard_expires:
            return self.invalid_grant()
        if rt.superseded_at is not None:
            grace = self.spec.grace_s if self.rotation == "rotating_grace" else 0
            if now >= rt.superseded_at + grace:
                return self.invalid_grant()
            current = self.refresh[grant.current_refresh]
            if current.forced_expired or now >= current.expires:
                return self.invalid_grant()
            return self.token_response(self._issue(grant, current, hard_header))
        due = now - rt.issued >= self.rotation_interval_s
        if self.rotation == "rotating_revoke" or (self.rotation == "rotating_grace" and due):
            new = self._new_refresh(grant.id, grant.hard_expires)
            rt.superseded_at = now
            self._save(rt)
            grant.current_refresh = new.token
            self._save(grant)
            rt = new
        return self.token_response(self._issue(grant, rt, hard_header))

    # ------------------------------------------------------------ revoke

    async def revoke_endpoint(self, request: Request) -> Response:
        """Revoke (JSON or form `token`): the whole connection goes; 200 known or not."""
        self.stats.oauth["revoke"] += 1
        raw = await request.body()
        form: dict[str, str] = {}
        token: Any = None
        if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                return self.error("invalid_request")
            token = payload.get("token") if isinstance(payload, dict) else None
        else:
            form = _parse_form(raw)
            token = form.get("token")
        if not self.client_ok(request.headers, form):
            return self.error("invalid_client", 401)
        if not isinstance(token, str) or not token:
            return self.error("invalid_request")
        self.revoke(token)
        return Response(b"", 200, media_type="text/plain")

    def revoke(self, token: str) -> None:
        """End the grant a refresh or access token belongs to."""
        found = self.refresh.get(token) or self.access.get(token)
        grant = self.grants.get(found.grant_id) if found else None
        if grant is not None:
            self.revoke_grant(grant)

    def revoke_grant(self, grant: Grant) -> bool:
        """End one connection for good: its tokens stop working, and with a state file it stays ended
        after a restart. Providers revoke through this (Xero's DELETE /connections, Stripe's deauthorize),
        never by setting `revoked` themselves. False when it was revoked already."""
        if grant.revoked:
            return False
        grant.revoked = True
        self._save(grant)
        return True

    # ------------------------------------------------------------ bearer checks

    def bearer(self, header: str | None) -> AccessToken | None:
        if not header or header[:7].lower() != "bearer ":
            return None
        return self.access.get(header[7:].strip())

    def authenticate(self, header: str | None, tenant_id: str) -> AuthResult:
        """Check `Authorization: Bearer ...` for an API call on `tenant_id`."""
        at = self.bearer(header)
        grant = self.grants.get(at.grant_id) if at else None
        if at is None or grant is None or grant.revoked:
            return "invalid"
        if self.clock.timestamp() >= at.expires:
            return "expired"
        return "ok" if at.tenant_id == tenant_id else "forbidden"

    async def userinfo_endpoint(self, request: Request) -> Response:
        at = self.bearer(request.headers.get("authorization"))
        if at is None or self.clock.timestamp() >= at.expires:
            return Response(b'{"error":"invalid_token"}', 401, media_type="application/json")
        info = self.spec.userinfo(at.tenant_id) if self.spec.userinfo else {"sub": at.tenant_id}
        return Response(json.dumps(info).encode(), media_type="application/json")

    # ------------------------------------------------------------ admin

    def expire(self, tenant_id: str | None, kind: str) -> int:
        """Force tokens to expire now: kind "access", "refresh" or "all"; returns how many."""
        now = self.clock.timestamp()
        count = 0
        grants = {g.id for g in self.grants.values() if tenant_id is None or g.tenant_id == tenant_id}
        if kind in ("access", "all"):
            for at in self.access.values():
                if at.grant_id in grants and at.expires > now:
                    at.expires = now
                    self._save(at)
                    count += 1
        if kind in ("refresh", "all"):
            for rt in self.refresh.values():
                if rt.grant_id in grants and not rt.forced_expired:
                    rt.forced_expired = True
                    self._save(rt)
                    count += 1
        return count

    def tokens(self) -> dict[str, Any]:
        """Every access and refresh token ever issued (for leak tests)."""
        key = self.spec.tenant_key
        tenant_of = {g.id: g.tenant_id for g in self.grants.values()}
        revoked = {g.id for g in self.grants.values() if g.revoked}
        return {
            "access_tokens": [
                {
                    "token": at.token,
                    key: at.tenant_id,
                    "issued_at": at.issued,
                    "expires_at": at.expires,
                    "revoked": at.grant_id in revoked,
                }
                for at in self.access.values()
            ],
            "refresh_tokens": [
                {
                    "token": rt.token,
                    key: tenant_of.get(rt.grant_id),
                    "issued_at": rt.issued,
                    "expires_at": rt.expires,
                    "superseded_at": rt.superseded_at,
                    "revoked": rt.grant_id in revoked,
                    "forced_expired": rt.forced_expired,
                }
                for rt in self.refresh.values()
            ],
        }


def _parse_form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}


async def _form(request: Request) -> dict[str, str]:
    return _parse_form(await request.body())


def _pkce_ok(code: AuthCode, verifier: str | None) -> bool:
    if not verifier or code.challenge is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), code.challenge.encode())
