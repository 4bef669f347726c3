"""Intuit OAuth 2.0 as the sandbox plays it: discovery, authorize (auto-consent), token, revoke, bearer.

A consent creates a *grant* (one connection: app + realm) with a chain of refresh tokens. Refreshing returns
the grant's current refresh token; its value changes once per `refresh_rotation_interval_s` (or on every
refresh with `refresh_rotation="always"`), and a superseded one keeps working for `refresh_grace_s`.
Refresh tokens expire `refresh_token_ttl_s` after they were issued (rolling) and never after the grant's hard
cap. Error bodies are Intuit's: `{"error": "invalid_grant", "error_description": "Token invalid"}` (400),
`{"error": "invalid_client"}` (401). Token values are secrets: nothing here logs them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox.quickbooks.clock import Clock
from sandbox.quickbooks.http import Request, Response
from sandbox.quickbooks.idtoken import Signer
from sandbox.quickbooks.options import SandboxOptions
from sandbox.quickbooks.persist import Persistence

__all__ = ["AuthResult", "OAuth"]

TOKEN_CONTENT_TYPE = "application/json;charset=utf-8"  # noqa: S105 - a media type
KNOWN_SCOPES = frozenset(
    {
        "com.intuit.quickbooks.accounting",
        "com.intuit.quickbooks.payment",
        "openid",
        "profile",
        "email",
        "phone",
        "address",
    }
)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
AuthResult = Literal["ok", "invalid", "expired", "forbidden"]

# Intuit's access tokens are JWEs with this protected header ({"enc":"A128CBC-HS256","alg":"dir"}); built at
# import so the source holds no token-shaped text.
JWE_HEADER = base64.urlsafe_b64encode(b'{"enc":"A128CBC-HS256","alg":"dir"}').decode().rstrip("=")


@dataclass
class Grant:
    """One connection: a consent of the app to one realm."""

    id: str
    realm_id: str
    scope: str
    created: float
    hard_expires: float
    current_refresh: str
    revoked: bool = False


@dataclass
class RefreshToken:
    """A refresh token of a grant's chain."""

    token: str
    grant_id: str
    issued: float
    expires: float
    superseded_at: float | None = None
    forced_expired: bool = False


@dataclass
class AccessToken:
    """A bearer token for the API."""

    token: str
    grant_id: str
    realm_id: str
    issued: float
    expires: float


@dataclass
class AuthCode:
    """An authorization code waiting for its exchange."""

    code: str
    redirect_uri: str
    realm_id: str
    scope: str
    expires: float
    challenge: str | None
    method: str | None


def _token_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        status,
        json.dumps(body, separators=(",", ":")).encode(),
        TOKEN_CONTENT_TYPE,
        [(b"cache-control", b"no-cache, no-store"), (b"pragma", b"no-cache")],
    )


def _oauth_error(error: str, status: int = 400, description: str | None = None) -> Response:
    body = {"error": error}
    if description is not None:
        body["error_description"] = description
    return _token_response(body, status)


INVALID_GRANT = ("invalid_grant", 400, "Token invalid")


class OAuth:
    """The OAuth server state and endpoints."""

    def __init__(
        self,
        options: SandboxOptions,
        clock: Clock,
        create_realm: Callable[[str | None], str],
        realm_exists: Callable[[str], bool],
        persistence: Persistence | None = None,
    ) -> None:
        self.options = options
        self.clock = clock
        self.consent = options.consent
        self.refresh_rotation = options.refresh_rotation
        self._create_realm = create_realm
        self._realm_exists = realm_exists
        self._persistence = persistence
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.access: dict[str, AccessToken] = {}
        self.signer = Signer()
        if persistence is not None:
            self._load(persistence)

    # ------------------------------------------------------------ persistence

    def _load(self, persistence: Persistence) -> None:
        for value in persistence.load_ns("oauth_grant").values():
            grant = Grant(**json.loads(value))
            self.grants[grant.id] = grant
        for value in persistence.load_ns("oauth_refresh").values():
            rt = RefreshToken(**json.loads(value))
            self.refresh[rt.token] = rt
        for value in persistence.load_ns("oauth_access").values():
            at = AccessToken(**json.loads(value))
            self.access[at.token] = at

    def _save(self, obj: Grant | RefreshToken | AccessToken) -> None:
        if self._persistence is None:
            return
        if isinstance(obj, Grant):
            self._persistence.put("oauth_grant", obj.id, json.dumps(asdict(obj)))
        elif isinstance(obj, RefreshToken):
            self._persistence.put(
                "oauth_refresh", hashlib.sha256(obj.token.encode()).hexdigest(), json.dumps(asdict(obj))
            )
        else:
            self._persistence.put(
                "oauth_access", hashlib.sha256(obj.token.encode()).hexdigest(), json.dumps(asdict(obj))
            )

    def reset(self) -> None:
        """Forget every code, grant and token."""
        self.codes.clear()
        self.grants.clear()
        self.refresh.clear()
        self.access.clear()

    # ------------------------------------------------------------ discovery

    def discovery(self, base: str) -> dict[str, Any]:
        """The OpenID configuration, with the fields Intuit's document has, pointing at this sandbox."""
        return {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud",
                "exp",
                "iat",
                "iss",
                "realmid",
                "sub",
            ],
        }

    # ------------------------------------------------------------ authorize

    def authorize(self, req: Request) -> Response:
        """GET /connect/oauth2: consent happens at once; redirect back with code, state and realmId."""
        if req.q("client_id") != self.options.client_id:
            return Response(400, b"Invalid client_id", "text/plain")
        redirect_uri = req.q("redirect_uri") or ""
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or (parts.hostname or "") not in LOOPBACK:
            return Response(400, b"The redirect_uri must be a loopback http(s) URL", "text/plain")
        state = req.q("state")

        def back(params: dict[str, str]) -> Response:
            if state is not None:
                params["state"] = state
            sep = "&" if parts.query else "?"
            location = f"{redirect_uri}{sep}{urlencode(params)}"
            return Response(302, b"", "text/plain", [(b"location", location.encode("latin-1"))])

        if req.q("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = set((req.q("scope") or "").split())
        if (
            not scopes
            or not scopes <= KNOWN_SCOPES
            or not scopes & {"com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment", "openid"}
        ):
            return back({"error": "invalid_scope"})
        if self.consent == "deny":
            return back({"error": "access_denied"})
        method = req.q("code_challenge_method")
        challenge = req.q("code_challenge")
        if challenge is not None and (method or "plain") not in ("S256", "plain"):
            return back({"error": "invalid_request"})
        wanted = req.q("realm_id")
        realm_id = wanted if wanted and self._realm_exists(wanted) else self._create_realm(wanted or None)
        code = "AB11" + secrets.token_urlsafe(32)
        self.codes[code] = AuthCode(
            code=code,
            redirect_uri=redirect_uri,
            realm_id=realm_id,
            scope=" ".join(sorted(scopes)),
            expires=self.clock.timestamp() + self.options.auth_code_ttl_s,
            challenge=challenge,
            method=(method or "plain") if challenge is not None else None,
        )
        return back({"code": code, "realmId": realm_id})

    # ------------------------------------------------------------ token

    def _client_ok(self, req: Request, form: dict[str, str]) -> bool:
        header = req.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return hmac.compare_digest(
            client_id.encode(), self.options.client_id.encode()
        ) and hmac.compare_digest(secret.encode(), self.options.client_secret.encode())

    def _issue(
        self, grant: Grant, refresh: RefreshToken, hard_header: bool, id_token: str | None = None
    ) -> Response:
        now = self.clock.timestamp()
        at = AccessToken(
            token=JWE_HEADER + ".." + secrets.token_urlsafe(96),
            grant_id=grant.id,
            realm_id=grant.realm_id,
            issued=now,
            expires=now + self.options.access_token_ttl_s,
        )
        self.access[at.token] = at
        self._save(at)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": at.token,
            "refresh_token": refresh.token,
            "expires_in": self.options.access_token_ttl_s,
            "x_refresh_token_expires_in": max(0, int(min(refresh.expires, grant.hard_expires) - now)),
        }
        if hard_header:
            body["x_refresh_token_hard_expires_in"] = max(0, int(grant.hard_expires - now))
        if id_token is not None:
            body["id_token"] = id_token
        return _token_response(body)

    def _new_refresh(self, grant_id: str, hard_expires: float) -> RefreshToken:
        now = self.clock.timestamp()
        rt = RefreshToken(
            token="RT1-" + secrets.token_urlsafe(36),
            grant_id=grant_id,
            issued=now,
            expires=min(now + self.options.refresh_token_ttl_s, hard_expires),
        )
        self.refresh[rt.token] = rt
        self._save(rt)
        return rt

    def grant_for_realm(self, realm_id: str, scope: str = "com.intuit.quickbooks.accounting") -> Response:
        """Create a connection without the browser dance (admin API) and return a token response."""
        now = self.clock.timestamp()
        grant_id = secrets.token_hex(8)
        hard = now + self.options.refresh_token_hard_ttl_s
        rt = self._new_refresh(grant_id, hard)
        grant = Grant(grant_id, realm_id, scope, now, hard, rt.token)
        self.grants[grant_id] = grant
        self._save(grant)
        return self._issue(grant, rt, True)

    def token(self, req: Request, base_url: str = "") -> Response:
        """POST /oauth2/v1/tokens/bearer: authorization_code and refresh_token grants.

        With the `openid` scope, the code exchange also returns an RS256 `id_token` (iss `{base_url}/op/v1`).
        """
        form = {
            k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        if not self._client_ok(req, form):
            return _oauth_error("invalid_client", 401)
        hard_header = req.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        grant_type = form.get("grant_type")
        now = self.clock.timestamp()
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or now >= code.expires or form.get("redirect_uri") != code.redirect_uri:
                return _oauth_error(*INVALID_GRANT)
            if code.challenge is not None and not _pkce_ok(code, form.get("code_verifier")):
                return _oauth_error(*INVALID_GRANT)
            grant_id = secrets.token_hex(8)
            hard = now + self.options.refresh_token_hard_ttl_s
            rt = self._new_refresh(grant_id, hard)
            grant = Grant(grant_id, code.realm_id, code.scope, now, hard, rt.token)
            self.grants[grant_id] = grant
            self._save(grant)
            id_token = None
            if "openid" in code.scope.split():
                id_token = self.signer.id_token(
                    f"{base_url}/op/v1",
                    self.options.client_id,
                    code.realm_id,
                    now,
                    self.options.access_token_ttl_s,
                )
            return self._issue(grant, rt, hard_header, id_token)
        if grant_type == "refresh_token":
            if not form.get("refresh_token"):
                return _oauth_error("invalid_request")
            found = self.refresh.get(form["refresh_token"])
            owner = self.grants.get(found.grant_id) if found else None
            if found is None or owner is None or owner.revoked or found.forced_expired:
                return _oauth_error(*INVALID_GRANT)
            rt, grant = found, owner
            if now >= rt.expires or now >= grant.hard_expires:
                return _oauth_error(*INVALID_GRANT)
            if rt.superseded_at is not None:
                if now >= rt.superseded_at + self.options.refresh_grace_s:
                    return _oauth_error(*INVALID_GRANT)
                current = self.refresh[grant.current_refresh]
                if current.forced_expired or now >= current.expires:
                    return _oauth_error(*INVALID_GRANT)
                return self._issue(grant, current, hard_header)
            due = now - rt.issued >= self.options.refresh_rotation_interval_s
            if self.refresh_rotation == "always" or due:
                new = self._new_refresh(grant.id, grant.hard_expires)
                rt.superseded_at = now
                self._save(rt)
                grant.current_refresh = new.token
                self._save(grant)
                rt = new
            return self._issue(grant, rt, hard_header)
        if not grant_type:
            return _oauth_error("invalid_request")
        return _oauth_error("unsupported_grant_type")

    def revoke(self, req: Request) -> Response:
        """POST /oauth2/v1/tokens/revoke: JSON {"token"}; revokes the whole connection. 200 on success."""
        form: dict[str, str] = {}
        token = None
        if req.content_type == "application/json":
            try:
                payload = json.loads(req.body or b"{}")
                token = payload.get("token") if isinstance(payload, dict) else None
            except ValueError:
                return _oauth_error("invalid_request")
        else:
            form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
            token = form.get("token")
        if not self._client_ok(req, form):
            return _oauth_error("invalid_client", 401)
        if not isinstance(token, str) or not token:
            return _oauth_error("invalid_request")
        grant_id = None
        if token in self.refresh:
            grant_id = self.refresh[token].grant_id
        elif token in self.access:
            grant_id = self.access[token].grant_id
        if grant_id is not None and grant_id in self.grants:
            self.grants[grant_id].revoked = True
            self._save(self.grants[grant_id])
        return Response(200, b"", "text/plain")

    # ------------------------------------------------------------ bearer checks

    def authenticate(self, header: str | None, realm_id: str) -> AuthResult:
        """Check `Authorization: Bearer ...` for an API call on `realm_id`."""
        if not header or header[:7].lower() != "bearer ":
            return "invalid"
        at = self.access.get(header[7:].strip())
        if at is None:
            return "invalid"
        grant = self.grants.get(at.grant_id)
        if grant is None or grant.revoked:
            return "invalid"
        if self.clock.timestamp() >= at.expires:
            return "expired"
        if at.realm_id != realm_id:
            return "forbidden"
        return "ok"

    def userinfo(self, header: str | None) -> dict[str, Any] | None:
        """The OpenID userinfo of the connection behind a bearer token."""
        if not header or header[:7].lower() != "bearer ":
            return None
        at = self.access.get(header[7:].strip())
        if at is None or self.clock.timestamp() >= at.expires:
            return None
        return {
            "sub": f"sandbox-user-{at.realm_id}",
            "email": "sandbox@example.com",
            "emailVerified": True,
            "givenName": "Sandbox",
            "familyName": "User",
        }

    # ------------------------------------------------------------ admin

    def expire(self, realm_id: str | None, kind: str) -> int:
        """Force tokens to expire now: kind "access", "refresh" or "all"; returns how many."""
        now = self.clock.timestamp()
        count = 0
        grants = {g.id for g in self.grants.values() if realm_id is None or g.realm_id == realm_id}
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
        realm_of = {g.id: g.realm_id for g in self.grants.values()}
        revoked = {g.id for g in self.grants.values() if g.revoked}
        return {
            "access_tokens": [
                {
                    "token": at.token,
                    "realm_id": at.realm_id,
                    "issued_at": at.issued,
                    "expires_at": at.expires,
                    "revoked": at.grant_id in revoked,
                }
                for at in self.access.values()
            ],
            "refresh_tokens": [
                {
                    "token": rt.token,
                    "realm_id": realm_of.get(rt.grant_id),
                    "issued_at": rt.issued,
                    "expires_at": rt.expires,
                    "superseded_at": rt.superseded_at,
                    "revoked": rt.grant_id in revoked,
                    "forced_expired": rt.forced_expired,
                }
                for rt in self.refresh.values()
            ],
        }


def _pkce_ok(code: AuthCode, verifier: str | None) -> bool:
    if not verifier or code.challenge is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), code.challenge.encode())
