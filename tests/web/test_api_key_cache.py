"""The per-process key cache (connectors.apikey_cache) over HTTP: leased requests keep exact rate-limit
headers, a revoked key is refused as soon as PostgreSQL delivers the revocation's NOTIFY (well before the
lease's TTL), and the requests a lease reserved but never used go back to the key."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from connectors.apikeys import create_key, parse_permissions, revoke_key
from sierra_core.db.models import ApiKey
from tests.web.api_helpers import Api


def _key_row(sessions: Any, name: str) -> ApiKey:
    with sessions() as s:
        row: ApiKey | None = s.scalar(select(ApiKey).where(ApiKey.key_name == name))
        assert row is not None
        return row


def _leased(api: Api, key: str) -> list[int]:
    """Requests until the process holds a lease of the key; the X-RateLimit-Remaining of each."""
    remaining = []
    for _ in range(3):
        r = api.call("GET", "/api/v1/projects", key)
        assert r.status_code == 200, r.text
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
    return remaining


def test_leases_count_exactly_and_revocation_is_refused_at_once(api: Api, sessions) -> None:
    with sessions.begin() as s:
        key = create_key(s, api.a.company_id, "cached", parse_permissions("projects:r"))
    assert _leased(api, key.raw) == [999, 998, 997]  # headers as if every request were counted alone
    leased = _key_row(sessions, "cached").total_requests
    if api.deps.autocommit.dialect.name == "postgresql":
        assert leased > 3, "the second request should have taken a lease of later requests"
    else:
        assert leased == 3, "no cache on SQLite: every request counted on its own"

    with sessions.begin() as s:  # as `sierra-sync api-keys revoke` does, from another connection
        revoke_key(s, str(key.id), datetime.now(UTC))
    revoked_at = time.monotonic()
    served = 0
    while (r := api.call("GET", "/api/v1/projects", key.raw)).status_code == 200:
        served += 1
        assert time.monotonic() - revoked_at < 0.5, "a revoked key was still served after 0.5 s"
    refused_after = time.monotonic() - revoked_at
    assert (r.status_code, r.json()["error"]["code"]) == (401, "key_revoked")
    print(f"revoked key refused after {served} request(s), {refused_after * 1000:.0f} ms")
    # The lease was dropped with the revocation and its unused requests given back: the total is exact.
    deadline = time.monotonic() + 5
    while _key_row(sessions, "cached").total_requests != 3 + served + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _key_row(sessions, "cached").total_requests == 3 + served + 1


def test_unused_leased_requests_go_back_at_shutdown(api: Api, sessions) -> None:
    with sessions.begin() as s:
        key = create_key(s, api.a.company_id, "cached", parse_permissions("projects:r")).raw
    _leased(api, key)
    api.app.state.key_cache.close()
    row = _key_row(sessions, "cached")
    assert (row.total_requests, row.requests_this_hour, row.requests_today) == (3, 3, 3)


def test_a_lease_ends_with_the_keys_expiry(api: Api, sessions) -> None:
    with sessions.begin() as s:
        key = create_key(
            s,
            api.a.company_id,
            "short",
            parse_permissions("projects:r"),
            expires_at=datetime.fromtimestamp(api.now[0] + 60, UTC),
        ).raw
    _leased(api, key)
    api.now[0] += 61
    expired = api.call("GET", "/api/v1/projects", key)
    assert (expired.status_code, expired.json()["error"]["code"]) == (401, "key_expired")
