"""Signing in and out: the local email + password form (seeded users), and the host SaaS's hand-off
(POST /hub/session with a short-lived HMAC-signed token, exchanged once for the session cookie; see
docs/hub.md for the contract)."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from connectors.hub_users import authenticate, can_manage
from sierra_core.db.models import Company, HubSessionToken
from sierra_core.db.types import utcnow
from sierra_sync.web.hub import login_limit
from sierra_sync.web.hub.auth import (
    COOKIE,
    HubError,
    Principal,
    Viewer,
    app_deps,
    form_pairs,
    hub_config,
    new_principal,
    session_cookie,
)
from sierra_sync.web.hub.pages import render
from sierra_sync.web.hub.signing import unsign

__all__ = ["router"]

router = APIRouter(prefix="/hub", include_in_schema=False)
LOGIN_COOKIE = "sierra_hub_login"  # the sign-in form's CSRF token (double submit: cookie and field)


def _safe_next(value: str | None) -> str:
    """Only a path of the hub itself (never another site: no open redirect)."""
    if value and value.startswith("/hub/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/hub/"


def _signed_in(request: Request, principal: Principal, to: str) -> Response:
    config = hub_config(request)
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        COOKIE,
        session_cookie(config, principal, time.time()),
        max_age=config.session_ttl_s,
        path="/hub",
        httponly=True,
        secure=config.cookie_secure,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/hub")
    return response


def _login_page(
    request: Request, *, error: str | None = None, status: int = 200, email: str = ""
) -> Response:
    config = hub_config(request)
    if not config.local_login:
        raise HubError(
            404, "Sign in from Sierra Suites", "Open Integrations from Sierra Suites: it signs you in here."
        )
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        login_csrf=token,
        error=error,
        email=email,
        next=_safe_next(request.query_params.get("next")),
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/hub",
        httponly=True,
        secure=config.cookie_secure,
        samesite="strict",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    config = hub_config(request)
    if not config.local_login:
        raise HubError(404, "Not found", "Local sign-in is off on this server.")
    form = dict(await form_pairs(request))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, form.get("csrf_token", "")):
        raise HubError(
            403, "Form expired", "The sign-in form is out of date; reload the page and sign in again."
        )
    email = form.get("email", "").strip()
    sessions = app_deps(request).sessions
    address = request.client.host if request.client else "unknown"

    def check() -> Principal | int | None:
        attempt = login_limit.begin(sessions, email, address)
        if attempt.retry_after is not None:
            return attempt.retry_after
        with sessions.begin() as session:
            user = authenticate(session, email, form.get("password", ""))
            principal = (
                None
                if user is None
                else new_principal(
                    str(user.id),
                    user.company_id,
                    user.name,
                    user.role,
                    can_manage(user.role, user.permissions),
                    local=True,
                )
            )
        (login_limit.failed if principal is None else login_limit.succeeded)(sessions, attempt)
        return principal

    verdict = await run_in_threadpool(check)
    if isinstance(verdict, int):
        minutes = max(1, math.ceil(verdict / 60))
        response = _login_page(
            request,
            error=(
                f"Too many failed sign-ins for this email. Wait {minutes} "
                f"minute{'s' if minutes > 1 else ''} and try again."
            ),
            status=429,
            email=email,
        )
        response.headers["Retry-After"] = str(verdict)
        return response
    if verdict is None:
        return _login_page(
            request, error="That email and password do not match. Try again.", status=401, email=email
        )
    return _signed_in(request, verdict, _safe_next(form.get("next")))


@router.post("/logout")
async def logout(request: Request, me: Viewer) -> Response:
    form = dict(await form_pairs(request))
    if not hmac.compare_digest(form.get("csrf_token", ""), me.csrf):
        raise HubError(403, "Form expired", "Reload the page and sign out again.")
    response = RedirectResponse(
        "/hub/login?done=signed_out" if hub_config(request).local_login else "/hub/signed-out", 303
    )
    response.delete_cookie(COOKIE, path="/hub")
    return response


@router.get("/signed-out")
def signed_out(request: Request) -> Response:
    return render(
        request,
        "message.html",
        None,
        title="Signed out",
        message="You are signed out of the integrations hub.",
    )


def _claims_error(claims: dict[str, Any], now: float, max_age: int) -> str | None:
    for name in ("sub", "company_id", "jti", "role"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            return f"the token has no {name}"
    iat = claims.get("iat")
    if not isinstance(iat, int) or iat > now + 30 or claims["exp"] - iat > max_age:
        return f"the token must carry iat and live at most {max_age} seconds"
    if not isinstance(claims.get("permissions", {}), dict):
        return "permissions must be an object"
    return None


@router.post("/session")
async def handoff(request: Request) -> Response:
    """Exchange the host's hand-off token (form field `token`, optional `next`) for a session."""
    config = hub_config(request)
    if not config.handoff_secrets:
        raise HubError(
            503, "Hand-off not configured", "Set SIERRA_HUB_HANDOFF_SECRET on this server (docs/hub.md)."
        )
    form = dict(await form_pairs(request))
    now = time.time()
    claims = unsign(config.handoff_secrets, form.get("token", ""), now)
    problem = "the token is not signed with the shared secret, or has expired" if claims is None else None
    if claims is not None:
        problem = _claims_error(claims, now, config.handoff_max_age_s)
    if claims is None or problem:
        raise HubError(
            401, "Sign-in link expired", f"Open Integrations from Sierra Suites again ({problem})."
        )
    try:
        company_id = uuid.UUID(claims["company_id"])
    except ValueError:
        raise HubError(401, "Sign-in link invalid", "The token's company_id is not a UUID.") from None
    sessions = app_deps(request).sessions

    def spend() -> str | None:
        jti_hash = hashlib.sha256(claims["jti"].encode()).hexdigest()
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        try:
            with sessions.begin() as session:
                if session.get(Company, company_id) is None:
                    return "unknown company"
                session.execute(delete(HubSessionToken).where(HubSessionToken.expires_at < utcnow()))
                if session.scalar(select(HubSessionToken.id).where(HubSessionToken.jti_hash == jti_hash)):
                    return "this sign-in link was already used"
                session.add(
                    HubSessionToken(jti_hash=jti_hash, user_id=claims["sub"][:64], expires_at=expires)
                )
        except IntegrityError:
            return "this sign-in link was already used"
        return None

    refused = await run_in_threadpool(spend)
    if refused:
        raise HubError(
            401, "Sign-in link refused", f"Open Integrations from Sierra Suites again ({refused})."
        )
    name = str(claims.get("name") or claims.get("email") or "Sierra Suites user")
    principal = new_principal(
        claims["sub"], company_id, name, claims["role"], can_manage(claims["role"], claims.get("permissions"))
    )
    return _signed_in(request, principal, _safe_next(form.get("next")))
