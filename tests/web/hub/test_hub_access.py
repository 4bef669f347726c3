"""The hub's doors without a browser (Client on the real app and database): sign-in, the host's hand-off,
the role rule, CSRF on every form, and validation that answers with what to fix."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from httpx import Client
from sqlalchemy import delete, select, update

from connectors.apikeys import hash_key
from connectors.hub_users import hash_password, verify_password
from sierra_core.db.models import ApiKey, HubLoginFailure, HubUser, IntegrationSyncLog
from sierra_sync.web import AppDeps
from sierra_sync.web.hub import ROUTERS, login_limit
from sierra_sync.web.hub.signing import sign, unsign
from tests import factories
from tests.web.hub import helpers as h

pytestmark = pytest.mark.postgres


@pytest.fixture
def hub(sessions, web_server) -> Iterator[tuple[Client, AppDeps]]:
    deps = AppDeps(sessions=sessions, hub=h.config())
    with web_server.serve(deps) as client:
        yield client, deps


def login(client: Client, email: str, password: str = h.PASSWORD) -> Any:
    page = client.get("/hub/login")
    return client.post(
        "/hub/login",
        data={"email": email, "password": password, "csrf_token": h.csrf_of(page.text), "next": "/hub/"},
    )


def test_passwords_are_scrypt_hashed_and_checked_in_constant_form():
    stored = hash_password("a long enough password")
    assert stored.startswith("scrypt$16384$8$1$") and "a long enough" not in stored
    assert verify_password("a long enough password", stored)
    assert not verify_password("a long enough passwore", stored)
    assert not verify_password("x", "md5$abc") and not verify_password("x", None)


def test_signed_tokens_refuse_tampering_other_secrets_and_expiry():
    token = sign("s" * 32, {"sub": "1", "exp": 2_000_000_000})
    assert (unsign(["s" * 32], token, 1_000) or {}).get("sub") == "1"
    body, mac = token.split(".")
    assert unsign(["s" * 32], f"{body}x.{mac}", 1_000) is None
    assert unsign(["t" * 32], token, 1_000) is None
    assert unsign(["s" * 32], token, 2_000_000_001) is None
    # forged non-ASCII tokens (a cookie or a hand-off form field) are refused, not a 500
    assert unsign(["s" * 32], f"é{body}.{mac}", 1_000) is None
    assert unsign(["s" * 32], f"{body}.é{mac}", 1_000) is None


def test_pages_need_a_session_and_a_wrong_password_says_so(hub, sessions):
    client, _ = hub
    _, owner, _ = h.seed(sessions)
    first = client.get("/hub/logs")
    assert first.status_code == 303 and first.headers["location"] == "/hub/login?next=/hub/logs"
    wrong = login(client, owner, "not the password at all")
    assert wrong.status_code == 401 and "do not match" in wrong.text
    assert client.get("/hub/").status_code == 303
    # The sign-in form itself is CSRF-protected (double submit).
    forged = client.post("/hub/login", data={"email": owner, "password": h.PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403
    ok = login(client, owner)
    assert ok.status_code == 303 and ok.headers["location"] == "/hub/"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Path=/hub" in cookie
    page = client.get("/hub/")
    assert page.status_code == 200
    assert "QuickBooks Online" in page.text and "Stripe" in page.text  # one card per registry provider
    assert "Connect QuickBooks Online to sync your financials automatically." in page.text
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    with sessions() as s:
        assert s.scalar(select(HubUser.last_login_at).where(HubUser.email == owner)) is not None


def test_members_read_but_every_post_is_refused(hub, sessions):
    client, _ = hub
    company_id, _, member = h.seed(sessions)
    assert login(client, member).status_code == 303
    page = client.get("/hub/api-keys")
    assert page.status_code == 200 and "Create key" not in page.text and "(read only)" in page.text
    csrf = h.csrf_of(page.text)  # the sign-out form's token: valid, but the role is not
    refused = client.post(
        "/hub/api-keys", data={"csrf_token": csrf, "name": "Zapier", "perm:projects": "read"}
    )
    assert refused.status_code == 403 and "owner" in refused.text
    with sessions() as s:
        assert s.scalar(select(ApiKey).where(ApiKey.company_id == company_id)) is None


def _hub_posts() -> list[str]:
    paths = []
    for route in (r for router in ROUTERS for r in router.routes):
        open_doors = ("/hub/login", "/hub/session")  # before a session exists: checked their own way
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        if route.path in open_doors or not route.path.startswith("/hub/"):
            continue
        paths.append(re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", route.path))
    return paths


def test_every_form_of_the_hub_needs_the_csrf_token(hub, sessions):
    client, _ = hub
    _, owner, _ = h.seed(sessions)
    login(client, owner)
    paths = _hub_posts()
    assert len(paths) >= 9, paths
    for path in paths:
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.post(path, data=data)
            assert answer.status_code == 403, (path, answer.status_code)
    # Another site cannot even send the cookie along (SameSite=Lax); with no cookie at all: 401.
    client.cookies.clear()
    assert client.post("/hub/api-keys", data={}).status_code == 401


def test_an_api_key_is_shown_once_and_stored_hashed_and_bad_input_is_explained(hub, sessions):
    client, _ = hub
    company_id, owner, _ = h.seed(sessions)
    login(client, owner)
    csrf = h.csrf_of(client.get("/hub/api-keys").text)
    bad = client.post("/hub/api-keys", data={"csrf_token": csrf, "name": "", "expires": "forever"})
    assert bad.status_code == 422
    assert "Give the key a name" in bad.text and "Choose at least one thing" in bad.text
    made = client.post(
        "/hub/api-keys",
        data={"csrf_token": csrf, "name": "Zapier", "perm:projects": "read", "expires": "30d"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201
    found = re.search(r'id="new-key-value" type="text" readonly value="([^"]+)"', made.text)
    assert found is not None
    raw = found.group(1)
    assert raw.startswith("sk_live_") and "only time it is shown" in made.text
    with sessions() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.company_id == company_id))
        assert row.key_value == hash_key(raw) and row.key_name == "Zapier"
        assert row.permissions["projects"] == {"read": True, "write": False, "delete": False}
    again = client.get("/hub/api-keys")
    assert raw not in again.text and row.key_prefix in again.text
    # Another company's key cannot be revoked from here.
    other_id, _, _ = h.seed(sessions, "Other Co")
    with sessions.begin() as s:
        from connectors.apikeys import create_key

        other = create_key(s, other_id, "theirs", {"projects": {"read": True}})
    assert client.post(f"/hub/api-keys/{other.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    gone = client.post(f"/hub/api-keys/{row.id}/revoke", data={"csrf_token": csrf})
    assert gone.status_code == 303
    with sessions() as s:
        assert s.get(ApiKey, row.id).revoked_at is not None


def test_webhook_subscriptions_refuse_private_addresses_with_the_reason(hub, sessions):
    client, deps = hub
    from tests.connectors.quickbooks.oauth_helpers import keyring

    deps.webhook_keyring = keyring()
    _, owner, _ = h.seed(sessions)
    login(client, owner)
    csrf = h.csrf_of(client.get("/hub/webhooks").text)
    bad = client.post("/hub/webhooks", data={"csrf_token": csrf, "url": "http://127.0.0.1:9/x"})
    assert (
        bad.status_code == 422
        and "Use the https address" in bad.text
        and "Choose at least one event" in bad.text
    )


def test_the_host_hands_over_a_session_once(hub, sessions):
    client, _ = hub
    company_id, _, _ = h.seed(sessions)
    token = h.handoff_token(company_id, role="Project Manager", permissions={"settings": {"edit": True}})
    first = client.post("/hub/session", data={"token": token, "next": "/hub/logs"})
    assert first.status_code == 303 and first.headers["location"] == "/hub/logs"
    page = client.get("/hub/api-keys")
    assert "Hana Host" in page.text and "Create key" in page.text  # settings.edit: manages integrations
    client.cookies.clear()
    replayed = client.post("/hub/session", data={"token": token})
    assert replayed.status_code == 401 and "already used" in replayed.text
    reader = client.post("/hub/session", data={"token": h.handoff_token(company_id, role="Estimator")})
    assert reader.status_code == 303 and "Create key" not in client.get("/hub/api-keys").text
    for bad in (
        h.handoff_token(company_id, secret="w" * 40),
        h.handoff_token(company_id, life=-5),
        h.handoff_token(company_id, life=3600),  # longer-lived than the contract allows
        h.handoff_token(company_id, jti=""),
        h.handoff_token(uuid.uuid4()),  # a company this app does not know
    ):
        answer = client.post("/hub/session", data={"token": bad})
        assert answer.status_code == 401, bad
    off_site = client.post(
        "/hub/session", data={"token": h.handoff_token(company_id), "next": "https://evil.example/"}
    )
    assert off_site.headers["location"] == "/hub/"


def test_settings_are_validated_before_they_are_saved(hub, sessions):
    client, _ = hub
    company_id, owner, _ = h.seed(sessions)
    with sessions.begin() as s:
        factories.integration(
            s, company_id, connection_status="connected", is_connected=True, settings={"x": 1}
        )
    login(client, owner)
    form = client.get("/hub/integrations/quickbooks_online/settings")
    assert form.status_code == 200 and "How often to sync" in form.text
    csrf = h.csrf_of(form.text)
    bad = client.post(
        "/hub/integrations/quickbooks_online/settings", data={"csrf_token": csrf, "sync_frequency": "weekly"}
    )
    assert bad.status_code == 422 and "Choose how often to sync" in bad.text
    ok = client.post(
        "/hub/integrations/quickbooks_online/settings",
        data={"csrf_token": csrf, "sync_frequency": "hourly", "sync_invoices": "on", "auto_sync": "on"},
    )
    assert ok.status_code == 303
    with sessions() as s:
        from sierra_core.db.models import Integration

        saved = s.scalar(select(Integration.settings).where(Integration.company_id == company_id))
    assert saved["sync_frequency"] == "hourly" and saved["sync_invoices"] is True
    assert saved["sync_payments"] is False and saved["x"] == 1  # other keys kept


def test_the_sync_log_filters_and_exports_the_same_rows(hub, sessions):
    client, _ = hub
    company_id, owner, _ = h.seed(sessions)
    with sessions.begin() as s:
        integration = factories.integration(s, company_id, connection_status="connected")
        for status, entity, message in (
            ("success", "invoice", None),
            ("failed", "invoice", "Invoice #1234 missing customer. Create customer first."),
            ("failed", "payment", "Payment for invoice #9 has no deposit account."),
        ):
            s.add(
                IntegrationSyncLog(
                    integration_id=integration.id,
                    company_id=company_id,
                    sync_type=entity,
                    direction="push",
                    entity_type=entity,
                    status=status,
                    error_message=message,
                    trigger="manual",
                )
            )
    login(client, owner)
    page = client.get("/hub/logs?status=failed&entity=invoice")
    assert page.status_code == 200
    assert "Invoice #1234 missing customer. Create customer first." in page.text
    assert "no deposit account" not in page.text
    csv_answer = client.get("/hub/logs.csv?status=failed&entity=invoice")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.text.strip().splitlines()
    assert lines[0].startswith("id,company_id") and len(lines) == 2 and "missing customer" in lines[1]
    bad = client.get("/hub/logs?status=exploded")
    assert bad.status_code == 400 and "Status must be one of" in bad.text


def test_a_local_session_follows_the_users_row(hub, sessions):
    client, _ = hub
    company_id, owner, _ = h.seed(sessions)
    assert login(client, owner).status_code == 303
    assert "Create key" in client.get("/hub/api-keys").text
    with sessions.begin() as s:  # demoted: the next page reads only, without signing in again
        s.execute(update(HubUser).where(HubUser.email == owner).values(role="Member"))
    page = client.get("/hub/api-keys")
    assert page.status_code == 200 and "Create key" not in page.text and "(read only)" in page.text
    refused = client.post("/hub/api-keys", data={"csrf_token": h.csrf_of(page.text), "name": "x"})
    assert refused.status_code == 403
    with sessions.begin() as s:  # removed (`sierra-sync users remove`): the cookie no longer opens the hub
        s.execute(delete(HubUser).where(HubUser.email == owner))
    gone = client.get("/hub/api-keys")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/hub/login")
    # A host hand-off session has no users row to follow: it lasts until it expires.
    assert client.post("/hub/session", data={"token": h.handoff_token(company_id)}).status_code == 303
    assert client.get("/hub/api-keys").status_code == 200


def test_sign_in_is_rate_limited_per_email_and_address_across_workers(hub, sessions, web_server):
    client, _ = hub
    _, owner, member = h.seed(sessions)
    for _ in range(login_limit.LIMIT):
        assert login(client, owner, "not the password at all").status_code == 401
    # The 6th attempt is refused before the password is checked, even the right one.
    refused = login(client, owner)
    assert refused.status_code == 429 and refused.headers["content-type"].startswith("text/html")
    assert "Too many failed sign-ins for this email. Wait 15 minutes and try again." in refused.text
    assert 890 <= int(refused.headers["retry-after"]) <= 900
    assert "sierra_hub=" not in refused.headers.get("set-cookie", "")
    with sessions() as s:  # the refused attempt took its row back: waiting is enough to be let in
        assert login_limit.failures(s, owner, "127.0.0.1") == login_limit.LIMIT
        stored = s.scalars(select(HubLoginFailure.key_hash)).all()
    assert all(owner not in k and "127.0.0.1" not in k for k in stored)
    # Another email from the same address is not locked out.
    assert login(client, member).status_code == 303
    client.cookies.clear()
    # Another worker (a fresh app: nothing in memory) refuses as well: the count is in the database.
    with web_server.serve(AppDeps(sessions=sessions, hub=h.config())) as other:
        assert login(other, owner).status_code == 429
        # Fifteen minutes later the oldest failure has left the window: the right password works.
        with sessions.begin() as s:
            for row in s.scalars(select(HubLoginFailure)):
                row.failed_at -= login_limit.WINDOW + timedelta(seconds=1)
        assert login(other, owner).status_code == 303
    with sessions() as s:
        assert login_limit.failures(s, owner, "127.0.0.1") == 0  # signed in: the failures are forgotten


def test_concurrent_guesses_never_get_more_than_the_limit_checked(hub, sessions, web_server):
    client, _ = hub
    _, owner, _ = h.seed(sessions)

    def guess(i: int) -> int:
        token = f"login-form-token-{i}"  # double submit: the sign-in form's cookie and field agree
        form = {"email": owner, "password": f"wrong password {i}", "csrf_token": token, "next": "/hub/"}
        with Client(base_url=web_server.url, cookies={"sierra_hub_login": token}, timeout=30) as own:
            return own.post("/hub/login", data=form).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(guess, range(12)))
    checked = codes.count(401)
    assert set(codes) <= {401, 429} and checked <= login_limit.LIMIT, codes
    with sessions() as s:  # each checked guess left its row; each refused one took its own back
        assert login_limit.failures(s, owner, "127.0.0.1") == checked
    assert login(client, owner).status_code == (429 if checked == login_limit.LIMIT else 303)
