"""A provider, declared as data: how it authorizes, refreshes, limits and signs, per environment.

One `Provider` per external service (QuickBooks Online, Stripe, Xero, ...). The kit reads nothing else to
connect a company, keep its tokens fresh, pace its requests and verify its webhooks; what is truly the
provider's own (its client calls, its mappings, its sandbox's resources) lives in its folder.

    QUICKBOOKS = Provider(
        name="quickbooks_online", title="QuickBooks Online", category="accounting",
        auth=OAuth2(
            mode="code_pkce",
            environments={"production": Endpoints(authorize=..., token=..., revoke=..., api_base=...)},
            scopes=("com.intuit.quickbooks.accounting",),
            token_auth="basic",
            callback_tenant_param="realmId",
            refresh=Refresh(kind="rotating_grace", grace_s=86_400),
        ),
        rate=Rate(requests_per_minute=500, concurrent=10),
        webhooks=Webhooks(scheme="hmac_body", header="intuit-signature", encoding="base64"),
    )

Environments: `production` (the real service), `sandbox` (the provider's own test environment, where it has
one) and `local` (this project's sandbox; its URLs are relative to the sandbox's base URL, `{base}`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ApiKey",
    "Auth",
    "AuthMode",
    "Category",
    "Endpoints",
    "Environment",
    "OAuth2",
    "PostConnect",
    "Provider",
    "Rate",
    "Refresh",
    "RefreshKind",
    "TokenFields",
    "WebhookScheme",
    "Webhooks",
]

Environment = Literal["production", "sandbox", "local"]
Category = Literal[
    "accounting", "payments", "esignature", "email", "calendar", "chat", "automation", "storage"
]
AuthMode = Literal["code", "code_pkce", "jwt_bearer", "client_credentials"]
RefreshKind = Literal[
    "rotating_grace",  # every refresh may return a new refresh token; the old one works for `grace_s`
    "rotating_revoke",  # every refresh returns a new refresh token; the old one dies at once
    "non_rotating",  # the refresh token stays the same for its whole life
    "sliding",  # the same refresh token, whose expiry moves forward at each use
    "remint",  # no refresh token: a new access token is minted from the app's credentials (JWT, client creds)
    "none",  # access tokens do not expire (e.g. Stripe Connect's)
]
WebhookScheme = Literal[
    "none",  # no webhooks: polling only
    "hmac_body",  # HMAC of the raw body (QuickBooks, Xero, DocuSign, Dropbox)
    "hmac_url_body",  # HMAC of the notification URL + raw body (Square)
    "hmac_timestamped",  # HMAC of "<prefix><timestamp><sep><body>" with a replay window (Stripe, Slack)
    "shared_secret",  # a secret echoed in a header, compared as is (Google channel token, Graph clientState)
]
Handshake = Literal[
    "none",
    "intent_to_receive",  # Xero: a signed empty event list must get 200, a badly signed one 401
    "challenge_echo",  # echo a challenge (Dropbox GET ?challenge=, Slack url_verification)
    "validation_token",  # Microsoft Graph: echo ?validationToken= as text/plain within 10 s
    "client_id_echo",  # Adobe Sign: echo X-AdobeSign-ClientId in a header or body
    "sync_message",  # Google channels: a first "sync" notification with no resource change
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Endpoints(_Frozen):
    """Where one environment of a provider lives. `{base}` in a `local` URL is the sandbox's base URL."""

    authorize: str | None = None
    token: str | None = None
    revoke: str | None = None
    userinfo: str | None = None
    discovery: str | None = None  # an OpenID discovery document that overrides the URLs above when read
    post_connect: str | None = None  # the post-connect call in this environment (Xero's /connections)
    api_base: str


class TokenFields(_Frozen):
    """How a token response reads. `extras` maps our names to the provider's fields (e.g. the connected
    account's id: `{"external_company_id": "stripe_user_id"}`)."""

    expires: Literal["expires_in", "expires_at", "never"] = "expires_in"
    refresh_expires_in: str | None = None  # e.g. QuickBooks' x_refresh_token_expires_in
    refresh_hard_expires_in: str | None = None  # e.g. QuickBooks' x_refresh_token_hard_expires_in
    extras: dict[str, str] = Field(default_factory=dict)


class Refresh(_Frozen):
    """Refresh semantics. `grace_s`: how long a superseded refresh token keeps working (rotating_grace);
    `lifetime_s`: how long an unused refresh token lives (the keep-alive refresh runs well before);
    `margin_s`: refresh when fewer than this many seconds of the access token remain."""

    kind: RefreshKind = "non_rotating"
    grace_s: int = 0
    lifetime_s: int | None = None
    margin_s: int = 300


class PostConnect(_Frozen):
    """A call made once the code is exchanged, to learn which account/tenant the connection reaches.

    `url` (else the environment's `post_connect` URL, else its `userinfo`) is called with the new access
    token; `tenant_path` points at the id in the answer (`sub`, `accounts.0.account_id`); a `*` step walks
    every item of a list (`*.tenantId`: each tenant of Xero's connections) and `name_path` reads the names
    alongside (`*.tenantName`). `choose`: when the answer lists several tenants, the first is taken, or a
    person picks one (Xero organisations: see `connectors.kit.connect.choose_tenant`); a single tenant is
    always taken."""

    url: str | None = None
    tenant_path: str
    name_path: str | None = None
    choose: Literal["first", "person"] = "first"


class OAuth2(_Frozen):
    """OAuth 2.0 (RFC 6749) as the provider speaks it."""

    kind: Literal["oauth2"] = "oauth2"
    mode: AuthMode = "code"
    environments: dict[Environment, Endpoints]
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    authorize_params: dict[str, str] = Field(default_factory=dict)  # e.g. access_type=offline, prompt=consent
    # How the client authenticates to the token and revoke endpoints: HTTP Basic with id and secret, both
    # in the body, only the secret in the body, Basic with the secret as user name (Stripe's secret key),
    # the access token itself (bearer), or not at all.
    token_auth: Literal["basic", "body", "secret_body"] = "basic"
    token_encoding: Literal["form", "json"] = "form"
    revoke_encoding: Literal["form", "json"] = "form"
    revoke_auth: Literal["basic", "body", "secret_basic", "bearer", "none"] = "basic"
    # The revoke request's fields; "{token}", "{client_id}" and "{external_company_id}" are filled in
    # (QuickBooks: {"token": "{token}"}; Stripe Connect: {"client_id": ..., "stripe_user_id": ...}).
    revoke_body: dict[str, str] = Field(default_factory=lambda: {"token": "{token}"})
    callback_tenant_param: str | None = None  # the callback's query parameter naming the tenant (realmId)
    token: TokenFields = Field(default_factory=TokenFields)
    refresh: Refresh = Field(default_factory=Refresh)
    post_connect: PostConnect | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OAuth2:
        for env, endpoints in self.environments.items():
            if self.mode in ("code", "code_pkce") and not endpoints.authorize and not endpoints.discovery:
                raise ValueError(f"{env}: the code flow needs an authorize URL (or a discovery document)")
            if not endpoints.token and not endpoints.discovery:
                raise ValueError(f"{env}: OAuth 2 needs a token URL (or a discovery document)")
        if self.mode in ("jwt_bearer", "client_credentials") and self.refresh.kind not in ("remint", "none"):
            raise ValueError(f"{self.mode} has no refresh token: use refresh kind 'remint'")
        return self


class ApiKey(_Frozen):
    """A key the company (or our installation) holds: sent as a bearer token or in a named header."""

    kind: Literal["api_key"] = "api_key"
    environments: dict[Environment, Endpoints]
    header: str = "Authorization"
    prefix: str = "Bearer "


Auth = OAuth2 | ApiKey


class Rate(_Frozen):
    """Request budgets per connection (tenant); 0 means no limit. `retry_after_default_s`: how long to wait
    after a 429 that does not say (QuickBooks wants 60 s)."""

    requests_per_second: int = 0
    requests_per_minute: int = 0
    requests_per_day: int = 0
    concurrent: int = 0
    batch_per_minute: int = 0
    app_requests_per_minute: int = 0  # across every connection of the app (Xero: 10,000)
    retry_after_default_s: float = 60.0


class Webhooks(_Frozen):
    """How a provider's webhooks prove where they come from, and the handshake it performs first.

    For `hmac_*`: `algorithm` and `encoding` of the digest in `header`. For `hmac_timestamped`:
    `timestamp_header` (or the `t=` item of `header` when None), `signature_item` (the `v1=` item of a
    "t=...,v1=..." header), `signed_format` (a str.format template over
    `timestamp` and `body`, e.g. "{timestamp}.{body}" or "v0:{timestamp}:{body}"), `signature_prefix`
    (e.g. "v0=") and `tolerance_s`. `secret`: which credential keys the HMAC (the app's webhook secret,
    its client secret, or a per-subscription secret we generate)."""

    scheme: WebhookScheme = "none"
    header: str | None = None
    algorithm: Literal["sha256", "sha1"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    signature_item: str | None = None  # the header is "t=...,v1=...": the item holding the digest ("v1")
    signed_format: str = "{body}"
    signature_prefix: str = ""
    tolerance_s: int = 300
    secret: Literal["webhook_secret", "client_secret", "subscription"] = "webhook_secret"
    handshake: Handshake = "none"
    max_body_bytes: int = 1_000_000

    @model_validator(mode="after")
    def _consistent(self) -> Webhooks:
        if self.scheme != "none" and not self.header:
            raise ValueError(f"webhook scheme {self.scheme} needs the header that carries the proof")
        if self.scheme == "hmac_timestamped" and "{timestamp}" not in self.signed_format:
            raise ValueError("a timestamped signature signs the timestamp: put {timestamp} in signed_format")
        return self


class Provider(_Frozen):
    """Everything the kit needs to know about one external service."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,48}$")  # the integrations.integration_type value
    title: str
    category: Category
    auth: Auth = Field(discriminator="kind")
    rate: Rate = Field(default_factory=Rate)
    webhooks: Webhooks = Field(default_factory=Webhooks)
    docs_url: str | None = None

    def endpoints(self, environment: Environment, local_base: str | None = None) -> Endpoints:
        """The endpoints of `environment`, with `{base}` filled in for the local sandbox."""
        try:
            found = self.auth.environments[environment]
        except KeyError:
            known = ", ".join(self.auth.environments)
            raise ValueError(f"{self.title} has no {environment} environment (it has: {known})") from None
        if environment != "local":
            return found
        if not local_base:
            raise ValueError(f"the local {self.title} sandbox needs its base URL")
        base = local_base.rstrip("/")
        values = {k: (v.replace("{base}", base) if isinstance(v, str) else v) for k, v in found}
        return Endpoints(**values)

    @property
    def oauth(self) -> OAuth2:
        """The OAuth 2 declaration (`TypeError` for an API-key provider)."""
        if not isinstance(self.auth, OAuth2):
            raise TypeError(f"{self.title} authenticates with an API key, not OAuth 2")
        return self.auth
