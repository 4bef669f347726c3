"""Xero Identity's token endpoint as Xero documents it, for httpx.MockTransport: 30-minute access tokens; a
refresh answers a new refresh token every time; the refresh token just used keeps working for a 30-minute
grace, then answers invalid_grant; a refresh token unused for 60 days answers invalid_grant."""

from __future__ import annotations

import base64
import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx

GRACE = timedelta(minutes=30)
LIFETIME = timedelta(days=60)
CLIENT = ("xero-client", "xero-secret")


@dataclass
class _Issued:
    issued_at: datetime
    superseded_at: datetime | None = None


@dataclass
class XeroIdentity:
    """The token endpoint; `now` is its clock (tests move it), `outcomes` counts each answer."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    refresh_tokens: dict[str, _Issued] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    used: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, at: datetime | None = None) -> str:
        token = f"xero-refresh-{next(self._ids)}"
        self.refresh_tokens[token] = _Issued(at or self.now)
        return token

    def usable(self, token: str) -> bool:
        issued = self.refresh_tokens.get(token)
        if issued is None or self.now - issued.issued_at >= LIFETIME:
            return False
        return issued.superseded_at is None or self.now - issued.superseded_at < GRACE

    def __call__(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(400, json={"error": "invalid_client"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        with self._lock:
            token = form.get("refresh_token", "")
            self.used.append(token)
            if not self.usable(token):
                self.outcomes["invalid_grant"] += 1
                return httpx.Response(400, json={"error": "invalid_grant"})
            issued = self.refresh_tokens[token]
            issued.superseded_at = issued.superseded_at or self.now
            fresh = self.issue()
            self.outcomes["refreshed"] += 1
            n = len(self.used)
        return httpx.Response(
            200,
            json={
                "id_token": "header.payload.signature",
                "access_token": f"xero-access-{n}",
                "expires_in": 1800,
                "token_type": "Bearer",
                "refresh_token": fresh,
                "scope": "openid profile email accounting.transactions offline_access",
            },
        )
