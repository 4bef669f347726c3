"""Who is looking at the hub: the session cookie, the CSRF token of every form, and the role rule.

The session is a signed, expiring cookie (`signing.sign` with the hub's cookie secret) holding the
person's id, company, name, role verdict and a random CSRF token; HttpOnly, SameSite=Lax, Secure unless
configured off for http development. Every POST carries the CSRF token (a hidden `csrf_token` field, or
the `X-CSRF-Token` header from the hub's script) and is refused with 403 without it; a person who may only
read gets 403 on every POST as well (the forms are not even shown to them).
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from connectors.hub_users import can_manage as _can_manage
from sierra_core.db.models import HubUser
from sierra_sync.web.deps import AppDeps
from sierra_sync.web.hub.config import HubConfig
from sierra_sync.web.hub.signing import sign, unsign

__all__ = [
    "COOKIE",
    "Form",
    "HubError",
    "LoginRequired",
    "Manager",
    "Principal",
    "Viewer",
    "hub_config",
    "session_cookie",
]

COOKIE = "sierra_hub"
MAX_FORM_BYTES = 64 * 1024


class HubError(Exception):
    """Answered with the hub's error page: `status`, a title and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


class LoginRequired(Exception):
    """No valid session: answered with a redirect to the sign-in page (or 401 for scripts)."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    company_id: uuid.UUID
    name: str
    role: str
    can_manage: bool
    csrf: str
    local: bool = False  # a `users` row signed in with its password (checked against the row per request)


def app_deps(request: Request) -> AppDeps:
    deps: AppDeps = request.app.state.deps
    return deps


def hub_config(request: Request) -> HubConfig:
    config = app_deps(request).hub
    if config is None:
        raise HubError(404, "Not found", "The integrations hub is not enabled on this server.")
    return config


def session_cookie(config: HubConfig, principal: Principal, now: float) -> str:
    claims = {
        "sub": principal.user_id,
        "cid": str(principal.company_id),
        "name": principal.name,
        "role": principal.role,
        "mng": principal.can_manage,
        "csrf": principal.csrf,
        "exp": int(now) + config.session_ttl_s,
    }
    if principal.local:
        claims["loc"] = True
    return sign(config.cookie_secrets[0], claims)


def new_principal(
    user_id: str, company_id: uuid.UUID, name: str, role: str, can_manage: bool, *, local: bool = False
) -> Principal:
    return Principal(user_id, company_id, name, role, can_manage, secrets.token_urlsafe(24), local)


def _still_there(request: Request, principal: Principal) -> Principal:
    """A local user's session holds only while their row does: removed, deactivated or moved to another
    company ends it at once; a changed role applies at the next request."""
    with app_deps(request).sessions() as session:
        user = session.get(HubUser, uuid.UUID(principal.user_id))
        if user is None or not user.is_active or user.company_id != principal.company_id:
            raise LoginRequired
        manage = _can_manage(user.role, user.permissions)
        return replace(principal, role=user.role, can_manage=manage)


def _principal(request: Request) -> Principal:
    config = hub_config(request)
    token = request.cookies.get(COOKIE)
    claims = unsign(config.cookie_secrets, token, time.time()) if token else None
    if claims is None:
        raise LoginRequired
    try:
        principal = Principal(
            str(claims["sub"]),
            uuid.UUID(str(claims["cid"])),
            str(claims["name"]),
            str(claims["role"]),
            claims["mng"] is True,
            str(claims["csrf"]),
            claims.get("loc") is True,
        )
        return _still_there(request, principal) if principal.local else principal
    except (KeyError, ValueError):
        raise LoginRequired from None


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded body as a dict (last value wins; see `form_lists` for repeated fields)."""
    return dict(await form_pairs(request))


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HubError(413, "Form too large", "The form sent is larger than the hub accepts.")
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if body and kind != "application/x-www-form-urlencoded":
        raise HubError(415, "Unsupported form", "Send the form as application/x-www-form-urlencoded.")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise HubError(400, "Unreadable form", "The form could not be read; reload the page.") from None


@dataclass(frozen=True)
class Form:
    """A checked POST: who sent it and its fields (`pairs` keeps repeated fields)."""

    principal: Principal
    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        found = [v for k, v in self.pairs if k == name]
        return found[-1].strip() if found else default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)


async def _managed_form(request: Request, principal: Annotated[Principal, Depends(_principal)]) -> Form:
    if not principal.can_manage:
        raise HubError(
            403,
            "Read only",
            "Only the company owner and people allowed to edit settings can change integrations.",
        )
    pairs = await form_pairs(request)
    given = request.headers.get("x-csrf-token") or dict(pairs).get("csrf_token", "")
    if not given or not hmac.compare_digest(given, principal.csrf):
        raise HubError(
            403,
            "Form expired",
            "This form is out of date or was not sent by the hub; reload the page and try again.",
        )
    return Form(principal, pairs)


Viewer = Annotated[Principal, Depends(_principal)]
Manager = Annotated[Form, Depends(_managed_form)]
